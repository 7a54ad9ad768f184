"""Settings come from the environment, fail loudly on bad values, and pass Django's deploy checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "console.example.com",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
    "SECURE_PROXY_SSL_HEADER": "1",
}


def manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k != "SECURE_COOKIES"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "CONSOLE_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_deploy_checks_pass_with_production_settings(tmp_path: Path) -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_checks_complain_about_plain_http_defaults(tmp_path: Path) -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env={"DEBUG": "0"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT" in result.stderr


def test_a_bad_boolean_fails_loudly_with_the_variable_named(tmp_path: Path) -> None:
    result = manage("check", env={"DEBUG": "perhaps"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_a_bad_integer_fails_loudly_with_the_variable_named(tmp_path: Path) -> None:
    result = manage("check", env={"SECURE_HSTS_SECONDS": "a year"}, tmp_path=tmp_path)
    assert "SECURE_HSTS_SECONDS must be an integer" in result.stderr


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
