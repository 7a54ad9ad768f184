"""PatchApps, GetConceptCounts and concept relations through the official clarifai-grpc JSON client,
against the live local API; bad input is refused with the status codes (and HTTP statuses) it gets."""

from typing import Any

import httpx
import pytest
from clarifai_grpc.grpc.api import resources_pb2 as r
from clarifai_grpc.grpc.api import service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from google.protobuf.struct_pb2 import Struct

from console.localapi.models import App, Concept, ConceptCount, ConceptRelation, Input, InputConcept
from tests.localapi.conftest import Caller


def struct(values: dict[str, Any]) -> Struct:
    s = Struct()
    s.update(values)
    return s


def ok(response: Any) -> Any:
    assert response.status.code == codes.SUCCESS, response.status
    return response


# --- PatchApps / PatchApp ---------------------------------------------------------------------------------


def patch_apps(alice: Caller, action: str, *apps: r.App, metadata_op: str = "") -> Any:
    request = service_pb2.PatchAppsRequest(user_app_id=alice.app_ids(""), apps=apps, action=action)
    if metadata_op:
        request.metadata_action.op = metadata_op
    return alice.call("PatchApps", request)


def test_it_renames_an_app_and_merges_its_metadata(alice: Caller, alice_app: App) -> None:
    alice_app.metadata = {"team": "a", "keep": 1}
    alice_app.description = "old"
    alice_app.save()
    response = ok(
        patch_apps(alice, "merge", r.App(id="main", name="Renamed", metadata=struct({"team": "b", "new": True})))
    )
    assert response.apps[0].name == "Renamed"
    assert response.apps[0].description == "old"  # merge leaves what was not given
    got = ok(alice.call("GetApp", service_pb2.GetAppRequest(user_app_id=alice.app_ids("main")))).app
    assert (got.name, dict(got.metadata)) == ("Renamed", {"team": "b", "keep": 1, "new": True})


def test_overwrite_replaces_the_description_and_metadata(alice: Caller, alice_app: App) -> None:
    alice_app.metadata = {"team": "a"}
    alice_app.description = "old"
    alice_app.save()
    ok(patch_apps(alice, "overwrite", r.App(id="main", name="N", metadata=struct({"x": 1}), default_language="fr")))
    alice_app.refresh_from_db()
    assert (alice_app.name, alice_app.description, alice_app.metadata) == ("N", "", {"x": 1})
    assert alice_app.default_language == "fr"


def test_remove_takes_out_the_metadata_keys_given_and_nothing_else(alice: Caller, alice_app: App) -> None:
    alice_app.metadata = {"a": 1, "b": {"c": 2, "d": 3}}
    alice_app.description = "kept"
    alice_app.save()
    removed = struct({"a": None, "b": {"c": 0}})
    ok(patch_apps(alice, "remove", r.App(id="main", description="ignored", metadata=removed)))
    alice_app.refresh_from_db()
    assert alice_app.metadata == {"b": {"d": 3}}
    assert alice_app.description == "kept"


def test_metadata_action_overrides_action_for_metadata_only(alice: Caller, alice_app: App) -> None:
    alice_app.metadata = {"a": 1}
    alice_app.save()
    ok(patch_apps(alice, "merge", r.App(id="main", name="M", metadata=struct({"b": 2})), metadata_op="overwrite"))
    alice_app.refresh_from_db()
    assert (alice_app.name, alice_app.metadata) == ("M", {"b": 2})


def test_patch_app_by_its_url_changes_one_app(alice: Caller, alice_app: App) -> None:
    response = ok(
        alice.call(
            "PatchApp",
            service_pb2.PatchAppRequest(
                user_app_id=alice.app_ids("main"), app=r.App(description="About shapes"), action="merge"
            ),
        )
    )
    assert response.app.description == "About shapes"


def test_bad_patches_are_refused_and_change_nothing(alice: Caller, alice_app: App) -> None:
    App.objects.create(user=alice.user, app_id="other", name="Other")
    unknown = patch_apps(alice, "merge", r.App(id="other", name="changed"), r.App(id="nosuch", name="x"))
    assert unknown.status.code == codes.CONN_DOES_NOT_EXIST
    assert App.objects.get(app_id="other").name == "Other"  # all or nothing
    assert patch_apps(alice, "replace", r.App(id="main", name="x")).status.code == codes.CONN_INVALID_REQUEST
    assert patch_apps(alice, "merge").status.code == codes.CONN_INVALID_REQUEST
    bad_language = patch_apps(alice, "merge", r.App(id="main", default_language="not a language"))
    assert bad_language.status.code == codes.CONN_INVALID_REQUEST
    alice_app.refresh_from_db()
    assert (alice_app.name, alice_app.default_language) == ("Main app", "en")


def test_the_apps_list_carries_input_counts_when_asked(alice: Caller, alice_app: App) -> None:
    Input.objects.bulk_create([Input(app=alice_app, input_id=f"i{n}", kind=Input.TEXT, text="t") for n in range(3)])
    apps = ok(alice.call("ListApps", service_pb2.ListAppsRequest(additional_fields=["counts"]))).apps
    assert [(a.id, a.extra_info.counts.inputs) for a in apps] == [("main", 3)]


# --- GetConceptCounts -------------------------------------------------------------------------------------


@pytest.fixture
def labelled(alice: Caller, alice_app: App) -> None:
    ok(
        alice.call(
            "PostConcepts",
            service_pb2.PostConceptsRequest(
                user_app_id=alice.app_ids("main"),
                concepts=[r.Concept(id=c, name=c.title()) for c in ("cat", "dog", "unused")],
            ),
        )
    )
    labels = {"a": {"cat": 1.0}, "b": {"cat": 1.0, "dog": 0.0}, "c": {"cat": 0.0, "dog": 1.0}}
    ok(
        alice.call(
            "PostInputs",
            service_pb2.PostInputsRequest(
                user_app_id=alice.app_ids("main"),
                inputs=[
                    r.Input(
                        id=i,
                        data=r.Data(text=r.Text(raw=i), concepts=[r.Concept(id=c, value=v) for c, v in given.items()]),
                    )
                    for i, given in labels.items()
                ],
            ),
        )
    )


def counts(alice: Caller, **page: int) -> dict[str, tuple[str, int, int]]:
    response = ok(
        alice.call("GetConceptCounts", service_pb2.GetConceptCountsRequest(user_app_id=alice.app_ids("main"), **page))
    )
    return {
        c.id: (c.name, c.concept_type_count.positive, c.concept_type_count.negative) for c in response.concept_counts
    }


@pytest.mark.usefixtures("labelled")
def test_it_counts_positive_and_negative_labels_per_concept(alice: Caller) -> None:
    assert counts(alice) == {"cat": ("Cat", 2, 1), "dog": ("Dog", 1, 1), "unused": ("Unused", 0, 0)}


@pytest.mark.usefixtures("labelled")
def test_counts_follow_label_changes_and_deletes(alice: Caller) -> None:
    app_ids = alice.app_ids("main")
    # "c" changes from cat=no to cat=yes; "a" loses cat; "b" is deleted
    ok(
        alice.call(
            "PatchInputs",
            service_pb2.PatchInputsRequest(
                user_app_id=app_ids,
                action="merge",
                inputs=[r.Input(id="c", data=r.Data(concepts=[r.Concept(id="cat", value=1.0)]))],
            ),
        )
    )
    ok(
        alice.call(
            "PatchInputs",
            service_pb2.PatchInputsRequest(
                user_app_id=app_ids,
                action="remove",
                inputs=[r.Input(id="a", data=r.Data(concepts=[r.Concept(id="cat", value=1.0)]))],
            ),
        )
    )
    ok(alice.call("DeleteInputs", service_pb2.DeleteInputsRequest(user_app_id=app_ids, ids=["b"])))
    assert counts(alice) == {"cat": ("Cat", 1, 0), "dog": ("Dog", 1, 0), "unused": ("Unused", 0, 0)}


@pytest.mark.usefixtures("labelled")
def test_concept_counts_are_paged_by_id(alice: Caller) -> None:
    assert list(counts(alice, page=1, per_page=2)) == ["cat", "dog"]
    assert list(counts(alice, page=2, per_page=2)) == ["unused"]
    assert counts(alice, page=3, per_page=2) == {}


def test_counts_are_read_from_the_kept_rows_not_the_labels(alice: Caller, alice_app: App) -> None:
    """A count row is what GetConceptCounts answers: the labels are never counted per request."""
    concept = Concept.objects.create(app=alice_app, concept_id="big", name="big")
    item = Input.objects.create(app=alice_app, input_id="x", kind=Input.TEXT, text="x")
    InputConcept.objects.create(input=item, concept=concept, value=1.0)
    assert ConceptCount.objects.get(concept=concept).positive == 1  # the trigger wrote it
    ConceptCount.objects.filter(concept=concept).update(positive=1_000_000)
    assert counts(alice) == {"big": ("big", 1_000_000, 0)}


def test_counts_of_an_unknown_app_are_refused(alice: Caller, alice_app: App) -> None:
    response = alice.call("GetConceptCounts", service_pb2.GetConceptCountsRequest(user_app_id=alice.app_ids("nosuch")))
    assert response.status.code == codes.CONN_DOES_NOT_EXIST


# --- Relations --------------------------------------------------------------------------------------------


@pytest.fixture
def animals(alice: Caller, alice_app: App) -> None:
    ok(
        alice.call(
            "PostConcepts",
            service_pb2.PostConceptsRequest(
                user_app_id=alice.app_ids("main"),
                concepts=[r.Concept(id=c) for c in ("animal", "dog", "puppy", "pup")],
            ),
        )
    )


def relate(alice: Caller, subject: str, *relations: tuple[str, str]) -> Any:
    return alice.call(
        "PostConceptRelations",
        service_pb2.PostConceptRelationsRequest(
            user_app_id=alice.app_ids("main"),
            concept_id=subject,
            concept_relations=[r.ConceptRelation(object_concept=r.Concept(id=o), predicate=p) for p, o in relations],
        ),
    )


def relations(alice: Caller, concept_id: str = "", predicate: str = "") -> list[tuple[str, str, str]]:
    response = ok(
        alice.call(
            "ListConceptRelations",
            service_pb2.ListConceptRelationsRequest(
                user_app_id=alice.app_ids("main"), concept_id=concept_id, predicate=predicate
            ),
        )
    )
    return [(c.subject_concept.id, c.predicate, c.object_concept.id) for c in response.concept_relations]


@pytest.mark.usefixtures("animals")
def test_relations_are_listed_from_each_side(alice: Caller) -> None:
    posted = ok(relate(alice, "dog", ("hyponym", "animal"), ("hypernym", "puppy")))
    assert [(c.subject_concept.id, c.predicate, c.object_concept.id) for c in posted.concept_relations] == [
        ("dog", "hyponym", "animal"),
        ("dog", "hypernym", "puppy"),
    ]
    assert all(c.id for c in posted.concept_relations)
    ok(relate(alice, "puppy", ("synonym", "pup")))
    assert relations(alice, "dog") == [("dog", "hyponym", "animal"), ("dog", "hypernym", "puppy")]
    assert relations(alice, "animal") == [("animal", "hypernym", "dog")]
    assert relations(alice, "puppy") == [("puppy", "hyponym", "dog"), ("puppy", "synonym", "pup")]
    assert relations(alice, "pup") == [("pup", "synonym", "puppy")]
    assert relations(alice, "dog", "hypernym") == [("dog", "hypernym", "puppy")]
    assert relations(alice, "puppy", "synonym") == [("puppy", "synonym", "pup")]
    assert len(relations(alice)) == 3  # the whole app, each relation once


@pytest.mark.usefixtures("animals")
def test_a_relation_is_deleted_by_its_id_from_either_side(alice: Caller) -> None:
    relation_id = ok(relate(alice, "dog", ("hyponym", "animal"))).concept_relations[0].id
    ok(
        alice.call(
            "DeleteConceptRelations",
            service_pb2.DeleteConceptRelationsRequest(
                user_app_id=alice.app_ids("main"), concept_id="animal", ids=[relation_id]
            ),
        )
    )
    assert relations(alice, "dog") == []


@pytest.mark.usefixtures("animals")
def test_bad_relations_are_refused_with_real_status_codes(alice: Caller) -> None:
    ok(relate(alice, "dog", ("hyponym", "animal")))
    assert relate(alice, "dog", ("synonym", "dog")).status.code == codes.CONCEPTS_INVALID_REQUEST
    assert relate(alice, "dog", ("hyponym", "animal")).status.code == codes.DATABASE_DUPLICATE_KEY
    # the same relation said from the other side is the same relation
    assert relate(alice, "animal", ("hypernym", "dog")).status.code == codes.DATABASE_DUPLICATE_KEY
    assert relate(alice, "animal", ("hyponym", "dog")).status.code == codes.CONCEPTS_INVALID_REQUEST  # a loop
    assert relate(alice, "dog", ("hyponym", "nosuch")).status.code == codes.CONN_DOES_NOT_EXIST
    assert relate(alice, "nosuch", ("hyponym", "dog")).status.code == codes.CONN_DOES_NOT_EXIST
    assert relate(alice, "dog", ("cousin", "pup")).status.code == codes.CONCEPTS_INVALID_REQUEST
    # all or nothing: a good relation beside a bad one is not kept
    assert relate(alice, "pup", ("synonym", "puppy"), ("synonym", "pup")).status.code == codes.CONCEPTS_INVALID_REQUEST
    assert relations(alice, "pup") == []
    gone = alice.call(
        "DeleteConceptRelations",
        service_pb2.DeleteConceptRelationsRequest(user_app_id=alice.app_ids("main"), concept_id="dog", ids=["nosuch"]),
    )
    assert gone.status.code == codes.CONN_DOES_NOT_EXIST
    assert relations(alice, "dog") == [("dog", "hyponym", "animal")]


@pytest.mark.usefixtures("animals")
def test_refusals_carry_their_http_statuses(alice: Caller) -> None:
    ok(relate(alice, "dog", ("hyponym", "animal")))
    url = f"{alice.base_url}/v2/users/alice/apps/main/concepts/dog/relations"
    headers = {"Authorization": f"Key {alice.token}"}

    def post(object_id: str, predicate: str) -> httpx.Response:
        body = {"concept_relations": [{"object_concept": {"id": object_id}, "predicate": predicate}]}
        return httpx.post(url, json=body, headers=headers)

    assert (post("dog", "synonym").status_code, post("dog", "synonym").json()["status"]["code"]) == (400, 40003)
    assert post("animal", "hyponym").status_code == 409
    assert post("nosuch", "hyponym").status_code == 404


@pytest.mark.usefixtures("animals")
def test_deleting_the_app_takes_its_relations_and_counts_along(alice: Caller, alice_app: App) -> None:
    ok(relate(alice, "dog", ("hyponym", "animal")))
    item = Input.objects.create(app=alice_app, input_id="x", kind=Input.TEXT, text="x")
    InputConcept.objects.create(input=item, concept=Concept.objects.get(concept_id="dog"), value=0.0)
    assert ConceptCount.objects.get(concept__concept_id="dog").negative == 1
    ok(alice.call("DeleteApp", service_pb2.DeleteAppRequest(user_app_id=alice.app_ids("main"))))
    assert not App.objects.exists()  # purged by the worker (eager here)
    assert not ConceptRelation.objects.exists() and not ConceptCount.objects.exists()
