"""One input: its detail page and partial, editing concepts and metadata, deleting it, its pictures."""

import io
import json
import re
from collections.abc import Callable

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.test import Client
from PIL import Image

from console.clarifai import ClarifaiClient
from console.connections.models import Connection
from console.localapi.models import App as LocalApp
from console.localapi.models import Input as LocalInput
from console.localapi.models import Token
from console.localapi.models import User as LocalUser
from tests.markup import find

pytestmark = pytest.mark.django_db(transaction=True)
HX = {"HX-Request": "true"}


def detail(local: Connection, input_id: str = "image-000", suffix: str = "") -> str:
    return f"/c/{local.pk}/apps/shapes/inputs/{input_id}/{suffix}"


def stored(api: ClarifaiClient, input_id: str = "image-000") -> resources_pb2.Input:
    request = service_pb2.GetInputRequest(user_app_id=resources_pb2.UserAppIDSet(app_id="shapes"), input_id=input_id)
    response: service_pb2.SingleInputResponse = api.call("GetInput", request)
    return response.input


@pytest.fixture
def shapes(make_app: Callable[..., str], api: ClarifaiClient) -> str:
    make_app(images=1, texts=1)
    api.call(
        "PostConcepts",
        service_pb2.PostConceptsRequest(
            user_app_id=resources_pb2.UserAppIDSet(app_id="shapes"),
            concepts=[resources_pb2.Concept(id="circle", name="Circle"), resources_pb2.Concept(id="sq", name="Square")],
        ),
    )
    patch = resources_pb2.Input(id="image-000")
    patch.data.metadata.update({"split": "train", "n": 3, "nested": {"a": [1, 2]}})
    api.call(
        "PatchInputs",
        service_pb2.PatchInputsRequest(
            user_app_id=resources_pb2.UserAppIDSet(app_id="shapes"), inputs=[patch], action="merge"
        ),
    )
    return "shapes"


def test_the_detail_is_its_own_page(console: Client, local: Connection, shapes: str) -> None:
    html = console.get(detail(local)).content.decode()
    assert "<html" in html
    assert "<code>image-000</code>" in html
    assert "40 × 30 · PNG" in html
    assert "&quot;split&quot;: &quot;train&quot;" in html  # metadata as formatted JSON
    assert "&quot;n&quot;: 3," in html  # a whole number shows as written, not 3.0
    assert ">red</a>" in html


def test_opened_from_the_grid_it_is_a_partial_with_a_way_back(console: Client, local: Connection, shapes: str) -> None:
    response = console.get(detail(local) + "?back=page%3D2%26per_page%3D32%26evil%3D1", headers=HX)
    html = response.content.decode()
    # The tab's title comes first: htmx sets it from a <title> at the top of a partial.
    assert html.lstrip().startswith("<title>image-000 · Inputs · shapes · Clarifai console</title>")
    assert '<div id="content">' in html
    assert f'href="/c/{local.pk}/apps/shapes/inputs/?page=2&amp;per_page=32#input-image-000"' in html
    assert "evil" not in html.split("← Inputs")[0][-200:]


def test_a_text_input_shows_its_text(console: Client, local: Connection, shapes: str) -> None:
    assert "Note 0" in console.get(detail(local, "text-000")).content.decode()


def test_editing_replaces_concepts_and_metadata(
    console: Client, local: Connection, api: ClarifaiClient, shapes: str
) -> None:
    response = console.post(
        detail(local, suffix="edit"),
        {"concept": "red", "value": "no", "add": "Circle", "add_value": "yes", "metadata": '{"split": "test"}'},
        headers=HX,
    )
    assert response.status_code == 200
    assert "Saved." in response.content.decode()
    item = stored(api)
    assert {c.id: round(c.value, 2) for c in item.data.concepts} == {"circle": 1.0, "red": 0.0}
    assert dict(item.data.metadata) == {"split": "test"}


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ('{"split": "test"', "This is not valid JSON"),
        ("[1, 2]", "Metadata must be a JSON object"),
        ('"text"', "Metadata must be a JSON object"),
    ],
)
def test_invalid_metadata_is_refused_and_nothing_is_sent(
    console: Client, local: Connection, api: ClarifaiClient, shapes: str, metadata: str, message: str
) -> None:
    response = console.post(detail(local, suffix="edit"), {"add": "circle", "metadata": metadata}, headers=HX)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert 'value="circle"' in html  # what was typed is kept
    item = stored(api)
    assert dict(item.data.metadata)["split"] == "train"
    assert [c.id for c in item.data.concepts] == ["red"]


def test_a_value_that_is_not_yes_no_or_from_0_to_1_is_refused(
    console: Client, local: Connection, api: ClarifaiClient, shapes: str
) -> None:
    response = console.post(detail(local, suffix="edit"), {"concept": "red", "value": "7", "metadata": "{}"})
    assert response.status_code == 400
    assert "is not yes, no or a value from 0 to 1" in response.content.decode()
    assert [c.value for c in stored(api).data.concepts] == [1.0]


def test_editing_needs_a_csrf_token(local: Connection, staff: object, shapes: str) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff)  # type: ignore[arg-type]
    response = browser.post(detail(local, suffix="edit"), {"metadata": "{}"})
    assert response.status_code == 403


def test_deleting_asks_first_then_deletes(console: Client, local: Connection, api: ClarifaiClient, shapes: str) -> None:
    confirm = console.get(detail(local, suffix="delete") + "?back=page%3D1")
    assert "Delete the input <code>image-000</code>?" in confirm.content.decode()
    assert stored(api).id == "image-000"  # asking changed nothing
    assert console.get(detail(local, suffix="delete")).status_code == 200
    response = console.post(detail(local, suffix="delete"), {"back": "page=1"})
    assert response.status_code == 302
    assert response["Location"] == f"/c/{local.pk}/apps/shapes/inputs/?page=1"
    listed = api.call(
        "ListInputs", service_pb2.ListInputsRequest(user_app_id=resources_pb2.UserAppIDSet(app_id="shapes"))
    )
    assert [i.id for i in listed.inputs] == ["text-000"]


def test_the_console_serves_hosted_pictures_without_showing_the_token(
    console: Client, local: Connection, shapes: str
) -> None:
    html = console.get(detail(local)).content.decode()
    src = find(r'<img src="([^"]+)" alt="Input image-000"', html).group(1).replace("&amp;", "&")
    response = console.get(src)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "private" in response["Cache-Control"]
    with Image.open(io.BytesIO(response.content)) as picture:
        assert picture.size == (40, 30)
    assert local.token() not in src and local.token().encode() not in response.content


def test_the_media_view_fetches_only_urls_it_signed(console: Client, local: Connection, shapes: str) -> None:
    assert console.get(f"/c/{local.pk}/media?u=http://169.254.169.254/latest").status_code == 400
    html = console.get(detail(local)).content.decode()
    signed = find(r'/media\?u=([^"]+)"', html).group(1).replace("&amp;", "&")
    other = Connection.objects.create(name="Other", user_id="demo", token_encrypted=local.token_encrypted)
    assert console.get(f"/c/{other.pk}/media?u={signed}").status_code == 400  # signed for another connection


def test_an_unknown_input_shows_the_error_in_place_with_the_way_back(
    console: Client, local: Connection, shapes: str
) -> None:
    response = console.get(detail(local, "ghost"), headers=HX)
    assert response.status_code == 404
    assert response["HX-Reswap"] == "innerHTML"
    html = response.content.decode()
    assert "Loading the input failed" in html
    assert "CONN_DOES_NOT_EXIST" in html and "11101" in html
    assert "Try again" not in html  # it will not exist the second time either
    assert f'href="/c/{local.pk}/apps/shapes/inputs/">Back to the inputs</a>' in html
    page = console.get(detail(local, "ghost"))
    assert page.status_code == 404
    assert "<html" in page.content.decode()
    assert "Traceback" not in page.content.decode()


def test_metadata_shown_is_valid_json(console: Client, local: Connection, shapes: str) -> None:
    html = console.get(detail(local)).content.decode()
    block = find(r"<pre>(.*?)</pre>", html, re.S).group(1)
    assert json.loads(block.replace("&quot;", '"')) == {"n": 3, "nested": {"a": [1, 2]}, "split": "train"}


def test_a_save_that_fails_upstream_keeps_what_was_typed(
    console: Client, local: Connection, api: ClarifaiClient, shapes: str
) -> None:
    """The input is deleted by someone else between opening the form and saving it."""
    api.call(
        "DeleteInput",
        service_pb2.DeleteInputRequest(user_app_id=resources_pb2.UserAppIDSet(app_id="shapes"), input_id="image-000"),
    )
    response = console.post(
        detail(local, suffix="edit"), {"concept": "red", "value": "no", "metadata": '{"a": 1}'}, headers=HX
    )
    assert response.status_code == 404
    # Only the form's error slot is replaced: the textareas, and what was typed in them, stay in the page.
    assert response["HX-Retarget"] == "#edit-errors"
    assert response["HX-Reswap"] == "innerHTML"
    html = response.content.decode()
    assert "Nothing was saved" in html
    assert "does not exist" in html
    assert "<textarea" not in html


@pytest.fixture
def failed_input(shapes: str) -> str:
    """An input given by a third party's URL whose download failed (as the worker records it)."""
    app = LocalApp.objects.get(app_id="shapes")
    LocalInput.objects.create(
        app=app,
        input_id="broken",
        kind=LocalInput.IMAGE,
        source_url="https://images.example.com/missing.jpg",
        status_code=30002,
        status_details="the server answered HTTP 404",
    )
    return "broken"


def test_a_failed_input_shows_its_failure_and_no_third_party_picture(
    console: Client, local: Connection, failed_input: str
) -> None:
    for headers in ({}, HX):
        html = console.get(detail(local, failed_input), headers=headers).content.decode()
        assert 'role="alert"' in html and "could not be processed" in html
        assert "the server answered HTTP 404" in html
        assert '<img src="https://images.example.com' not in html and "<img" not in html.split("← Inputs")[1]
        # The address is there to open, as a link, not loaded into the page.
        assert 'href="https://images.example.com/missing.jpg"' in html


def test_a_processed_picture_that_is_not_hosted_is_linked_not_loaded(
    console: Client, local: Connection, failed_input: str
) -> None:
    LocalInput.objects.filter(input_id=failed_input).update(status_code=30000, status_details="")
    html = console.get(detail(local, failed_input)).content.decode()
    assert 'so it is not shown here: <a href="https://images.example.com/missing.jpg"' in html
    assert 'src="https://images.example.com' not in html
    grid = console.get(f"/c/{local.pk}/apps/shapes/inputs/").content.decode()
    assert 'src="https://images.example.com' not in grid


def test_pictures_from_third_parties_are_forbidden_by_the_csp(console: Client, local: Connection, shapes: str) -> None:
    policy = console.get(detail(local))["Content-Security-Policy"]
    img_src = next(part for part in policy.split(";") if part.strip().startswith("img-src"))
    assert "https:" not in img_src and "*" not in img_src


# The concept editor works by name: the input's concepts listed by name, an "add" field that takes a name or
# an id, and a concept that does not exist created only once the person confirms it.


def concept_ids(api: ClarifaiClient) -> set[str]:
    request = service_pb2.ListConceptsRequest(user_app_id=resources_pb2.UserAppIDSet(app_id="shapes"), per_page=100)
    return {c.id for c in api.call("ListConcepts", request).concepts}


def labels(api: ClarifaiClient) -> dict[str, float]:
    return {c.id: round(c.value, 2) for c in stored(api).data.concepts}


def rename(api: ClarifaiClient, concept_id: str, name: str) -> None:
    api.call(
        "PatchConcepts",
        service_pb2.PatchConceptsRequest(
            user_app_id=resources_pb2.UserAppIDSet(app_id="shapes"),
            concepts=[resources_pb2.Concept(id=concept_id, name=name)],
            action="overwrite",
        ),
    )


def test_the_editor_shows_the_inputs_concepts_by_their_current_names(
    console: Client, local: Connection, api: ClarifaiClient, shapes: str
) -> None:
    rename(api, "red", "Crimson")
    for headers in ({}, HX):
        html = console.get(detail(local), headers=headers).content.decode()
        editor = html[html.index("<fieldset") : html.index("</fieldset>")]
        assert (
            "<strong>Crimson</strong> <code" in editor and '<input type="hidden" name="concept" value="red">' in editor
        )
        assert 'name="value"><option value="yes" selected>' in editor
        assert "Remove<span" in editor
        # The add field offers the app's concepts by name.
        assert '<option value="Circle">circle</option>' in editor and '<option value="Square">sq</option>' in editor
        assert 'list="concept-choices"' in editor


@pytest.mark.parametrize("typed", ["Circle", "circle", "  CIRCLE "])
def test_a_concept_is_added_by_its_name_or_its_id(
    console: Client, local: Connection, api: ClarifaiClient, shapes: str, typed: str
) -> None:
    fields = {"concept": "red", "value": "yes", "add": typed, "add_value": "no", "metadata": "{}"}
    response = console.post(detail(local, suffix="edit"), fields)
    assert response.status_code == 200
    assert labels(api) == {"red": 1.0, "circle": 0.0}
    assert concept_ids(api) == {"red", "circle", "sq"}  # nothing new


def test_a_concept_is_removed_or_set_to_no(
    console: Client, local: Connection, api: ClarifaiClient, shapes: str
) -> None:
    console.post(detail(local, suffix="edit"), {"add": "Square", "metadata": "{}", "concept": "red", "value": "yes"})
    assert labels(api) == {"red": 1.0, "sq": 1.0}
    fields = {"concept": ["red", "sq"], "value": ["no", "yes"], "remove": "sq", "metadata": "{}"}
    assert console.post(detail(local, suffix="edit"), fields, headers=HX).status_code == 200
    assert labels(api) == {"red": 0.0}


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_a_new_name_is_created_only_once_confirmed_keeping_what_was_typed(
    console: Client, local: Connection, api: ClarifaiClient, shapes: str, headers: dict[str, str]
) -> None:
    typed = {"concept": "red", "value": "no", "add": "feature request", "metadata": '{"a": 1}'}
    asked = console.post(detail(local, suffix="edit"), typed, headers=headers)
    assert asked.status_code == 400
    html = asked.content.decode()
    assert "“feature request” is not a concept of this app. Create it?" in html
    assert '<button type="submit" class="button secondary" name="create" value="feature request" autofocus>' in html
    # Everything typed is still there: the new name, the value chosen, the metadata.
    assert 'name="add" id="id_add" value="feature request"' in html
    assert '<option value="no" selected>' in html
    assert "{&quot;a&quot;: 1}" in html
    assert concept_ids(api) == {"red", "circle", "sq"} and labels(api) == {"red": 1.0}  # nothing sent
    # Save pressed again with another name: still not confirmed for that one.
    other = console.post(
        detail(local, suffix="edit"), {**typed, "add": "feature requests", "create": "feature request"}
    )
    assert other.status_code == 400 and "“feature requests” is not a concept" in other.content.decode()
    confirmed = console.post(detail(local, suffix="edit"), {**typed, "create": "feature request"}, headers=headers)
    assert confirmed.status_code == 200
    assert "Saved. Concept “feature request” created (id feature-request)." in confirmed.content.decode()
    got = api.call(
        "GetConcept",
        service_pb2.GetConceptRequest(
            user_app_id=resources_pb2.UserAppIDSet(app_id="shapes"), concept_id="feature-request"
        ),
    )
    assert got.concept.name == "feature request"
    assert labels(api) == {"red": 0.0, "feature-request": 1.0}
    assert dict(stored(api).data.metadata) == {"a": 1}


def test_a_new_concept_whose_slug_is_taken_gets_another_id(
    console: Client, local: Connection, api: ClarifaiClient, shapes: str
) -> None:
    api.call(
        "PostConcepts",
        service_pb2.PostConceptsRequest(
            user_app_id=resources_pb2.UserAppIDSet(app_id="shapes"),
            concepts=[resources_pb2.Concept(id="big-dog", name="Large canine")],
        ),
    )
    fields = {"add": "Big dog", "create": "Big dog", "metadata": "{}"}
    assert console.post(detail(local, suffix="edit"), fields).status_code == 200
    assert labels(api) == {"big-dog-2": 1.0}


def test_a_name_two_concepts_share_asks_for_the_id(
    console: Client, local: Connection, api: ClarifaiClient, shapes: str
) -> None:
    rename(api, "sq", "Circle")
    response = console.post(detail(local, suffix="edit"), {"add": "circle", "metadata": "{}"})
    assert response.status_code == 200  # "circle" is an id: the id wins
    assert labels(api) == {"circle": 1.0}
    response = console.post(detail(local, suffix="edit"), {"add": "CIRCLE", "metadata": "{}"})
    assert response.status_code == 400
    assert "Several concepts are named “CIRCLE”: type the id of the one you mean (circle, sq)." in (
        response.content.decode()
    )


def test_the_add_field_is_offered_matching_concepts_as_typed(console: Client, local: Connection, shapes: str) -> None:
    url = f"/c/{local.pk}/apps/shapes/concepts/options"
    options = console.get(url + "?add=ci", headers=HX)
    assert options.status_code == 200
    assert options.content.decode().strip() == '<option value="Circle">circle</option>'
    assert "Square" in console.get(url + "?add=", headers=HX).content.decode()
    # Opened as a page, it is the concepts list searched for the same.
    page = console.get(url + "?add=ci")
    assert page.status_code == 302 and page["Location"] == f"/c/{local.pk}/apps/shapes/concepts/?q=ci"


def test_the_page_still_opens_when_concepts_cannot_be_listed(console: Client, local: Connection, shapes: str) -> None:
    """A token that may read inputs but not concepts: the add field offers nothing, and the page opens."""
    _, secret = Token.issue(LocalUser.objects.get(id="demo"), scopes=["Inputs:Get"])
    local.set_token(secret)
    local.save()
    response = console.get(detail(local))
    assert response.status_code == 200
    assert '<datalist id="concept-choices"></datalist>' in response.content.decode()
