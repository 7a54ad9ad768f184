"""What a dataset version or an export is doing, in the words the console's jobs use.

The API says it with status codes (DATASET_VERSION_* and DATASET_VERSION_EXPORT_*); the pages, and the
API's own jobs on the jobs page, show a state word, a label and the reason the API gave.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from clarifai_grpc.grpc.api import resources_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2
from google.protobuf import timestamp_pb2

codes = status_code_pb2.StatusCode
Format = resources_pb2.DatasetVersionExportFormat

STATES = {
    codes.DATASET_VERSION_PENDING: "queued",
    codes.DATASET_VERSION_IN_PROGRESS: "running",
    codes.DATASET_VERSION_READY: "done",
    codes.DATASET_VERSION_FAILURE: "failed",
    codes.DATASET_VERSION_UNEXPECTED_ERROR: "failed",
    codes.DATASET_VERSION_CONFLICT: "failed",
    codes.DATASET_VERSION_EXPORT_PENDING: "queued",
    codes.DATASET_VERSION_EXPORT_IN_PROGRESS: "running",
    codes.DATASET_VERSION_EXPORT_SUCCESS: "done",
    codes.DATASET_VERSION_EXPORT_FAILED: "failed",
    codes.DATASET_VERSION_EXPORT_UNEXPECTED_ERROR: "failed",
}
VERSION_LABELS = {"queued": "Pending", "running": "Being built", "done": "Ready", "failed": "Failed"}
EXPORT_LABELS = {"queued": "Pending", "running": "Being written", "done": "Ready to download", "failed": "Failed"}
ACTIVE = frozenset({"queued", "running"})

# The formats offered, by the name used in URLs, with the field of export_info that holds each.
FORMATS = {
    "protobuf": (Format.CLARIFAI_DATA_PROTOBUF, "clarifai_data_protobuf", "Clarifai protobuf"),
    "json": (Format.CLARIFAI_DATA_JSON, "clarifai_data_json", "Clarifai JSON"),
}


def state_of(status: Any) -> tuple[str, str]:
    """(state word, reason): the reason is the API's details, or its description for a failure."""
    state = STATES.get(status.code, "unknown")
    reason = status.details or (status.description if state in ("failed", "unknown") else "")
    return state, reason


def when(stamp: timestamp_pb2.Timestamp) -> datetime | None:
    if not stamp.seconds and not stamp.nanos:
        return None
    return stamp.ToDatetime(tzinfo=UTC)


@dataclass(frozen=True)
class ConceptCount:
    id: str
    positive: int
    negative: int


@dataclass(frozen=True)
class ExportView:
    format: str  # "protobuf" or "json"
    label: str
    state: str
    reason: str
    size: int

    @property
    def state_label(self) -> str:
        return EXPORT_LABELS.get(self.state, "Unknown")

    @property
    def ready(self) -> bool:
        return self.state == "done"


@dataclass(frozen=True)
class VersionView:
    id: str
    dataset_id: str
    description: str
    state: str
    reason: str
    created_at: datetime | None
    inputs: int | None  # None: the API sent no metrics (yet)
    unlabeled: int | None
    positive: int | None
    concepts: list[ConceptCount]
    exports: list[ExportView]

    @property
    def state_label(self) -> str:
        return VERSION_LABELS.get(self.state, "Unknown")

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE or any(e.state in ACTIVE for e in self.exports)

    @property
    def exportable(self) -> bool:
        return self.state != "failed"


def _set_fields(message: Any) -> set[str]:
    return {field.name for field, _ in message.ListFields()}


def _count(metrics: resources_pb2.DatasetVersionMetrics, name: str) -> int | None:
    value: int = getattr(metrics, name).value
    return value if name in _set_fields(metrics) else None


def export_of(version: resources_pb2.DatasetVersion, fmt: str) -> resources_pb2.DatasetVersionExport | None:
    """The version's export in `fmt` (a key of FORMATS), if one was asked for."""
    field = FORMATS[fmt][1]
    export: resources_pb2.DatasetVersionExport = getattr(version.export_info, field)
    return export if field in _set_fields(version.export_info) else None


def present_version(version: resources_pb2.DatasetVersion) -> VersionView:
    state, reason = state_of(version.status)
    overall = version.metrics.get("/")
    concepts = []
    for key, metrics in sorted(version.metrics.items()):
        if key.startswith("/concepts/"):
            labelled = _count(metrics, "inputs_count") or 0
            positive = _count(metrics, "positive_input_tags_count") or 0
            # The proto has no field for negative labels: they are the labelled inputs that are not positive.
            concepts.append(ConceptCount(key.removeprefix("/concepts/"), positive, max(labelled - positive, 0)))
    exports = []
    for name, (_, _, label) in FORMATS.items():
        export = export_of(version, name)
        if export is not None:
            export_state, export_reason = state_of(export.status)
            exports.append(ExportView(name, label, export_state, export_reason, export.size))
    return VersionView(
        id=version.id,
        dataset_id=version.dataset_id,
        description=version.description,
        state=state,
        reason=reason,
        created_at=when(version.created_at),
        inputs=_count(overall, "inputs_count") if overall else None,
        unlabeled=_count(overall, "unlabeled_inputs_count") if overall else None,
        positive=_count(overall, "positive_input_tags_count") if overall else None,
        concepts=concepts,
        exports=exports,
    )
