"""The local API answers the official clarifai-grpc JSON client as the real API would, over real HTTP."""

import io
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import httpx
import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2, status_pb2
from django.test import override_settings
from google.protobuf.json_format import MessageToDict
from google.protobuf.struct_pb2 import Struct
from PIL import Image

from console.localapi.models import App
from tests.images import jpeg, png
from tests.localapi.conftest import Caller, MakeCaller
from tests.servers import QuietHandler, serving

SUCCESS = status_code_pb2.SUCCESS


type JSON = str | float | bool | Mapping[str, JSON] | Sequence[JSON] | None


def struct(**values: JSON) -> Struct:
    s = Struct()
    s.update(values)
    return s


@pytest.fixture
def picture_server() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 serving a JPEG at /pic.jpg (private addresses allowed per test)."""
    body = jpeg(120, 80, "green")

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            if self.path != "/pic.jpg":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with serving(Handler) as url:
        yield url


def test_it_creates_gets_and_lists_apps(alice: Caller) -> None:
    created = alice.call(
        "PostApps",
        service_pb2.PostAppsRequest(
            user_app_id=resources_pb2.UserAppIDSet(user_id="me"),
            apps=[resources_pb2.App(id="pets", name="Pets", description="Cats and dogs", metadata=struct(team="x"))],
        ),
    )
    assert created.status.code == SUCCESS
    assert created.apps[0].id == "pets"
    assert created.apps[0].user_id == "alice"

    got = alice.call("GetApp", service_pb2.GetAppRequest(user_app_id=alice.app_ids("pets")))
    assert got.app.name == "Pets"
    assert got.app.description == "Cats and dogs"
    assert got.app.metadata["team"] == "x"
    assert got.app.created_at.seconds > 0

    listed = alice.call(
        "ListApps", service_pb2.ListAppsRequest(user_app_id=resources_pb2.UserAppIDSet(user_id="alice"))
    )
    assert [a.id for a in listed.apps] == ["pets"]


def test_it_patches_and_deletes_an_app_with_everything_in_it(alice: Caller, alice_app: object) -> None:
    posted = alice.call(
        "PostInputs",
        service_pb2.PostInputsRequest(
            user_app_id=alice.app_ids("main"),
            inputs=[resources_pb2.Input(id="t1", data=resources_pb2.Data(text=resources_pb2.Text(raw="hello")))],
        ),
    )
    assert posted.status.code == SUCCESS
    patched = alice.call(
        "PatchApps",
        service_pb2.PatchAppsRequest(
            user_app_id=resources_pb2.UserAppIDSet(user_id="me"),
            apps=[resources_pb2.App(id="main", description="Renamed", metadata=struct(k="v"))],
            action="merge",
        ),
    )
    assert patched.status.code == SUCCESS
    assert patched.apps[0].description == "Renamed"
    assert patched.apps[0].name == "Main app"

    deleted = alice.call("DeleteApp", service_pb2.DeleteAppRequest(user_app_id=alice.app_ids("main")))
    assert deleted.status.code == SUCCESS
    gone = alice.call("GetApp", service_pb2.GetAppRequest(user_app_id=alice.app_ids("main")))
    assert gone.status.code == status_code_pb2.CONN_DOES_NOT_EXIST
    inputs = alice.call("ListInputs", service_pb2.ListInputsRequest(user_app_id=alice.app_ids("main")))
    assert inputs.status.code == status_code_pb2.CONN_DOES_NOT_EXIST
    # The id is free again at once.
    again = alice.call(
        "PostApps",
        service_pb2.PostAppsRequest(
            user_app_id=resources_pb2.UserAppIDSet(user_id="me"), apps=[resources_pb2.App(id="main")]
        ),
    )
    assert again.status.code == SUCCESS
    assert alice.call("ListInputs", service_pb2.ListInputsRequest(user_app_id=alice.app_ids("main"))).inputs == []


def post_inputs(alice: Caller, *inputs: resources_pb2.Input) -> service_pb2.MultiInputResponse:
    request = service_pb2.PostInputsRequest(user_app_id=alice.app_ids("main"), inputs=inputs)
    response: service_pb2.MultiInputResponse = alice.call("PostInputs", request)
    return response


def test_it_posts_inputs_by_base64_with_concepts_and_metadata_and_processes_them(
    alice: Caller, alice_app: object
) -> None:
    response = post_inputs(
        alice,
        resources_pb2.Input(
            id="red-1",
            data=resources_pb2.Data(
                image=resources_pb2.Image(base64=png(300, 200, "red")),
                concepts=[resources_pb2.Concept(id="red", value=1.0), resources_pb2.Concept(id="blue", value=0.0)],
                metadata=struct(split="train", n=3, nested={"k": [1, "x", True, None]}),
            ),
        ),
    )
    assert response.status.code == SUCCESS
    assert response.inputs[0].status.code == status_code_pb2.INPUT_DOWNLOAD_PENDING

    item = alice.call(
        "GetInput", service_pb2.GetInputRequest(user_app_id=alice.app_ids("main"), input_id="red-1")
    ).input
    assert item.status.code == status_code_pb2.INPUT_DOWNLOAD_SUCCESS
    assert (item.data.image.image_info.width, item.data.image.image_info.height) == (300, 200)
    assert item.data.image.image_info.format == "PNG"
    assert {c.id: c.value for c in item.data.concepts} == {"red": 1.0, "blue": 0.0}
    assert item.data.metadata["split"] == "train"
    assert item.data.metadata["n"] == 3
    assert list(item.data.metadata["nested"]["k"]) == [1, "x", True, None]
    hosted = item.data.image.hosted
    assert set(hosted.sizes) >= {"orig", "small", "tiny"}

    # The hosted picture is served to the token holder, and only with the token.
    url = f"{hosted.prefix}/tiny/{hosted.suffix}"
    assert httpx.get(url).status_code == 401
    picture = httpx.get(url, headers={"Authorization": f"Key {alice.token}"})
    assert picture.status_code == 200
    assert picture.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(picture.content)) as tiny:
        assert max(tiny.size) <= 160
        pixel = tiny.getpixel((5, 5))
        assert isinstance(pixel, tuple)
        assert pixel[0] > 200  # still red
    orig = httpx.get(f"{hosted.prefix}/orig/{hosted.suffix}", headers={"Authorization": f"Key {alice.token}"})
    assert orig.content == png(300, 200, "red")

    # Concepts given on inputs exist in the app afterwards.
    concepts = alice.call("ListConcepts", service_pb2.ListConceptsRequest(user_app_id=alice.app_ids("main")))
    assert sorted(c.id for c in concepts.concepts) == ["blue", "red"]


@override_settings(LOCALAPI_ALLOW_PRIVATE_URLS=True)
def test_it_downloads_an_input_given_by_url(alice: Caller, alice_app: object, picture_server: str) -> None:
    response = post_inputs(
        alice,
        resources_pb2.Input(
            id="by-url",
            data=resources_pb2.Data(
                image=resources_pb2.Image(url=f"{picture_server}/pic.jpg", allow_duplicate_url=True)
            ),
        ),
    )
    assert response.status.code == SUCCESS
    item = alice.call(
        "GetInput", service_pb2.GetInputRequest(user_app_id=alice.app_ids("main"), input_id="by-url")
    ).input
    assert item.status.code == status_code_pb2.INPUT_DOWNLOAD_SUCCESS
    assert item.data.image.url == f"{picture_server}/pic.jpg"
    assert (item.data.image.image_info.width, item.data.image.image_info.height) == (120, 80)


@override_settings(LOCALAPI_ALLOW_PRIVATE_URLS=True)
def test_it_records_why_a_download_failed(alice: Caller, alice_app: object, picture_server: str) -> None:
    post_inputs(
        alice,
        resources_pb2.Input(
            id="missing", data=resources_pb2.Data(image=resources_pb2.Image(url=f"{picture_server}/nope.jpg"))
        ),
    )
    item = alice.call(
        "GetInput", service_pb2.GetInputRequest(user_app_id=alice.app_ids("main"), input_id="missing")
    ).input
    assert item.status.code == status_code_pb2.INPUT_DOWNLOAD_FAILED
    assert "HTTP 404" in item.status.details


def test_it_generates_ids_and_stores_text(alice: Caller, alice_app: object) -> None:
    response = post_inputs(
        alice, resources_pb2.Input(data=resources_pb2.Data(text=resources_pb2.Text(raw="The quick brown fox")))
    )
    generated = response.inputs[0].id
    assert len(generated) == 32
    item = alice.call(
        "GetInput", service_pb2.GetInputRequest(user_app_id=alice.app_ids("main"), input_id=generated)
    ).input
    assert item.data.text.raw == "The quick brown fox"
    assert item.status.code == status_code_pb2.INPUT_DOWNLOAD_SUCCESS


def test_it_pages_through_inputs_newest_first_and_ends_with_an_empty_page(alice: Caller, alice_app: object) -> None:
    for n in range(5):
        post_inputs(
            alice, resources_pb2.Input(id=f"t{n}", data=resources_pb2.Data(text=resources_pb2.Text(raw=f"text {n}")))
        )
    pages = []
    for page in (1, 2, 3, 4):
        response = alice.call(
            "ListInputs", service_pb2.ListInputsRequest(user_app_id=alice.app_ids("main"), page=page, per_page=2)
        )
        assert response.status.code == SUCCESS
        pages.append([i.id for i in response.inputs])
    assert pages == [["t4", "t3"], ["t2", "t1"], ["t0"], []]
    default = alice.call("ListInputs", service_pb2.ListInputsRequest(user_app_id=alice.app_ids("main")))
    assert len(default.inputs) == 5


def test_it_filters_inputs_by_ids_and_status(alice: Caller, alice_app: object) -> None:
    for n in range(3):
        post_inputs(alice, resources_pb2.Input(id=f"t{n}", data=resources_pb2.Data(text=resources_pb2.Text(raw="x"))))
    by_ids = alice.call(
        "ListInputs", service_pb2.ListInputsRequest(user_app_id=alice.app_ids("main"), ids=["t0", "t2"])
    )
    assert sorted(i.id for i in by_ids.inputs) == ["t0", "t2"]
    processed = alice.call(
        "ListInputs",
        service_pb2.ListInputsRequest(
            user_app_id=alice.app_ids("main"), status=status_pb2.Status(code=status_code_pb2.INPUT_DOWNLOAD_SUCCESS)
        ),
    )
    assert len(processed.inputs) == 3
    failed = alice.call(
        "ListInputs",
        service_pb2.ListInputsRequest(
            user_app_id=alice.app_ids("main"), status=status_pb2.Status(code=status_code_pb2.INPUT_DOWNLOAD_FAILED)
        ),
    )
    assert failed.status.code == SUCCESS
    assert list(failed.inputs) == []


def test_it_patches_concepts_and_metadata_by_merge_overwrite_and_remove(alice: Caller, alice_app: object) -> None:
    post_inputs(
        alice,
        resources_pb2.Input(
            id="p",
            data=resources_pb2.Data(
                text=resources_pb2.Text(raw="x"),
                concepts=[resources_pb2.Concept(id="a", value=1.0)],
                metadata=struct(keep=1, nested={"x": 1, "y": 2}),
            ),
        ),
    )

    def patch(action: str, concepts: list[resources_pb2.Concept], metadata: Struct) -> resources_pb2.Input:
        response: service_pb2.MultiInputResponse = alice.call(
            "PatchInputs",
            service_pb2.PatchInputsRequest(
                user_app_id=alice.app_ids("main"),
                action=action,
                inputs=[resources_pb2.Input(id="p", data=resources_pb2.Data(concepts=concepts, metadata=metadata))],
            ),
        )
        assert response.status.code == SUCCESS, response.status
        return response.inputs[0]

    merged = patch(
        "merge", concepts=[resources_pb2.Concept(id="b", value=0.0)], metadata=struct(nested={"y": 3, "z": 4})
    )
    assert {c.id: c.value for c in merged.data.concepts} == {"a": 1.0, "b": 0.0}
    assert merged.data.metadata["keep"] == 1
    assert MessageToDict(merged.data.metadata)["nested"] == {"x": 1, "y": 3, "z": 4}

    removed = patch("remove", concepts=[resources_pb2.Concept(id="a", value=1.0)], metadata=struct(nested={"x": 1}))
    assert [c.id for c in removed.data.concepts] == ["b"]
    assert MessageToDict(removed.data.metadata)["nested"] == {"y": 3, "z": 4}

    overwritten = patch("overwrite", concepts=[resources_pb2.Concept(id="c", value=1.0)], metadata=struct(only="this"))
    assert [c.id for c in overwritten.data.concepts] == ["c"]
    assert dict(overwritten.data.metadata) == {"only": "this"}

    stored = alice.call("GetInput", service_pb2.GetInputRequest(user_app_id=alice.app_ids("main"), input_id="p")).input
    assert dict(stored.data.metadata) == {"only": "this"}


def test_it_counts_inputs_by_status(alice: Caller, alice_app: object) -> None:
    post_inputs(
        alice,
        resources_pb2.Input(id="ok", data=resources_pb2.Data(image=resources_pb2.Image(base64=png()))),
        resources_pb2.Input(id="txt", data=resources_pb2.Data(text=resources_pb2.Text(raw="t"))),
    )
    # An input whose URL fails to download (nothing listens on port 9 of this machine).
    with override_settings(LOCALAPI_ALLOW_PRIVATE_URLS=True):
        post_inputs(
            alice,
            resources_pb2.Input(
                id="bad", data=resources_pb2.Data(image=resources_pb2.Image(url="http://127.0.0.1:9/x.png"))
            ),
        )
    counts = alice.call("GetInputCount", service_pb2.GetInputCountRequest(user_app_id=alice.app_ids("main"))).counts
    assert (counts.processed, counts.errors, counts.to_process, counts.processing) == (2, 1, 0, 0)


def test_it_deletes_one_input_and_several_with_their_pictures(alice: Caller, alice_app: App, media_root: Path) -> None:
    post_inputs(
        alice,
        *[
            resources_pb2.Input(id=f"d{n}", data=resources_pb2.Data(image=resources_pb2.Image(base64=png())))
            for n in range(3)
        ],
    )
    app_folder = media_root / "localapi" / str(alice_app.pk)
    assert len([p for p in app_folder.rglob("*") if p.is_file()]) == 3 * 4  # orig, large, small, tiny each
    one = alice.call("DeleteInput", service_pb2.DeleteInputRequest(user_app_id=alice.app_ids("main"), input_id="d0"))
    assert one.status.code == SUCCESS
    several = alice.call(
        "DeleteInputs", service_pb2.DeleteInputsRequest(user_app_id=alice.app_ids("main"), ids=["d1", "d2"])
    )
    assert several.status.code == SUCCESS
    left = alice.call("ListInputs", service_pb2.ListInputsRequest(user_app_id=alice.app_ids("main")))
    assert list(left.inputs) == []
    assert [p for p in app_folder.rglob("*") if p.is_file()] == []


def test_it_creates_lists_renames_and_searches_concepts(alice: Caller, alice_app: object) -> None:
    created = alice.call(
        "PostConcepts",
        service_pb2.PostConceptsRequest(
            user_app_id=alice.app_ids("main"),
            concepts=[
                resources_pb2.Concept(id="dog", name="Dog"),
                resources_pb2.Concept(id="dolphin", name="Dolphin"),
                resources_pb2.Concept(id="cat", name="Cat"),
            ],
        ),
    )
    assert created.status.code == SUCCESS
    # The client always sends value 0.0 on concepts; PostConcepts ignores it.
    got = alice.call("GetConcept", service_pb2.GetConceptRequest(user_app_id=alice.app_ids("main"), concept_id="dog"))
    assert got.concept.name == "Dog"

    renamed = alice.call(
        "PatchConcepts",
        service_pb2.PatchConceptsRequest(
            user_app_id=alice.app_ids("main"),
            action="overwrite",
            concepts=[resources_pb2.Concept(id="cat", name="Kitty")],
        ),
    )
    assert renamed.concepts[0].name == "Kitty"

    page = alice.call(
        "ListConcepts", service_pb2.ListConceptsRequest(user_app_id=alice.app_ids("main"), page=1, per_page=2)
    )
    assert [c.id for c in page.concepts] == ["cat", "dog"]
    assert [c.value for c in page.concepts] == [1.0, 1.0]  # not "no" labels

    def search(name: str) -> list[str]:
        response = alice.call(
            "PostConceptsSearches",
            service_pb2.PostConceptsSearchesRequest(
                user_app_id=alice.app_ids("main"), concept_query=resources_pb2.ConceptQuery(name=name)
            ),
        )
        assert response.status.code == SUCCESS
        return [c.id for c in response.concepts]

    assert search("do") == ["dog", "dolphin"]
    assert search("DOG") == ["dog"]
    assert search("*phin") == ["dolphin"]
    assert search("kit") == ["cat"]


def test_it_lists_status_codes_and_gets_the_caller(alice: Caller) -> None:
    codes = alice.call("ListStatusCodes", service_pb2.ListStatusCodesRequest())
    by_code = {s.code: s.description for s in codes.statuses}
    assert by_code[10000] == "Ok"
    assert by_code[30001] == "Download pending"
    user = alice.call("GetUser", service_pb2.GetUserRequest(user_app_id=resources_pb2.UserAppIDSet(user_id="me")))
    assert user.user.id == "alice"


def test_a_user_sees_only_their_own_apps(make_caller: MakeCaller, alice: Caller, alice_app: object) -> None:
    bob = make_caller("bob")
    listed = bob.call("ListApps", service_pb2.ListAppsRequest())
    assert list(listed.apps) == []
    got = bob.call(
        "GetApp", service_pb2.GetAppRequest(user_app_id=resources_pb2.UserAppIDSet(user_id="alice", app_id="main"))
    )
    assert got.status.code == status_code_pb2.CONN_DOES_NOT_EXIST
    as_alice = bob.call(
        "ListApps", service_pb2.ListAppsRequest(user_app_id=resources_pb2.UserAppIDSet(user_id="alice"))
    )
    assert as_alice.status.code == status_code_pb2.CONN_INSUFFICIENT_SCOPES


def test_a_token_limited_to_reading_cannot_write(make_caller: MakeCaller, alice_app: object) -> None:
    reader = make_caller("alice", scopes=["Inputs:Get", "Apps:Get"])
    assert (
        reader.call("ListInputs", service_pb2.ListInputsRequest(user_app_id=reader.app_ids("main"))).status.code
        == SUCCESS
    )
    denied = post_inputs(reader, resources_pb2.Input(data=resources_pb2.Data(text=resources_pb2.Text(raw="x"))))
    assert denied.status.code == status_code_pb2.CONN_INSUFFICIENT_SCOPES
    assert "Inputs:Add" in denied.status.details
