"""Jobs the API runs by itself, listed per app beside the console's own: bulk operations, inputs-add jobs,
and dataset versions with their exports.

Each kind is read with its own list call, all at once; a kind the API cannot list (an older API, a
token without the scope) is said in its place while the other kinds still show. The API lists versions
(and their exports) per dataset only, so they cost a call per dataset: the page reads the versions of the
DATASETS_LISTED most recently changed datasets, at the same time, once the datasets are known (two rounds
of calls in all); every dataset's versions page has them all.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2
from google.protobuf import json_format, timestamp_pb2

from console.clarifai import ClarifaiClient, ClarifaiError, ClarifaiStatusError, concurrently
from console.datasets.status import present_version

LISTED = 20  # of each kind, newest first
DATASETS_LISTED = 5  # the most recently changed, whose versions are read (a call each)
VERSIONS_LISTED = 5  # of each of those datasets, newest first

codes = status_code_pb2.StatusCode

# A status code → the state word the console's own jobs use (console.jobs.models.Job.State).
_STATES = {
    codes.BULK_OPERATION_PENDING: "queued",
    codes.BULK_OPERATION_IN_PROGRESS: "running",
    codes.BULK_OPERATION_SUCCESS: "done",
    codes.BULK_OPERATION_CANCELLED: "cancelled",
    codes.BULK_OPERATION_FAILED: "failed",
    codes.BULK_OPERATION_INVALID_REQUEST: "failed",
    codes.BULK_OPERATION_UNEXPECTED_ERROR: "failed",
    codes.JOB_QUEUED: "queued",
    codes.JOB_RUNNING: "running",
    codes.JOB_PAUSED: "paused",
    codes.JOB_COMPLETED: "done",
    codes.JOB_CANCELLED: "cancelled",
    codes.JOB_FAILED: "failed",
    codes.JOB_UNEXPECTED_ERROR: "failed",
    codes.JOB_CONFLICT: "failed",
}
_LABELS = {
    "queued": "Queued",
    "running": "Running",
    "paused": "Paused",
    "done": "Done",
    "cancelled": "Cancelled",
    "failed": "Failed",
}
ACTIVE = frozenset({"queued", "running"})

# Bulk operation → words: the Operation oneof field names, as a person would say them.
_OPERATIONS = {
    "add_concepts": "Add concepts",
    "delete_concepts": "Remove concepts",
    "add_metadata": "Set metadata",
    "delete_metadata": "Remove metadata keys",
    "overwrite_geo": "Set location",
    "delete_geo": "Remove location",
    "add_to_dataset": "Add to a dataset",
    "delete_from_dataset": "Remove from a dataset",
    "split_into_datasets": "Split into datasets",
}


@dataclass(frozen=True)
class RemoteJob:
    kind: str
    id: str
    what: str
    state: str
    reason: str
    done: int
    failed: int
    total: int | None  # None: the API does not say how many there are in all
    created_at: datetime | None
    changed_at: datetime | None
    dataset_id: str = ""  # a dataset version or export: its dataset, whose versions page it links to

    @property
    def state_label(self) -> str:
        return _LABELS.get(self.state, "Unknown")

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE

    @property
    def percent(self) -> int | None:
        if not self.total:
            return 100 if self.state == "done" else None
        return min(100, (self.done + self.failed) * 100 // self.total)


@dataclass(frozen=True)
class Listing:
    """One kind's jobs, or why they could not be listed."""

    kind: str
    jobs: list[RemoteJob]
    problem: str = ""


def _when(stamp: timestamp_pb2.Timestamp) -> datetime | None:
    if not stamp.seconds and not stamp.nanos:
        return None
    return stamp.ToDatetime(tzinfo=UTC)


def _state(status: Any) -> tuple[str, str]:
    state = _STATES.get(status.code, "unknown")
    reason = status.details or (status.description if state in ("failed", "unknown") else "")
    return state, reason


def _source(operation: resources_pb2.BulkOperation) -> str:
    source = operation.WhichOneof("input_source")
    if source == "input_ids":
        return f"{len(operation.input_ids.input_ids)} inputs"
    if source == "dataset":
        return f"the inputs of dataset {operation.dataset.id}"
    if source == "search":
        return "the inputs of a search"
    return "inputs"


def _operation_words(operation: resources_pb2.BulkOperation) -> str:
    kind = operation.operation.WhichOneof("operation")
    words = _OPERATIONS.get(kind or "", "Change")
    if kind in ("add_concepts", "delete_concepts"):
        names = [c.name or c.id for c in getattr(operation.operation, kind).concepts]
        words += f" ({', '.join(names[:5])}{', …' if len(names) > 5 else ''})"
    elif kind in ("add_to_dataset", "delete_from_dataset"):
        words += f" ({getattr(operation.operation, kind).dataset_id})"
    elif kind == "delete_metadata":
        keys = operation.operation.delete_metadata.metadata
        words += f" ({', '.join(json_format.MessageToDict(keys))})" if keys.fields else ""
    return f"{words} on {_source(operation)}"


def _bulk_operations(client: ClarifaiClient, app: resources_pb2.UserAppIDSet) -> list[RemoteJob]:
    response = client.call(
        "ListBulkOperations", service_pb2.ListBulkOperationsRequest(user_app_id=app, per_page=LISTED)
    )
    jobs = []
    for operation in response.bulk_operation:  # singular in MultiBulkOperationsResponse
        state, reason = _state(operation.status)
        total = len(operation.input_ids.input_ids) if operation.WhichOneof("input_source") == "input_ids" else None
        jobs.append(
            RemoteJob(
                kind="Bulk operation",
                id=operation.id,
                what=_operation_words(operation),
                state=state,
                reason=reason,
                done=operation.progress.processed,
                failed=0,
                total=total,
                created_at=_when(operation.created_at),
                changed_at=_when(operation.last_modified_at),
            )
        )
    return jobs


def _inputs_add_jobs(client: ClarifaiClient, app: resources_pb2.UserAppIDSet) -> list[RemoteJob]:
    response = client.call("ListInputsAddJobs", service_pb2.ListInputsAddJobsRequest(user_app_id=app, per_page=LISTED))
    jobs = []
    for job in response.inputs_add_jobs:
        state, reason = _state(job.status)
        progress = job.progress
        total = progress.pending_count + progress.in_progress_count + progress.success_count + progress.failed_count
        uploads = [u.content_name for u in job.uploads if u.content_name]
        jobs.append(
            RemoteJob(
                kind="Inputs-add job",
                id=job.id,
                what=f"Add the inputs of {', '.join(uploads)}" if uploads else "Add inputs",
                state=state,
                reason=reason,
                done=progress.success_count,
                failed=progress.failed_count,
                total=total or None,
                created_at=_when(job.created_at),
                changed_at=_when(job.modified_at),
            )
        )
    return jobs


KINDS: tuple[tuple[str, Callable[[ClarifaiClient, resources_pb2.UserAppIDSet], list[RemoteJob]]], ...] = (
    ("Bulk operations", _bulk_operations),
    ("Inputs-add jobs", _inputs_add_jobs),
)


VERSIONS_KIND = "Dataset versions and exports"


def _recent_datasets(client: ClarifaiClient, app: resources_pb2.UserAppIDSet) -> list[str] | ClarifaiError:
    """The ids of the most recently changed datasets (or why they could not be listed)."""
    request = service_pb2.ListDatasetsRequest(
        user_app_id=app, per_page=DATASETS_LISTED, sort_by_modified_at=True, sort_ascending=False
    )
    try:
        return [d.id for d in client.call("ListDatasets", request).datasets]
    except ClarifaiError as e:
        return e


def _versions_of(client: ClarifaiClient, app: resources_pb2.UserAppIDSet, dataset_id: str) -> list[RemoteJob]:
    request = service_pb2.ListDatasetVersionsRequest(user_app_id=app, dataset_id=dataset_id, per_page=VERSIONS_LISTED)
    jobs = []
    for version in client.call("ListDatasetVersions", request).dataset_versions:
        view = present_version(version)
        jobs.append(
            RemoteJob(
                kind="Dataset version",
                id=version.id,
                what=f"Version of dataset {dataset_id}",
                state=view.state if view.state in _LABELS else "unknown",
                reason=view.reason,
                done=view.inputs or 0,  # the inputs frozen in it (shown as such, not as progress)
                failed=0,
                total=None,
                created_at=_when(version.created_at),
                changed_at=_when(version.modified_at),
                dataset_id=dataset_id,
            )
        )
        for export in view.exports:
            jobs.append(
                RemoteJob(
                    kind="Export",
                    id=f"{version.id}/{export.format}",
                    what=f"Export of version {version.id} of dataset {dataset_id} ({export.label})",
                    state=export.state if export.state in _LABELS else "unknown",
                    reason=export.reason,
                    done=0,
                    failed=0,
                    total=None,
                    created_at=None,
                    changed_at=_when(version.modified_at),
                    dataset_id=dataset_id,
                )
            )
    return jobs


def _dataset_versions(client: ClarifaiClient, app: resources_pb2.UserAppIDSet, datasets: list[str]) -> list[RemoteJob]:
    found = concurrently(*(partial(_versions_of, client, app, dataset_id) for dataset_id in datasets))
    jobs = [job for listed in found for job in listed]
    return sorted(jobs, key=lambda job: job.changed_at or datetime.min.replace(tzinfo=UTC), reverse=True)


def _problem(kind: str, error: ClarifaiError) -> str:
    if isinstance(error, ClarifaiStatusError) and (error.code == codes.NOT_IMPLEMENTED or error.http_status == 501):
        return f"This API does not list its {kind.lower()}."
    return f"Could not list the {kind.lower()}: {error.message}"


def _listing(kind: str, lister: Callable[[], list[RemoteJob]]) -> Listing:
    try:
        return Listing(kind, lister())
    except ClarifaiError as e:
        return Listing(kind, [], _problem(kind, e))


def list_remote_jobs(client: ClarifaiClient, app: resources_pb2.UserAppIDSet) -> list[Listing]:
    """Every kind's newest jobs in `app`, read at once; a kind that fails says why in its Listing.

    The datasets are listed beside the other kinds; their versions then, all at once, from this thread
    (from a thread of the pool they would be read one after another)."""
    *listings, datasets = concurrently(
        *(partial(_listing, kind, partial(lister, client, app)) for kind, lister in KINDS),
        partial(_recent_datasets, client, app),
    )
    if isinstance(datasets, ClarifaiError):
        listings.append(Listing(VERSIONS_KIND, [], _problem(VERSIONS_KIND, datasets)))
    else:
        listings.append(_listing(VERSIONS_KIND, partial(_dataset_versions, client, app, datasets)))
    return listings
