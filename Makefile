# The two commands: `make run` (serve the console with a worker beside it) and `make test` (every test).
# Both set themselves up on first use: a virtual environment, pinned dependencies, a database, demo data.

SHELL := /bin/bash
.DEFAULT_GOAL := run
.PHONY: run test chromium lint format lock bench setup clean

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# The first interpreter that is Python 3.12 or newer: python3.13, python3.12, python3, then pyenv's
# installs (a pyenv shim exists for every installed version but fails unless that version is selected).
define find_python
for c in python3.14 python3.13 python3.12 python3 $$(ls -d $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do \
  if command -v "$$c" >/dev/null 2>&1 && "$$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
    command -v "$$c"; exit 0; \
  fi; \
done; exit 1
endef

$(STAMP): requirements.txt requirements-dev.txt
	@python=$$($(find_python)) || { \
	  echo "No Python 3.12 or newer found (tried python3.14, python3.13, python3.12, python3 and ~/.pyenv)."; \
	  echo "Install Python 3.12+ (e.g. 'apt install python3.12' or 'pyenv install 3.12') and run make again."; \
	  exit 1; }; \
	echo "Setting up $(VENV) with $$python"; \
	test -x $(PY) || "$$python" -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	@touch $(STAMP)

setup: $(STAMP)
	@$(PY) manage.py migrate --no-input -v 0
	@$(PY) manage.py collectstatic --no-input -v 0
	@$(PY) manage.py seed_demo
	@$(PY) manage.py bootstrap_console

# HOST, PORT and the process counts come from the environment (`make run PORT=9000` works too).
run: setup
	@SECURE_COOKIES=$${SECURE_COOKIES:-0} $(PY) manage.py serve

# Every test. Browser tests use the system Chromium (/usr/bin/chromium, or CHROMIUM_PATH).
test: $(STAMP) chromium
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) manage.py check
	$(PY) -m pytest $(PYTEST_ARGS)

# The system Chromium for the browser tests: installed when missing if this user can (root, or sudo
# without a password), as on a fresh machine; otherwise stop at once with the one command to run.
chromium:
	@chromium="$${CHROMIUM_PATH:-/usr/bin/chromium}"; \
	test -x "$$chromium" && exit 0; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; else \
	  echo "The browser tests need Chromium at $$chromium. Install it with:"; \
	  echo "  sudo apt-get update && sudo apt-get install -y chromium"; \
	  echo "or set CHROMIUM_PATH to a Chromium executable, then run make test again."; \
	  exit 1; \
	fi; \
	command -v apt-get >/dev/null || { \
	  echo "The browser tests need Chromium at $$chromium: install it, or set CHROMIUM_PATH to one."; exit 1; }; \
	echo "Installing the system Chromium for the browser tests (apt-get install chromium)"; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	test -x "$$chromium" || { echo "Chromium was installed but $$chromium is still missing (CHROMIUM_PATH?)."; exit 1; }

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)
	$(PY) bench/run.py

# Regenerate the pinned requirement files from requirements*.in (needs the network).
lock: $(STAMP)
	$(PY) -m pip install --quiet uv==0.13.9
	$(VENV)/bin/uv pip compile --python-version 3.12 requirements.in -o requirements.txt
	$(VENV)/bin/uv pip compile --python-version 3.12 requirements-dev.in -o requirements-dev.txt

clean:
	rm -rf $(VENV) var staticfiles
