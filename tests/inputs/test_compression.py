"""Text answers travel gzip-compressed when the browser asks; pictures, compressed already, do not."""

import gzip
from collections.abc import Callable

import pytest
from django.test import Client

from console.connections.models import Connection
from tests.markup import find

pytestmark = pytest.mark.django_db(transaction=True)
GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def test_the_grid_partial_is_gzip_encoded_when_asked(
    console: Client, local: Connection, make_app: Callable[..., str]
) -> None:
    make_app(texts=20, images=4)
    url = f"/c/{local.pk}/apps/shapes/inputs/?page=1"

    plain = console.get(url, headers={"HX-Request": "true"})
    compressed = console.get(url, headers={"HX-Request": "true", **GZIP})

    assert "Content-Encoding" not in plain
    assert compressed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in compressed["Vary"]
    html = gzip.decompress(compressed.content).decode()
    assert '<div id="grid" hx-history="false">' in html
    assert len(compressed.content) < len(plain.content) / 3


def test_pictures_are_not_compressed_again(console: Client, local: Connection, make_app: Callable[..., str]) -> None:
    make_app(images=1)
    page = console.get(f"/c/{local.pk}/apps/shapes/inputs/").content.decode()
    src = find(r'src="(/c/\d+/media\?u=[^"]+)"', page).group(1).replace("&amp;", "&")

    picture = console.get(src, headers=GZIP)

    assert picture.status_code == 200
    assert picture["Content-Type"] == "image/jpeg"
    assert "Content-Encoding" not in picture
    assert picture.content[:2] == b"\xff\xd8"
