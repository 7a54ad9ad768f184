"""The one error family of the Clarifai client: views catch `ClarifaiError` and show its `message`.

Every message is written for the person using the console, names the server by its host, and never
holds the token (the client redacts it even from text the server sends back).
"""

from typing import NamedTuple

from clarifai_grpc.grpc.api.status import status_code_pb2

REDACTED = "[token]"


class ItemStatus(NamedTuple):
    """One item's status in an answer about many (the inputs of a PostInputs)."""

    id: str
    code: int
    description: str
    details: str


class ClarifaiError(Exception):
    """A call to the Clarifai API failed; `message` says why in words fit to show a user.

    `retryable` says the failure is transient (a refused connection, a 503, throttling): trying the same
    call again later may succeed. The client retries idempotent calls by itself; a job that made a
    create or a delete can use it to decide whether to schedule another try. `retry_after` is the
    server's `Retry-After` in seconds, when it sent one.

    `outcome_unknown` is set on a failed write (a call that changes something) whose request may have
    reached the API and been applied: the answer timed out, the connection broke after the request went
    out, or what came back was not a Clarifai answer. It is never set when nothing was sent (the host
    could not be reached) nor when the API answered with a failure status (then nothing was applied).
    `req_id` is the API's request id, from the status or the `X-Clarifai-Request-ID` header.
    """

    def __init__(
        self,
        message: str,
        *,
        rpc: str = "",
        retryable: bool = False,
        retry_after: float | None = None,
        outcome_unknown: bool = False,
        req_id: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.rpc = rpc
        self.retryable = retryable
        self.retry_after = retry_after
        self.outcome_unknown = outcome_unknown
        self.req_id = req_id

    def __str__(self) -> str:
        return self.message

    def redact(self, secret: str) -> None:
        """Remove `secret` from every text this error carries (a server may echo what it was sent)."""
        if not secret:
            return
        for name, value in vars(self).items():
            if isinstance(value, str) and secret in value:
                setattr(self, name, value.replace(secret, REDACTED))
        self.args = (self.message,)


class ClarifaiTransportError(ClarifaiError):
    """The server could not be reached, or the connection failed during the call."""


class ClarifaiTimeout(ClarifaiError):
    """The call did not finish within its deadline, or a connection could not be made in time."""


class ClarifaiProtocolError(ClarifaiError):
    """The server answered, but not the way a Clarifai API answers (an HTML page, a body of the wrong shape)."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        rpc: str = "",
        retryable: bool = False,
        retry_after: float | None = None,
        outcome_unknown: bool = False,
        req_id: str = "",
    ) -> None:
        super().__init__(
            message,
            rpc=rpc,
            retryable=retryable,
            retry_after=retry_after,
            outcome_unknown=outcome_unknown,
            req_id=req_id,
        )
        self.http_status = http_status


class ClarifaiTooLarge(ClarifaiProtocolError):
    """The answer is bigger than the caller allowed (a picture past the media cap, a runaway response)."""


class ClarifaiStatusError(ClarifaiError):
    """The API answered with a status other than success (10000) or mixed status (10010)."""

    # The statuses of the answer's inputs, when it listed them: a refused PostInputs says which input was
    # refused, and why. Redacted with the rest.
    items: tuple["ItemStatus", ...] = ()

    def __init__(
        self,
        *,
        code: int,
        description: str = "",
        details: str = "",
        req_id: str = "",
        http_status: int | None = None,
        rpc: str = "",
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        self.code = code
        self.description = description
        self.details = details
        self.http_status = http_status
        text = status_message(code, description, details)
        if code == THROTTLED or http_status == 429:
            text = f"{text}. {try_again(retry_after).capitalize()}."
        super().__init__(text, rpc=rpc, retryable=retryable, retry_after=retry_after, req_id=req_id)

    @property
    def code_name(self) -> str:
        return code_name(self.code)

    def redact(self, secret: str) -> None:
        super().redact(secret)
        if secret:
            self.items = tuple(
                ItemStatus(
                    i.id.replace(secret, REDACTED),
                    i.code,
                    i.description.replace(secret, REDACTED),
                    i.details.replace(secret, REDACTED),
                )
                for i in self.items
            )

    @property
    def is_auth_failure(self) -> bool:
        """The token is wrong, expired, lacks scopes or is over its limits: asking again will not help."""
        return self.http_status in (401, 403) or (11000 <= self.code <= 11009 and self.code != THROTTLED)


SUCCESS = status_code_pb2.SUCCESS
MIXED_STATUS = status_code_pb2.MIXED_STATUS
THROTTLED = status_code_pb2.CONN_THROTTLED


def code_name(code: int) -> str:
    """The symbolic name of a status code, such as CONN_KEY_INVALID; the number itself if it has none."""
    try:
        return status_code_pb2.StatusCode.Name(status_code_pb2.StatusCode.ValueType(code))
    except ValueError:
        return str(code)


def try_again(retry_after: float | None) -> str:
    """When to try again, in words: from the server's Retry-After, or "in a moment"."""
    if retry_after is None or retry_after < 1.5:
        return "try again in a moment"
    if retry_after < 90:
        return f"try again in {round(retry_after)} seconds"
    minutes = round(retry_after / 60)
    return f"try again in {minutes} minute{'s' if minutes != 1 else ''}"


def status_message(code: int, description: str, details: str) -> str:
    # The description is the code's generic text ("Resource does not exist"); details say which one.
    text = description.strip() or "The Clarifai API refused the request"
    details = details.strip()
    if details and details != text:
        text = f"{text.rstrip('.')}: {details}"
    return f"{text} ({code_name(code)}, {code})"
