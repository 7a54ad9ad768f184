"""The concepts of an app: the list and its partial, search by name, creating and renaming."""

import re
from collections.abc import Callable

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.test import Client

from console.clarifai import ClarifaiClient
from console.connections.models import Connection

pytestmark = pytest.mark.django_db(transaction=True)
HX = {"HX-Request": "true"}


@pytest.fixture
def concepts(make_app: Callable[..., str], api: ClarifaiClient) -> str:
    make_app("shapes")
    api.call(
        "PostConcepts",
        service_pb2.PostConceptsRequest(
            user_app_id=resources_pb2.UserAppIDSet(app_id="shapes"),
            concepts=[
                resources_pb2.Concept(id=f"c{n:02}", name=name) for n, name in enumerate(["Dog", "Dolphin", "Cat"] * 20)
            ],
        ),
    )
    return "/c/{pk}/apps/shapes/concepts/"


def names(html: str) -> list[str]:
    return re.findall(r"<td><code>([^<]+)</code></td>", html)


def test_it_lists_concepts_a_page_at_a_time(console: Client, local: Connection, concepts: str) -> None:
    page = console.get(concepts.format(pk=local.pk))
    html = page.content.decode()
    assert "<html" in html
    assert len(names(html)) == 50
    assert 'href="?page=2"' in html
    second = console.get(concepts.format(pk=local.pk) + "?page=2", headers=HX).content.decode()
    assert second.lstrip().startswith('<div id="results">')
    assert len(names(second)) == 10


def test_it_searches_by_the_start_of_a_name(console: Client, local: Connection, concepts: str) -> None:
    html = console.get(concepts.format(pk=local.pk) + "?q=do", headers=HX).content.decode()
    assert "Dog" in html and "Dolphin" in html and "Cat" not in html
    wildcard = console.get(concepts.format(pk=local.pk) + "?q=*phin", headers=HX).content.decode()
    assert "Dolphin" in wildcard and "Dog" not in wildcard


def test_it_creates_a_concept_and_refuses_a_taken_id(
    console: Client, local: Connection, api: ClarifaiClient, concepts: str
) -> None:
    url = concepts.format(pk=local.pk)
    assert console.post(url + "new", {"id": "zebra", "name": "Zebra"}).status_code == 302
    got = api.call(
        "GetConcept",
        service_pb2.GetConceptRequest(user_app_id=resources_pb2.UserAppIDSet(app_id="shapes"), concept_id="zebra"),
    )
    assert got.concept.name == "Zebra"
    taken = console.post(url + "new", {"id": "zebra"})
    assert taken.status_code == 400
    assert "already exists" in taken.content.decode()


def test_searching_after_a_failed_create_searches_the_list(console: Client, local: Connection, concepts: str) -> None:
    """A failed create shows the list at /concepts/new; its search form and pager ask that URL."""
    url = concepts.format(pk=local.pk)
    assert console.post(url + "new", {"id": "c00"}).status_code == 400
    for headers, start in (({}, "<!doctype html>"), (HX, '<div id="results">')):
        response = console.get(url + "new?q=do&page=1", headers=headers)
        assert response.status_code == 302
        assert response["Location"] == url + "?q=do&page=1"
        followed = console.get(url + "new?q=do", headers=headers, follow=True)
        assert followed.redirect_chain == [(url + "?q=do", 302)]
        html = followed.content.decode()
        assert html.lstrip().startswith(start)
        assert "Dog" in html and "Cat" not in html


def test_it_renames_a_concept_and_returns_to_the_same_list(
    console: Client, local: Connection, api: ClarifaiClient, concepts: str
) -> None:
    url = concepts.format(pk=local.pk)
    response = console.post(url + "c00/rename", {"name": "Hound", "back": "q=do&page=1&evil=1"})
    assert response.status_code == 302
    assert response["Location"] == url + "?q=do&page=1"
    got = api.call(
        "GetConcept",
        service_pb2.GetConceptRequest(user_app_id=resources_pb2.UserAppIDSet(app_id="shapes"), concept_id="c00"),
    )
    assert got.concept.name == "Hound"
