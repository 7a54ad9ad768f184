"""The inputs grid: pages and page sizes, status filters, the HTMX partial, tiles that poll while processing."""

import html
import re
import time
from collections.abc import Callable

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.test import Client

from console.clarifai import ClarifaiClient
from console.connections.models import Connection
from console.localapi.models import Input
from tests.markup import find

pytestmark = pytest.mark.django_db(transaction=True)
HX = {"HX-Request": "true"}


def tiles(html: str) -> list[str]:
    return re.findall(r'<article class="tile" id="input-([^"]+)"', html)


def grid(local: Connection, app_id: str = "shapes", query: str = "") -> str:
    return f"/c/{local.pk}/apps/{app_id}/inputs/{query}"


def test_the_grid_shows_128_inputs_newest_first_with_thumbnails(
    console: Client, local: Connection, make_app: Callable[..., str]
) -> None:
    make_app(texts=100, images=40)
    response = console.get(grid(local))
    html = response.content.decode()
    assert "<html" in html
    shown = tiles(html)
    assert len(shown) == 128
    assert shown[0] == "image-039"
    assert html.count('loading="lazy"') == 40
    assert f'src="/c/{local.pk}/media?u=' in html
    assert "1–128 of 140" in html


def test_it_returns_only_the_grid_partial_to_htmx_and_the_page_on_history_restore(
    console: Client, local: Connection, make_app: Callable[..., str]
) -> None:
    make_app(texts=3)
    partial = console.get(grid(local, query="?page=1"), headers=HX)
    # The tab's title comes first: htmx sets it from a <title> at the top of a partial.
    title = "<title>Inputs · shapes · Clarifai console</title>"
    assert partial.content.decode().lstrip().startswith(f'{title}\n<div id="grid" hx-history="false">')
    assert len(tiles(partial.content.decode())) == 3
    assert "HX-Request" in partial["Vary"]
    restored = console.get(grid(local, query="?page=1"), headers={**HX, "HX-History-Restore-Request": "true"})
    assert "<html" in restored.content.decode()


def test_next_and_previous_are_real_links_that_htmx_enhances(
    console: Client, local: Connection, make_app: Callable[..., str]
) -> None:
    make_app(texts=70)
    first = console.get(grid(local, query="?per_page=32")).content.decode()
    assert 'href="?per_page=32&amp;page=2"' in first
    link = 'hx-get="?per_page=32&amp;page=2" hx-target="#grid" hx-swap="outerHTML show:#grid:top" hx-push-url="true"'
    assert link in first
    second = console.get(grid(local, query="?per_page=32&page=2"), headers=HX).content.decode()
    assert tiles(second)[0] == "text-037"
    assert 'href="?per_page=32&amp;page=1"' in second
    assert 'href="?per_page=32&amp;page=3"' in second
    last = console.get(grid(local, query="?per_page=32&page=3"), headers=HX).content.decode()
    assert len(tiles(last)) == 6
    assert "65–70 of 70" in last
    assert 'rel="next"' not in last


def test_a_page_size_not_offered_falls_back_to_128(
    console: Client, local: Connection, make_app: Callable[..., str]
) -> None:
    make_app(texts=2)
    for bad in ("?per_page=5000", "?per_page=abc", "?page=-3"):
        response = console.get(grid(local, query=bad))
        assert response.status_code == 200
        assert '<option value="128" selected>' in response.content.decode()


def test_it_filters_by_status(
    console: Client, local: Connection, api: ClarifaiClient, make_app: Callable[..., str]
) -> None:
    make_app(texts=2)
    Input.objects.filter(input_id="text-000").update(status_code=30002, status_details="could not connect to x")
    html = console.get(grid(local, query="?status=failed"), headers=HX).content.decode()
    assert tiles(html) == ["text-000"]
    assert "could not connect to x" in html
    processed = console.get(grid(local, query="?status=processed"), headers=HX).content.decode()
    assert tiles(processed) == ["text-001"]
    unknown = console.get(grid(local, query="?status=everything"), headers=HX).content.decode()
    assert len(tiles(unknown)) == 2


def test_tiles_still_processing_are_polled_together_until_they_are_done(
    console: Client, local: Connection, make_app: Callable[..., str]
) -> None:
    make_app(texts=3)
    Input.objects.filter(input_id__in=["text-000", "text-001"]).update(status_code=30001)
    html = console.get(grid(local, query="?page=1")).content.decode()
    tile = find(r'<article class="tile" id="input-text-000"[^>]*>.*?</article>', html, re.S).group(0)
    assert "Pending" in tile
    assert "<img" not in tile
    poller = find(r'<div id="poller"[^>]*>', html).group(0)
    poll = find(r'hx-get="([^"]+)"', poller).group(1)
    assert poll.startswith(
        f"/c/{local.pk}/apps/shapes/inputs/poll?ids=text-001&amp;ids=text-000&amp;back=page%3D1&amp;counts=1&amp;since="
    )
    assert 'hx-trigger="every 2s"' in poller
    # One input is done: its tile and the filters' counts come back out of band, and the poller keeps
    # asking about the other.
    Input.objects.filter(input_id="text-000").update(status_code=30000)
    answer = console.get(poll.replace("&amp;", "&"), headers=HX).content.decode()
    done = re.search(r'<article class="tile" id="input-text-000" hx-swap-oob="true">.*?</article>', answer, re.S)
    assert done is not None
    assert "Note 0" in done.group(0)
    assert "?back=page%3D1" in done.group(0)  # its link still leads back to the same grid page
    assert "input-text-001" not in answer
    filters = find(r'<nav class="filters" id="filters"[^>]*hx-swap-oob="true">.*?</nav>', answer, re.S).group(0)
    assert 'Processed <span class="muted">2</span>' in filters
    assert 'Pending <span class="muted">1</span>' in filters
    assert 'href="?page=1&amp;status=pending"' not in filters  # a filter starts from the first page
    assert 'href="?status=pending"' in filters
    assert "ids=text-001&amp;back=page%3D1&amp;counts=1&amp;since=" in answer
    # The last one fails: its tile shows why, and no poller comes back, which ends the polling.
    Input.objects.filter(input_id="text-001").update(status_code=30002, status_details="the server answered HTTP 404")
    last = console.get(f"/c/{local.pk}/apps/shapes/inputs/poll?ids=text-001", headers=HX).content.decode()
    assert "the server answered HTTP 404" in last
    assert 'hx-swap-oob="true"' in last
    assert "poller" not in last
    assert 'id="filters"' not in last  # not asked for: the overview has no filters


def test_a_grid_with_nothing_processing_does_not_poll(
    console: Client, local: Connection, make_app: Callable[..., str]
) -> None:
    make_app(texts=2)
    assert 'id="poller"' not in console.get(grid(local)).content.decode()


def test_the_poll_opened_as_a_page_goes_to_the_grid(
    console: Client, local: Connection, make_app: Callable[..., str]
) -> None:
    make_app(texts=1)
    response = console.get(f"/c/{local.pk}/apps/shapes/inputs/poll?ids=text-000")
    assert response.status_code == 302
    assert response["Location"] == f"/c/{local.pk}/apps/shapes/inputs/"


def test_user_data_is_escaped(console: Client, local: Connection, api: ClarifaiClient) -> None:
    api.call("PostApps", service_pb2.PostAppsRequest(apps=[resources_pb2.App(id="shapes")]))
    api.call(
        "PostInputs",
        service_pb2.PostInputsRequest(
            user_app_id=resources_pb2.UserAppIDSet(app_id="shapes"),
            inputs=[
                resources_pb2.Input(
                    id="x", data=resources_pb2.Data(text=resources_pb2.Text(raw="<script>alert(1)</script>"))
                )
            ],
        ),
    )
    html = console.get(grid(local)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_tile_shows_changes_at_once_though_tiles_are_cached(
    console: Client, local: Connection, api: ClarifaiClient, make_app: Callable[..., str]
) -> None:
    make_app(images=1)
    assert ">red</a>" in console.get(grid(local), headers=HX).content.decode()
    api.call(
        "PatchConcepts",
        service_pb2.PatchConceptsRequest(
            user_app_id=resources_pb2.UserAppIDSet(app_id="shapes"),
            concepts=[resources_pb2.Concept(id="red", name="Crimson")],
            action="overwrite",
        ),
    )
    html = console.get(grid(local), headers=HX).content.decode()
    assert ">Crimson</a>" in html
    assert ">red</a>" not in html


def test_changing_the_page_size_starts_again_at_page_1_without_repeating_parameters(
    console: Client, local: Connection, make_app: Callable[..., str]
) -> None:
    make_app(texts=70)
    html = console.get(grid(local, query="?per_page=32&page=2&status=processed")).content.decode()
    form = find(r'<form method="get"[^>]*hx-trigger="change">.*?</form>', html, re.S).group(0)
    path = grid(local)
    # An explicit URL without the query: htmx would otherwise add the form's fields to the current URL's.
    assert f'action="{path}"' in form
    assert f'hx-get="{path}"' in form
    assert 'hx-get=""' not in html
    assert re.findall(r'<input type="hidden" name="(\w+)" value="(\w+)">', form) == [("status", "processed")]
    assert 'name="page"' not in form


def test_paging_past_the_end_says_so_and_leads_to_the_last_page(
    console: Client, local: Connection, make_app: Callable[..., str]
) -> None:
    make_app(texts=70)
    for headers in ({}, HX):
        html = console.get(grid(local, query="?per_page=32&page=5"), headers=headers).content.decode()
        assert "Page 5 is past the end: 70 inputs fill 3 pages." in html
        assert '<a href="?per_page=32&amp;page=3">Go to the last page</a>' in html
        previous = find(r'<a class="button secondary" rel="prev" href="([^"]+)"', html).group(1)
        assert previous == "?per_page=32&amp;page=3"  # not page 4, another empty one
        assert "Page 5, past the end" in html
        assert 'rel="next"' not in html
    last = console.get(grid(local, query="?per_page=32&page=3")).content.decode()
    assert "past the end" not in last


def test_polling_stops_by_itself_after_ten_minutes_and_offers_to_check_again(
    console: Client, local: Connection, make_app: Callable[..., str]
) -> None:
    make_app(texts=2)
    Input.objects.filter(input_id="text-000").update(status_code=30003)
    poller = find(r'<div id="poller"[^>]*>', console.get(grid(local)).content.decode()).group(0)
    since = int(find(r"since=(\d+)", poller).group(1))
    assert abs(since - time.time()) < 5  # when the page was loaded
    poll = html.unescape(find(r'hx-get="([^"]+)"', poller).group(1))
    still = console.get(poll, headers=HX).content.decode()
    assert f"since={since}" in still  # each poll carries the page's time on, not its own
    assert 'hx-trigger="every 2s"' in still

    stale = poll.replace(f"since={since}", f"since={since - 601}")
    stopped = console.get(stale, headers=HX).content.decode()
    assert "still being processed after 10 minutes" in stopped
    assert "every 2s" not in stopped
    again = html.unescape(find(r'hx-get="([^"]+)"', stopped).group(1))
    assert "ids=text-000" in again
    assert abs(int(find(r"since=(\d+)", again).group(1)) - time.time()) < 5  # ten more minutes
    assert 'hx-trigger="every 2s"' in console.get(again, headers=HX).content.decode()
    # Without htmx (the link followed as a page) it is the grid.
    assert console.get(again)["Location"] == grid(local)


def test_the_tab_title_follows_the_grid_on_htmx_swaps(
    console: Client, local: Connection, make_app: Callable[..., str]
) -> None:
    make_app(texts=1)
    page = console.get(grid(local)).content.decode()
    assert page.count("<title>") == 1
    assert "<title>Inputs · shapes · Clarifai console</title>" in page
    restored = console.get(grid(local), headers={**HX, "HX-History-Restore-Request": "true"}).content.decode()
    assert restored.count("<title>") == 1


def test_an_input_that_does_not_exist_leads_back_to_the_inputs_not_to_try_again(
    console: Client, local: Connection, make_app: Callable[..., str]
) -> None:
    make_app(texts=1)
    for headers in ({}, HX):
        response = console.get(grid(local, query="nope/"), headers=headers)
        page = response.content.decode()
        assert response.status_code == 404
        assert "Try again" not in page
        assert f'<a class="button secondary" href="{grid(local)}">Back to the inputs</a>' in page
