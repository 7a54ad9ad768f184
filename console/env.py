"""Reading the environment: small typed helpers that name the variable when they cannot read its value.

Settings read every variable through these, once, at start. A value a helper cannot read raises
`BadSetting` with one line, "NAME must be <what it accepts>, not <what it got>"; each entry point
(manage.py, the WSGI module, the Celery app) prints that line and stops, without a traceback.
"""

import os
import sys
import zoneinfo
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import NoReturn
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured


class BadSetting(ImproperlyConfigured):
    """An environment variable whose value cannot be used; the message is one line that names it."""


def fail(name: str, accepts: str, got: str) -> NoReturn:
    raise BadSetting(f"{name} must be {accepts}, not {got}")


def raw(name: str) -> str | None:
    """The variable's value; unset and empty are the same (the default applies)."""
    value = os.environ.get(name)
    return value if value else None


def env_str(name: str, default: str) -> str:
    return raw(name) or default


def env_bool(name: str, default: bool) -> bool:
    value = raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    fail(name, "a boolean (1/0, true/false, yes/no)", repr(value))


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    if minimum is not None and maximum is not None:
        accepts = f"an integer from {minimum} to {maximum}"
    elif minimum is not None:
        accepts = f"an integer of at least {minimum}"
    else:
        accepts = "an integer"
    value = raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        fail(name, accepts, repr(value))
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        fail(name, accepts, repr(value))
    return number


def env_list(
    name: str, default: list[str], *, valid: Callable[[str], bool] | None = None, accepts: str = ""
) -> list[str]:
    """Comma-separated items; with `valid`, every item must pass it (`accepts` says what passes)."""
    value = raw(name)
    if value is None:
        return default
    items = [item.strip() for item in value.split(",") if item.strip()]
    for item in items:
        if valid is not None and not valid(item):
            fail(name, accepts, repr(item))
    return items


def env_choice(name: str, default: str, choices: Collection[str]) -> str:
    """One of `choices`, in any case (given back in upper case)."""
    value = env_str(name, default)
    if value.upper() not in choices:
        fail(name, f"one of {', '.join(choices)}", repr(value))
    return value.upper()


def env_url(
    name: str, default: str, schemes: Collection[str], what: str, *, parse: Callable[[str], object] | None = None
) -> str:
    """A URL whose scheme (before any `+`) is one of `schemes`, and that `parse` (if given) reads without a
    ValueError; empty if that is the default. Its password is never printed."""
    value = raw(name) or default
    if not value:
        return ""
    for url in value.split(";"):  # Celery takes several broker URLs, for failover
        scheme = url.partition("://")[0] if "://" in url else ""
        if scheme.partition("+")[0] not in schemes:
            fail(name, f"{what} ({', '.join(sorted(schemes))})", shown_url(url))
        try:
            if parse is not None:
                parse(url)
        except ValueError:
            fail(name, f"{what} ({', '.join(sorted(schemes))})", shown_url(url))
    return value


def shown_url(url: str) -> str:
    """A URL as an error message may show it: without its password."""
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    return repr(url.replace(f":{password}@", ":***@") if password else url)


def env_time_zone(name: str, default: str) -> str:
    value = env_str(name, default)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        fail(name, "a time zone name such as UTC or Europe/Paris", repr(value))
    return value


def env_fernet_keys(name: str) -> list[str]:
    """Comma-separated Fernet keys; a key is a secret, so a bad one is named by its place, not printed."""
    keys = env_list(name, [])
    for place, key in enumerate(keys, 1):
        try:
            Fernet(key)
        except ValueError:
            fail(
                name,
                "comma-separated Fernet keys (44 characters of url-safe base64 each)",
                f"a {len(key)}-character value in place {place}",
            )
    return keys


@contextmanager
def stop_on_bad_setting(exit_code: int = 1) -> Iterator[None]:
    """Within the block, a bad environment variable prints its one line and ends the process."""
    try:
        yield
    except BadSetting as error:
        sys.stderr.write(f"{error}\n")
        sys.exit(exit_code)
