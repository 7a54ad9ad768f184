"""The datasets pages against the local API: list with counts, create (duplicate ids and bad metadata
refused, nothing lost), edit, delete after a confirmation, and an unknown dataset."""

import re

import pytest
from django.test import Client

from console.clarifai import ClarifaiClient
from console.connections.models import Connection
from console.localapi.models import Dataset
from tests.datasets.conftest import base, make_version
from tests.markup import find

# The versions page reads the API's answers in threads with connections of their own: they see only
# what is committed.
pytestmark = pytest.mark.django_db(transaction=True)
HX = {"HX-Request": "true"}


def test_the_list_shows_each_dataset_with_the_inputs_of_its_latest_version(
    console: Client, local: Connection, api: ClarifaiClient, train: str
) -> None:
    page = console.get(base(local)).content.decode()
    row = find(r'<tr data-dataset="train">.*?</tr>', page, flags=re.S).group(0)
    assert "To &lt;b&gt;train&lt;/b&gt; on" in row, "user data is escaped"
    assert f'href="/c/{local.pk}/apps/shapes/inputs/?dataset=train"' in row, "the dataset opens the filtered grid"
    assert "none yet" in row and "<td data-inputs>" in row
    assert 'aria-current="page">Datasets</a>' in page

    make_version(api)
    row = find(r'<tr data-dataset="train">.*?</tr>', console.get(base(local)).content.decode(), flags=re.S).group(0)
    assert "<td data-inputs>4</td>" in row and 'data-state="done"' in row and "<code>v1</code>" in row
    assert "latest version" in page, "the page says what the count is"


def test_the_list_partial_and_an_empty_app(console: Client, local: Connection, shapes: str) -> None:
    partial = console.get(base(local), headers=HX).content.decode()
    assert partial.lstrip().startswith("<title>") and "<html" not in partial
    assert "This app has no datasets yet." in partial and "Add to a new dataset" in partial


def test_a_dataset_is_created_with_its_metadata(console: Client, local: Connection, shapes: str) -> None:
    response = console.post(
        base(local) + "new",
        {"id": "val", "description": "Held out", "notes": "Ten percent", "metadata": '{"split": {"of": "all"}}'},
    )
    assert response.status_code == 302 and response["Location"] == base(local)
    dataset = Dataset.objects.get(dataset_id="val")
    assert (dataset.description, dataset.notes, dataset.metadata) == (
        "Held out",
        "Ten percent",
        {"split": {"of": "all"}},
    )
    assert "Dataset val created." in console.get(base(local)).content.decode()


def test_a_duplicate_id_is_refused_with_the_api_reason(console: Client, local: Connection, train: str) -> None:
    response = console.post(base(local) + "new", {"id": "train", "description": "Another"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was created: " in html and "already exists" in html
    assert re.search(r">\s*Another</textarea>", html), "what was typed is kept"
    assert Dataset.objects.get(dataset_id="train").description == "To <b>train</b> on"


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ('{"split": ', "This is not valid JSON: Expecting value (line 1, column 10)"),
        ('["a"]', "Metadata must be a JSON object"),
    ],
)
def test_bad_metadata_is_refused_and_nothing_is_sent(
    console: Client, local: Connection, shapes: str, metadata: str, message: str
) -> None:
    response = console.post(base(local) + "new", {"id": "val", "metadata": metadata})
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert 'value="val"' in html, "what was typed is kept"
    assert not Dataset.objects.filter(dataset_id="val").exists()


def test_a_bad_id_is_explained_before_anything_is_sent(console: Client, local: Connection, shapes: str) -> None:
    response = console.post(base(local) + "new", {"id": "-no way"})
    assert response.status_code == 400
    assert "Use letters, digits" in response.content.decode()
    assert not Dataset.objects.exists()


def test_editing_replaces_description_notes_and_metadata(console: Client, local: Connection, train: str) -> None:
    page = console.get(base(local) + "train/edit").content.decode()
    assert re.search(r">\s*To &lt;b&gt;train&lt;/b&gt; on</textarea>", page)
    response = console.post(
        base(local) + "train/edit", {"description": "", "notes": "Checked twice", "metadata": '{"owner": "grace"}'}
    )
    assert response.status_code == 302
    dataset = Dataset.objects.get(dataset_id="train")
    assert (dataset.description, dataset.notes, dataset.metadata) == ("", "Checked twice", {"owner": "grace"})
    page = console.get(base(local) + "train/edit").content.decode()
    assert "&quot;owner&quot;: &quot;grace&quot;" in page

    bad = console.post(base(local) + "train/edit", {"description": "Kept?", "metadata": "{owner}"})
    assert bad.status_code == 400 and "This is not valid JSON" in bad.content.decode()
    assert re.search(r">\s*Kept\?</textarea>", bad.content.decode())
    assert Dataset.objects.get(dataset_id="train").metadata == {"owner": "grace"}


def test_deleting_asks_first_and_keeps_the_inputs(console: Client, local: Connection, train: str) -> None:
    page = console.get(base(local) + "train/delete").content.decode()
    assert "Delete the dataset train?" in page and "Its inputs stay in the app" in page
    assert Dataset.objects.filter(dataset_id="train").exists(), "a GET deletes nothing"
    response = console.post(base(local) + "train/delete")
    assert response.status_code == 302
    assert not Dataset.objects.filter(dataset_id="train").exists()
    page = console.get(base(local)).content.decode()
    assert "Dataset train deleted; its inputs are still in the app." in page
    grid = console.get(f"/c/{local.pk}/apps/shapes/inputs/").content.decode()
    assert grid.count('class="tile"') == 6


@pytest.mark.parametrize("path", ["nosuch/edit", "nosuch/delete", "nosuch/versions/"])
def test_an_unknown_dataset_is_a_404_with_the_way_back(
    console: Client, local: Connection, shapes: str, path: str
) -> None:
    response = console.get(base(local) + path)
    assert response.status_code == 404
    html = response.content.decode()
    assert "does not exist" in html or "not found" in html.lower()
    assert "Try again" not in html


def test_a_member_who_is_not_signed_in_is_sent_to_sign_in(client: Client, local: Connection, train: str) -> None:
    response = client.post(base(local) + "train/delete")
    assert response.status_code == 302 and "/accounts/login" in response["Location"]
    assert Dataset.objects.filter(dataset_id="train").exists()
