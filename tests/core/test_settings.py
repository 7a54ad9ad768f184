"""Settings come from the environment, fail loudly on bad values, and pass Django's deploy checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.test import Client

from tests.core.test_readme import configuration_variables

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return run_module("manage", *args, env=env, tmp_path=tmp_path)


def run_module(module: str, *args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`python -m module args` in a process of its own, with only the variables of a fresh machine and `env`."""
    clean = {k: v for k, v in os.environ.items() if k not in configuration_variables()}
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env={**clean, "CONSOLE_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_deploy_checks_complain_about_plain_http_defaults(tmp_path: Path) -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env={"DEBUG": "0"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT" in result.stderr


BAD_VALUES = [
    ("DEBUG", "perhaps", "DEBUG must be a boolean (1/0, true/false, yes/no), not 'perhaps'"),
    ("PORT", "abc", "PORT must be an integer from 1 to 65535, not 'abc'"),
    ("PORT", "70000", "PORT must be an integer from 1 to 65535, not '70000'"),
    ("WEB_PROCESSES", "1.5", "WEB_PROCESSES must be an integer of at least 1, not '1.5'"),
    ("WEB_THREADS", "x", "WEB_THREADS must be an integer of at least 1, not 'x'"),
    ("WORKER_CONCURRENCY", "two", "WORKER_CONCURRENCY must be an integer of at least 1, not 'two'"),
    ("WORKER_CONCURRENCY", "0", "WORKER_CONCURRENCY must be an integer of at least 1, not '0'"),
    (
        "CONSOLE_TOKEN_KEYS",
        "notakey",
        "CONSOLE_TOKEN_KEYS must be comma-separated Fernet keys (44 characters of url-safe base64 each),"
        " not a 7-character value in place 1",
    ),
    ("DATABASE_URL", "nonsense://x", "DATABASE_URL must be a database URL that dj-database-url reads ("),
    ("DATABASE_URL", "postgres://u:hunter2@db:port/x", "not 'postgres://u:***@db:port/x'"),
    ("DATABASE_CONN_MAX_AGE", "-1", "DATABASE_CONN_MAX_AGE must be an integer of at least 0, not '-1'"),
    ("TIME_ZONE", "Mars/Base", "TIME_ZONE must be a time zone name such as UTC or Europe/Paris, not 'Mars/Base'"),
    ("CELERY_BROKER_URL", "bogus://", "CELERY_BROKER_URL must be a broker URL whose scheme kombu knows ("),
    ("CELERY_TASK_ALWAYS_EAGER", "maybe", "CELERY_TASK_ALWAYS_EAGER must be a boolean"),
    ("CACHE_URL", "memcached://cache:11211", "CACHE_URL must be a Redis URL (redis, rediss, unix), not"),
    ("CONSOLE_CLARIFAI_DEADLINE", "abc", "CONSOLE_CLARIFAI_DEADLINE must be an integer of at least 1, not 'abc'"),
    ("CONSOLE_CLARIFAI_DEADLINE", "-1", "CONSOLE_CLARIFAI_DEADLINE must be an integer of at least 1, not '-1'"),
    ("SECURE_HSTS_SECONDS", "a year", "SECURE_HSTS_SECONDS must be an integer of at least 0, not 'a year'"),
    ("SECURE_HSTS_SECONDS", "-5", "SECURE_HSTS_SECONDS must be an integer of at least 0, not '-5'"),
    ("SECURE_SSL_REDIRECT", "sure", "SECURE_SSL_REDIRECT must be a boolean"),
    ("SECURE_PROXY_SSL_HEADER", "2", "SECURE_PROXY_SSL_HEADER must be a boolean"),
    ("CONSOLE_MEDIA_MAX_BYTES", "0", "CONSOLE_MEDIA_MAX_BYTES must be an integer of at least 1, not '0'"),
    ("CONSOLE_MEDIA_CACHE_ITEM_BYTES", "0", "CONSOLE_MEDIA_CACHE_ITEM_BYTES must be an integer of at least 1"),
    ("CONSOLE_MEDIA_CACHE_SECONDS", "-1", "CONSOLE_MEDIA_CACHE_SECONDS must be an integer of at least 1"),
    ("CONSOLE_CACHE_ENTRIES", "0", "CONSOLE_CACHE_ENTRIES must be an integer of at least 1, not '0'"),
    ("LOCALAPI_ALLOW_PRIVATE_URLS", "y", "LOCALAPI_ALLOW_PRIVATE_URLS must be a boolean"),
    ("LOCALAPI_MAX_IMAGE_BYTES", "0", "LOCALAPI_MAX_IMAGE_BYTES must be an integer of at least 1, not '0'"),
    ("LOCALAPI_MAX_IMAGE_PIXELS", "-2", "LOCALAPI_MAX_IMAGE_PIXELS must be an integer of at least 1, not '-2'"),
    ("LOCALAPI_MAX_TEXT_BYTES", "1e6", "LOCALAPI_MAX_TEXT_BYTES must be an integer of at least 1, not '1e6'"),
    ("LOCALAPI_FETCH_TIMEOUT", "-3", "LOCALAPI_FETCH_TIMEOUT must be an integer of at least 1, not '-3'"),
    ("LOCALAPI_REQUEUE_AFTER", "-1", "LOCALAPI_REQUEUE_AFTER must be an integer of at least 0, not '-1'"),
    ("LOG_LEVEL", "loud", "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not 'loud'"),
    ("CSRF_TRUSTED_ORIGINS", "console.example.com", "CSRF_TRUSTED_ORIGINS must be comma-separated origins"),
    ("CONSOLE_ADMIN_USER", "root", "CONSOLE_ADMIN_PASSWORD must be set when CONSOLE_ADMIN_USER is, not empty"),
    ("CONSOLE_ADMIN_PASSWORD", "pw", "CONSOLE_ADMIN_USER must be set when CONSOLE_ADMIN_PASSWORD is, not empty"),
    ("CONSOLE_VAR_DIR", "/proc/no-such-dir", "CONSOLE_VAR_DIR must be a folder this user can write, not"),
]


@pytest.mark.parametrize(("variable", "value", "line"), BAD_VALUES, ids=[f"{v}={x}" for v, x, _ in BAD_VALUES])
def test_a_bad_value_stops_the_start_with_one_line_naming_the_variable(
    variable: str, value: str, line: str, tmp_path: Path
) -> None:
    result = manage("check", env={variable: value}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert line in result.stderr
    assert "Traceback" not in result.stderr


def test_a_secret_in_a_bad_value_is_not_printed(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    result = manage("check", env={"CONSOLE_TOKEN_KEYS": f"{key},{key[:-3]}"}, tmp_path=tmp_path)
    assert "not a 41-character value in place 2" in result.stderr
    assert key[:-3] not in result.stderr


def test_serve_stops_with_the_one_line_before_starting_anything(tmp_path: Path) -> None:
    result = manage("serve", env={"PORT": "abc"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert result.stderr == "PORT must be an integer from 1 to 65535, not 'abc'\n"
    assert result.stdout == ""


def test_a_plain_gunicorn_stops_with_the_one_line(tmp_path: Path) -> None:
    result = run_module(
        "gunicorn",
        "console.wsgi",
        "--bind",
        "127.0.0.1:0",
        "--no-control-socket",
        env={"TIME_ZONE": "Mars/Base"},
        tmp_path=tmp_path,
    )
    assert result.returncode != 0
    assert "TIME_ZONE must be a time zone name such as UTC or Europe/Paris, not 'Mars/Base'\n" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Worker failed to boot" in result.stderr  # gunicorn stops, rather than booting the worker forever


def test_a_celery_worker_stops_with_the_one_line(tmp_path: Path) -> None:
    result = run_module("celery", "-A", "console", "worker", env={"WORKER_CONCURRENCY": "two"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert result.stderr == "WORKER_CONCURRENCY must be an integer of at least 1, not 'two'\n"


def test_the_defaults_run_on_a_fresh_machine(tmp_path: Path) -> None:
    result = manage("check", env={}, tmp_path=tmp_path / "var")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "var" / "secret_key").exists()
    assert (tmp_path / "var" / "token_key").exists()


def test_a_secret_key_is_generated_once_into_an_untracked_private_file(tmp_path: Path) -> None:
    env = {"SECRET_KEY": ""}
    assert manage("check", env=env, tmp_path=tmp_path).returncode == 0
    key_file = tmp_path / "secret_key"
    first = key_file.read_text()
    assert len(first.strip()) >= 50
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert manage("check", env=env, tmp_path=tmp_path).returncode == 0
    assert key_file.read_text() == first


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy_without_inline_scripts(client: Client) -> None:
    response = client.get("/health")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
