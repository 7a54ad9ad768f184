"""Moving through inputs from an input's page: previous and next within the grid page it came from."""

import re
from collections.abc import Callable

import pytest
from django.test import Client

from console.connections.models import Connection
from tests.markup import find

pytestmark = pytest.mark.django_db(transaction=True)
HX = {"HX-Request": "true"}


def detail(local: Connection, input_id: str, back: str = "") -> str:
    return f"/c/{local.pk}/apps/shapes/inputs/{input_id}/" + (f"?back={back}" if back else "")


def links(page: str) -> dict[str, str]:
    return {
        which: href.replace("&amp;", "&") for href, which in re.findall(r'href="([^"]+)" data-shortcut="(\w+)"', page)
    }


def test_previous_and_next_follow_the_grid_page_and_its_filters(
    console: Client, local: Connection, make_app: Callable[..., str]
) -> None:
    make_app(texts=3, images=3)
    # The grid filtered to texts: text-002, text-001, text-000 (newest first).
    middle = console.get(detail(local, "text-001", "type%3Dtext")).content.decode()
    found = links(middle)
    assert found["previous"] == f"/c/{local.pk}/apps/shapes/inputs/text-002/?back=type%3Dtext"
    assert found["next"] == f"/c/{local.pk}/apps/shapes/inputs/text-000/?back=type%3Dtext"
    assert found["back"] == f"/c/{local.pk}/apps/shapes/inputs/?type=text#input-text-001"
    first = console.get(detail(local, "text-002", "type%3Dtext"), headers=HX).content.decode()
    assert "previous" not in links(first)
    assert '<span class="button secondary" aria-disabled="true">← Previous</span>' in first
    assert links(first)["next"].startswith(f"/c/{local.pk}/apps/shapes/inputs/text-001/")
    # Without a grid to come from: the first page of all inputs.
    plain = links(console.get(detail(local, "image-002")).content.decode())
    assert "previous" not in plain
    assert plain["next"] == f"/c/{local.pk}/apps/shapes/inputs/image-001/"


def test_the_page_lists_its_shortcuts(console: Client, local: Connection, make_app: Callable[..., str]) -> None:
    make_app(texts=2)
    page = console.get(detail(local, "text-000")).content.decode()
    shortcuts = find(r'<div id="shortcuts" class="card shortcuts" hidden>.*?</div>', page, re.S).group(0)
    for key in ("<kbd>j</kbd>", "<kbd>k</kbd>", "<kbd>Esc</kbd>", "<kbd>?</kbd>"):
        assert key in shortcuts
    assert 'data-shortcuts-toggle aria-controls="shortcuts"' in page
    assert "js/shortcuts.js" in page
