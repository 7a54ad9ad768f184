"""The README stays true by construction: its Configuration table lists exactly the variables the code reads,
and the production settings it names are exactly those `check --deploy` passes with."""

import os
import re
import secrets
import subprocess
import sys
from functools import cache
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

NAME = r"([A-Z][A-Z0-9_]*)"
# How code reads the environment: the settings' typed helpers, and os.environ elsewhere (bench, tests).
PYTHON_READS = [
    rf'\benv_[a-z_]+\(\s*"{NAME}"',
    rf'os\.environ\.get\(\s*"{NAME}"',
    rf'os\.getenv\(\s*"{NAME}"',
    rf'os\.environ\[\s*"{NAME}"\s*\](?!\s*=[^=])',
]


def section(title: str) -> str:
    text = README.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


@cache
def configuration_variables() -> frozenset[str]:
    """The variables in the first column of the README's Configuration table."""
    rows = [line for line in section("Configuration").splitlines() if line.startswith("| `")]
    return frozenset(name for row in rows for name in re.findall(rf"`{NAME}`", row.split("|")[1]))


def variables_the_code_reads() -> set[str]:
    names: set[str] = set()
    sources = [ROOT / "manage.py", *(p for d in ("console", "bench", "tests") for p in (ROOT / d).rglob("*.py"))]
    for path in sources:
        text = path.read_text()
        for pattern in PYTHON_READS:
            names.update(re.findall(pattern, text))
    makefile = (ROOT / "Makefile").read_text()
    assigned = set(re.findall(rf"^{NAME}\s*:?=", makefile, re.MULTILINE))  # `?=` takes the environment's
    names.update(set(re.findall(rf"\$\({NAME}\)", makefile)) - assigned)
    names.update(re.findall(rf"\$\$\{{{NAME}", makefile))  # read by the recipe's shell
    return names


def production_environment() -> dict[str, str]:
    """The production variables the README names (its `sh` block under Production), placeholders filled in."""
    block = re.search(r"```sh\n(.*?)```", section("Production"), re.DOTALL)
    assert block is not None
    stand_ins = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "CONSOLE_TOKEN_KEYS": Fernet.generate_key().decode(),
    }
    env = {}
    for line in block.group(1).splitlines():
        name, _, value = line.partition("=")
        env[name] = stand_ins.pop(name) if value.startswith("<") else value
    assert not stand_ins, f"stand-ins for placeholders the README no longer has: {stand_ins}"
    return env


def test_the_configuration_table_lists_exactly_the_variables_the_code_reads() -> None:
    read = variables_the_code_reads()
    listed = configuration_variables()
    assert read - listed == set(), "read by the code, missing from the README's table"
    assert listed - read == set(), "in the README's table, read by nothing"


def test_the_deploy_checks_pass_with_exactly_the_production_settings_the_readme_names(tmp_path: Path) -> None:
    production = production_environment()
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "SECURE_HSTS_SECONDS"} <= production.keys()
    assert production.keys() <= configuration_variables()
    clean = {k: v for k, v in os.environ.items() if k not in configuration_variables()}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**clean, **production, "CONSOLE_VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "System check identified no issues (0 silenced).\n"
    assert result.stderr == ""
