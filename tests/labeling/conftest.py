"""The labeling tests' ground: seed_demo's shapes app, its task "shape-check" and its people (labelers maya
and noah, reviewer rita, each with their own local API token), pictures stored under the test's own folder."""

from pathlib import Path
from typing import Any

import pytest

from console.connections.models import Connection
from console.labeling.demo import builtin_connection, seed_accounts
from console.localapi import demo


@pytest.fixture(autouse=True)
def _own_media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def tokens(db: None) -> dict[str, str]:
    """The demo seeded with its people's console accounts; their local API tokens by user id."""
    seeded = demo.seed_demo(shapes=120, notes=6)
    seed_accounts(seeded.tokens)
    return seeded.tokens


@pytest.fixture
def conn(tokens: dict[str, str]) -> Connection:
    """The built-in connection, as seeded."""
    return builtin_connection()
