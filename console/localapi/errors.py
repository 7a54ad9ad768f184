"""The one exception handlers raise to answer with a non-success status."""

from console.localapi import status


class ApiError(Exception):
    """Ends the request with `status.code` = code; `details` says what exactly was wrong."""

    def __init__(self, code: status.Code, details: str = "", description: str | None = None) -> None:
        super().__init__(details or status.description(code))
        self.code = code
        self.details = details
        self.description = description or status.description(code)

    @property
    def http_status(self) -> int:
        return status.http_status(self.code)


def not_found(what: str) -> ApiError:
    return ApiError(status.CONN_DOES_NOT_EXIST, details=f"{what} does not exist.")


def invalid(details: str) -> ApiError:
    return ApiError(status.CONN_INVALID_REQUEST, details=details)
