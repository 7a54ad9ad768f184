"""What the local API stores: its users and their tokens, apps, concepts, inputs and datasets.

Ids that clients see (`App.app_id`, `Input.input_id`, ...) are strings unique within their parent; the
integer primary keys stay inside. Tokens are kept only as SHA-256 hashes.
"""

import hashlib
import secrets
import uuid
from datetime import datetime

from django.db import models

from console.localapi import status

ID_MAX = 255


class User(models.Model):
    id = models.CharField(primary_key=True, max_length=ID_MAX)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.id


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


KEY_ID_LENGTH = 12  # a key's public id is the start of its secret (console.localapi.handlers.keys)
PERSONAL_ACCESS_TOKEN = "personal_access_token"  # noqa: S105 (a key type, not a secret)
APP_SPECIFIC_KEY = "app_specific_key"


class Token(models.Model):
    """A key: a personal access token, or an app-specific API key when `app` is set (it reaches that app
    only, and the short routes find the app from it). `scopes` ["All"] allows everything, otherwise names
    like "Inputs:Get"; `endpoints`, when not empty, are the only RPCs it may call. The secret is kept only
    as its SHA-256; `key_id`, the start of the secret, names the key in ListKeys and the like."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    key_id = models.CharField(max_length=64, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    description = models.CharField(max_length=200, blank=True)
    scopes = models.JSONField(default=list)
    endpoints = models.JSONField(default=list, blank=True)
    app = models.ForeignKey("App", on_delete=models.CASCADE, null=True, blank=True, related_name="keys")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"key {self.key_id} of {self.user_id}"

    @classmethod
    def issue(
        cls,
        user: User,
        description: str = "",
        scopes: list[str] | None = None,
        *,
        endpoints: list[str] | None = None,
        app: "App | None" = None,
        expires_at: datetime | None = None,
    ) -> tuple["Token", str]:
        """Create a key and return it with its secret, which is not stored and cannot be shown again."""
        secret = secrets.token_hex(KEY_ID_LENGTH // 2) + secrets.token_hex(16)
        token = cls.objects.create(
            user=user,
            key_id=secret[:KEY_ID_LENGTH],
            key_hash=hash_token(secret),
            description=description,
            scopes=scopes or ["All"],
            endpoints=endpoints or [],
            app=app,
            expires_at=expires_at,
        )
        return token, secret

    @property
    def kind(self) -> str:
        return PERSONAL_ACCESS_TOKEN if self.app_id is None else APP_SPECIFIC_KEY

    def allows(self, scope: str) -> bool:
        return "All" in self.scopes or scope in self.scopes

    def allows_rpc(self, rpc: str) -> bool:
        return not self.endpoints or rpc in self.endpoints

    def reaches(self, app: "App", scope: str) -> bool:
        """Whether this token reaches `app` outside an RPC (hosted media, export downloads): a personal
        token of its owner or a key for this very app, or a personal token of a collaborator whose scopes
        allow `scope`. The token's own scopes are for the caller to check."""
        if self.app_id is not None:
            return self.app_id == app.pk
        if app.user_id == self.user_id:
            return True
        found = Collaborator.objects.filter(app=app, user_id=self.user_id).first()
        return found is not None and found.allows(scope)


class App(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="apps")
    app_id = models.CharField(max_length=ID_MAX)
    name = models.CharField(max_length=ID_MAX, blank=True)
    description = models.TextField(blank=True)
    default_language = models.CharField(max_length=20, default="en")
    default_workflow_id = models.CharField(max_length=ID_MAX, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    notes = models.TextField(blank=True)
    # A deleted app is renamed out of the way at once and purged by a worker.
    deleted = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "app_id"], name="app_id_unique_per_user")]

    def __str__(self) -> str:
        return f"{self.user_id}/{self.app_id}"


class Collaborator(models.Model):
    """Another local API user added to an app: they reach it with their own keys, within both their key's
    scopes and these (console.localapi.handlers.common.get_app), and never the owner's other apps."""

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="collaborators")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="collaborations")
    collaborator_id = models.CharField(max_length=ID_MAX)
    scopes = models.JSONField(default=list)
    endpoints = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["app", "user"], name="one_collaborator_per_app_user"),
            models.UniqueConstraint(fields=["app", "collaborator_id"], name="collaborator_id_unique_per_app"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.app_id}"

    def allows(self, scope: str | None, rpc: str | None = None) -> bool:
        """Whether these scopes allow `scope` (None: any) and the endpoints `rpc` (None: not checked)."""
        scope_ok = scope is None or "All" in self.scopes or scope in self.scopes
        return scope_ok and (rpc is None or not self.endpoints or rpc in self.endpoints)


class Concept(models.Model):
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="concepts")
    concept_id = models.CharField(max_length=ID_MAX)
    name = models.CharField(max_length=ID_MAX)
    language = models.CharField(max_length=20, default="en")
    definition = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["app", "concept_id"], name="concept_id_unique_per_app")]
        indexes = [models.Index(fields=["app", "name"])]

    def __str__(self) -> str:
        return self.concept_id


class Dataset(models.Model):
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="datasets")
    dataset_id = models.CharField(max_length=ID_MAX)
    description = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["app", "dataset_id"], name="dataset_id_unique_per_app")]

    def __str__(self) -> str:
        return self.dataset_id


class Input(models.Model):
    IMAGE = "image"
    TEXT = "text"
    KINDS = [(IMAGE, "image"), (TEXT, "text")]

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="inputs")
    input_id = models.CharField(max_length=ID_MAX)
    kind = models.CharField(max_length=10, choices=KINDS)
    status_code = models.PositiveIntegerField(default=status.INPUT_PENDING)
    status_details = models.TextField(blank=True)
    # Where the data came from: a URL to fetch, or nothing (bytes or text were sent inline).
    source_url = models.URLField(max_length=2000, blank=True)
    allow_duplicate_url = models.BooleanField(default=False)
    # Hosted media lives in the default storage under media.path(app pk, media_key, size). Inputs may
    # share a key (the large demo data set reuses pictures); files go when the last one is deleted.
    media_key = models.CharField(max_length=64, default="", blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    image_format = models.CharField(max_length=20, blank=True)
    color_mode = models.CharField(max_length=20, blank=True)
    text = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    datasets = models.ManyToManyField(Dataset, through="DatasetInput", related_name="inputs")
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)
    # The inputs_add_job_id of the PostInputs that added it (GetInputsAddJob reports on those inputs).
    # Nullable so that SQLite adds the column in place: rebuilding the table would drop its triggers.
    inputs_add_job_id = models.CharField(max_length=ID_MAX, null=True, blank=True)  # noqa: DJ001

    class Meta:
        constraints = [models.UniqueConstraint(fields=["app", "input_id"], name="input_id_unique_per_app")]
        indexes = [
            # ListInputs pages newest first, optionally by status; both walk an index, never the table.
            models.Index(fields=["app", "-id"], name="input_app_newest"),
            models.Index(fields=["app", "status_code", "-id"], name="input_app_status_newest"),
            # A hosted picture is looked up by its URL's app and media key on every thumbnail.
            models.Index(fields=["app", "media_key"], name="input_app_media_key"),
            models.Index(fields=["app", "inputs_add_job_id"], name="input_app_add_job"),
        ]

    def __str__(self) -> str:
        return self.input_id

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex


class InputCount(models.Model):
    """How many inputs an app has in one status (GetInputCount reads these rows, never the inputs).

    Database triggers keep them (migration 0002_fast_at_a_million), in the transaction of the write
    that changes an input's existence or status, whichever code makes it: PostInputs, the workers,
    deletes, purges, seeding, bulk updates of other modules, the admin. Counting in Python at each of
    those places would be exact only as long as no one ever forgets one; a trigger cannot be forgotten.
    On PostgreSQL the trigger runs once per statement (a bulk insert of 10,000 inputs is one upsert);
    the upsert locks the counter row, so concurrent writers wait for each other and lose no counts.
    """

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="input_counts")
    status_code = models.PositiveIntegerField()
    inputs = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["app", "status_code"], name="one_count_per_app_status")]

    def __str__(self) -> str:
        return f"{self.inputs} inputs in status {self.status_code} in {self.app_id}"


class InputConcept(models.Model):
    """A concept on an input (`input.data.concepts`): value 1 is a positive label, 0 a negative one."""

    input = models.ForeignKey(Input, on_delete=models.CASCADE, related_name="input_concepts")
    concept = models.ForeignKey(Concept, on_delete=models.CASCADE, related_name="input_concepts")
    value = models.FloatField(default=1.0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["input", "concept"], name="one_value_per_input_concept")]

    def __str__(self) -> str:
        return f"{self.concept_id}={self.value} on {self.input_id}"


class DatasetInput(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE)
    input = models.ForeignKey(Input, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dataset", "input"], name="input_once_per_dataset")]

    def __str__(self) -> str:
        return f"{self.input_id} in {self.dataset_id}"


class BulkOperation(models.Model):
    """A change to many inputs (PostBulkOperations), done by workers over a snapshot of input ids.

    `source` and `operation` are the request's input source and Operation as JSON (clarifai-grpc's field
    names). A worker takes the snapshot once (`total` is then set) as numbered chunks; progress is read
    from the chunks that are done, never from a counter a re-run could bump twice.
    """

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="bulk_operations")
    operation_id = models.CharField(max_length=ID_MAX)
    created_by = models.CharField(max_length=ID_MAX)
    source = models.JSONField()
    operation = models.JSONField()
    status_code = models.PositiveIntegerField(default=status.BULK_PENDING)
    status_details = models.TextField(blank=True)
    total = models.PositiveIntegerField(null=True, blank=True)
    missing = models.PositiveIntegerField(default=0)  # ids given that no input had when the snapshot was taken
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["app", "operation_id"], name="bulk_operation_id_unique_per_app")]
        indexes = [models.Index(fields=["app", "-id"], name="bulk_operation_app_newest")]

    def __str__(self) -> str:
        return self.operation_id


class BulkChunk(models.Model):
    """Some of a bulk operation's inputs (primary keys), changed in one transaction that also marks it done,
    so a chunk is applied once or not at all: a worker that dies half way leaves it to the next one."""

    bulk_operation = models.ForeignKey(BulkOperation, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    input_pks = models.JSONField()
    done = models.BooleanField(default=False)
    changed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)  # inputs deleted before their chunk ran
    last_input_id = models.CharField(max_length=ID_MAX, blank=True)
    # Committed with the change: 1 for every done chunk, or a change was applied twice.
    applied = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bulk_operation", "number"], name="bulk_chunk_number_unique")]
        indexes = [models.Index(fields=["bulk_operation", "done", "number"], name="bulk_chunk_next")]

    def __str__(self) -> str:
        return f"chunk {self.number} of {self.bulk_operation_id}"


class DatasetVersion(models.Model):
    """A frozen snapshot of a dataset: which inputs it had and their labels at one moment.

    A worker takes the snapshot (console.localapi.dataset_tasks) in one transaction that also writes the
    metrics and the READY status, so a version has all its rows or none. `metrics` keeps what the worker
    counted, including negative labels, which DatasetVersionMetrics has no field for.
    """

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="versions")
    version_id = models.CharField(max_length=ID_MAX)
    description = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    ignore_empty_inputs = models.BooleanField(default=False)
    status_code = models.PositiveIntegerField(default=status.DATASET_VERSION_PENDING)
    status_details = models.TextField(blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dataset", "version_id"], name="dataset_version_id_unique_per_dataset")
        ]
        indexes = [models.Index(fields=["dataset", "-id"], name="dataset_version_newest")]

    def __str__(self) -> str:
        return f"{self.dataset_id}/{self.version_id}"


class DatasetVersionInput(models.Model):
    """One input of a version as it was when the version was made; the input may change or go later."""

    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="snapshot")
    original = models.ForeignKey(Input, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    input_id = models.CharField(max_length=ID_MAX)
    kind = models.CharField(max_length=10, choices=Input.KINDS)
    source_url = models.URLField(max_length=2000, blank=True)
    media_key = models.CharField(max_length=64, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    image_format = models.CharField(max_length=20, blank=True)
    color_mode = models.CharField(max_length=20, blank=True)
    text = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # [[concept id, concept name, value], ...]: the labels at the moment of the snapshot
    concepts = models.JSONField(default=list, blank=True)
    input_created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "input_id"], name="input_once_per_dataset_version")]

    def __str__(self) -> str:
        return f"{self.input_id} in version {self.version_id}"


class DatasetVersionExport(models.Model):
    """An archive of a version in one format, built by a worker and kept in the default storage."""

    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="exports")
    format = models.PositiveIntegerField()  # DatasetVersionExportFormat
    key = models.CharField(max_length=32, unique=True)  # in the download URL
    origin = models.CharField(max_length=300)  # of the request that asked, for the hosted URLs inside
    status_code = models.PositiveIntegerField(default=status.EXPORT_PENDING)
    status_details = models.TextField(blank=True)
    size = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "format"], name="one_export_per_version_format")]

    def __str__(self) -> str:
        return f"export {self.format} of {self.version_id}"


class InputsAddJob(models.Model):
    """Inputs added from an archive (PostInputsUploads): its upload, its entries, and what they became.

    `status_code` is JOB_QUEUED until the archive is whole and a worker takes it, JOB_RUNNING while its
    entries become inputs, JOB_COMPLETED once they all have (the job is shown running until the inputs
    are processed too), or JOB_FAILED / JOB_CANCELLED. `template` is the request's input_template as JSON.
    """

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="inputs_add_jobs")
    job_id = models.CharField(max_length=ID_MAX)
    created_by = models.CharField(max_length=ID_MAX)
    template = models.JSONField(default=dict, blank=True)
    conflict_resolution = models.PositiveIntegerField(default=0)  # InputIDConflictResolution
    status_code = models.PositiveIntegerField(default=status.JOB_QUEUED)
    status_details = models.TextField(blank=True)
    total = models.PositiveIntegerField(null=True, blank=True)  # entries, once the archive has been listed
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["app", "job_id"], name="inputs_add_job_id_unique_per_app")]
        indexes = [models.Index(fields=["app", "-id"], name="inputs_add_job_newest")]

    def __str__(self) -> str:
        return self.job_id


class ArchiveUpload(models.Model):
    """The archive of an inputs-add job: sent in parts (PutUploadContentParts) or fetched from a URL."""

    job = models.OneToOneField(InputsAddJob, on_delete=models.CASCADE, related_name="upload")
    upload_id = models.CharField(max_length=ID_MAX, unique=True)
    content_name = models.CharField(max_length=ID_MAX, blank=True)
    content_length = models.PositiveBigIntegerField(default=0)
    content_url = models.URLField(max_length=2000, blank=True)
    status_code = models.PositiveIntegerField(default=status.UPLOAD_IN_PROGRESS)
    status_details = models.TextField(blank=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.upload_id


class UploadPart(models.Model):
    upload = models.ForeignKey(ArchiveUpload, on_delete=models.CASCADE, related_name="parts")
    part_number = models.PositiveIntegerField()
    range_start = models.PositiveBigIntegerField()
    size = models.PositiveBigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["upload", "part_number"], name="upload_part_number_unique")]

    def __str__(self) -> str:
        return f"part {self.part_number} of {self.upload_id}"


class ArchiveEntry(models.Model):
    """A file of a job's archive. It becomes an input in the transaction that marks it done, so a worker
    that dies half way leaves it to the next one, and no entry is ever added twice."""

    PENDING = "pending"
    ADDED = "added"
    REFUSED = "refused"
    SKIPPED = "skipped"  # its input id was taken, and the job said to skip such entries
    STATES = [(PENDING, PENDING), (ADDED, ADDED), (REFUSED, REFUSED), (SKIPPED, SKIPPED)]

    job = models.ForeignKey(InputsAddJob, on_delete=models.CASCADE, related_name="entries")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=1000)
    size = models.PositiveBigIntegerField(default=0)
    state = models.CharField(max_length=10, choices=STATES, default=PENDING)
    details = models.TextField(blank=True)
    input = models.ForeignKey(Input, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Committed with the input: 1 for every added entry, or an entry was added twice.
    applied = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="archive_entry_number_unique")]
        indexes = [models.Index(fields=["job", "state", "number"], name="archive_entry_next")]

    def __str__(self) -> str:
        return f"{self.name} of job {self.job_id}"


class ConceptCount(models.Model):
    """How many inputs carry a concept as a positive label (value > 0) and as a negative one (GetConceptCounts
    reads these rows, never the labels).

    Kept by database triggers on InputConcept (migration 0004_apps_and_concepts), in the transaction of
    the write that adds, changes or removes a label, for the reasons told on InputCount.
    """

    concept = models.OneToOneField(Concept, on_delete=models.CASCADE, primary_key=True, related_name="count")
    positive = models.BigIntegerField(default=0)
    negative = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.concept_id}: {self.positive} positive, {self.negative} negative"


class ConceptRelation(models.Model):
    """A relation between two concepts of an app, kept in one direction only: `hyponym` (the subject is a
    kind of the object; a hypernym is stored as the hyponym it implies) or `synonym` (subject before object
    by primary key). Each side reads it from its own point of view, so one row answers both."""

    HYPONYM = "hyponym"
    HYPERNYM = "hypernym"
    SYNONYM = "synonym"
    PREDICATES = (HYPONYM, HYPERNYM, SYNONYM)

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="concept_relations")
    relation_id = models.CharField(max_length=ID_MAX)
    subject = models.ForeignKey(Concept, on_delete=models.CASCADE, related_name="relations_as_subject")
    object = models.ForeignKey(Concept, on_delete=models.CASCADE, related_name="relations_as_object")
    predicate = models.CharField(max_length=20, choices=[(HYPONYM, HYPONYM), (SYNONYM, SYNONYM)])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["app", "relation_id"], name="concept_relation_id_unique_per_app"),
            models.UniqueConstraint(fields=["subject", "object", "predicate"], name="concept_relation_once"),
        ]

    def __str__(self) -> str:
        return f"{self.subject_id} {self.predicate} {self.object_id}"


class Task(models.Model):
    """A labeling task (PostTasks): which inputs (a dataset's or the whole app's), which concepts, who labels
    them and how they are split, and how the work is reviewed.

    `task_type`, `worker_strategy` and `review_strategy` are clarifai-grpc's enum numbers (Task.TaskType,
    TaskWorker.TaskWorkerStrategy, TaskReview.TaskReviewStrategy). Who works on it is in TaskMember rows,
    so "the tasks I label" is an indexed lookup on every database. Its progress is counted from the
    assignments and annotations, never kept in counters here.
    """

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="tasks")
    task_id = models.CharField(max_length=ID_MAX)
    name = models.CharField(max_length=ID_MAX, blank=True)
    description = models.TextField(blank=True)
    task_type = models.PositiveIntegerField(default=1)  # CONCEPTS_CLASSIFICATION
    input_source_type = models.PositiveIntegerField(default=3)  # DATASET
    # The dataset it labels; the id stays when the dataset is deleted, so the task can say what it lost.
    dataset = models.ForeignKey(Dataset, on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks")
    input_source_id = models.CharField(max_length=ID_MAX, blank=True)
    concept_ids = models.JSONField(default=list)
    worker_strategy = models.PositiveIntegerField(default=3)  # FULL
    workers_per_input = models.PositiveIntegerField(default=1)
    review_strategy = models.PositiveIntegerField(default=1)  # NONE
    approval_threshold = models.PositiveIntegerField(default=0)  # labelers who must agree (CONSENSUS)
    status_code = models.PositiveIntegerField(default=status.TASK_IN_PROGRESS)
    status_details = models.TextField(blank=True)
    priority = models.PositiveIntegerField(default=0)
    metadata = models.JSONField(default=dict, blank=True)
    created_by = models.CharField(max_length=ID_MAX)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["app", "task_id"], name="task_id_unique_per_app")]
        indexes = [models.Index(fields=["app", "-id"], name="task_app_newest")]

    def __str__(self) -> str:
        return self.task_id


class TaskMember(models.Model):
    """A labeler (`worker`) or reviewer of a task, in the order the task lists them."""

    WORKER = "worker"
    REVIEWER = "reviewer"
    ROLES = [(WORKER, WORKER), (REVIEWER, REVIEWER)]

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="task_memberships")
    role = models.CharField(max_length=10, choices=ROLES)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "user", "role"], name="task_member_once_per_role")]
        indexes = [models.Index(fields=["user", "role"], name="task_member_user")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} of {self.task_id}"


class TaskAssignment(models.Model):
    """One input given to one labeler of a task, with where its work stands (TASK_ASSIGNMENT_* codes).

    Under PARTITIONED an input has `workers_per_input` numbered slots; the unique (task, input, slot)
    constraint is what makes two labelers never hold the same slot, whatever the database and however
    many requests race for it (the claim also locks the task row, so on PostgreSQL they rarely collide).
    Under FULL `slot` is null (NULLs never collide), and (task, input, worker) keeps one per labeler.
    """

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="assignments")
    input = models.ForeignKey(Input, on_delete=models.CASCADE, related_name="task_assignments")
    worker = models.ForeignKey(User, on_delete=models.CASCADE, related_name="task_assignments")
    assignment_id = models.CharField(max_length=ID_MAX, unique=True)
    slot = models.PositiveIntegerField(null=True, blank=True)
    status_code = models.PositiveIntegerField(default=status.TASK_ASSIGNMENT_PENDING)
    status_details = models.TextField(blank=True)  # the reviewer's reason when sent back or rejected
    reviewed_by = models.CharField(max_length=ID_MAX, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "input", "worker"], name="task_input_once_per_worker"),
            models.UniqueConstraint(fields=["task", "input", "slot"], name="task_input_slot_once"),
        ]
        indexes = [
            models.Index(fields=["task", "worker", "status_code"], name="task_assignment_worker"),
            models.Index(fields=["task", "status_code", "id"], name="task_assignment_status"),
        ]

    def __str__(self) -> str:
        return f"{self.input_id} to {self.worker_id} in {self.task_id}"


class Annotation(models.Model):
    """Labels one user gave one input, in a task or not (PostAnnotations).

    `data` is the annotation's Data as JSON in clarifai-grpc's field names, limited to `concepts`
    ([{"id", "value"}]) and `regions` (bounding boxes with their concepts). The input's own labels stay
    in InputConcept (the input-level annotation the real API keeps for each input); an annotation that
    becomes ANNOTATION_SUCCESS is merged into them (console.localapi.handlers.annotations.apply_to_input).
    """

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="annotations")
    input = models.ForeignKey(Input, on_delete=models.CASCADE, related_name="annotations")
    annotation_id = models.CharField(max_length=ID_MAX)
    task = models.ForeignKey(Task, on_delete=models.SET_NULL, null=True, blank=True, related_name="annotations")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="annotations")
    data = models.JSONField(default=dict, blank=True)
    annotation_info = models.JSONField(default=dict, blank=True)
    status_code = models.PositiveIntegerField(default=status.ANNOTATION_SUCCESS)
    status_details = models.TextField(blank=True)
    reviewed_by = models.CharField(max_length=ID_MAX, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["app", "annotation_id"], name="annotation_id_unique_per_app"),
        ]
        indexes = [
            models.Index(fields=["app", "-id"], name="annotation_app_newest"),
            models.Index(fields=["task", "user", "status_code"], name="annotation_task_user"),
            models.Index(fields=["input", "task"], name="annotation_input_task"),
        ]

    def __str__(self) -> str:
        return self.annotation_id
