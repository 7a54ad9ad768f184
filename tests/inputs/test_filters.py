"""The inputs grid's filters: concept (yes or no, by name), metadata, dataset, type, id and status,
combined, kept in the URL, and links to them from every concept and dataset chip."""

import html as markup
import re
from collections.abc import Callable
from typing import Any

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.test import Client

from console.clarifai import ClarifaiClient
from console.connections.models import Connection
from console.inputs.filters import MetadataFilterError, parse_metadata
from console.localapi.models import Dataset, DatasetInput, Input
from tests.faults import fault_server
from tests.markup import find

pytestmark = pytest.mark.django_db(transaction=True)
HX = {"HX-Request": "true"}
APP = resources_pb2.UserAppIDSet(app_id="shapes")


def tiles(page: str) -> list[str]:
    return re.findall(r'<article class="tile" id="input-([^"]+)"', page)


def grid(local: Connection, query: str = "") -> str:
    return f"/c/{local.pk}/apps/shapes/inputs/{query}"


def patch(api: ClarifaiClient, input_id: str, metadata: dict[str, Any] | None = None, **concepts: float) -> None:
    item = resources_pb2.Input(id=input_id)
    if metadata:
        item.data.metadata.update(metadata)
    for concept_id, value in concepts.items():
        item.data.concepts.append(resources_pb2.Concept(id=concept_id, value=value))
    api.call("PatchInputs", service_pb2.PatchInputsRequest(user_app_id=APP, inputs=[item], action="merge"))


@pytest.fixture
def shapes(make_app: Callable[..., str], api: ClarifaiClient) -> str:
    """4 texts and 4 images (labelled red); two images in split test, one text labelled not red, a dataset."""
    make_app(texts=4, images=4)
    api.call(
        "PatchConcepts",
        service_pb2.PatchConceptsRequest(
            user_app_id=APP, concepts=[resources_pb2.Concept(id="red", name="Crimson")], action="overwrite"
        ),
    )
    patch(api, "image-000", {"split": "test"})
    patch(api, "image-001", {"split": "test", "score": 2, "a": {"b": True}})
    patch(api, "image-002", {"split": "train"})
    patch(api, "text-000", red=0.0)
    api.call(
        "PostDatasets", service_pb2.PostDatasetsRequest(user_app_id=APP, datasets=[resources_pb2.Dataset(id="golden")])
    )
    dataset = Dataset.objects.get(dataset_id="golden", app__app_id="shapes")
    for input_id in ("image-001", "text-001"):  # as PostInputs with dataset_ids joins them
        DatasetInput.objects.create(dataset=dataset, input=Input.objects.get(input_id=input_id, app__app_id="shapes"))
    return "shapes"


def test_a_metadata_filter_reads_typed_values_and_nested_keys() -> None:
    assert parse_metadata('split = "test"') == {"split": "test"}
    assert parse_metadata("score=2") == {"score": 2}
    assert parse_metadata("a.b = true") == {"a": {"b": True}}
    assert parse_metadata("gone = null") == {"gone": None}
    for bad in ("split = test", "split", "= 3", "a..b = 1", "split ="):
        with pytest.raises(MetadataFilterError):
            parse_metadata(bad)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?concept=Crimson", ["image-003", "image-002", "image-001", "image-000"]),
        ("?concept=crimson&label=no", ["text-000"]),
        ("?concept=red", ["image-003", "image-002", "image-001", "image-000"]),  # an id works too
        ("?meta=split+%3D+%22test%22", ["image-001", "image-000"]),
        ("?meta=a.b+%3D+true", ["image-001"]),
        ("?meta=score+%3D+2", ["image-001"]),
        ("?dataset=golden", ["image-001", "text-001"]),
        ("?type=text", ["text-003", "text-002", "text-001", "text-000"]),
        ("?id=text-002", ["text-002"]),
        # Together they must all match (AND).
        ("?concept=Crimson&meta=split+%3D+%22test%22", ["image-001", "image-000"]),
        ("?concept=Crimson&meta=split+%3D+%22test%22&dataset=golden", ["image-001"]),
        ("?dataset=golden&type=text", ["text-001"]),
        ("?concept=Crimson&type=text", []),
        ("?meta=split+%3D+%22test%22&status=processed", ["image-001", "image-000"]),
        ("?meta=split+%3D+%22test%22&status=failed", []),
    ],
)
def test_filters_combine(console: Client, local: Connection, shapes: str, query: str, expected: list[str]) -> None:
    response = console.get(grid(local, query), headers=HX)
    assert response.status_code == 200
    assert tiles(response.content.decode()) == expected


def test_a_filtered_grid_is_a_partial_for_htmx_and_a_whole_page_otherwise(
    console: Client, local: Connection, shapes: str
) -> None:
    partial = console.get(grid(local, "?concept=Crimson"), headers=HX).content.decode()
    assert partial.lstrip().startswith(
        '<title>Inputs · shapes · Clarifai console</title>\n<div id="grid" hx-history="false">'
    )
    assert len(tiles(partial)) == 4
    whole = console.get(grid(local, "?concept=Crimson")).content.decode()
    assert "<html" in whole
    assert len(tiles(whole)) == 4


def test_the_url_round_trip_opens_the_same_view(console: Client, local: Connection, shapes: str) -> None:
    query = "?concept=Crimson&label=yes&meta=split+%3D+%22test%22&dataset=golden&type=image&per_page=32"
    page = console.get(grid(local, query)).content.decode()
    assert tiles(page) == ["image-001"]
    form = find(r'<form method="get"[^>]*id="filter-form".*?</form>', page, re.S).group(0)
    # The form shows what is applied, so applying it again (or a shared link) gives the same view.
    assert 'name="concept" value="Crimson"' in form
    assert 'name="meta" value="split = &quot;test&quot;"' in form
    assert 'name="dataset" value="golden"' in form
    assert '<option value="image" selected>' in form
    assert 'name="per_page" value="32"' in form
    # A status filter keeps the other filters (and drops the page).
    processed = find(r'<a href="(\?[^"]*status=processed[^"]*)"', page).group(1)
    assert "concept=Crimson" in processed and "dataset=golden" in processed and "meta=split" in processed
    again = console.get(grid(local, markup.unescape(processed)), headers=HX).content.decode()
    assert tiles(again) == ["image-001"]
    # The page-size form carries the filters too.
    size_form = find(r'<form method="get"[^>]*hx-trigger="change">.*?</form>', page, re.S).group(0)
    assert '<input type="hidden" name="dataset" value="golden">' in size_form
    # Opening an input remembers the filtered page, to come back to it.
    back = find(r'href="[^"]*/image-001/\?back=([^"]+)"', page).group(1)
    assert "concept%3DCrimson" in back and "dataset%3Dgolden" in back and "per_page%3D32" in back


def test_the_counts_say_they_are_of_the_whole_app_when_other_filters_are_on(
    console: Client, local: Connection, shapes: str
) -> None:
    plain = console.get(grid(local)).content.decode()
    assert "The counts by status are of the whole app" not in plain
    filtered = console.get(grid(local, "?type=text")).content.decode()
    assert "The counts by status are of the whole app" in filtered
    assert re.search(r">All <span class=\"muted\">8</span>", filtered)


def test_a_metadata_filter_that_cannot_be_read_says_why_in_place(
    console: Client, local: Connection, shapes: str
) -> None:
    response = console.get(grid(local, "?meta=split+%3D+test"), headers=HX)
    assert response.status_code == 200
    page = response.content.decode()
    assert tiles(page) == []
    assert 'aria-invalid="true"' in page
    error = find(r'<ul class="errorlist" role="alert" id="f-meta-error">(.*?)</ul>', page, re.S).group(1)
    assert "write text in double quotes" in markup.unescape(error)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?concept=nope", "This app has no concept “nope”, so no input matches."),
        ("?dataset=nowhere", "This app has no dataset “nowhere”, so no input matches."),
    ],
)
def test_a_concept_or_dataset_that_does_not_exist_gives_an_empty_grid_with_a_message(
    console: Client, local: Connection, shapes: str, query: str, message: str
) -> None:
    response = console.get(grid(local, query), headers=HX)
    assert response.status_code == 200
    page = response.content.decode()
    assert tiles(page) == []
    assert message in page
    assert "No inputs match these filters." in page
    assert 'id="dataset-link"' not in page  # no versions page to offer for a dataset that is not there


def test_a_grid_filtered_by_a_dataset_leads_to_its_versions_and_exports(
    console: Client, local: Connection, shapes: str
) -> None:
    page = console.get(grid(local, "?dataset=golden")).content.decode()
    link = find(r'<p class="small" id="dataset-link">(.*?)</p>', page, re.S).group(1)
    assert f'href="/c/{local.pk}/apps/shapes/datasets/golden/versions/"' in link
    assert "its versions and exports" in link
    assert 'id="dataset-link"' not in console.get(grid(local, "?concept=Crimson")).content.decode()


def test_concept_and_dataset_chips_link_to_the_filtered_grid(console: Client, local: Connection, shapes: str) -> None:
    base = grid(local)
    tiles_page = console.get(base).content.decode()
    assert f'href="{base}?concept=red">Crimson</a>' in tiles_page
    assert f'href="{base}?concept=red&amp;label=no">Crimson</a>' in tiles_page
    detail = console.get(f"{base}image-001/").content.decode()
    assert f'href="{base}?dataset=golden"' in detail
    assert f'href="{base}?concept=red"' in detail
    overview = console.get(f"/c/{local.pk}/apps/shapes/").content.decode()
    assert f'href="{base}?concept=red"' in overview
    assert f'href="{base}?dataset=golden"' in overview
    concepts = console.get(f"/c/{local.pk}/apps/shapes/concepts/").content.decode()
    assert f'href="{base}?concept=red"' in concepts


def test_over_http_a_filtered_grid_searches_and_a_plain_one_lists(console: Client, staff: object, db: None) -> None:
    """What the real API receives: PostInputsSearches with one filter per criterion, else ListInputs."""
    with fault_server() as server:
        remote = Connection(name="Remote", base_url=server.url, user_id="me")
        remote.set_token("remote-token-1234")
        remote.save()
        base = f"/c/{remote.pk}/apps/app/inputs/"
        assert console.get(base, headers=HX).status_code == 200
        assert any(m == "GET" and p.startswith("/v2/users/me/apps/app/inputs?") for m, p, _ in server.received)
        assert not any("/searches" in p for _, p, _ in server.received)
        server.received.clear()
        response = console.get(base + "?meta=a.b+%3D+1&type=image&dataset=d1&status=failed&page=2", headers=HX)
        assert response.status_code == 200
        searches = [
            body for m, p, body in server.received if m == "POST" and p == "/v2/users/me/apps/app/inputs/searches"
        ]
    assert len(searches) == 1
    body = searches[0]
    assert body["pagination"] == {"page": 2, "per_page": 128}
    filters = body["searches"][0]["query"]["filters"]
    assert filters[:3] == [
        {"annotation": {"data": {"metadata": {"a": {"b": 1}}}}},
        {"input": {"dataset_ids": ["d1"]}},
        {"input": {"data": {"image": {}}}},
    ]
    # The client writes enums by name (30002 has two: INPUT_DOWNLOAD_FAILED and INPUT_FAILED).
    assert filters[3]["input"]["status"]["code"] in (30002, "INPUT_DOWNLOAD_FAILED", "INPUT_FAILED")


def test_the_concepts_and_datasets_offered_come_once_a_field_is_used(
    console: Client, local: Connection, shapes: str
) -> None:
    page = console.get(grid(local)).content.decode()
    loader = find(r'<div id="filter-choices"[^>]*>', page).group(0)
    assert f'hx-get="/c/{local.pk}/apps/shapes/inputs/choices"' in loader
    assert 'hx-trigger="focusin from:.suggested once"' in loader
    assert "<datalist" not in page  # not asked for with the grid
    choices = console.get(grid(local, "choices"), headers=HX).content.decode()
    assert '<option value="Crimson">red</option>' in choices
    assert '<option value="golden"></option>' in choices
    assert console.get(grid(local, "choices")).status_code == 302  # a page of its own is the grid
