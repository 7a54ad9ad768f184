"""PostInputsSearches through the official clarifai-grpc JSON client, against the live local API."""

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from clarifai_grpc.grpc.api import resources_pb2 as r
from clarifai_grpc.grpc.api import service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from clarifai_grpc.grpc.api.status import status_pb2
from google.protobuf.struct_pb2 import Struct
from google.protobuf.timestamp_pb2 import Timestamp

from console.localapi.models import App, Input
from tests.localapi.conftest import Caller


def timestamp(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def struct(values: dict[str, Any]) -> Struct:
    s = Struct()
    s.update(values)
    return s


def text(
    input_id: str, concepts: dict[str, float] | None = None, datasets: tuple[str, ...] = (), **metadata: Any
) -> r.Input:
    return r.Input(
        id=input_id,
        dataset_ids=list(datasets),
        data=r.Data(
            text=r.Text(raw=input_id),
            concepts=[r.Concept(id=c, value=v) for c, v in (concepts or {}).items()],
            metadata=struct(metadata),
        ),
    )


@pytest.fixture
def inputs(alice: Caller, alice_app: App) -> None:
    """Five text inputs (one a pending image) labelled, described and filed in datasets."""
    alice.call(
        "PostDatasets",
        service_pb2.PostDatasetsRequest(
            user_app_id=alice.app_ids("main"), datasets=[r.Dataset(id="train"), r.Dataset(id="test")]
        ),
    )
    response = alice.call(
        "PostInputs",
        service_pb2.PostInputsRequest(
            user_app_id=alice.app_ids("main"),
            inputs=[
                text("a", {"star": 1}, ("train",), split="train", info={"lang": "en", "n": 1}, tags=["x", "y"]),
                text("b", {"star": 0}, ("train",), split="train", info={"lang": "fr", "n": 2}),
                text("c", {"star": 1, "moon": 1}, ("test",), split="test", flag=True),
                text("d", {}, (), split="test", tags=["y"]),
            ],
        ),
    )
    assert response.status.code == codes.SUCCESS, response.status
    # An image that never gets processed: its status stays pending.
    Input.objects.create(app=alice_app, input_id="e", kind=Input.IMAGE, metadata={"split": "none"})


def search(alice: Caller, *filters: r.Filter, page: int = 0, per_page: int = 0) -> list[str]:
    response = alice.call(
        "PostInputsSearches",
        service_pb2.PostInputsSearchesRequest(
            user_app_id=alice.app_ids("main"),
            searches=[r.Search(query=r.Query(filters=list(filters)))],
            pagination=service_pb2.Pagination(page=page, per_page=per_page),
        ),
    )
    assert response.status.code == codes.SUCCESS, response.status
    assert all(hit.score == 1 for hit in response.hits)
    return [hit.input.id for hit in response.hits]


def concepts(*given: tuple[str, float], by: str = "id") -> r.Filter:
    listed = [r.Concept(id=c, value=v) if by == "id" else r.Concept(name=c, value=v) for c, v in given]
    return r.Filter(annotation=r.Annotation(data=r.Data(concepts=listed)))


def metadata(**values: Any) -> r.Filter:
    return r.Filter(annotation=r.Annotation(data=r.Data(metadata=struct(values))))


def test_an_empty_search_lists_every_input_newest_first(alice: Caller, inputs: None) -> None:
    assert search(alice) == ["e", "d", "c", "b", "a"]
    nothing = alice.call("PostInputsSearches", service_pb2.PostInputsSearchesRequest(user_app_id=alice.app_ids("main")))
    assert [hit.input.id for hit in nothing.hits] == ["e", "d", "c", "b", "a"]
    assert search(alice, r.Filter()) == ["e", "d", "c", "b", "a"]


def test_it_pages_like_the_lists(alice: Caller, inputs: None) -> None:
    assert search(alice, per_page=2) == ["e", "d"]
    assert search(alice, page=2, per_page=2) == ["c", "b"]
    assert search(alice, page=4, per_page=2) == []


def test_it_filters_by_positive_and_negative_concept_labels(alice: Caller, inputs: None) -> None:
    assert search(alice, concepts(("star", 1))) == ["c", "a"]
    assert search(alice, concepts(("star", 0))) == ["b"]
    assert search(alice, concepts(("star", 1), by="name")) == ["c", "a"]


def test_concepts_in_one_filter_are_alternatives_and_filters_combine_with_and(alice: Caller, inputs: None) -> None:
    assert search(alice, concepts(("moon", 1), ("star", 0))) == ["c", "b"]
    assert search(alice, concepts(("moon", 1)), concepts(("star", 1))) == ["c"]


def test_a_concept_that_does_not_exist_finds_nothing(alice: Caller, inputs: None) -> None:
    assert search(alice, concepts(("comet", 1))) == []


def test_it_filters_by_metadata_subset_with_nested_keys_and_lists(alice: Caller, inputs: None) -> None:
    assert search(alice, metadata(split="train")) == ["b", "a"]
    assert search(alice, metadata(info={"lang": "fr"})) == ["b"]
    assert search(alice, metadata(info={"n": 1}, split="train")) == ["a"]
    assert search(alice, metadata(flag=True)) == ["c"]
    assert search(alice, metadata(tags=["y"])) == ["d", "a"]
    assert search(alice, metadata(tags=["x", "y"])) == ["a"]
    assert search(alice, metadata(split="nowhere")) == []
    on_input = r.Filter(input=r.Input(data=r.Data(metadata=struct({"split": "test"}))))
    assert search(alice, on_input) == ["d", "c"]


def test_it_filters_by_dataset(alice: Caller, inputs: None) -> None:
    assert search(alice, r.Filter(input=r.Input(dataset_ids=["train"]))) == ["b", "a"]
    assert search(alice, r.Filter(input=r.Input(dataset_ids=["train", "test"]))) == ["c", "b", "a"]
    assert search(alice, r.Filter(input=r.Input(dataset_ids=["missing"]))) == []


def test_it_filters_by_status_type_and_id(alice: Caller, inputs: None) -> None:
    pending = r.Filter(input=r.Input(status=status_pb2.Status(code=codes.INPUT_DOWNLOAD_PENDING)))
    assert search(alice, pending) == ["e"]
    done = r.Filter(input=r.Input(status=status_pb2.Status(code=codes.INPUT_DOWNLOAD_SUCCESS)))
    assert search(alice, done) == ["d", "c", "b", "a"]
    assert search(alice, r.Filter(input=r.Input(data=r.Data(image=r.Image())))) == ["e"]
    assert search(alice, r.Filter(input=r.Input(data=r.Data(text=r.Text())))) == ["d", "c", "b", "a"]
    assert search(alice, r.Filter(input=r.Input(data=r.Data(video=r.Video())))) == []
    assert search(alice, r.Filter(input=r.Input(id="c"))) == ["c"]


def test_it_filters_by_the_time_of_the_last_change(alice: Caller, inputs: None) -> None:
    Input.objects.filter(input_id="b").update(modified_at=datetime(2020, 1, 1, tzinfo=UTC))
    until_2021 = r.TimeRange(end_time=timestamp(datetime(2021, 1, 1, tzinfo=UTC)))
    assert search(alice, r.Filter(last_updated_time_range=until_2021)) == ["b"]
    since_2021 = r.TimeRange(start_time=timestamp(datetime(2021, 1, 1, tzinfo=UTC)))
    assert search(alice, r.Filter(last_updated_time_range=since_2021)) == ["e", "d", "c", "a"]


def test_it_filters_by_the_input_id_of_an_annotation(alice: Caller, inputs: None) -> None:
    assert search(alice, r.Filter(annotation=r.Annotation(input_id="b"))) == ["b"]


def test_every_filter_combines_with_and_and_negate_inverts_one(alice: Caller, inputs: None) -> None:
    texts = r.Filter(input=r.Input(data=r.Data(text=r.Text())))
    assert search(alice, texts, metadata(split="test"), concepts(("star", 1))) == ["c"]
    not_train = r.Filter(negate=True, input=r.Input(dataset_ids=["train"]))
    assert search(alice, texts, not_train) == ["d", "c"]


def test_only_count_answers_the_number_of_matches(alice: Caller, inputs: None) -> None:
    response = alice.call(
        "PostInputsSearches",
        service_pb2.PostInputsSearchesRequest(
            user_app_id=alice.app_ids("main"),
            searches=[r.Search(query=r.Query(filters=[metadata(split="train")]))],
            only_count=True,
        ),
    )
    assert [c.estimated_total for c in response.hit_counts] == [2]
    assert not response.hits


def test_the_older_post_searches_answers_the_same(alice: Caller, inputs: None) -> None:
    response = alice.call(
        "PostSearches",
        service_pb2.PostSearchesRequest(
            user_app_id=alice.app_ids("main"), query=r.Query(filters=[concepts(("star", 1))])
        ),
    )
    assert [hit.input.id for hit in response.hits] == ["c", "a"]


def test_what_the_sdk_sends_by_default_is_accepted(alice: Caller, inputs: None) -> None:
    """clarifai's Search.query() sends an empty rank, both parts of each filter, a metric and an algorithm."""
    response = alice.call(
        "PostInputsSearches",
        service_pb2.PostInputsSearchesRequest(
            user_app_id=alice.app_ids("main"),
            searches=[
                r.Search(
                    query=r.Query(
                        ranks=[r.Rank(annotation=r.Annotation())],
                        filters=[
                            r.Filter(
                                annotation=r.Annotation(data=r.Data(concepts=[r.Concept(name="star", value=1)])),
                                input=r.Input(),
                            )
                        ],
                    ),
                    algorithm="nearest_neighbor",
                    metric=r.Search.Metric.EUCLIDEAN_DISTANCE,
                )
            ],
            pagination=service_pb2.Pagination(page=1, per_page=1000),
        ),
    )
    assert [hit.input.id for hit in response.hits] == ["c", "a"]
    assert response.hits[0].input.data.concepts


def raw_search(alice: Caller, body: Any) -> httpx.Response:
    return httpx.post(
        f"{alice.base_url}/v2/users/me/apps/main/inputs/searches",
        headers={"Authorization": f"Key {alice.token}"},
        json=body,
    )


def query_body(*filters: Any) -> dict[str, Any]:
    return {"searches": [{"query": {"filters": list(filters)}}]}


@pytest.mark.parametrize(
    ("body", "code", "details"),
    [
        (query_body({"annotation": {"data": {"metadata": "split=test"}}}), codes.CONN_BAD_REQUEST_FORMAT, "metadata"),
        (query_body({"annotation": {"data": {"metadata": ["split"]}}}), codes.CONN_BAD_REQUEST_FORMAT, "metadata"),
        (
            query_body({"annotation": {"data": {"concepts": [{"id": "star", "value": 0.5}]}}}),
            codes.SEARCH_INVALID_REQUEST,
            "value 0.5",
        ),
        (
            query_body({"annotation": {"data": {"concepts": [{"value": 1}]}}}),
            codes.SEARCH_INVALID_REQUEST,
            "neither id nor name",
        ),
        (
            query_body({"annotation": {"data": {"geo": {"geo_point": {"latitude": 1}}}}}),
            codes.SEARCH_INVALID_REQUEST,
            "annotation.data.geo",
        ),
        (
            query_body({"input": {"data": {"image": {"url": "https://x.test/a.jpg"}}}}),
            codes.SEARCH_INVALID_REQUEST,
            "similarity",
        ),
        (
            {"searches": [{"query": {"ranks": [{"annotation": {"data": {"text": {"raw": "hi"}}}}]}}]},
            codes.SEARCH_INVALID_REQUEST,
            "ranks",
        ),
        ({"searches": [{"id": "saved"}]}, codes.SEARCH_INVALID_REQUEST, "search.id"),
        ({"searches": [{}, {}]}, codes.SEARCH_INVALID_REQUEST, "at most one search"),
        ({"searches": [{"query": {"ands": [{"input": {"id": "a"}}]}}]}, codes.SEARCH_INVALID_REQUEST, "query.ands"),
        (query_body({"nonsense": 1}), codes.CONN_BAD_REQUEST_FORMAT, "nonsense"),
    ],
)
def test_a_query_it_cannot_run_is_a_clear_4xx(alice: Caller, inputs: None, body: Any, code: int, details: str) -> None:
    response = raw_search(alice, body)
    assert 400 <= response.status_code < 500, response.text
    status = response.json()["status"]
    assert status["code"] == code, status
    assert details in status["details"], status


def test_metadata_that_is_not_json_is_a_clear_4xx(alice: Caller, inputs: None) -> None:
    response = httpx.post(
        f"{alice.base_url}/v2/users/me/apps/main/inputs/searches",
        headers={"Authorization": f"Key {alice.token}", "Content-Type": "application/json"},
        content=b'{"searches": [{"query": {"filters": [{"annotation": {"data": {"metadata": {split: test}}}}]}}]}',
    )
    assert response.status_code == 400
    assert response.json()["status"]["code"] == codes.CONN_BAD_REQUEST_FORMAT
