"""The concepts page's counts (linking to the filtered grid) and sort, a concept's own page with its
relations, and what it offers instead of deleting (the API cannot): rename, or remove from every input."""

import re
from collections.abc import Callable

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.test import Client

from console.clarifai import ClarifaiClient
from console.connections.models import Connection
from console.jobs.models import Job
from console.localapi.models import InputConcept

pytestmark = pytest.mark.django_db(transaction=True)
HX = {"HX-Request": "true"}
APP = resources_pb2.UserAppIDSet(user_id="demo", app_id="shapes")


@pytest.fixture
def labelled(make_app: Callable[..., str], api: ClarifaiClient) -> str:
    """shapes: 3 images labelled red (yes); concepts blue (on 1 as no, 1 as yes) and green (on none)."""
    make_app("shapes", images=3)
    api.call(
        "PostConcepts",
        service_pb2.PostConceptsRequest(
            user_app_id=APP, concepts=[resources_pb2.Concept(id="blue", name="Blue"), resources_pb2.Concept(id="green")]
        ),
    )
    for input_id, value in (("image-000", 0.0), ("image-001", 1.0)):
        api.call(
            "PatchInputs",
            service_pb2.PatchInputsRequest(
                user_app_id=APP,
                action="merge",
                inputs=[
                    resources_pb2.Input(
                        id=input_id, data=resources_pb2.Data(concepts=[resources_pb2.Concept(id="blue", value=value)])
                    )
                ],
            ),
        )
    return "shapes"


def rows(html: str) -> list[tuple[str, str, str]]:
    """(id, yes, no) of each row, in order."""
    return re.findall(
        r'<tr data-concept="([^"]+)">.*?data-count="positive"[^>]*>(\d+)<.*?data-count="negative"[^>]*>(\d+)<',
        html,
        re.S,
    )


def test_each_row_shows_its_counts_linked_to_the_filtered_grid(
    console: Client, local: Connection, labelled: str
) -> None:
    html = console.get(f"/c/{local.pk}/apps/shapes/concepts/").content.decode()
    assert rows(html) == [("blue", "1", "1"), ("green", "0", "0"), ("red", "3", "0")]
    grid = f"/c/{local.pk}/apps/shapes/inputs/"
    assert f'href="{grid}?concept=blue" title="Inputs labelled Blue">1</a>' in html
    assert f'href="{grid}?concept=blue&amp;label=no" title="Inputs labelled not Blue">1</a>' in html
    assert "cannot delete a concept" in html


def test_it_sorts_by_count_and_keeps_the_order_while_searching(
    console: Client, local: Connection, labelled: str
) -> None:
    url = f"/c/{local.pk}/apps/shapes/concepts/"
    by_count = console.get(f"{url}?sort=count").content.decode()
    assert [r[0] for r in rows(by_count)] == ["red", "blue", "green"]
    assert '<input type="hidden" name="sort" value="count">' in by_count
    searched = console.get(f"{url}?sort=count&q=b", headers=HX).content.decode()
    assert "<html" not in searched
    assert [r[0] for r in rows(searched)] == ["blue"]
    assert '<input type="hidden" name="sort"' not in console.get(url).content.decode()


def test_a_concepts_page_shows_its_counts_and_relations_as_links(
    console: Client, local: Connection, labelled: str, api: ClarifaiClient
) -> None:
    page = f"/c/{local.pk}/apps/shapes/concepts/blue/"
    response = console.post(f"{page}relations/add", {"predicate": "hyponym", "concept": "red"}, follow=True)
    html = response.content.decode()
    assert "blue is now a hyponym of red." in html
    assert 'data-count="positive">1<' in html and 'data-count="negative">1<' in html
    assert f'<a href="/c/{local.pk}/apps/shapes/concepts/red/">red</a>' in html
    assert '<option value="green">' in html and '<option value="Blue">' not in html  # offered: the others
    red = console.get(f"/c/{local.pk}/apps/shapes/concepts/red/").content.decode()
    assert 'data-relation="hypernym blue"' in red  # seen from the other side
    assert "The Clarifai API has no way to delete a concept" in red


def test_bad_relations_are_refused_with_the_apis_reason(console: Client, local: Connection, labelled: str) -> None:
    page = f"/c/{local.pk}/apps/shapes/concepts/blue/"
    itself = console.post(f"{page}relations/add", {"predicate": "synonym", "concept": "Blue"}, follow=True)
    assert "Nothing was saved" in itself.content.decode() and "related to itself" in itself.content.decode()
    unknown = console.post(f"{page}relations/add", {"predicate": "synonym", "concept": "purple"}, follow=True)
    assert "This app has no concept “purple”" in unknown.content.decode()
    console.post(f"{page}relations/add", {"predicate": "synonym", "concept": "green"})
    twice = console.post(f"{page}relations/add", {"predicate": "synonym", "concept": "green"}, follow=True)
    assert "already a synonym" in twice.content.decode()


def test_a_name_several_concepts_share_relates_none_of_them(
    console: Client, local: Connection, labelled: str, api: ClarifaiClient
) -> None:
    api.call(
        "PostConcepts",
        service_pb2.PostConceptsRequest(
            user_app_id=APP,
            concepts=[resources_pb2.Concept(id="sky-1", name="Sky"), resources_pb2.Concept(id="sky-2", name="sky")],
        ),
    )
    page = f"/c/{local.pk}/apps/shapes/concepts/blue/"
    html = console.post(f"{page}relations/add", {"predicate": "synonym", "concept": "sky"}, follow=True)
    text = html.content.decode()
    assert "Several concepts are named “sky”: type the id of the one you mean (sky-1, sky-2)" in text
    listed = api.call(
        "ListConceptRelations", service_pb2.ListConceptRelationsRequest(user_app_id=APP, concept_id="blue")
    )
    assert list(listed.concept_relations) == []


def test_a_relation_is_removed(console: Client, local: Connection, labelled: str, api: ClarifaiClient) -> None:
    page = f"/c/{local.pk}/apps/shapes/concepts/blue/"
    console.post(f"{page}relations/add", {"predicate": "hypernym", "concept": "green"})
    relation_id = (
        api.call("ListConceptRelations", service_pb2.ListConceptRelationsRequest(user_app_id=APP, concept_id="blue"))
        .concept_relations[0]
        .id
    )
    html = console.post(f"{page}relations/{relation_id}/delete", follow=True).content.decode()
    assert "Relation removed." in html and "No relations yet." in html


def test_removing_a_concept_from_every_input_runs_the_bulk_job(
    console: Client, local: Connection, labelled: str
) -> None:
    response = console.post(f"/c/{local.pk}/apps/shapes/concepts/blue/remove-everywhere")
    job = Job.objects.get()
    assert response["Location"] == f"/c/{local.pk}/jobs/{job.pk}/"
    job.refresh_from_db()
    assert (job.kind, job.params, job.total, job.state) == (Job.REMOVE_CONCEPTS, {"concepts": ["blue"]}, 2, Job.DONE)
    assert not InputConcept.objects.filter(concept__concept_id="blue").exists()
    html = console.get(f"/c/{local.pk}/apps/shapes/concepts/").content.decode()
    assert ("blue", "0", "0") in rows(html)


def test_removing_from_every_input_is_asked_first_with_the_count(
    console: Client, local: Connection, labelled: str
) -> None:
    page = f"/c/{local.pk}/apps/shapes/concepts/blue/"
    assert f'href="{page}remove-everywhere"' in console.get(page).content.decode()
    html = console.get(f"{page}remove-everywhere").content.decode()
    assert 'data-count="total">2<' in html and "1 labelled yes, 1 labelled no" in html
    assert "cannot delete a concept" in html
    assert not Job.objects.exists()


def test_renaming_on_the_concepts_page_comes_back_to_it(
    console: Client, local: Connection, labelled: str, api: ClarifaiClient
) -> None:
    page = f"/c/{local.pk}/apps/shapes/concepts/blue/"
    response = console.post(f"{page}rename", {"name": "Navy", "concept_page": "blue"})
    assert response["Location"] == page
    concept = api.call("GetConcept", service_pb2.GetConceptRequest(user_app_id=APP, concept_id="blue")).concept
    assert concept.name == "Navy"
