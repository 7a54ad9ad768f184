"""A task's dashboard as its answers grow: 200, 2,000 and 10,000 answers.

Tasks of their own (`bench-dashboard-<N>`, FULL, four labelers, reviewed by hand) over app `dashboard-2500`
(2,500 inputs sharing 64 pictures, seeded once), each answer an assignment and an annotation written
straight to the local API's database, spread over three days (so the chart goes by the day), some approved,
some rejected, some awaiting review. The page is fetched through Django's test client (every middleware, no
socket) as an admin of the built-in connection's team, with `Server-Timing` giving the total, the time
waiting on the local API and the API calls made: GetTask, GetTaskAnnotationCount and the first page of
ListAnnotations at the same time, then the other pages (1,000 answers each, the most a page holds) at the
same time.
"""

import statistics
from datetime import timedelta

from console_pages import CALLS, _builtin_connection, _client, _server_timing, _static_storage
from django.test import override_settings
from django.utils import timezone
from harness import Target, table

from console.localapi import demo, labeling, status
from console.localapi.models import Annotation, App, Task, TaskAssignment, TaskMember, User

TITLE = "A task's dashboard"
APP = "dashboard-2500"
SIZES = (200, 2000, 10_000)
LABELERS = ("bench-l1", "bench-l2", "bench-l3", "bench-l4")
RUNS = 15
SHAPES = list(demo.SHAPES)
WARMUP = 2


def _task(app: App, answers: int) -> str:
    """A task with `answers` answers (inputs times labelers), made once."""
    task_id = f"bench-dashboard-{answers}"
    if Task.objects.filter(app=app, task_id=task_id).exists():
        return task_id
    users = [User.objects.get_or_create(id=u)[0] for u in LABELERS]
    task = Task.objects.create(
        app=app,
        task_id=task_id,
        name=f"Dashboard with {answers:,} answers",
        input_source_type=labeling.ALL_INPUTS,
        concept_ids=list(demo.SHAPES),
        worker_strategy=labeling.FULL,
        review_strategy=labeling.REVIEW_MANUAL,
        created_by=app.user_id,
    )
    TaskMember.objects.bulk_create(
        [TaskMember(task=task, user=u, role=TaskMember.WORKER, position=n) for n, u in enumerate(users)]
    )
    inputs = list(app.inputs.order_by("id")[: -(-answers // len(users))])
    started = timezone.now() - timedelta(days=3)
    codes = (status.ANNOTATION_SUCCESS, status.ANNOTATION_SUCCESS, status.ANNOTATION_REVIEW_DENIED)
    assignment_codes = {
        status.ANNOTATION_SUCCESS: status.TASK_ASSIGNMENT_SUCCESS,
        status.ANNOTATION_REVIEW_DENIED: status.TASK_ASSIGNMENT_REJECTED,
        status.ANNOTATION_AWAITING_REVIEW: status.TASK_ASSIGNMENT_AWAITING_REVIEW,
    }
    assignments, annotations = [], []
    for n in range(answers):
        user, item = users[n % len(users)], inputs[n // len(users)]
        code = codes[n % 3] if n < answers * 0.7 else status.ANNOTATION_AWAITING_REVIEW
        assignments.append(
            TaskAssignment(
                task=task,
                input=item,
                worker=user,
                assignment_id=f"{task_id}-a{n}",
                status_code=assignment_codes[code],
            )
        )
        annotations.append(
            Annotation(
                app=app,
                input=item,
                annotation_id=f"{task_id}-{n}",
                task=task,
                user=user,
                data={"concepts": [{"id": SHAPES[n % len(SHAPES)], "value": 1.0}]},
                status_code=code,
                reviewed_by="" if code == status.ANNOTATION_AWAITING_REVIEW else "rita",
            )
        )
    TaskAssignment.objects.bulk_create(assignments, batch_size=1000)
    made = Annotation.objects.bulk_create(annotations, batch_size=1000)
    span = timedelta(days=3) / max(1, answers)
    for n, annotation in enumerate(made):  # created over three days, approved an hour later
        at = started + n * span
        Annotation.objects.filter(pk=annotation.pk).update(created_at=at, modified_at=at + timedelta(hours=1))
    Task.objects.filter(pk=task.pk).update(created_at=started)
    return task_id


def benchmark(target: Target) -> str:
    demo.seed_large(APP, 2500)
    app = App.objects.get(user_id=demo.DEMO_USER, app_id=APP)
    connection = _builtin_connection()
    client = _client()
    rows: list[list[str | int]] = []
    with override_settings(**_static_storage()):
        for answers in SIZES:
            task_id = _task(app, answers)
            path = f"/c/{connection.pk}/apps/{APP}/tasks/{task_id}/"
            totals, upstreams, calls = [], [], 0
            for run in range(WARMUP + RUNS):
                response = client.get(path)
                if response.status_code != 200:
                    problem = _problem(response.content.decode())
                    raise SystemExit(f"GET {path} answered {response.status_code}: {problem}")
                if run < WARMUP:
                    continue
                timing = _server_timing(response["Server-Timing"])
                totals.append(timing["total"])
                upstreams.append(timing["upstream"])
                found = CALLS.search(response["Server-Timing"])
                calls = int(found[1]) if found else 0
            rows.append(
                [
                    f"{answers:,} answers",
                    calls,
                    RUNS,
                    f"{statistics.median(totals):.0f}",
                    f"{sorted(totals)[round(0.9 * (len(totals) - 1))]:.0f}",
                    f"{statistics.median(upstreams):.0f}",
                ]
            )
    return table(["task", "API calls", "runs", "p50 ms", "p90 ms", "upstream p50 ms"], rows, right={1, 2, 3, 4, 5})


def _problem(page: str) -> str:
    start = page.find('<section class="upstream-error"')
    return page[start : start + 1500] if start >= 0 else page[:1500]
