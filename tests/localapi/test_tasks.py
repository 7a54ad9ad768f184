"""Labeling tasks through the official clarifai-grpc client against the live local API: the task's shape,
who sees it, labeling under FULL and PARTITIONED (with concurrent labelers), review and consensus."""

import threading
from collections import Counter

import pytest
from clarifai_grpc.grpc.api import resources_pb2 as r
from clarifai_grpc.grpc.api import service_pb2 as s
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from clarifai_grpc.grpc.api.status.status_pb2 import Status
from django.db import IntegrityError, transaction

from console.localapi.models import App, TaskAssignment
from tests.localapi.conftest import MakeCaller
from tests.localapi.labeling_helpers import (
    Team,
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
    return make_app(team.owner, inputs=12)


def test_it_creates_gets_lists_patches_and_deletes_tasks(team: Team, app: App) -> None:
    made = ok(post_task(team.owner, task("t1", ["bob", "carol"], partitioned=1, review="MANUAL", reviewers=("rita",))))
    ok(post_task(team.owner, task("t2", ["dave"], review="CONSENSUS", reviewers=("rita",), threshold=1)))

    (created,) = made.tasks
    assert created.id == "t1" and created.name == "Label t1" and created.user_id == "alice" and created.app_id == "main"
    assert created.type == r.Task.CONCEPTS_CLASSIFICATION
    assert created.input_source.type == r.TaskInputSource.DATASET and created.input_source.id == "pets"
    assert [c.concept.id for c in created.concepts] == ["cat", "dog", "bird"]
    assert [c.concept.name for c in created.concepts] == ["Cat", "Dog", "Bird"]
    assert created.worker.strategy == r.TaskWorker.PARTITIONED
    assert created.worker.partitioned_strategy_info.workers_per_input == 1
    assert [w.user.id for w in created.worker.workers] == ["bob", "carol"]
    assert created.review.strategy == r.TaskReview.MANUAL
    assert [u.id for u in created.review.users] == ["rita"]
    assert created.status.code == codes.TASK_IN_PROGRESS
    assert created.metrics.input_source.inputs_count_estimated == 12
    assert created.metrics.work.inputs_count_estimated == 0

    got = ok(team.owner.call("GetTask", s.GetTaskRequest(user_app_id=ids(), task_id="t2"))).task
    assert got.review.strategy == r.TaskReview.CONSENSUS
    assert got.review.consensus_strategy_info.approval_threshold_labelers == 1
    assert got.worker.strategy == r.TaskWorker.FULL

    listed = ok(team.owner.call("ListTasks", s.ListTasksRequest(user_app_id=ids())))
    assert [t.id for t in listed.tasks] == ["t2", "t1"]  # newest first
    assert [t.id for t in ok(team.bob.call("ListTasks", s.ListTasksRequest(user_app_id=ids()))).tasks] == ["t1"]
    assert [t.id for t in ok(team.rita.call("ListTasks", s.ListTasksRequest(user_app_id=ids()))).tasks] == ["t2", "t1"]
    by_worker = ok(team.owner.call("ListTasks", s.ListTasksRequest(user_app_id=ids(), worker_user_ids=["dave"])))
    assert [t.id for t in by_worker.tasks] == ["t2"]

    paused = ok(
        team.owner.call(
            "PatchTasks",
            s.PatchTasksRequest(
                user_app_id=ids(),
                action="overwrite",
                tasks=[r.Task(id="t1", name="Pets, first pass", status=Status(code=codes.TASK_IDLE))],
            ),
        )
    ).tasks[0]
    assert paused.name == "Pets, first pass" and paused.status.code == codes.TASK_IDLE
    assert [c.concept.id for c in paused.concepts] == ["cat", "dog", "bird"]  # what was not given stays
    refused = team.bob.call(
        "ListNextTaskAssignments", s.ListNextTaskAssignmentsRequest(user_app_id=ids(), task_id="t1")
    )
    assert refused.status.code == codes.TASK_CONFLICT
    assert "paused" in refused.status.details

    ok(team.owner.call("DeleteTasks", s.DeleteTasksRequest(user_app_id=ids(), ids=["t1"])))
    gone = team.owner.call("GetTask", s.GetTaskRequest(user_app_id=ids(), task_id="t1"))
    assert gone.status.code == codes.TASK_MISSING
    assert [t.id for t in ok(team.owner.call("ListTasks", s.ListTasksRequest(user_app_id=ids()))).tasks] == ["t2"]


def test_full_gives_every_labeler_every_input_and_no_review_approves_at_once(team: Team, app: App) -> None:
    ok(post_task(team.owner, task("full", ["bob", "carol"])))

    bobs, carols = next_inputs(team.bob, "full"), next_inputs(team.carol, "full")
    assert bobs == carols == [f"in-{n:03d}" for n in range(1, 11)]  # a batch of 10, in order
    label(team.bob, "full", "in-001", "cat")

    (mine,) = annotations(team.bob, task_id="full", user_ids=["bob"])
    assert mine.status.code == codes.ANNOTATION_SUCCESS
    assert input_concepts(team.owner, "in-001") == {"cat": 1.0}
    assert "in-001" not in next_inputs(team.bob, "full")
    assert "in-001" in next_inputs(team.carol, "full")


@pytest.mark.parametrize("per_input", [1, 2])
def test_partitioned_never_gives_one_input_to_more_labelers_than_asked(make_caller: MakeCaller, per_input: int) -> None:
    """Four labelers ask for work and submit it at the same time, each in its own thread with its own
    token and connection, until nothing is left."""
    owner = make_caller("alice")
    labelers = [make_caller(name) for name in ("bob", "carol", "dave", "erin")]
    make_app(owner, inputs=40)
    ok(post_task(owner, task("split", [c.user.id for c in labelers], partitioned=per_input)))
    got: dict[str, list[str]] = {c.user.id: [] for c in labelers}
    errors: list[BaseException] = []
    start = threading.Barrier(len(labelers))

    def work(index: int) -> None:
        caller = labelers[index]
        try:
            start.wait()
            while batch := next_inputs(caller, "split"):
                for input_id in batch:
                    got[caller.user.id].append(input_id)
                    ok(submit(caller, "split", input_id))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(len(labelers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    holders = Counter(input_id for ids_ in got.values() for input_id in ids_)
    assert set(holders) == {f"in-{n:03d}" for n in range(1, 41)}
    assert set(holders.values()) == {per_input}  # each input to exactly that many labelers
    assert all(len(set(ids_)) == len(ids_) for ids_ in got.values())  # never twice to one labeler
    assert sorted(len(ids_) for ids_ in got.values()) == [10 * per_input] * 4  # evenly
    assert TaskAssignment.objects.filter(task__task_id="split").count() == 40 * per_input


def test_consensus_approves_exactly_the_inputs_that_meet_the_threshold(team: Team, app: App) -> None:
    ok(
        post_task(
            team.owner, task("vote", ["bob", "carol", "dave"], review="CONSENSUS", reviewers=("rita",), threshold=2)
        )
    )
    answers = {
        "in-001": {"bob": "cat", "carol": "cat", "dave": "cat"},  # all agree
        "in-002": {"bob": "cat", "carol": "cat", "dave": "dog"},  # two agree: enough
        "in-003": {"bob": "cat", "carol": "dog", "dave": "bird"},  # nobody agrees: a reviewer decides
    }
    labelers = {"bob": team.bob, "carol": team.carol, "dave": team.dave}
    for input_id, by_labeler in answers.items():
        for name, concept in by_labeler.items():
            next_inputs(labelers[name], "vote")
            label(labelers[name], "vote", input_id, concept)

    def statuses(input_id: str) -> dict[str, int]:
        return {a.user_id: a.status.code for a in annotations(team.owner, task_id="vote", input_ids=[input_id])}

    assert statuses("in-001") == dict.fromkeys(("bob", "carol", "dave"), codes.ANNOTATION_SUCCESS)
    assert statuses("in-002") == {
        "bob": codes.ANNOTATION_SUCCESS,
        "carol": codes.ANNOTATION_SUCCESS,
        "dave": codes.ANNOTATION_REVIEW_DENIED,
    }
    assert statuses("in-003") == dict.fromkeys(("bob", "carol", "dave"), codes.ANNOTATION_AWAITING_REVIEW)
    assert input_concepts(team.owner, "in-001") == {"cat": 1.0}
    assert input_concepts(team.owner, "in-002") == {"cat": 1.0}
    assert input_concepts(team.owner, "in-003") == {}
    # One answer in, no agreement possible yet: it waits for the others.
    next_inputs(team.bob, "vote")
    label(team.bob, "vote", "in-004", "dog")
    assert statuses("in-004") == {"bob": codes.ANNOTATION_AWAITING_CONSENSUS_REVIEW}

    waiting = review_start(team.rita, "vote")
    assert sorted((a.input.id, a.worker.user.id) for a in waiting) == [
        ("in-003", "bob"),
        ("in-003", "carol"),
        ("in-003", "dave"),
    ]
    daves = next(a for a in waiting if a.worker.user.id == "dave")
    ok(decide(team.rita, "vote", "REVIEW_APPROVE", (daves.id, "")))
    assert statuses("in-003")["dave"] == codes.ANNOTATION_SUCCESS
    assert input_concepts(team.owner, "in-003") == {"bird": 1.0}


def test_manual_review_sends_back_rejects_and_approves(team: Team, app: App) -> None:
    ok(post_task(team.owner, task("pets", ["bob", "carol"], partitioned=1, review="MANUAL", reviewers=("rita",))))
    bobs = next_inputs(team.bob, "pets")
    carols = next_inputs(team.carol, "pets")
    assert not set(bobs) & set(carols)
    first, second = bobs[:2]
    label(team.bob, "pets", first, "cat")
    label(team.bob, "pets", second, "dog")
    label(team.carol, "pets", carols[0], "bird")

    waiting = {a.input.id: a for a in review_start(team.rita, "pets", "bob")}
    assert set(waiting) == {first, second}
    assert waiting[first].status.code == codes.TASK_ASSIGNMENT_AWAITING_REVIEW
    assert {c.id for c in waiting[first].input.data.concepts} == set()  # not the input's label yet
    ok(decide(team.rita, "pets", "REVIEW_REQUEST_CHANGES", (waiting[first].id, "It is a dog, look at the ears.")))
    ok(decide(team.rita, "pets", "REVIEW_REJECT", (waiting[second].id, "Not an animal at all.")))

    (sent_back,) = annotations(team.bob, task_id="pets", input_ids=[first])
    assert sent_back.status.code == codes.ANNOTATION_PENDING
    assert sent_back.status.details == "It is a dog, look at the ears."
    (rejected,) = annotations(team.bob, task_id="pets", input_ids=[second])
    assert rejected.status.code == codes.ANNOTATION_REVIEW_DENIED
    assert rejected.status.details == "Not an animal at all."
    assert next_inputs(team.bob, "pets")[0] == first  # the work sent back comes first

    label(team.bob, "pets", first, "dog")
    (again,) = review_start(team.rita, "pets", "bob")
    ok(decide(team.rita, "pets", "REVIEW_APPROVE", (again.id, "")))
    assert input_concepts(team.owner, first) == {"dog": 1.0}

    counts = ok(
        team.owner.call("GetTaskAnnotationCount", s.GetTaskCountRequest(user_app_id=ids(), task_id="pets"))
    ).counts
    by_user = {c.user_id: c for c in counts}
    assert (by_user["bob"].success, by_user["bob"].review_denied, by_user["bob"].awaiting_review) == (1, 1, 0)
    assert (by_user["carol"].awaiting_review, by_user["carol"].success) == (1, 0)
    inputs = ok(team.owner.call("GetTaskInputCount", s.GetTaskCountRequest(user_app_id=ids(), task_id="pets"))).counts
    by_user = {c.user_id: c for c in inputs}
    assert (by_user["bob"].success, by_user["bob"].review_denied, by_user["bob"].pending) == (1, 1, 4)
    assert (by_user["carol"].awaiting_review, by_user["carol"].pending) == (1, 5)

    # Approve all of one labeler's work at once.
    done = ok(
        team.rita.call(
            "PatchAnnotationsStatus",
            s.PatchAnnotationsStatusRequest(
                user_app_id=ids(),
                task_id="pets",
                user_ids=["carol"],
                status_codes=[codes.ANNOTATION_AWAITING_REVIEW],
                status_code=codes.ANNOTATION_SUCCESS,
            ),
        )
    )
    assert (list(done.user_ids), done.updated_count) == (["carol"], 1)
    assert input_concepts(team.owner, carols[0]) == {"bird": 1.0}
    metrics = ok(team.owner.call("GetTask", s.GetTaskRequest(user_app_id=ids(), task_id="pets"))).task.metrics
    assert metrics.work.inputs_count_estimated == 3
    assert metrics.review.inputs_count_estimated == 3
    assert list(metrics.review.inputs_count_estimated_per_reviewer) == [3]


def test_a_bounding_box_task_over_all_inputs_keeps_the_boxes(team: Team, app: App) -> None:
    boxes = task("boxes", ["bob"])
    boxes.type = r.Task.BOUNDING_BOX_DETECTION
    boxes.input_source.CopyFrom(r.TaskInputSource(type=r.TaskInputSource.ALL_INPUTS))
    made = ok(post_task(team.owner, boxes)).tasks[0]
    assert made.type == r.Task.BOUNDING_BOX_DETECTION
    assert made.input_source.type == r.TaskInputSource.ALL_INPUTS
    assert made.metrics.input_source.inputs_count_estimated == 12

    first = next_inputs(team.bob, "boxes")[0]
    region = r.Region(
        region_info=r.RegionInfo(bounding_box=r.BoundingBox(top_row=0.1, left_col=0.1, bottom_row=0.4, right_col=0.3)),
        data=r.Data(concepts=[r.Concept(id="dog", value=1.0)]),
    )
    ok(
        team.bob.call(
            "PostAnnotations",
            s.PostAnnotationsRequest(
                user_app_id=ids(),
                annotations=[r.Annotation(input_id=first, task_id="boxes", data=r.Data(regions=[region]))],
            ),
        )
    )
    ok(submit(team.bob, "boxes", first))

    (shown,) = annotations(team.owner, task_id="boxes")
    assert shown.status.code == codes.ANNOTATION_SUCCESS
    assert shown.data.regions[0].region_info.bounding_box.bottom_row == pytest.approx(0.4)
    assert shown.data.regions[0].data.concepts[0].name == "Dog"
    assert input_concepts(team.owner, first) == {"dog": 1.0}


def test_a_labeler_sees_why_work_came_back_and_a_reviewer_approves_all_of_a_labeler_at_once(
    team: Team, app: App
) -> None:
    ok(post_task(team.owner, task("t", ["bob", "carol"], review="MANUAL", reviewers=("rita",))))
    next_inputs(team.bob, "t")
    next_inputs(team.carol, "t")
    for input_id in ("in-001", "in-002", "in-003"):
        label(team.carol, "t", input_id, "cat")
    label(team.bob, "t", "in-001", "dog")
    (bobs,) = review_start(team.rita, "t", "bob")
    ok(decide(team.rita, "t", "REVIEW_REQUEST_CHANGES", (bobs.id, "Look at the whiskers.")))

    started = ok(
        team.bob.call(
            "PutTaskAssignments", s.PutTaskAssignmentsRequest(user_app_id=ids(), task_id="t", action=s.LABEL_START)
        )
    ).task_assignments
    assert started[0].input.id == "in-001"
    assert started[0].status.code == codes.TASK_ASSIGNMENT_PENDING
    assert started[0].status.details == "Look at the whiskers."

    request = s.PutTaskAssignmentsRequest(user_app_id=ids(), task_id="t", action=s.REVIEW_APPROVE)
    request.review_approve_config.workers.add().user.id = "carol"
    approved = ok(team.rita.call("PutTaskAssignments", request)).task_assignments
    assert sorted(a.input.id for a in approved) == ["in-001", "in-002", "in-003"]
    assert {a.status.code for a in approved} == {codes.TASK_ASSIGNMENT_SUCCESS}
    assert all(input_concepts(team.owner, i) == {"cat": 1.0} for i in ("in-001", "in-002", "in-003"))


def test_a_labeler_taken_off_a_task_gives_back_what_they_had_not_submitted(team: Team, app: App) -> None:
    ok(post_task(team.owner, task("t", ["bob", "carol"], partitioned=1)))
    bobs = next_inputs(team.bob, "t")
    assert len(bobs) == 6  # an even share of 12
    label(team.bob, "t", bobs[0], "cat")

    ok(
        team.owner.call(
            "PatchTasks",
            s.PatchTasksRequest(
                user_app_id=ids(),
                tasks=[r.Task(id="t", worker=r.TaskWorker(workers=[r.Worker(user=r.User(id="carol"))]))],
            ),
        )
    )

    seen: list[str] = []
    while batch := next_inputs(team.carol, "t"):
        seen += batch
        for input_id in batch:
            ok(submit(team.carol, "t", input_id))
    assert sorted(seen) == sorted(f"in-{n:03d}" for n in range(1, 13) if f"in-{n:03d}" != bobs[0])
    assert team.bob.call("ListTasks", s.ListTasksRequest(user_app_id=ids())).status.code == codes.CONN_DOES_NOT_EXIST


def test_a_slot_given_back_goes_to_another_labeler(team: Team, app: App) -> None:
    ok(post_task(team.owner, task("t", ["bob", "carol", "dave"], partitioned=2)))
    bobs = next_inputs(team.bob, "t")
    assert set(next_inputs(team.carol, "t")) == set(bobs)  # the second slot of the same inputs

    remaining = r.TaskWorker(workers=[r.Worker(user=r.User(id="carol")), r.Worker(user=r.User(id="dave"))])
    ok(team.owner.call("PatchTasks", s.PatchTasksRequest(user_app_id=ids(), tasks=[r.Task(id="t", worker=remaining)])))

    assert set(bobs) <= set(next_inputs(team.dave, "t"))
    holders = TaskAssignment.objects.filter(task__task_id="t", input__input_id=bobs[0])
    assert sorted(holders.values_list("worker_id", "slot")) == [("carol", 1), ("dave", 0)]


def test_the_database_refuses_a_second_holder_of_a_slot_whatever_the_code_does(team: Team, app: App) -> None:
    ok(post_task(team.owner, task("t", ["bob", "carol"], partitioned=1)))
    held = TaskAssignment.objects.get(task__task_id="t", input__input_id=next_inputs(team.bob, "t")[0])

    with pytest.raises(IntegrityError), transaction.atomic():
        TaskAssignment.objects.create(
            task=held.task, input=held.input, worker=team.carol.user, slot=held.slot, assignment_id="racer"
        )
