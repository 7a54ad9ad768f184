"""The spool: one folder (UPLOAD_SPOOL_DIR) that web and worker processes share, with a folder per upload
named by its key and a file per item named by its input id. Both names are made by the console (a key
of hex digits, an input id checked against the API's id pattern), never taken from a file's name.
"""

import re
import shutil
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings

SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,254}$")


def root() -> Path:
    return Path(settings.UPLOAD_SPOOL_DIR)


def folder(key: str) -> Path:
    if not SAFE_NAME.match(key) or key.startswith("."):
        raise ValueError(f"not a spool key: {key!r}")
    return root() / key


def path(key: str, input_id: str) -> Path:
    if not SAFE_NAME.match(input_id) or input_id in (".", ".."):
        raise ValueError(f"not a spool name: {input_id!r}")
    return folder(key) / input_id


def make_folder(key: str) -> Path:
    place = folder(key)
    place.mkdir(parents=True, exist_ok=True)
    return place


def put(key: str, input_id: str, data: bytes) -> None:
    path(key, input_id).write_bytes(data)


def read(key: str, input_id: str) -> bytes | None:
    """The item's bytes, or None when they are no longer in the spool."""
    try:
        return path(key, input_id).read_bytes()
    except FileNotFoundError:
        return None


def remove(key: str, input_ids: Iterable[str]) -> int:
    removed = 0
    for input_id in input_ids:
        try:
            path(key, input_id).unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed


def remove_folder(key: str) -> None:
    shutil.rmtree(folder(key), ignore_errors=True)


def folders() -> list[str]:
    """The upload folders in the spool."""
    try:
        return [p.name for p in root().iterdir() if p.is_dir() and SAFE_NAME.match(p.name)]
    except FileNotFoundError:
        return []
