"""The inputs grid: pages and page sizes, status filters, the HTMX partial, tiles that poll while processing."""

import re
from collections.abc import Callable

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.test import Client

from console.clarifai import ClarifaiClient
from console.connections.models import Connection
from console.localapi.models import Input

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
    assert partial.content.decode().lstrip().startswith('<div id="grid">')
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


def test_a_tile_still_processing_polls_until_it_is_done(
    console: Client, local: Connection, make_app: Callable[..., str]
) -> None:
    make_app(texts=1)
    Input.objects.filter(input_id="text-000").update(status_code=30001)
    html = console.get(grid(local)).content.decode()
    tile = re.search(r'<article class="tile" id="input-text-000"[^>]*>', html).group(0)
    assert f'hx-get="/c/{local.pk}/apps/shapes/inputs/text-000/tile' in tile
    assert 'hx-trigger="every 2s"' in tile
    # The poll answers the same tile, still polling while pending...
    still = console.get(f"/c/{local.pk}/apps/shapes/inputs/text-000/tile", headers=HX).content.decode()
    assert 'hx-trigger="every 2s"' in still
    assert "Pending" in still
    # ...and without the trigger once processed, which ends the polling.
    Input.objects.filter(input_id="text-000").update(status_code=30000)
    done = console.get(f"/c/{local.pk}/apps/shapes/inputs/text-000/tile", headers=HX).content.decode()
    assert done.lstrip().startswith('<article class="tile" id="input-text-000"')
    assert "hx-trigger" not in done
    assert "Note 0" in done


def test_a_failed_tile_shows_the_reason_and_stops_polling(
    console: Client, local: Connection, make_app: Callable[..., str]
) -> None:
    make_app(texts=1)
    Input.objects.filter(input_id="text-000").update(status_code=30002, status_details="the server answered HTTP 404")
    done = console.get(f"/c/{local.pk}/apps/shapes/inputs/text-000/tile", headers=HX).content.decode()
    assert "the server answered HTTP 404" in done
    assert "hx-trigger" not in done


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


def test_a_polled_tile_keeps_the_way_back_to_its_grid_page(
    console: Client, local: Connection, make_app: Callable[..., str]
) -> None:
    make_app(texts=1)
    Input.objects.filter(input_id="text-000").update(status_code=30001)
    html = console.get(f"/c/{local.pk}/apps/shapes/inputs/text-000/tile?back=page%3D2%26per_page%3D32", headers=HX)
    assert (
        'href="/c/1/apps/shapes/inputs/text-000/?back=page%3D2%26per_page%3D32"'.replace("/c/1/", f"/c/{local.pk}/")
        in html.content.decode()
    )
    assert "tile?back=page%3D2%26per_page%3D32" in html.content.decode()


def test_a_tile_shows_changes_at_once_though_tiles_are_cached(
    console: Client, local: Connection, api: ClarifaiClient, make_app: Callable[..., str]
) -> None:
    make_app(images=1)
    assert ">red</span>" in console.get(grid(local), headers=HX).content.decode()
    api.call(
        "PatchConcepts",
        service_pb2.PatchConceptsRequest(
            user_app_id=resources_pb2.UserAppIDSet(app_id="shapes"),
            concepts=[resources_pb2.Concept(id="red", name="Crimson")],
            action="overwrite",
        ),
    )
    html = console.get(grid(local), headers=HX).content.decode()
    assert ">Crimson</span>" in html
    assert ">red</span>" not in html


def test_a_tile_opened_as_a_page_goes_to_the_input(
    console: Client, local: Connection, make_app: Callable[..., str]
) -> None:
    make_app(texts=1)
    response = console.get(f"/c/{local.pk}/apps/shapes/inputs/text-000/tile")
    assert response.status_code == 302
    assert response["Location"] == f"/c/{local.pk}/apps/shapes/inputs/text-000/"
