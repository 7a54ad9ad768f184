"""The console's own long work: a job over a snapshot of input ids, split into chunks that workers claim.

A job's progress is counted from its chunks (each finished chunk records its own counts, set, never
added to), so a chunk run twice after a crash is counted once. Each input that failed or was skipped is
a JobFailure row, replaced when its chunk runs again.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q, Sum
from django.utils import timezone

from console.connections.models import Connection


class Job(models.Model):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    STATES = [(s, s.title()) for s in (QUEUED, RUNNING, PAUSED, DONE, FAILED, CANCELLED)]
    ACTIVE = (QUEUED, RUNNING)  # a worker advances these
    FINAL = (DONE, FAILED, CANCELLED)

    ADD_CONCEPTS = "add_concepts"
    REMOVE_CONCEPTS = "remove_concepts"
    SET_METADATA = "set_metadata"
    REMOVE_METADATA = "remove_metadata"
    ADD_TO_DATASET = "add_to_dataset"
    REMOVE_FROM_DATASET = "remove_from_dataset"
    DELETE_INPUTS = "delete_inputs"
    UPLOAD_INPUTS = "upload_inputs"  # console/uploads: post spooled files and URLs as new inputs
    KINDS = [
        (ADD_CONCEPTS, "Add concepts"),
        (REMOVE_CONCEPTS, "Remove concepts"),
        (SET_METADATA, "Set metadata keys"),
        (REMOVE_METADATA, "Remove metadata keys"),
        (ADD_TO_DATASET, "Add to a dataset"),
        (REMOVE_FROM_DATASET, "Remove from a dataset"),
        (DELETE_INPUTS, "Delete inputs"),
        (UPLOAD_INPUTS, "Upload inputs"),
    ]
    # Jobs over a whole app rather than inputs: their one item is the app's id. Not offered where input
    # ids are typed (the jobs page's form).
    DELETE_APP = "delete_app"
    APP_KINDS = [(DELETE_APP, "Delete an app")]

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="jobs")
    app_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=40, choices=KINDS + APP_KINDS)
    params = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=20, choices=STATES, default=QUEUED)
    # Why the job is paused or failed, in words fit to show.
    reason = models.TextField(blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # Who last resumed the job: from then on it changes data as them (see `person_id`).
    resumed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    retry_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries")
    total = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["state"], name="jobs_job_state"),
            models.Index(fields=["connection", "-created_at"], name="jobs_job_conn_created"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.total} inputs)"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL

    @property
    def person_id(self) -> int | None:
        """The id of the person the job changes data as: who last resumed it, else who started it."""
        return self.resumed_by_id or self.started_by_id

    def progress(self) -> "Progress":
        """Counted from the finished chunks (one query; `with_progress` annotates a whole list instead)."""
        if hasattr(self, "done_inputs"):
            # annotated by `with_progress`
            counts = {name: getattr(self, f"{name}_inputs") for name in ("done", "failed", "skipped")}
        else:
            counts = self.chunks.filter(state=JobChunk.DONE).aggregate(**COUNTS)
        return Progress(
            total=self.total,
            done=counts["done"] or 0,
            failed=counts["failed"] or 0,
            skipped=counts["skipped"] or 0,
            started_at=self.started_at,
            finished_at=self.finished_at,
        )

    @classmethod
    def with_progress(cls) -> "models.QuerySet[Job]":
        """Jobs with their counts from their finished chunks, in the same query."""
        done = Q(chunks__state=JobChunk.DONE)
        return cls.objects.annotate(
            done_inputs=Sum("chunks__done_count", filter=done),
            failed_inputs=Sum("chunks__failed_count", filter=done),
            skipped_inputs=Sum("chunks__skipped_count", filter=done),
        )

    def describe(self) -> str:
        """What the job does, in a few words: "Add concepts star (yes)"."""
        p = self.params
        match self.kind:
            case self.ADD_CONCEPTS:
                return f"Add concepts {', '.join(p.get('concepts', []))} ({'yes' if p.get('value', 1) else 'no'})"
            case self.REMOVE_CONCEPTS:
                return f"Remove concepts {', '.join(p.get('concepts', []))}"
            case self.SET_METADATA:
                return f"Set metadata {', '.join(f'{k}={v!r}' for k, v in p.get('metadata', {}).items())}"
            case self.REMOVE_METADATA:
                return f"Remove metadata keys {', '.join(p.get('keys', []))}"
            case self.ADD_TO_DATASET:
                return f"Add to dataset {p.get('dataset_id', '')}"
            case self.REMOVE_FROM_DATASET:
                return f"Remove from dataset {p.get('dataset_id', '')}"
            case self.DELETE_APP:
                return f"Delete app {self.app_id}"
            case self.UPLOAD_INPUTS:
                return f"Upload {p.get('summary', 'inputs')}"
        return self.get_kind_display()

    @property
    def item_noun(self) -> str:
        """What the job's items are: inputs, but an app for a deletion of one."""
        return "app" if self.kind == self.DELETE_APP else "input"

    @property
    def done_word(self) -> str:
        """What happened to an item that went well: "changed", "uploaded", "deleted"."""
        return {self.UPLOAD_INPUTS: "uploaded", self.DELETE_INPUTS: "deleted", self.DELETE_APP: "deleted"}.get(
            self.kind, "changed"
        )

    @property
    def items_have_pages(self) -> bool:
        """A failed item has an input page to link to (not an upload's input that never went in, nor an app)."""
        return self.kind not in (self.UPLOAD_INPUTS, self.DELETE_APP)


COUNTS = {"done": Sum("done_count"), "failed": Sum("failed_count"), "skipped": Sum("skipped_count")}


class Progress:
    """How far a job is: counts from its finished chunks, rate and time left from its timestamps."""

    def __init__(
        self,
        *,
        total: int,
        done: int,
        failed: int,
        skipped: int,
        started_at: datetime | None,
        finished_at: datetime | None,
    ) -> None:
        self.total, self.done, self.failed, self.skipped = total, done, failed, skipped
        self.processed = done + failed + skipped
        self.remaining = max(total - self.processed, 0)
        self.percent = round(100 * self.processed / total) if total else 100
        elapsed = ((finished_at or timezone.now()) - started_at).total_seconds() if started_at else 0.0
        self.elapsed = timedelta(seconds=round(elapsed))
        # Inputs a second since the job started (None until the first chunk is done).
        self.rate = self.processed / elapsed if self.processed and elapsed > 0 else None
        self.time_left = (
            timedelta(seconds=round(self.remaining / self.rate))
            if self.rate and self.remaining and not finished_at
            else None
        )


class JobChunk(models.Model):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    STATES = [(s, s.title()) for s in (PENDING, RUNNING, DONE)]

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    input_ids = models.JSONField()
    state = models.CharField(max_length=10, choices=STATES, default=PENDING)
    attempts = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)  # host:pid of the worker that took it last
    # Not to be claimed before this time (set when the API asked to slow down, or after a transient failure).
    not_before = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Set once when the chunk is finished (a chunk run again sets them again): the job's progress.
    done_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["job", "index"]
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="jobs_chunk_unique_index")]
        indexes = [models.Index(fields=["job", "state", "index"], name="jobs_chunk_claim")]

    def __str__(self) -> str:
        return f"chunk {self.index} of job {self.job_id}"

    @classmethod
    def claimable(cls, now: datetime, lease: timedelta) -> Q:
        """Chunks a worker may take now: pending and due, or held past the lease by a worker that died."""
        due = Q(not_before__isnull=True) | Q(not_before__lte=now)
        return (Q(state=cls.PENDING) & due) | Q(state=cls.RUNNING, claimed_at__lt=now - lease)


class JobFailure(models.Model):
    """An input the job did not change: failed (with the API's status) or skipped (it no longer exists)."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="failures")
    chunk = models.ForeignKey(JobChunk, on_delete=models.CASCADE, related_name="failures")
    input_id = models.CharField(max_length=255)
    code = models.PositiveIntegerField(null=True, blank=True)  # the Clarifai status code, when the API gave one
    reason = models.TextField()
    skipped = models.BooleanField(default=False)

    class Meta:
        ordering = ["job", "chunk__index", "pk"]
        constraints = [models.UniqueConstraint(fields=["job", "input_id"], name="jobs_failure_unique_input")]

    def __str__(self) -> str:
        return f"{self.input_id}: {self.reason}"
