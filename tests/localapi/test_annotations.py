"""Annotations through the official clarifai-grpc client against the live local API: posting (in a task
and outside one), listing by input, task, user and status, getting, patching, deleting, and who
annotated; and the bad requests of labeling, each refused with its status code and a clear message."""

import pytest
from clarifai_grpc.grpc.api import resources_pb2 as r
from clarifai_grpc.grpc.api import service_pb2 as s
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from clarifai_grpc.grpc.api.status.status_pb2 import Status

from console.localapi.context import Context
from console.localapi.handlers.annotations import list_annotations
from console.localapi.models import Annotation, App, InputConcept, Task, Token
from tests.localapi.labeling_helpers import (
    Team,
    annotate,
    annotations,
    decide,
    ids,
    input_concepts,
    label,
    make_app,
    next_inputs,
    ok,
    post_task,
    review_start,
    submit,
    task,
)


@pytest.fixture
def app(team: Team) -> App:
    return make_app(team.owner, inputs=6)


def box(top: float, left: float, bottom: float, right: float, concept: str) -> r.Region:
    return r.Region(
        region_info=r.RegionInfo(
            bounding_box=r.BoundingBox(top_row=top, left_col=left, bottom_row=bottom, right_col=right)
        ),
        data=r.Data(concepts=[r.Concept(id=concept, value=1.0)]),
    )


def test_the_owner_annotates_outside_a_task_and_the_input_gets_the_labels(team: Team, app: App) -> None:
    posted = ok(
        team.owner.call(
            "PostAnnotations",
            s.PostAnnotationsRequest(
                user_app_id=ids(),
                annotations=[
                    r.Annotation(
                        id="a1",
                        input_id="in-001",
                        data=r.Data(concepts=[r.Concept(id="cat", value=1.0), r.Concept(id="dog", value=0.0)]),
                    ),
                    r.Annotation(id="a2", input_id="in-002", data=r.Data(regions=[box(0.1, 0.2, 0.5, 0.6, "bird")])),
                ],
            ),
        )
    ).annotations
    assert [a.id for a in posted] == ["a1", "a2"]
    assert all(a.status.code == codes.ANNOTATION_SUCCESS and a.user_id == "alice" for a in posted)
    assert [(c.id, c.name, c.value) for c in posted[0].data.concepts] == [("cat", "Cat", 1.0), ("dog", "Dog", 0.0)]
    bounding = posted[1].data.regions[0].region_info.bounding_box
    assert (bounding.top_row, bounding.right_col) == pytest.approx((0.1, 0.6))
    assert input_concepts(team.owner, "in-001") == {"cat": 1.0, "dog": 0.0}
    assert input_concepts(team.owner, "in-002") == {"bird": 1.0}

    got = ok(
        team.owner.call(
            "GetAnnotation", s.GetAnnotationRequest(user_app_id=ids(), input_id="in-001", annotation_id="a1")
        )
    ).annotation
    assert got.input_id == "in-001" and got.data.concepts[0].id == "cat"
    assert [a.id for a in annotations(team.owner, input_ids=["in-002"])] == ["a2"]
    assert [a.id for a in annotations(team.owner, user_ids=["alice"])] == ["a2", "a1"]  # newest first

    patched = ok(
        team.owner.call(
            "PatchAnnotations",
            s.PatchAnnotationsRequest(
                user_app_id=ids(),
                action="merge",
                annotations=[r.Annotation(id="a1", data=r.Data(concepts=[r.Concept(id="bird", value=1.0)]))],
            ),
        )
    ).annotations[0]
    assert {c.id: c.value for c in patched.data.concepts} == {"cat": 1.0, "dog": 0.0, "bird": 1.0}
    assert input_concepts(team.owner, "in-001") == {"cat": 1.0, "dog": 0.0, "bird": 1.0}

    ok(
        team.owner.call(
            "DeleteAnnotation", s.DeleteAnnotationRequest(user_app_id=ids(), input_id="in-001", annotation_id="a1")
        )
    )
    ok(team.owner.call("DeleteAnnotations", s.DeleteAnnotationsRequest(user_app_id=ids(), ids=["a2"])))
    assert annotations(team.owner) == []
    assert input_concepts(team.owner, "in-001") == {"cat": 1.0, "dog": 0.0, "bird": 1.0}  # the labels stay
    missing = team.owner.call(
        "GetAnnotation", s.GetAnnotationRequest(user_app_id=ids(), input_id="in-001", annotation_id="a1")
    )
    assert missing.status.code == codes.CONN_DOES_NOT_EXIST


def test_annotations_list_by_task_user_and_status_and_list_their_workers(team: Team, app: App) -> None:
    ok(post_task(team.owner, task("t", ["bob", "carol"], review="MANUAL", reviewers=("rita",))))
    next_inputs(team.bob, "t")
    next_inputs(team.carol, "t")
    label(team.bob, "t", "in-001", "cat")
    label(team.carol, "t", "in-001", "dog")
    ok(annotate(team.bob, "t", "in-002", "bird"))  # a draft, not submitted
    (carols,) = review_start(team.rita, "t", "carol")
    ok(decide(team.rita, "t", "REVIEW_APPROVE", (carols.id, "")))

    assert {a.user_id for a in annotations(team.rita, task_id="t")} == {"bob", "carol"}
    assert [a.input_id for a in annotations(team.rita, task_id="t", user_ids=["bob"])] == ["in-002", "in-001"]
    # The JSON client cannot send `statuses` in a query string (clarifai-wire.md §4), so the status filter is
    # called with the request message itself, as the gRPC transport delivers it.
    request = s.ListAnnotationsRequest(
        user_app_id=ids(), task_id="t", statuses=[Status(code=codes.ANNOTATION_AWAITING_REVIEW)]
    )
    rita = Context(token=Token.objects.select_related("user").filter(user_id="rita").get(), origin="", req_id="t")
    found = list_annotations(rita, request).annotations
    assert [(a.user_id, a.input_id) for a in found] == [("bob", "in-001")]
    request.statuses[0].code = codes.ANNOTATION_PENDING
    assert [(a.user_id, a.input_id) for a in list_annotations(rita, request).annotations] == [("bob", "in-002")]

    workers = ok(team.owner.call("ListAnnotationWorkers", s.ListAnnotationWorkersRequest(user_app_id=ids()))).workers
    assert [w.user.id for w in workers] == ["bob", "carol"]  # most annotations first

    # A labeler corrects their draft; a reviewer corrects work awaiting review before approving it.
    ok(annotate(team.bob, "t", "in-002", "dog"))
    (draft,) = annotations(team.bob, task_id="t", input_ids=["in-002"])
    assert [c.id for c in draft.data.concepts] == ["dog"]
    (bobs,) = annotations(team.rita, task_id="t", user_ids=["bob"], input_ids=["in-001"])
    corrected = ok(
        team.rita.call(
            "PatchAnnotations",
            s.PatchAnnotationsRequest(
                user_app_id=ids(),
                action="overwrite",
                annotations=[
                    r.Annotation(
                        id=bobs.id,
                        data=r.Data(concepts=[r.Concept(id="bird", value=1.0)]),
                        status=Status(code=codes.ANNOTATION_SUCCESS),
                    )
                ],
            ),
        )
    ).annotations[0]
    assert corrected.status.code == codes.ANNOTATION_SUCCESS
    assert input_concepts(team.owner, "in-001") == {"dog": 1.0, "bird": 1.0}
    assert review_start(team.rita, "t") == []  # the assignment follows its annotation out of the queue
    assert Task.objects.get(task_id="t").assignments.get(worker_id="bob", input__input_id="in-001").status_code == (
        codes.TASK_ASSIGNMENT_SUCCESS
    )


def test_a_review_decision_changes_the_annotations_modified_at(team: Team, app: App) -> None:
    ok(post_task(team.owner, task("t", ["bob", "carol"], review="MANUAL", reviewers=("rita",))))
    next_inputs(team.bob, "t")
    next_inputs(team.carol, "t")
    label(team.bob, "t", "in-001", "cat")
    label(team.carol, "t", "in-001", "dog")

    def modified(user_id: str) -> tuple[int, float]:
        (annotation,) = annotations(team.rita, task_id="t", user_ids=[user_id])
        return annotation.status.code, annotation.modified_at.ToDatetime().timestamp()

    (_, bob_submitted), (_, carol_submitted) = modified("bob"), modified("carol")
    (carols,) = review_start(team.rita, "t", "carol")
    ok(decide(team.rita, "t", "REVIEW_APPROVE", (carols.id, "")))
    (bobs,) = review_start(team.rita, "t", "bob")
    ok(decide(team.rita, "t", "REVIEW_REJECT", (bobs.id, "not a cat")))

    carol_code, carol_reviewed = modified("carol")
    bob_code, bob_reviewed = modified("bob")
    assert carol_code == codes.ANNOTATION_SUCCESS and carol_reviewed > carol_submitted
    assert bob_code == codes.ANNOTATION_REVIEW_DENIED and bob_reviewed > bob_submitted


# Bad input


def test_submitting_for_an_input_not_assigned_to_you_is_refused(team: Team, app: App) -> None:
    ok(post_task(team.owner, task("t", ["bob", "carol"], partitioned=1)))
    bobs = next_inputs(team.bob, "t")

    posted = annotate(team.carol, "t", bobs[0], "cat")
    submitted = submit(team.carol, "t", bobs[0])
    outsider = annotate(team.dave, "t", bobs[0], "cat")

    assert posted.status.code == codes.ANNOTATION_PERMISSION_DENIED
    assert f"input {bobs[0]!r} is not assigned to you ('carol') in task 't'" in posted.status.details
    assert submitted.status.code == codes.TASK_PERMISSION_DENIED
    assert "not assigned to you ('carol')" in submitted.status.details
    assert outsider.status.code == codes.CONN_DOES_NOT_EXIST  # dave is in no task: the app is not his to see
    assert not Annotation.objects.exists()


def test_reviewing_your_own_work_is_refused(team: Team, app: App) -> None:
    ok(post_task(team.owner, task("t", ["bob", "rita"], review="MANUAL", reviewers=("rita",))))
    next_inputs(team.rita, "t")
    label(team.rita, "t", "in-001", "cat")
    own = Task.objects.get(task_id="t").assignments.get(worker_id="rita", input__input_id="in-001")

    assert review_start(team.rita, "t") == []  # her own work is not offered to her
    approved = decide(team.rita, "t", "REVIEW_APPROVE", (own.assignment_id, ""))
    by_status = team.rita.call(
        "PatchAnnotationsStatus",
        s.PatchAnnotationsStatusRequest(
            user_app_id=ids(), task_id="t", user_ids=["rita"], status_code=codes.ANNOTATION_SUCCESS
        ),
    )

    assert approved.status.code == codes.TASK_PERMISSION_DENIED
    assert "You cannot review your own work" in approved.status.details
    assert by_status.status.code == codes.TASK_PERMISSION_DENIED
    assert Annotation.objects.get().status_code == codes.ANNOTATION_AWAITING_REVIEW


def test_concepts_outside_the_task_are_refused(team: Team, app: App) -> None:
    ok(post_task(team.owner, task("t", ["bob"], concepts=("cat", "dog"))))
    next_inputs(team.bob, "t")

    outside = annotate(team.bob, "t", "in-001", "cat", "bird")
    unknown = annotate(team.bob, "t", "in-001", "unicorn")

    assert outside.status.code == codes.ANNOTATION_INVALID_ARGUMENT
    assert "concept 'bird' is not one of task 't''s concepts (cat, dog)" in outside.status.details
    assert unknown.status.code == codes.ANNOTATION_INVALID_ARGUMENT
    assert "'unicorn'" in unknown.status.details
    assert not Annotation.objects.exists()
    assert not InputConcept.objects.exists()


def test_a_task_over_an_empty_or_missing_dataset_is_refused(team: Team, app: App) -> None:
    empty = post_task(team.owner, task("t1", ["bob"], dataset="empty"))
    missing = post_task(team.owner, task("t2", ["bob"], dataset="nowhere"))
    nobody = post_task(team.owner, task("t3", ["zed"]))
    outside = post_task(team.owner, task("t4", ["bob"], concepts=("cat", "unicorn")))
    by_labeler = team.bob.call("PostTasks", s.PostTasksRequest(user_app_id=ids(), tasks=[task("t5", ["bob"])]))

    assert empty.status.code == codes.CONN_INVALID_REQUEST
    assert "Dataset 'empty' has no processed inputs to label" in empty.status.details
    assert missing.status.code == codes.CONN_DOES_NOT_EXIST
    assert "Dataset 'nowhere' in app 'main' does not exist" in missing.status.details
    assert nobody.status.code == codes.CONN_DOES_NOT_EXIST and "'zed'" in nobody.status.details
    assert outside.status.code == codes.CONN_DOES_NOT_EXIST and "'unicorn'" in outside.status.details
    assert by_labeler.status.code == codes.CONN_DOES_NOT_EXIST  # bob is in no task of this app yet
    assert not Task.objects.exists()


def test_a_task_whose_dataset_was_deleted_says_so(team: Team, app: App) -> None:
    ok(post_task(team.owner, task("t", ["bob"])))
    ok(team.owner.call("DeleteDatasets", s.DeleteDatasetsRequest(user_app_id=ids(), dataset_ids=["pets"])))

    response = team.bob.call(
        "ListNextTaskAssignments", s.ListNextTaskAssignmentsRequest(user_app_id=ids(), task_id="t")
    )

    assert response.status.code == codes.CONN_DOES_NOT_EXIST
    assert "The dataset 'pets' of task 't' was deleted" in response.status.details


def test_bad_task_settings_are_refused(team: Team, app: App) -> None:
    too_many = post_task(team.owner, task("t1", ["bob"], partitioned=2))
    no_reviewer = post_task(team.owner, task("t2", ["bob"], review="MANUAL"))
    threshold = post_task(
        team.owner, task("t3", ["bob", "carol"], review="CONSENSUS", reviewers=("rita",), threshold=3)
    )
    unknown_task = team.bob.call("GetTask", s.GetTaskRequest(user_app_id=ids(), task_id="nope"))

    assert too_many.status.code == codes.CONN_INVALID_REQUEST and "workers_per_input" in too_many.status.details
    assert no_reviewer.status.code == codes.CONN_INVALID_REQUEST and "reviewer" in no_reviewer.status.details
    assert threshold.status.code == codes.CONN_INVALID_REQUEST
    assert "approval_threshold_labelers" in threshold.status.details
    assert unknown_task.status.code == codes.CONN_DOES_NOT_EXIST
    ok(post_task(team.owner, task("t", ["bob"])))
    assert team.owner.call("GetTask", s.GetTaskRequest(user_app_id=ids(), task_id="nope")).status.code == (
        codes.TASK_MISSING
    )
    submitted_twice = submit(team.bob, "t", "in-001")
    assert submitted_twice.status.code == codes.TASK_PERMISSION_DENIED  # not given to him yet
    next_inputs(team.bob, "t")
    ok(submit(team.bob, "t", "in-001"))
    again = submit(team.bob, "t", "in-001")
    assert again.status.code == codes.TASK_CONFLICT and "cannot be submitted" in again.status.details
