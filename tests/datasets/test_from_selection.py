"""A new dataset made from a selection of the inputs grid: the bulk form's "Add to a dataset" with "a new
dataset" ticked creates the dataset first, then the job adds the selection to it; a taken or bad id is
refused before anything starts."""

import pytest
from django.test import Client

from console.connections.models import Connection
from console.jobs.models import Job
from console.localapi.models import Dataset, DatasetInput

pytestmark = pytest.mark.django_db(transaction=True)


def bulk(local: Connection) -> str:
    return f"/c/{local.pk}/apps/shapes/inputs/bulk"


def test_the_bulk_form_offers_a_new_dataset(console: Client, local: Connection, shapes: str) -> None:
    grid = console.get(f"/c/{local.pk}/apps/shapes/inputs/").content.decode()
    assert 'name="new_dataset" value="yes"' in grid and "A new dataset: create it first" in grid


def test_a_new_dataset_is_made_from_the_ticked_tiles(console: Client, local: Connection, shapes: str) -> None:
    selected = ["image-001", "image-004"]
    response = console.post(
        bulk(local),
        {"kind": "add_to_dataset", "dataset": "picked", "new_dataset": "yes", "scope": "selected", "ids": selected},
        follow=True,
    )
    job = Job.objects.get()
    assert response.redirect_chain[-1][0] == f"/c/{local.pk}/jobs/{job.pk}/"
    html = response.content.decode()
    assert "Dataset picked created." in html
    job.refresh_from_db()
    assert job.state == Job.DONE
    members = DatasetInput.objects.filter(dataset__dataset_id="picked").values_list("input__input_id", flat=True)
    assert sorted(members) == selected

    page = console.get(f"/c/{local.pk}/apps/shapes/datasets/").content.decode()
    assert 'data-dataset="picked"' in page


def test_a_taken_id_for_a_new_dataset_starts_nothing(console: Client, local: Connection, train: str) -> None:
    response = console.post(
        bulk(local),
        {"kind": "add_to_dataset", "dataset": "train", "new_dataset": "yes", "scope": "selected", "ids": ["image-005"]},
        follow=True,
    )
    html = response.content.decode()
    assert "Dataset train exists already: untick “new dataset” to add the inputs to it. Nothing was started." in html
    assert not Job.objects.exists()
    assert not DatasetInput.objects.filter(input__input_id="image-005").exists()


def test_a_bad_id_for_a_new_dataset_starts_nothing(console: Client, local: Connection, shapes: str) -> None:
    response = console.post(
        bulk(local),
        {"kind": "add_to_dataset", "dataset": "a b", "new_dataset": "yes", "scope": "selected", "ids": ["image-005"]},
        follow=True,
    )
    assert "“a b” cannot be a dataset id" in response.content.decode()
    assert not Job.objects.exists() and not Dataset.objects.exists()


def test_without_the_tick_an_existing_dataset_is_used_as_before(console: Client, local: Connection, train: str) -> None:
    console.post(bulk(local), {"kind": "add_to_dataset", "dataset": "train", "scope": "selected", "ids": ["image-005"]})
    assert Job.objects.get().state == Job.DONE
    assert DatasetInput.objects.filter(dataset__dataset_id="train", input__input_id="image-005").exists()
