"""What the labeling tests share: an owner's app with concepts and a dataset of processed inputs, labelers
and a reviewer signed in as themselves, and short ways to make a task, label and review."""

from typing import Any

from clarifai_grpc.grpc.api import resources_pb2 as r
from clarifai_grpc.grpc.api import service_pb2 as s
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes

from console.localapi import status
from console.localapi.models import App, Concept, Dataset, DatasetInput, Input
from tests.localapi.conftest import Caller
from tests.localapi.conftest import Team as Team  # the `team` fixture's, found here too

CONCEPTS = ("cat", "dog", "bird")
OWNER = "alice"
APP = "main"


def ids() -> r.UserAppIDSet:
    """The owner's app, as everyone names it (labelers name the owner, not `me`)."""
    return r.UserAppIDSet(user_id=OWNER, app_id=APP)


def make_app(owner: Caller, inputs: int, dataset: str = "pets") -> App:
    app = App.objects.create(user=owner.user, app_id=APP, name="Main app")
    for concept_id in CONCEPTS:
        Concept.objects.create(app=app, concept_id=concept_id, name=concept_id.title())
    made = Dataset.objects.create(app=app, dataset_id=dataset)
    rows = Input.objects.bulk_create(
        Input(app=app, input_id=f"in-{n:03d}", kind=Input.TEXT, text=f"note {n}", status_code=status.INPUT_SUCCESS)
        for n in range(1, inputs + 1)
    )
    DatasetInput.objects.bulk_create(DatasetInput(dataset=made, input=row) for row in rows)
    Dataset.objects.create(app=app, dataset_id="empty")
    return app


def task(
    task_id: str,
    workers: list[str],
    *,
    partitioned: int = 0,
    review: str = "NONE",
    reviewers: tuple[str, ...] = (),
    threshold: int = 0,
    dataset: str = "pets",
    concepts: tuple[str, ...] = CONCEPTS,
) -> r.Task:
    message = r.Task(
        id=task_id,
        name=f"Label {task_id}",
        description="Which animals are in the note?",
        type=r.Task.CONCEPTS_CLASSIFICATION,
        input_source=r.TaskInputSource(type=r.TaskInputSource.DATASET, id=dataset),
        concepts=[r.TaskConcept(concept=r.Concept(id=c, value=1.0)) for c in concepts],
        worker=r.TaskWorker(workers=[r.Worker(user=r.User(id=w)) for w in workers]),
        review=r.TaskReview(strategy=r.TaskReview.TaskReviewStrategy.Value(review)),
    )
    if partitioned:
        message.worker.strategy = r.TaskWorker.PARTITIONED
        message.worker.partitioned_strategy_info.type = r.TaskWorkerPartitionedStrategyInfo.EVENLY
        message.worker.partitioned_strategy_info.workers_per_input = partitioned
    else:
        message.worker.strategy = r.TaskWorker.FULL
    for reviewer in reviewers:
        message.review.users.add().id = reviewer
    if threshold:
        message.review.consensus_strategy_info.approval_threshold_labelers = threshold
    return message


def post_task(owner: Caller, message: r.Task) -> Any:
    return owner.call("PostTasks", s.PostTasksRequest(user_app_id=ids(), tasks=[message]))


def ok(response: Any) -> Any:
    assert response.status.code == codes.SUCCESS, response.status
    return response


def next_inputs(caller: Caller, task_id: str) -> list[str]:
    response = ok(
        caller.call("ListNextTaskAssignments", s.ListNextTaskAssignmentsRequest(user_app_id=ids(), task_id=task_id))
    )
    return [i.id for i in response.inputs]


def annotate(caller: Caller, task_id: str, input_id: str, *present: str, absent: tuple[str, ...] = ()) -> Any:
    concepts = [r.Concept(id=c, value=1.0) for c in present] + [r.Concept(id=c, value=0.0) for c in absent]
    return caller.call(
        "PostAnnotations",
        s.PostAnnotationsRequest(
            user_app_id=ids(),
            annotations=[r.Annotation(input_id=input_id, task_id=task_id, data=r.Data(concepts=concepts))],
        ),
    )


def submit(caller: Caller, task_id: str, input_id: str) -> Any:
    return caller.call(
        "PutTaskAssignments",
        s.PutTaskAssignmentsRequest(user_app_id=ids(), task_id=task_id, input_id=input_id, action=s.LABEL_SUBMIT),
    )


def label(caller: Caller, task_id: str, input_id: str, *present: str) -> Any:
    ok(annotate(caller, task_id, input_id, *present))
    return ok(submit(caller, task_id, input_id))


def review_start(caller: Caller, task_id: str, *workers: str) -> list[r.TaskAssignment]:
    request = s.PutTaskAssignmentsRequest(user_app_id=ids(), task_id=task_id, action=s.REVIEW_START)
    for worker in workers:
        request.review_start_config.workers.add().user.id = worker
    return list(ok(caller.call("PutTaskAssignments", request)).task_assignments)


def decide(caller: Caller, task_id: str, action: str, *assignments: tuple[str, str]) -> Any:
    """REVIEW_APPROVE / REVIEW_REJECT / REVIEW_REQUEST_CHANGES of (assignment id, reason) pairs."""
    request = s.PutTaskAssignmentsRequest(
        user_app_id=ids(), task_id=task_id, action=s.PutTaskAssignmentsRequestAction.Value(action)
    )
    config: Any = {
        "REVIEW_APPROVE": request.review_approve_config,
        "REVIEW_REJECT": request.review_reject_config,
        "REVIEW_REQUEST_CHANGES": request.review_request_changes_config,
    }[action]
    for assignment_id, reason in assignments:
        given = config.task_assignments.add()
        given.id = assignment_id
        given.status.details = reason
    return caller.call("PutTaskAssignments", request)


def input_concepts(owner: Caller, input_id: str) -> dict[str, float]:
    got = ok(owner.call("GetInput", s.GetInputRequest(user_app_id=ids(), input_id=input_id)))
    return {c.id: c.value for c in got.input.data.concepts}


def annotations(caller: Caller, **filters: Any) -> list[r.Annotation]:
    response = ok(caller.call("ListAnnotations", s.ListAnnotationsRequest(user_app_id=ids(), **filters)))
    return list(response.annotations)
