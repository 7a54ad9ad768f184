"""Clarifai status codes: the names the local API uses, their descriptions, and their HTTP statuses.

The numbers come from clarifai-grpc's `StatusCode` enum; the descriptions are short sentences in the
style of the real API's `status.description` (details carry the specifics of each failure).
"""

from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from clarifai_grpc.grpc.api.status import status_pb2

# A status code as clarifai-grpc types it: an int that the StatusCode enum names
type Code = codes.StatusCode.ValueType

SUCCESS = codes.SUCCESS
MIXED_STATUS = codes.MIXED_STATUS
FAILURE = codes.FAILURE
NOT_IMPLEMENTED = codes.NOT_IMPLEMENTED
CONN_KEY_INVALID = codes.CONN_KEY_INVALID
CONN_KEY_NOT_FOUND = codes.CONN_KEY_NOT_FOUND
CONN_INSUFFICIENT_SCOPES = codes.CONN_INSUFFICIENT_SCOPES
CONN_BAD_REQUEST_FORMAT = codes.CONN_BAD_REQUEST_FORMAT
CONN_DOES_NOT_EXIST = codes.CONN_DOES_NOT_EXIST
CONN_INVALID_REQUEST = codes.CONN_INVALID_REQUEST
CONN_METHOD_NOT_ALLOWED = codes.CONN_METHOD_NOT_ALLOWED
DATABASE_DUPLICATE_KEY = codes.DATABASE_DUPLICATE_KEY
INTERNAL_SERVER_ISSUE = codes.INTERNAL_SERVER_ISSUE
INPUT_SUCCESS = codes.INPUT_DOWNLOAD_SUCCESS
INPUT_PENDING = codes.INPUT_DOWNLOAD_PENDING
INPUT_FAILED = codes.INPUT_DOWNLOAD_FAILED
INPUT_IN_PROGRESS = codes.INPUT_DOWNLOAD_IN_PROGRESS
INPUT_DUPLICATE = codes.INPUT_DUPLICATE
INPUT_UNSUPPORTED_FORMAT = codes.INPUT_UNSUPPORTED_FORMAT
INPUT_DOES_NOT_EXIST = codes.INPUT_DOES_NOT_EXIST
INPUT_INVALID_ARGUMENT = codes.INPUT_INVALID_ARGUMENT
INPUT_OVER_LIMIT = codes.INPUT_OVER_LIMIT
INPUT_INVALID_URL = codes.INPUT_INVALID_URL
INPUT_INVALID_REQUEST = codes.INPUT_INVALID_REQUEST
CONCEPTS_INVALID_REQUEST = codes.CONCEPTS_INVALID_REQUEST
REQUEST_TOO_LARGE = codes.RPC_MAX_MESSAGE_SIZE_EXCEEDED
SEARCH_INVALID_REQUEST = codes.SEARCH_INVALID_REQUEST
BULK_PENDING = codes.BULK_OPERATION_PENDING
BULK_IN_PROGRESS = codes.BULK_OPERATION_IN_PROGRESS
BULK_SUCCESS = codes.BULK_OPERATION_SUCCESS
BULK_FAILED = codes.BULK_OPERATION_FAILED
BULK_CANCELLED = codes.BULK_OPERATION_CANCELLED
BULK_INVALID_REQUEST = codes.BULK_OPERATION_INVALID_REQUEST
BULK_UNEXPECTED_ERROR = codes.BULK_OPERATION_UNEXPECTED_ERROR
DATASET_VERSION_PENDING = codes.DATASET_VERSION_PENDING
DATASET_VERSION_IN_PROGRESS = codes.DATASET_VERSION_IN_PROGRESS
DATASET_VERSION_READY = codes.DATASET_VERSION_READY
DATASET_VERSION_FAILURE = codes.DATASET_VERSION_FAILURE
DATASET_VERSION_UNEXPECTED_ERROR = codes.DATASET_VERSION_UNEXPECTED_ERROR
DATASET_INPUT_SUCCESS = codes.DATASET_INPUT_SUCCESS
DATASET_INPUT_DUPLICATE = codes.DATASET_INPUT_DUPLICATE
EXPORT_SUCCESS = codes.DATASET_VERSION_EXPORT_SUCCESS
EXPORT_PENDING = codes.DATASET_VERSION_EXPORT_PENDING
EXPORT_FAILED = codes.DATASET_VERSION_EXPORT_FAILED
EXPORT_IN_PROGRESS = codes.DATASET_VERSION_EXPORT_IN_PROGRESS
EXPORT_UNEXPECTED_ERROR = codes.DATASET_VERSION_EXPORT_UNEXPECTED_ERROR
JOB_QUEUED = codes.JOB_QUEUED
JOB_RUNNING = codes.JOB_RUNNING
JOB_COMPLETED = codes.JOB_COMPLETED
JOB_FAILED = codes.JOB_FAILED
JOB_CANCELLED = codes.JOB_CANCELLED
UPLOAD_IN_PROGRESS = codes.UPLOAD_IN_PROGRESS
UPLOAD_DONE = codes.UPLOAD_DONE
UPLOAD_FAILED = codes.UPLOAD_FAILED
UPLOAD_EXPIRED = codes.UPLOAD_EXPIRED
UPLOAD_CANCELED = codes.UPLOAD_CANCELED
UPLOAD_CONFLICT = codes.UPLOAD_CONFLICT
ARCHIVE_EXTRACT_FAILED = codes.ARCHIVE_EXTRACT_FAILED

DESCRIPTIONS: dict[int, str] = {
    SUCCESS: "Ok",
    MIXED_STATUS: "Mixed Success",
    FAILURE: "Failure",
    NOT_IMPLEMENTED: "Not implemented",
    CONN_KEY_INVALID: "API key not found",
    CONN_INSUFFICIENT_SCOPES: "Insufficient scopes",
    CONN_BAD_REQUEST_FORMAT: "Bad request format",
    CONN_DOES_NOT_EXIST: "Resource does not exist",
    CONN_INVALID_REQUEST: "Invalid request",
    CONN_METHOD_NOT_ALLOWED: "Method not allowed",
    DATABASE_DUPLICATE_KEY: "Duplicate key",
    INTERNAL_SERVER_ISSUE: "Internal server issue",
    INPUT_SUCCESS: "Download complete",
    INPUT_PENDING: "Download pending",
    INPUT_FAILED: "Download failed",
    INPUT_IN_PROGRESS: "Download in progress",
    INPUT_DUPLICATE: "Input has a duplicate ID",
    INPUT_UNSUPPORTED_FORMAT: "Input format not supported",
    INPUT_DOES_NOT_EXIST: "Input does not exist",
    INPUT_INVALID_ARGUMENT: "Invalid argument",
    INPUT_OVER_LIMIT: "Input is over the size limit",
    INPUT_INVALID_URL: "Invalid URL",
    INPUT_INVALID_REQUEST: "Invalid request",
    CONCEPTS_INVALID_REQUEST: "Invalid request",
    REQUEST_TOO_LARGE: "Request too large",
    DATASET_VERSION_PENDING: "Dataset version pending",
    DATASET_VERSION_IN_PROGRESS: "Dataset version in progress",
    DATASET_VERSION_READY: "Dataset version ready",
    DATASET_VERSION_FAILURE: "Dataset version failed",
    DATASET_INPUT_SUCCESS: "Dataset input added",
    DATASET_INPUT_DUPLICATE: "Input already in the dataset",
    EXPORT_SUCCESS: "Export done",
    EXPORT_PENDING: "Export pending",
    EXPORT_FAILED: "Export failed",
    EXPORT_IN_PROGRESS: "Export in progress",
    JOB_QUEUED: "Job queued",
    JOB_RUNNING: "Job running",
    JOB_COMPLETED: "Job completed",
    JOB_FAILED: "Job failed",
    JOB_CANCELLED: "Job cancelled",
    UPLOAD_IN_PROGRESS: "Upload in progress",
    UPLOAD_DONE: "Upload done",
    UPLOAD_FAILED: "Upload failed",
    UPLOAD_EXPIRED: "Upload expired",
    UPLOAD_CANCELED: "Upload cancelled",
}

_HTTP: dict[int, int] = {
    SUCCESS: 200,
    MIXED_STATUS: 200,
    NOT_IMPLEMENTED: 501,
    CONN_INSUFFICIENT_SCOPES: 403,
    CONN_DOES_NOT_EXIST: 404,
    CONN_KEY_NOT_FOUND: 404,  # a key named in GetKey or DeleteKey, by a caller whose own key is good
    INPUT_DOES_NOT_EXIST: 404,
    CONN_METHOD_NOT_ALLOWED: 405,
    DATABASE_DUPLICATE_KEY: 409,
    REQUEST_TOO_LARGE: 413,
    codes.CONN_THROTTLED: 429,
}


def name(code: int) -> str:
    try:
        return codes.StatusCode.Name(as_code(code))
    except ValueError:
        return str(code)


def description(code: int) -> str:
    if code in DESCRIPTIONS:
        return DESCRIPTIONS[code]
    return name(code).replace("_", " ").capitalize()


def http_status(code: int) -> int:
    if code in _HTTP:
        return _HTTP[code]
    if 11000 <= code < 11100:
        return 401
    if code >= 90500 or 98000 <= code < 100000:
        return 500
    return 400


def as_code(number: int) -> Code:
    """A number (one the database kept, say) as a status code; at run time it stays the same int."""
    return codes.StatusCode.ValueType(number)


def make(code: Code, details: str = "") -> status_pb2.Status:
    return status_pb2.Status(code=code, description=description(code), details=details)


def all_codes() -> list[Code]:
    """Every status code number, once (some numbers have two names)."""
    return sorted(set(codes.StatusCode.values()))


# Labeling tasks, their assignments and annotations.
TASK_IN_PROGRESS = codes.TASK_IN_PROGRESS
TASK_DONE = codes.TASK_DONE
TASK_WONT_DO = codes.TASK_WONT_DO
TASK_IDLE = codes.TASK_IDLE
TASK_FAILED = codes.TASK_FAILED
TASK_CONFLICT = codes.TASK_CONFLICT
TASK_MISSING = codes.TASK_MISSING
TASK_PERMISSION_DENIED = codes.TASK_PERMISSION_DENIED
TASK_ASSIGNMENT_SUCCESS = codes.TASK_ASSIGNMENT_SUCCESS
TASK_ASSIGNMENT_PENDING = codes.TASK_ASSIGNMENT_PENDING
TASK_ASSIGNMENT_AWAITING_REVIEW = codes.TASK_ASSIGNMENT_AWAITING_REVIEW
TASK_ASSIGNMENT_AWAITING_CONSENSUS_REVIEW = codes.TASK_ASSIGNMENT_AWAITING_CONSENSUS_REVIEW
TASK_ASSIGNMENT_REJECTED = codes.TASK_ASSIGNMENT_REJECTED
ANNOTATION_SUCCESS = codes.ANNOTATION_SUCCESS
ANNOTATION_PENDING = codes.ANNOTATION_PENDING
ANNOTATION_AWAITING_REVIEW = codes.ANNOTATION_AWAITING_REVIEW
ANNOTATION_AWAITING_CONSENSUS_REVIEW = codes.ANNOTATION_AWAITING_CONSENSUS_REVIEW
ANNOTATION_REVIEW_DENIED = codes.ANNOTATION_REVIEW_DENIED
ANNOTATION_INVALID_ARGUMENT = codes.ANNOTATION_INVALID_ARGUMENT
ANNOTATION_PERMISSION_DENIED = codes.ANNOTATION_PERMISSION_DENIED

DESCRIPTIONS.update(
    {
        TASK_IN_PROGRESS: "Task in progress",
        TASK_DONE: "Task done",
        TASK_WONT_DO: "Task will not be done",
        TASK_IDLE: "Task paused",
        TASK_FAILED: "Task failed",
        TASK_CONFLICT: "Task conflict",
        TASK_MISSING: "Task not found",
        TASK_PERMISSION_DENIED: "Task permission denied",
        TASK_ASSIGNMENT_SUCCESS: "Assignment done",
        TASK_ASSIGNMENT_PENDING: "Assignment pending",
        TASK_ASSIGNMENT_AWAITING_REVIEW: "Assignment awaiting review",
        TASK_ASSIGNMENT_AWAITING_CONSENSUS_REVIEW: "Assignment awaiting consensus review",
        TASK_ASSIGNMENT_REJECTED: "Assignment rejected",
        ANNOTATION_SUCCESS: "Annotation success",
        ANNOTATION_PENDING: "Annotation pending",
        ANNOTATION_AWAITING_REVIEW: "Annotation awaiting review",
        ANNOTATION_AWAITING_CONSENSUS_REVIEW: "Annotation awaiting consensus review",
        ANNOTATION_REVIEW_DENIED: "Annotation review denied",
        ANNOTATION_INVALID_ARGUMENT: "Invalid annotation",
        ANNOTATION_PERMISSION_DENIED: "Annotation permission denied",
    }
)
_HTTP.update({TASK_MISSING: 404, TASK_PERMISSION_DENIED: 403, ANNOTATION_PERMISSION_DENIED: 403, TASK_CONFLICT: 409})
