"""Bad requests get a clear status and change nothing.

Each test says what was tried. Raw requests go over real HTTP with httpx (the official client cannot
send malformed JSON); the rest use the official client.
"""

import base64
import json
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from django.test import override_settings
from django.utils import timezone

from console.localapi.fetch import FetchError, fetch
from console.localapi.models import App, Concept, Input, Token
from tests.images import png
from tests.localapi.conftest import Caller
from tests.servers import QuietHandler, serving


def raw(alice: Caller, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Key {alice.token}", **kwargs.pop("headers", {})}
    return httpx.request(method, f"{alice.base_url}{path}", headers=headers, **kwargs)


INPUTS = "/v2/users/me/apps/main/inputs"


def assert_status(response: httpx.Response, http: int, code: int, details: str = "") -> dict[str, Any]:
    assert response.status_code == http, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert body["status"]["code"] == code, body
    assert body["status"]["description"]
    assert body["status"]["req_id"]
    assert details in body["status"].get("details", ""), body["status"]
    return body


def test_malformed_json_is_refused_as_bad_format(alice: Caller, alice_app: App) -> None:
    response = raw(alice, "POST", INPUTS, content=b'{"inputs": [', headers={"Content-Type": "application/json"})
    assert_status(response, 400, codes.CONN_BAD_REQUEST_FORMAT, "not valid JSON")


def test_a_json_array_body_is_refused(alice: Caller, alice_app: App) -> None:
    assert_status(raw(alice, "POST", INPUTS, json=[1, 2]), 400, codes.CONN_BAD_REQUEST_FORMAT, "JSON object")


def test_wrong_types_are_refused_with_the_field_named(alice: Caller, alice_app: App) -> None:
    response = raw(
        alice, "POST", INPUTS, json={"inputs": [{"id": 5, "data": {"text": {"raw": ["not", "a", "string"]}}}]}
    )
    assert_status(
        response, 400, codes.CONN_BAD_REQUEST_FORMAT, "Failed to parse inputs field: Failed to parse id field"
    )
    assert not Input.objects.exists()


def test_unknown_fields_are_refused_with_their_name(alice: Caller, alice_app: App) -> None:
    response = raw(alice, "POST", INPUTS, json={"inputs": [{"id": "x", "dta": {"text": {"raw": "hi"}}}]})
    body = assert_status(response, 400, codes.CONN_BAD_REQUEST_FORMAT, '"dta"')
    assert "Available Fields" not in body["status"]["details"]
    assert not Input.objects.exists()


def test_unknown_query_parameters_are_refused(alice: Caller, alice_app: App) -> None:
    assert_status(raw(alice, "GET", INPUTS, params={"pre_page": "5"}), 400, codes.CONN_INVALID_REQUEST, "pre_page")


def test_a_non_number_page_is_refused(alice: Caller, alice_app: App) -> None:
    assert_status(raw(alice, "GET", INPUTS, params={"page": "two"}), 400, codes.CONN_INVALID_REQUEST, "integer")


def test_per_page_over_the_limit_is_refused(alice: Caller, alice_app: App) -> None:
    response = alice.call("ListInputs", service_pb2.ListInputsRequest(user_app_id=alice.app_ids("main"), per_page=1001))
    assert response.status.code == codes.CONN_INVALID_REQUEST
    assert "1000" in response.status.details


def test_an_unknown_app_is_not_found(alice: Caller) -> None:
    response = alice.call("ListInputs", service_pb2.ListInputsRequest(user_app_id=alice.app_ids("nope")))
    assert response.status.code == codes.CONN_DOES_NOT_EXIST
    assert_status(raw(alice, "GET", "/v2/users/me/apps/nope/inputs"), 404, codes.CONN_DOES_NOT_EXIST, "nope")


def test_an_unknown_input_is_not_found_to_get_or_delete(alice: Caller, alice_app: App) -> None:
    got = alice.call("GetInput", service_pb2.GetInputRequest(user_app_id=alice.app_ids("main"), input_id="ghost"))
    assert got.status.code == codes.CONN_DOES_NOT_EXIST
    assert "ghost" in got.status.details
    deleted = alice.call(
        "DeleteInput", service_pb2.DeleteInputRequest(user_app_id=alice.app_ids("main"), input_id="ghost")
    )
    assert deleted.status.code == codes.CONN_DOES_NOT_EXIST


@pytest.mark.parametrize(
    ("header", "details"),
    [
        (None, "Authorization: Key"),
        ("Key wrong-token", "not valid"),
        ("Bearer something", "must be 'Key <token>'"),
        ("Key", "must be 'Key <token>'"),
    ],
)
def test_a_missing_or_bad_token_is_refused(alice: Caller, alice_app: App, header: str | None, details: str) -> None:
    headers = {"Authorization": header} if header else {}
    response = httpx.get(f"{alice.base_url}{INPUTS}", headers=headers)
    assert_status(response, 401, codes.CONN_KEY_INVALID, details)


def test_the_official_client_sees_a_bad_token_as_key_invalid(alice: Caller, alice_app: App) -> None:
    response = alice.stub.ListApps(service_pb2.ListAppsRequest(), metadata=(("authorization", "Key not-a-token"),))
    assert response.status.code == codes.CONN_KEY_INVALID


def test_invalid_base64_is_refused_with_its_place(alice: Caller, alice_app: App) -> None:
    good = base64.b64encode(png()).decode()
    body = {"inputs": [{"data": {"image": {"base64": good}}}, {"data": {"image": {"base64": "not base64 at all!!"}}}]}
    assert_status(
        raw(alice, "POST", INPUTS, json=body), 400, codes.CONN_BAD_REQUEST_FORMAT, "inputs[1].data.image.base64"
    )
    assert not Input.objects.exists()


def post(alice: Caller, *inputs: resources_pb2.Input) -> service_pb2.MultiInputResponse:
    request = service_pb2.PostInputsRequest(user_app_id=alice.app_ids("main"), inputs=inputs)
    response: service_pb2.MultiInputResponse = alice.call("PostInputs", request)
    return response


def image(**kwargs: Any) -> resources_pb2.Data:
    return resources_pb2.Data(image=resources_pb2.Image(**kwargs))


def test_bytes_that_are_not_a_picture_are_refused_and_nothing_is_written(alice: Caller, alice_app: App) -> None:
    response = post(
        alice,
        resources_pb2.Input(id="good", data=image(base64=png())),
        resources_pb2.Input(id="bad", data=image(base64=b"%PDF-1.4 this is not a picture")),
    )
    assert response.status.code == codes.FAILURE
    assert "1 of 2 inputs were refused" in response.status.details
    statuses = {i.id: i.status for i in response.inputs}
    assert statuses["bad"].code == codes.INPUT_UNSUPPORTED_FORMAT
    assert "not an image" in statuses["bad"].details
    assert statuses["good"].code == codes.FAILURE
    assert "another input" in statuses["good"].details
    assert not Input.objects.exists()
    assert not response.inputs[1].data.image.base64  # megabytes are not echoed back


@override_settings(LOCALAPI_MAX_IMAGE_BYTES=1000)
def test_a_picture_over_the_size_limit_is_refused(alice: Caller, alice_app: App) -> None:
    response = post(alice, resources_pb2.Input(id="big", data=image(base64=png(400, 400, "white") + b"\0" * 2000)))
    assert response.inputs[0].status.code == codes.INPUT_OVER_LIMIT
    assert "limit of 1,000 bytes" in response.inputs[0].status.details


def test_duplicate_ids_are_refused_in_the_request_and_against_stored_inputs(alice: Caller, alice_app: App) -> None:
    text = resources_pb2.Data(text=resources_pb2.Text(raw="t"))
    assert post(alice, resources_pb2.Input(id="taken", data=text)).status.code == codes.SUCCESS
    response = post(
        alice,
        resources_pb2.Input(id="taken", data=text),
        resources_pb2.Input(id="twice", data=text),
        resources_pb2.Input(id="twice", data=text),
    )
    assert [i.status.code for i in response.inputs] == [codes.INPUT_DUPLICATE, codes.FAILURE, codes.INPUT_DUPLICATE]
    assert list(Input.objects.values_list("input_id", flat=True)) == ["taken"]


@pytest.mark.parametrize(
    ("url", "details"),
    [
        ("http://127.0.0.1/x.png", "private address"),
        ("http://[::1]/x.png", "private address"),
        ("http://169.254.169.254/latest/meta-data", "private address"),
        ("http://localhost:8000/x.png", "private address"),
        ("http://10.1.2.3/x.png", "private address"),
        ("ftp://example.com/x.png", "not an http or https URL"),
        ("file:///etc/passwd", "not an http or https URL"),
    ],
)
def test_a_url_to_a_private_address_or_another_scheme_is_refused(
    alice: Caller, alice_app: App, url: str, details: str
) -> None:
    response = post(alice, resources_pb2.Input(data=image(url=url)))
    assert response.inputs[0].status.code == codes.INPUT_INVALID_URL
    assert details in response.inputs[0].status.details
    assert not Input.objects.exists()


def test_a_name_that_resolves_to_a_private_address_fails_when_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    """No DNS server can be made to answer this on a test machine, so getaddrinfo is replaced to play
    one that resolves a public-looking name to a private address (as DNS rebinding would)."""

    def resolve(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.168.1.20", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(FetchError, match=r"images\.example\.com resolves to a private address \(192\.168\.1\.20\)"):
        fetch("http://images.example.com/cat.jpg", max_bytes=1000, timeout=2)


@pytest.fixture
def awkward_server() -> Iterator[str]:
    """A real server on this machine: /big answers 5,000 bytes, /slow waits 3 s, /denied answers 401."""

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            if self.path == "/slow":
                time.sleep(3)
            if self.path == "/denied":
                self.send_error(401)
                return
            body = png(400, 400, "white") + b"\0" * 5000
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()  # no Content-Length: the cap must hold while reading
            self.wfile.write(body)

    with serving(Handler) as url:
        yield url


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/big", "over the limit of 1,000 bytes"),
        ("/slow", "fetching took longer than 1 second"),
        ("/denied", "the server answered HTTP 401"),
    ],
)
@override_settings(LOCALAPI_ALLOW_PRIVATE_URLS=True, LOCALAPI_MAX_IMAGE_BYTES=1000, LOCALAPI_FETCH_TIMEOUT=1)
def test_a_download_that_is_too_big_too_slow_or_refused_fails_with_the_reason(
    alice: Caller, alice_app: App, awkward_server: str, path: str, reason: str
) -> None:
    response = post(alice, resources_pb2.Input(id="u", data=image(url=f"{awkward_server}{path}")))
    assert response.status.code == codes.SUCCESS  # accepted: the download happens later, in the worker
    stored = Input.objects.get(input_id="u")
    assert stored.status_code == codes.INPUT_DOWNLOAD_FAILED
    assert reason in stored.status_details


def test_video_and_empty_inputs_are_refused(alice: Caller, alice_app: App) -> None:
    response = post(
        alice,
        resources_pb2.Input(
            id="v", data=resources_pb2.Data(video=resources_pb2.Video(url="https://example.com/v.mp4"))
        ),
        resources_pb2.Input(id="e", data=resources_pb2.Data()),
    )
    assert response.inputs[0].status.code == codes.INPUT_UNSUPPORTED_FORMAT
    assert response.inputs[1].status.code == codes.INPUT_INVALID_ARGUMENT
    assert "no data" in response.inputs[1].status.details


def test_bad_concepts_and_unknown_datasets_are_refused_per_input(alice: Caller, alice_app: App) -> None:
    response = post(
        alice,
        resources_pb2.Input(
            id="a",
            data=resources_pb2.Data(
                text=resources_pb2.Text(raw="t"), concepts=[resources_pb2.Concept(id="c", value=2.0)]
            ),
        ),
        resources_pb2.Input(id="b", data=resources_pb2.Data(text=resources_pb2.Text(raw="t")), dataset_ids=["nope"]),
        resources_pb2.Input(
            id="c",
            data=resources_pb2.Data(
                text=resources_pb2.Text(raw="t"), concepts=[resources_pb2.Concept(id="bad id!", value=1.0)]
            ),
        ),
    )
    assert [i.status.code for i in response.inputs] == [codes.INPUT_INVALID_ARGUMENT] * 3
    assert "values are 0 (no) to 1 (yes)" in response.inputs[0].status.details
    assert "dataset nope does not exist" in response.inputs[1].status.details
    assert not Concept.objects.exists()


def test_more_than_128_inputs_in_one_request_are_refused(alice: Caller, alice_app: App) -> None:
    inputs = [resources_pb2.Input(data=resources_pb2.Data(text=resources_pb2.Text(raw="t"))) for _ in range(129)]
    assert post(alice, *inputs).status.code == codes.CONN_INVALID_REQUEST


def test_patching_an_unknown_input_changes_nothing(alice: Caller, alice_app: App) -> None:
    post(alice, resources_pb2.Input(id="real", data=resources_pb2.Data(text=resources_pb2.Text(raw="t"))))
    response = alice.call(
        "PatchInputs",
        service_pb2.PatchInputsRequest(
            user_app_id=alice.app_ids("main"),
            action="merge",
            inputs=[
                resources_pb2.Input(
                    id="real", data=resources_pb2.Data(concepts=[resources_pb2.Concept(id="x", value=1.0)])
                ),
                resources_pb2.Input(
                    id="ghost", data=resources_pb2.Data(concepts=[resources_pb2.Concept(id="x", value=1.0)])
                ),
            ],
        ),
    )
    assert response.status.code == codes.CONN_DOES_NOT_EXIST
    assert "ghost" in response.status.details
    assert not Input.objects.get(input_id="real").input_concepts.exists()


def test_a_bad_patch_action_is_refused(alice: Caller, alice_app: App) -> None:
    response = raw(alice, "PATCH", INPUTS, json={"inputs": [{"id": "x"}], "action": "explode"})
    assert_status(response, 400, codes.CONN_INVALID_REQUEST, "merge, overwrite, remove")


def test_the_wrong_method_and_an_unknown_route_answer_in_json(alice: Caller) -> None:
    assert_status(raw(alice, "PUT", "/v2/users/me/apps"), 405, codes.CONN_METHOD_NOT_ALLOWED, "GET")
    assert_status(raw(alice, "GET", "/v2/no/such/route"), 404, codes.CONN_DOES_NOT_EXIST, "/v2/no/such/route")


def test_an_rpc_without_a_handler_answers_not_implemented(alice: Caller, alice_app: App) -> None:
    response = raw(alice, "GET", "/v2/users/me/apps/main/models")
    assert_status(response, 501, codes.NOT_IMPLEMENTED, "ListModels is not implemented")


def test_a_duplicate_app_id_is_refused(alice: Caller, alice_app: App) -> None:
    response = raw(alice, "POST", "/v2/users/me/apps", json={"apps": [{"id": "main"}]})
    assert_status(response, 409, codes.DATABASE_DUPLICATE_KEY, "main already exists")
    bad = raw(alice, "POST", "/v2/users/me/apps", json={"apps": [{"id": "no spaces"}]})
    assert_status(bad, 400, codes.CONN_INVALID_REQUEST, "not a valid id")


def test_delete_reads_its_json_body(alice: Caller, alice_app: App) -> None:
    post(alice, resources_pb2.Input(id="gone", data=resources_pb2.Data(text=resources_pb2.Text(raw="t"))))
    response = raw(alice, "DELETE", INPUTS, content=json.dumps({"ids": ["gone"]}))
    assert_status(response, 200, codes.SUCCESS)
    assert not Input.objects.exists()


def test_camel_case_and_dotted_queries_are_read(alice: Caller, alice_app: App) -> None:
    response = raw(
        alice, "POST", INPUTS, json={"inputs": [{"id": "c1", "data": {"text": {"raw": "t"}}, "datasetIds": []}]}
    )
    assert_status(response, 200, codes.SUCCESS)
    listed = raw(
        alice,
        "GET",
        "/v2/inputs",
        params=[("user_app_id.app_id", "main"), ("status.code", "INPUT_SUCCESS"), ("perPage", "5"), ("ids", "c1")],
    )
    assert [i["id"] for i in assert_status(listed, 200, codes.SUCCESS)["inputs"]] == ["c1"]


def test_an_expired_token_is_refused_as_expired(alice: Caller, alice_app: App) -> None:
    Token.objects.filter(user_id="alice").update(expires_at=timezone.now() - timedelta(minutes=1))
    assert_status(raw(alice, "GET", INPUTS), 401, codes.CONN_KEY_INVALID, "This token has expired.")


@pytest.mark.parametrize(
    ("second", "details"),
    [
        ({"data": {"image": {"base64": "not base64 at all!!"}}}, "inputs[1].data.image.base64 is not valid base64"),
        ({"data": {"image": {"bse64": "x"}}}, 'no field named "bse64" at "PostInputsRequest.inputs[1].data.image"'),
    ],
)
def test_a_body_that_cannot_be_read_refuses_the_whole_post_naming_the_place_without_per_input_statuses(
    alice: Caller, alice_app: App, second: dict[str, Any], details: str
) -> None:
    """What the README says: these are refused before any input is looked at, so no input carries a
    status; the details name the input by its place in the request."""
    body = {"inputs": [{"id": "good", "data": {"text": {"raw": "t"}}}, second]}
    answer = assert_status(raw(alice, "POST", INPUTS, json=body), 400, codes.CONN_BAD_REQUEST_FORMAT, details)
    assert answer["inputs"] == []  # printed empty, as the real API prints a list it has none of
    assert not Input.objects.exists()
