"""The token never reaches a page, a partial, a redirect, a header or a log line.

A connection is made with a sentinel token, and every page the console has is crawled as a signed-in
person (full pages and HTMX partials, forms and their errors, failures included), with logging at DEBUG.
"""

import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from console.connections import clients
from console.connections.models import Connection
from console.localapi.models import Token, hash_token

pytestmark = pytest.mark.django_db(transaction=True)
SENTINEL = "SENTINELtoken0123456789abcdefXYZ"


@pytest.fixture
def sentinel(local: Connection) -> Connection:
    """The built-in connection, its local API token replaced by the sentinel."""
    Token.objects.filter(user_id="demo").update(key_hash=hash_token(SENTINEL))
    local.set_token(SENTINEL)
    local.save()
    clients._clients.clear()
    return local


def test_no_page_shows_the_token(
    console: Client, sentinel: Connection, make_app: Callable[..., str], caplog: pytest.LogCaptureFixture
) -> None:
    make_app("shapes", texts=2, images=2)
    caplog.set_level(logging.DEBUG)
    c = sentinel.pk
    base = f"/c/{c}/apps/shapes"
    pages = [
        "/",
        "/connections/",
        f"/connections/{c}/edit",
        f"/c/{c}/apps/",
        f"/c/{c}/apps/?q=sha",
        f"/c/{c}/apps/new",
        f"{base}/",
        f"{base}/inputs/",
        f"{base}/inputs/?status=failed&per_page=32",
        f"{base}/inputs/image-000/",
        f"{base}/inputs/image-000/tile",
        f"{base}/inputs/image-000/delete",
        f"{base}/concepts/",
        f"{base}/concepts/?q=r",
        f"/c/{c}/apps/missing/",  # an upstream error
        f"{base}/inputs/ghost/",
        "/accounts/password/",
    ]
    responses: list[Any] = []
    for path in pages:
        for headers in ({}, {"HX-Request": "true"}):
            response = console.get(path, headers=headers)
            assert response.status_code in (200, 302, 404), (path, response.status_code)
            responses.append(response)
    # Every picture the pages point at, through the console's media view.
    media = set(re.findall(r'src="(/c/\d+/media\?u=[^"]+)"', b"".join(r.content for r in responses).decode()))
    assert media
    responses += [console.get(url.replace("&amp;", "&")) for url in media]
    # Forms, good and bad, and the edit form's errors.
    responses += [
        console.post(f"{base}/inputs/image-000/edit", {"add": "x", "metadata": "{broken"}),
        console.post(f"{base}/inputs/image-000/edit", {"add": "x", "metadata": "{}"}, headers={"HX-Request": "true"}),
        console.post(f"/c/{c}/apps/new", {"id": "shapes"}),
        console.post(f"{base}/concepts/new", {"id": "red"}),
        console.post(f"{base}/concepts/red/rename", {"name": "Rouge"}),
        console.post(f"/connections/{c}/edit", {"name": "Local demo", "user_id": "demo", "token": ""}),
        console.post(f"/connections/{c}/edit", {"name": "Local demo", "user_id": "nobody", "token": ""}),
    ]
    for response in responses:
        assert SENTINEL.encode() not in response.content, response.request["PATH_INFO"]
        for name, value in response.items():
            assert SENTINEL not in value, (name, response.request["PATH_INFO"])
    assert SENTINEL not in caplog.text
    assert "Authorization" not in caplog.text
    assert len(caplog.records) > 10  # the crawl did log: the check above had something to read
