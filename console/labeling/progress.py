"""The numbers of a task's dashboard, from what the API gives (the task, its answers counted by labeler and
status, and the answers themselves), and its chart of progress over time as an SVG drawn on the server.

An answer is one labeler's annotation of one input in the task. It counts as labeled once submitted (any
status but pending); its time is its `created_at`, when the labeler first posted it. It counts as approved
once its status is success, at its `modified_at` (nothing changes an approved answer after the review).
"""

import itertools
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from clarifai_grpc.grpc.api import resources_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2
from django.utils import timezone

TaskPb = resources_pb2.Task
PENDING = status_code_pb2.ANNOTATION_PENDING
APPROVED = status_code_pb2.ANNOTATION_SUCCESS
REJECTED = status_code_pb2.ANNOTATION_REVIEW_DENIED
AWAITING = (status_code_pb2.ANNOTATION_AWAITING_REVIEW, status_code_pb2.ANNOTATION_AWAITING_CONSENSUS_REVIEW)
BREAK = timedelta(minutes=10)  # a longer gap between two answers of one labeler is a break, not work
HOURLY_UNTIL = timedelta(days=2)  # a younger task's chart goes by the hour
CONSENSUS = "consensus"  # the reviewer the local API names for answers decided by the labelers' agreement


def answers_of(count: resources_pb2.TaskStatusCountPerUser) -> int:
    """Every answer of one labeler, drafts included."""
    return int(
        count.pending + count.awaiting_review + count.success + count.review_denied + count.awaiting_consensus_review
    )


def _when(stamp: Any) -> datetime:
    moment: datetime = stamp.ToDatetime(tzinfo=timezone.get_current_timezone())
    return moment


@dataclass
class Labeler:
    user_id: str
    labeled: int = 0
    approved: int = 0
    rejected: int = 0
    awaiting: int = 0
    drafts: int = 0  # posted, not submitted (sent back answers among them)
    median_seconds: float | None = None
    timed: int = 0  # the gaps the median is of
    name: str = ""

    @property
    def median(self) -> str:
        return duration(self.median_seconds)


@dataclass
class Reviewer:
    user_id: str
    approved: int = 0
    rejected: int = 0
    sent_back: int = 0
    name: str = ""

    @property
    def decided(self) -> int:
        return self.approved + self.rejected


@dataclass
class Overall:
    inputs: int  # in the task's source
    labeled: int  # with every answer it needs submitted (the task's metrics)
    awaiting: int  # inputs with an answer awaiting review
    approved: int  # inputs with an approved answer and none awaiting
    rejected: int  # inputs whose answers were all rejected
    reviewed: int  # inputs reviewed (the task's metrics)

    @property
    def started(self) -> int:
        return self.awaiting + self.approved + self.rejected

    @property
    def untouched(self) -> int:
        return max(0, self.inputs - self.started)


@dataclass
class Board:
    overall: Overall
    labelers: list[Labeler]
    reviewers: list[Reviewer]
    to_review: int  # answers awaiting review
    timeline: list[tuple[datetime, int, int]]  # (end of period, labeled so far, approved so far)
    unit: str  # "hour" or "day"
    answers: int = 0
    notes: list[str] = field(default_factory=list)


def median_seconds(times: list[datetime], cap: timedelta = BREAK) -> tuple[float | None, int]:
    """The median gap between consecutive answers, gaps longer than `cap` left out as breaks; and how many
    gaps it is of (None without any)."""
    ordered = sorted(times)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(ordered) if b - a <= cap]
    return (statistics.median(gaps) if gaps else None), len(gaps)


def _labelers(
    task: TaskPb, counts: list[resources_pb2.TaskStatusCountPerUser], answers: list[resources_pb2.Annotation]
) -> list[Labeler]:
    rows: dict[str, Labeler] = {u: Labeler(u) for u in task.worker.user_ids}
    for count in counts:
        row = rows.setdefault(count.user_id, Labeler(count.user_id))
        row.approved = int(count.success)
        row.rejected = int(count.review_denied)
        row.awaiting = int(count.awaiting_review + count.awaiting_consensus_review)
        row.drafts = int(count.pending)
        row.labeled = row.approved + row.rejected + row.awaiting
    times: dict[str, list[datetime]] = {}
    for answer in answers:
        times.setdefault(answer.user_id, []).append(_when(answer.created_at))
    for user_id, found in times.items():
        row = rows.setdefault(user_id, Labeler(user_id))
        row.median_seconds, row.timed = median_seconds(found)
    return list(rows.values())


def _reviewers(task: TaskPb, answers: list[resources_pb2.Annotation]) -> list[Reviewer]:
    rows: dict[str, Reviewer] = {u: Reviewer(u) for u in task.review.user_ids}
    for answer in answers:
        by = answer.consensus_info["reviewed_by"] if "reviewed_by" in answer.consensus_info.fields else ""
        if not by:
            continue
        row = rows.setdefault(str(by), Reviewer(str(by)))
        code = answer.status.code
        if code == APPROVED:
            row.approved += 1
        elif code == REJECTED:
            row.rejected += 1
        elif code == PENDING:
            row.sent_back += 1
    return list(rows.values())


def _overall(task: TaskPb, answers: list[resources_pb2.Annotation]) -> Overall:
    states: dict[str, set[int]] = {}
    for answer in answers:
        if answer.status.code != PENDING:
            states.setdefault(answer.input_id, set()).add(answer.status.code)
    awaiting = sum(1 for s in states.values() if s & set(AWAITING))
    approved = sum(1 for s in states.values() if APPROVED in s and not s & set(AWAITING))
    rejected = sum(1 for s in states.values() if s == {REJECTED})
    metrics = task.metrics
    return Overall(
        inputs=max(int(metrics.input_source.inputs_count_estimated), len(states)),
        labeled=int(metrics.work.inputs_count_estimated),
        awaiting=awaiting,
        approved=approved,
        rejected=rejected,
        reviewed=int(metrics.review.inputs_count_estimated),
    )


def _floor(moment: datetime, unit: str) -> datetime:
    moment = moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if unit == "day" else moment


def timeline(
    task: TaskPb, answers: list[resources_pb2.Annotation], now: datetime
) -> tuple[list[tuple[datetime, int, int]], str]:
    """Answers labeled and approved so far at the start of each hour (a task younger than two days) or day,
    from the start of the task's first to now (the last point)."""
    now = timezone.localtime(now)
    labeled = sorted(_when(a.created_at) for a in answers if a.status.code != PENDING)
    approved = sorted(_when(a.modified_at) for a in answers if a.status.code == APPROVED)
    begun = _when(task.created_at) if task.HasField("created_at") else now
    begun = min([begun, *labeled[:1], *approved[:1]])
    unit = "hour" if now - begun < HOURLY_UNTIL else "day"
    step = timedelta(hours=1) if unit == "hour" else timedelta(days=1)
    edge = _floor(begun, unit)
    points: list[tuple[datetime, int, int]] = [(edge, 0, 0)]  # nothing before the task began
    done_l = done_a = 0
    while True:
        edge += step
        while done_l < len(labeled) and labeled[done_l] < edge:
            done_l += 1
        while done_a < len(approved) and approved[done_a] < edge:
            done_a += 1
        points.append((min(edge, now), done_l, done_a))
        if edge >= now:
            break
    return points, unit


def board(
    task: TaskPb,
    counts: list[resources_pb2.TaskStatusCountPerUser],
    answers: list[resources_pb2.Annotation],
    now: datetime,
) -> Board:
    points, unit = timeline(task, answers, now)
    return Board(
        overall=_overall(task, answers),
        labelers=_labelers(task, counts, answers),
        reviewers=_reviewers(task, answers),
        to_review=sum(1 for a in answers if a.status.code in AWAITING),
        timeline=points,
        unit=unit,
        answers=len(answers),
    )


# The task's settings, in words

TYPES = {TaskPb.CONCEPTS_CLASSIFICATION: "Classification (concepts)", TaskPb.BOUNDING_BOX_DETECTION: "Bounding boxes"}
STATUSES = {
    status_code_pb2.TASK_IN_PROGRESS: "In progress",
    status_code_pb2.TASK_IDLE: "Paused",
    status_code_pb2.TASK_DONE: "Finished",
    status_code_pb2.TASK_WONT_DO: "Closed",
    status_code_pb2.TASK_FAILED: "Failed",
}
STATUS_BADGES = {
    status_code_pb2.TASK_IN_PROGRESS: "ok",
    status_code_pb2.TASK_IDLE: "wait",
    status_code_pb2.TASK_FAILED: "bad",
}


@dataclass
class Facts:
    status: str
    badge: str
    kind: str
    source: str  # "Dataset test", "All inputs of the app"
    dataset_id: str
    concepts: list[str]
    split: str
    review: str
    instructions: str


def facts(task: TaskPb) -> Facts:
    worker = task.worker
    labelers = len(worker.user_ids)
    if worker.strategy == resources_pb2.TaskWorker.PARTITIONED:
        per_input = worker.partitioned_strategy_info.workers_per_input or 1
        split = (
            f"Partitioned: each input to {per_input} of the {labelers} labeler{'s' if labelers != 1 else ''}"
            if labelers
            else f"Partitioned: each input to {per_input} labeler{'s' if per_input != 1 else ''}"
        )
    elif worker.strategy == resources_pb2.TaskWorker.FULL:
        split = f"Full: every labeler ({labelers}) labels every input"
    else:
        split = "Not set"
    review = task.review
    if review.strategy == resources_pb2.TaskReview.MANUAL:
        said = "By hand"
    elif review.strategy == resources_pb2.TaskReview.CONSENSUS:
        threshold = review.consensus_strategy_info.approval_threshold_labelers or int(
            review.consensus_strategy_info.approval_threshold
        )
        said = f"Consensus: approved when {threshold} labeler{'s' if threshold != 1 else ''} agree, else by hand"
    else:
        said = "None: answers are final when submitted"
    if review.user_ids:
        said += f" ({', '.join(review.user_ids)})"
    source = task.input_source
    dataset = source.id if source.type == resources_pb2.TaskInputSource.DATASET else ""
    return Facts(
        status=STATUSES.get(task.status.code, task.status.description or "Unknown"),
        badge=STATUS_BADGES.get(task.status.code, ""),
        kind=TYPES.get(task.type, "Unknown"),
        source=f"Dataset {dataset}" if dataset else "All inputs of the app",
        dataset_id=dataset,
        concepts=[c.concept.name or c.concept.id for c in task.concepts] or list(task.concept_ids),
        split=split,
        review=said,
        instructions=task.description,
    )


def duration(seconds: float | None) -> str:
    """ "42 s", "3 min 5 s", "1 h 2 min"; "—" for none."""
    if seconds is None:
        return "—"
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


# The chart

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 14, 40


@dataclass
class Series:
    key: str
    label: str
    values: list[int]
    points: str  # the polyline's

    @property
    def data(self) -> str:
        return ",".join(str(v) for v in self.values)


@dataclass
class Tick:
    x: float
    y: float
    label: str


@dataclass
class Chart:
    width: int
    height: int
    unit: str
    series: list[Series]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    rows: list[tuple[str, int, int]]  # the table: when, labeled, approved (the periods where something moved)
    summary: str
    left: int = LEFT
    right: int = WIDTH - RIGHT
    bottom: int = HEIGHT - BOTTOM


def _nice(top: int) -> int:
    if top <= 5:
        return max(top, 1)
    magnitude = 10 ** (len(str(top)) - 1)
    for factor in (1, 2, 2.5, 5, 10):
        if top <= factor * magnitude:
            return int(factor * magnitude)
    return top


def _label(moment: datetime, unit: str) -> str:
    return moment.strftime("%b %-d %H:%M") if unit == "hour" else moment.strftime("%b %-d")


def chart(points: list[tuple[datetime, int, int]], unit: str) -> Chart:
    top = _nice(max([p[1] for p in points] + [p[2] for p in points] + [1]))
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = len(points)

    def x(i: int) -> float:
        return round(LEFT + (inner_w * i / (n - 1) if n > 1 else inner_w), 1)

    def y(v: int) -> float:
        return round(TOP + inner_h - inner_h * v / top, 1)

    series = []
    for key, label, values in (
        ("labeled", "Labeled", [p[1] for p in points]),
        ("approved", "Approved", [p[2] for p in points]),
    ):
        coords = [(x(i), y(v)) for i, v in enumerate(values)]
        if n == 1:
            coords.insert(0, (float(LEFT), y(values[0])))
        series.append(Series(key, label, values, " ".join(f"{a},{b}" for a, b in coords)))
    y_ticks = [Tick(LEFT, y(v), str(v)) for v in sorted({0, top // 2, top})]
    picks = sorted({0, n // 2, n - 1}) if n > 2 else list(range(n))
    x_ticks = [Tick(x(i), HEIGHT - BOTTOM + 18, _label(points[i][0], unit)) for i in picks]
    rows = []
    before = (-1, -1)
    for i, (moment, labeled, approved) in enumerate(points):
        if (labeled, approved) != before or i == n - 1:
            rows.append((_label(moment, unit), labeled, approved))
            before = (labeled, approved)
    last = points[-1] if points else (None, 0, 0)
    span = f"from {_label(points[0][0], unit)} to {_label(points[-1][0], unit)}" if points else ""
    summary = (
        f"Answers labeled and approved so far, by {unit}, {span}: {last[1]} labeled and {last[2]} approved by now."
    )
    return Chart(WIDTH, HEIGHT, unit, series, y_ticks, x_ticks, rows, summary)
