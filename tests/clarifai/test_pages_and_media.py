"""Walking a list page by page until an empty page, and fetching hosted media under a size cap."""

import json
from collections.abc import Callable, Iterator

import httpx
import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2

from console.clarifai import ClarifaiClient, ClarifaiError, ClarifaiProtocolError, ClarifaiStatusError, ClarifaiTooLarge
from tests.clarifai.conftest import TOKEN, Harness, html, ok, status
from tests.images import png

APP = resources_pb2.UserAppIDSet(user_id="alice", app_id="my-app")


def pages(*sizes: int) -> Callable[[httpx.Request], httpx.Response]:
    """Answer page n (1-based) with sizes[n-1] inputs, and nothing past the last size."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            page = int(request.url.params["page"])
        else:
            page = json.loads(request.content)["pagination"]["page"]
        count = sizes[page - 1] if page <= len(sizes) else 0
        items = [{"id": f"p{page}-{i}"} for i in range(count)]
        return ok(inputs=items, hits=[{"input": item} for item in items])

    return answer


def test_it_walks_pages_until_the_first_empty_one(make_client: Callable[..., Harness]) -> None:
    h = make_client(pages(2, 2, 1))
    items = list(
        h.client.iter_pages("ListInputs", service_pb2.ListInputsRequest(user_app_id=APP), "inputs", per_page=2)
    )
    assert [i.id for i in items] == ["p1-0", "p1-1", "p2-0", "p2-1", "p3-0"]
    assert [r.url.params["page"] for r in h.api.requests] == ["1", "2", "3", "4"]
    assert {r.url.params["per_page"] for r in h.api.requests} == {"2"}


def test_it_stops_at_an_empty_first_page(make_client: Callable[..., Harness]) -> None:
    h = make_client(pages())
    assert list(h.client.iter_pages("ListInputs", service_pb2.ListInputsRequest(user_app_id=APP), "inputs")) == []
    assert len(h.api.requests) == 1


def test_it_fetches_pages_only_as_they_are_consumed(make_client: Callable[..., Harness]) -> None:
    h = make_client(pages(2, 2, 2))
    items = h.client.iter_pages("ListInputs", service_pb2.ListInputsRequest(user_app_id=APP), "inputs", per_page=2)
    assert next(items).id == "p1-0"
    assert len(h.api.requests) == 1


def test_it_pages_a_search_through_its_pagination_field(make_client: Callable[..., Harness]) -> None:
    h = make_client(pages(3, 1))
    request = service_pb2.PostInputsSearchesRequest(user_app_id=APP)
    hits = list(h.client.iter_pages("PostInputsSearches", request, "hits", per_page=3))
    assert [hit.input.id for hit in hits] == ["p1-0", "p1-1", "p1-2", "p2-0"]
    assert [h.api.body(i)["pagination"] for i in range(3)] == [{"page": p, "per_page": 3} for p in (1, 2, 3)]


def test_it_refuses_an_items_field_the_response_does_not_have(make_client: Callable[..., Harness]) -> None:
    h = make_client()
    with pytest.raises(ValueError, match="apps"):
        list(h.client.iter_pages("ListInputs", service_pb2.ListInputsRequest(user_app_id=APP), "apps"))


def test_a_failing_page_raises(make_client: Callable[..., Harness]) -> None:
    h = make_client(ok(inputs=[{"id": "a"}]), status(11101, 404))
    items = h.client.iter_pages("ListInputs", service_pb2.ListInputsRequest(user_app_id=APP), "inputs")
    assert next(items).id == "a"
    with pytest.raises(ClarifaiStatusError):
        next(items)


PNG = png(8, 8)


def test_it_fetches_media_with_the_token(make_client: Callable[..., Harness]) -> None:
    h = make_client(httpx.Response(200, content=PNG, headers={"Content-Type": "image/png"}))
    media = h.client.get_bytes("https://api.example.com/media/1/small/abc.png", max_bytes=1000)
    assert media.content == PNG
    assert media.content_type == "image/png"
    assert h.api.last.headers["Authorization"] == f"Key {TOKEN}"


def test_it_resolves_a_media_path_against_the_base_url(make_client: Callable[..., Harness]) -> None:
    h = make_client(httpx.Response(200, content=PNG, headers={"Content-Type": "application/octet-stream"}))
    content, content_type = h.client.get_bytes("/media/1/orig/abc", max_bytes=1000)
    assert str(h.api.last.url) == "https://api.example.com/media/1/orig/abc"
    assert content == PNG
    assert content_type == "image/png"  # what the bytes are, not what the server said


def test_it_refuses_media_bigger_than_the_cap_by_its_length(make_client: Callable[..., Harness]) -> None:
    h = make_client(httpx.Response(200, content=PNG))
    with pytest.raises(ClarifaiTooLarge, match="larger than 50 bytes"):
        h.client.get_bytes("https://api.example.com/media/big", max_bytes=50)


def test_it_stops_reading_media_when_it_passes_the_cap(make_client: Callable[..., Harness]) -> None:
    read: list[int] = []

    def endless() -> Iterator[bytes]:
        for i in range(10_000):
            read.append(i)
            yield b"x" * 1024

    h = make_client(lambda request: httpx.Response(200, content=endless()))
    with pytest.raises(ClarifaiTooLarge):
        h.client.get_bytes("https://api.example.com/media/endless", max_bytes=10 * 1024)
    assert len(read) < 20


def test_it_raises_the_apis_status_for_missing_media(make_client: Callable[..., Harness]) -> None:
    h = make_client(status(11101, 404, "Resource does not exist"))
    with pytest.raises(ClarifaiStatusError) as raised:
        h.client.get_bytes("https://api.example.com/media/gone", max_bytes=1000)
    assert raised.value.code == 11101


def test_it_raises_for_media_that_answers_an_error_page(make_client: Callable[..., Harness]) -> None:
    h = make_client(html(403))
    with pytest.raises(ClarifaiProtocolError, match="answered HTTP 403"):
        h.client.get_bytes("https://api.example.com/media/x", max_bytes=1000)


def test_it_retries_media_on_503(make_client: Callable[..., Harness]) -> None:
    h = make_client(html(503), httpx.Response(200, content=PNG))
    assert h.client.get_bytes("https://api.example.com/media/x", max_bytes=1000).content == PNG
    assert len(h.api.requests) == 2


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.net/steal",
        "http://api.example.com/media/x",  # same host, but the token would travel in clear text
        "file:///etc/passwd",
    ],
)
def test_it_never_sends_the_token_to_another_origin(make_client: Callable[..., Harness], url: str) -> None:
    h = make_client(httpx.Response(200, content=PNG))
    with pytest.raises(ClarifaiError):
        h.client.get_bytes(url, max_bytes=1000)
    assert h.api.requests == []


def test_it_sends_the_token_to_extra_media_hosts_it_was_given(make_client: Callable[..., Harness]) -> None:
    h = make_client(httpx.Response(200, content=PNG), media_hosts=["cdn.example.com"])
    h.client.get_bytes("https://cdn.example.com/x.png", max_bytes=1000)
    assert h.api.last.headers["Authorization"] == f"Key {TOKEN}"


def test_the_real_api_may_serve_media_from_a_sibling_host() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=PNG)

    with ClarifaiClient("https://api.clarifai.com", TOKEN, transport=httpx.MockTransport(handler)) as client:
        client.get_bytes("https://data.clarifai.com/small/users/u/apps/a/inputs/image/abc", max_bytes=1000)
        with pytest.raises(ClarifaiError):
            client.get_bytes("https://data.clarifai.com.evil.net/x", max_bytes=1000)
    assert len(seen) == 1
