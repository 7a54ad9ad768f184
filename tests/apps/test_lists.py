"""How the app pages behave in the browser's history and link to the grid: the apps search and the overview's
status cards."""

import re
from collections.abc import Callable

import pytest
from django.test import Client

from console.connections.models import Connection
from console.localapi.models import Input
from tests.markup import find

pytestmark = pytest.mark.django_db(transaction=True)
HX = {"HX-Request": "true"}


def test_the_search_goes_to_the_list_and_replaces_the_url_as_typing_settles(console: Client, local: Connection) -> None:
    for query in ("", "?q=st&page=2"):
        html = console.get(f"/c/{local.pk}/apps/{query}").content.decode()
        form = find(r'<form class="toolbar"[^>]*>', html, re.S).group(0)
        # Its own URL, without the query: htmx would otherwise add `q` to the current URL's (q=st&q=sta...).
        assert f'action="/c/{local.pk}/apps/"' in form
        assert f'hx-get="/c/{local.pk}/apps/"' in form
        assert 'hx-replace-url="true"' in form  # one history entry, not one per pause
        assert "hx-push-url" not in form


def test_the_tab_title_follows_a_search(console: Client, local: Connection) -> None:
    partial = console.get(f"/c/{local.pk}/apps/?q=pets", headers=HX).content.decode()
    assert partial.lstrip().startswith("<title>“pets” · Apps · Local demo · Clarifai console</title>")


def test_the_overview_links_pending_and_processing_each_to_its_filter(
    console: Client, local: Connection, make_app: Callable[..., str]
) -> None:
    make_app(texts=5)
    Input.objects.filter(input_id__in=["text-000", "text-001"]).update(status_code=30001)
    Input.objects.filter(input_id="text-002").update(status_code=30003)
    html = console.get(f"/c/{local.pk}/apps/shapes/").content.decode()
    grid = f"/c/{local.pk}/apps/shapes/inputs/"
    pending = find(rf'<a href="{grid}\?status=pending">(.*?)</a>', html, re.S).group(1)
    processing = find(rf'<a href="{grid}\?status=processing">(.*?)</a>', html, re.S).group(1)
    assert '<div class="value">2</div>' in pending and "Pending" in pending
    assert '<div class="value">1</div>' in processing and "Processing" in processing
    assert "Pending or processing" not in html
    # Each filter shows what its card counts.
    assert len(re.findall(r'<article class="tile"', console.get(f"{grid}?status=processing").content.decode())) == 1
