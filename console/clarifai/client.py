"""The console's client for the Clarifai REST API: one long-lived httpx client per connection.

`ClarifaiClient.call(rpc, request)` takes a clarifai-grpc request message and answers the RPC's response
message; `iter_pages` walks a list RPC page by page; `get_bytes` fetches a hosted picture. Every call is
bounded by an overall deadline (retries and slow bodies included) and by the time budget of the console
request making it (`console.clarifai.budget`); idempotent calls are retried on transient failures; at
most `max_calls` run at once per client, so one hanging API cannot take every thread; and every
failure is a `ClarifaiError`. The token travels only in the `Authorization` header, and only to hosts
that `_may_send_token_to` allows, redirects included; it is kept out of URLs, messages, logs and reprs.
"""

import email.utils
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any, NamedTuple, TypeVar

import httpx
from clarifai_grpc.grpc.api.status import status_pb2
from google.protobuf import json_format
from google.protobuf.message import Message
from tenacity import RetryCallState, Retrying, retry_if_exception, wait_random_exponential

from console.clarifai import budget, timing, wire
from console.clarifai.concurrency import CallSlots, SlotsTaken
from console.clarifai.errors import (
    MIXED_STATUS,
    SUCCESS,
    THROTTLED,
    ClarifaiError,
    ClarifaiProtocolError,
    ClarifaiStatusError,
    ClarifaiTimeout,
    ClarifaiTooLarge,
    ClarifaiTransportError,
    ItemStatus,
    try_again,
)
from console.clarifai.pictures import magic_type, picture_type

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=20.0, write=20.0, pool=5.0)
DEFAULT_DEADLINE = 30.0
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
RETRYABLE_HTTP = frozenset({429, 500, 502, 503, 504})
# Calls to one API in flight at once (per client, so per connection and process), and how long a call
# runs before it counts as stuck. More than a page makes at once (the overview's five), fewer than the
# web server's threads per process (8): one hanging API leaves threads for everything else.
MAX_CALLS = 6
STUCK_AFTER = 3.0
MAX_REDIRECTS = 3
# What a body sent to a sink still returns, to tell its type by (a zip archive starts with 4 known bytes).
SNIFF_BYTES = 4096
WRITE_SHARE = 0.75  # of the request's time budget, at most, for one write
# Another try is made only when at least this long is left after waiting for it: a try with less could not
# usually finish, and would end the call with "no time was left" instead of the failure worth showing.
MIN_TRY_SECONDS = 0.25
USER_AGENT = f"clarifai-console/0.1 httpx/{httpx.__version__}"


@dataclass(frozen=True)
class RetryPolicy:
    """How idempotent calls are retried: `attempts` in all, with random exponential waits between them.

    A server's `Retry-After` replaces the computed wait. No wait ever ends past the call's deadline:
    when it would, the call gives up at once with the last failure.
    """

    attempts: int = 3
    base_wait: float = 0.5
    max_wait: float = 8.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)


class Media(NamedTuple):
    content: bytes
    content_type: str


@dataclass(frozen=True)
class CallReport:
    """What one `call` did, for the client's `on_call` hook: told after every call, read or write, whether
    it succeeded or not. `write` says the RPC may change something (not a GET, nor a search by POST).
    `code` is the Clarifai status code of the answer (None when no status came back); `req_id` the
    request id the API gave."""

    rpc: str
    request: Message
    write: bool
    code: int | None
    req_id: str
    error: ClarifaiError | None = None


class ClarifaiClient:
    """A connection to one Clarifai API (the real one or a compatible one) with one token.

    Thread-safe; keep one per connection for the life of the process, and `close()` it when the
    connection changes. `transport` replaces the network (the console's in-process local API, or
    httpx.MockTransport in tests).
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        user_id: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        deadline: float = DEFAULT_DEADLINE,
        retry: RetryPolicy | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        media_hosts: Iterable[str] = (),
        max_calls: int = MAX_CALLS,
        stuck_after: float = STUCK_AFTER,
        on_call: Callable[[CallReport], None] | None = None,
        before_call: Callable[[], object] | None = None,
    ) -> None:
        try:
            url = httpx.URL(base_url.strip().rstrip("/"))
        except httpx.InvalidURL:
            raise ValueError("The base URL is not a valid URL.") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("The base URL must be an http:// or https:// URL with a host.")
        token = token.strip()
        # Checked here so that httpx never builds an error message around a header holding the token.
        if not token or not token.isascii() or not token.isprintable() or any(c.isspace() for c in token):
            raise ValueError("The token must be one word of printable ASCII characters.")
        self.base_url = str(url.copy_with(username=None, password=None, query=None, fragment=None))
        self.user_id = user_id or "me"
        self.timeout = httpx.Timeout(timeout)
        self.deadline = deadline
        self.retry = retry or RetryPolicy()
        self.max_response_bytes = max_response_bytes
        self._host = url.netloc.decode()
        self._media_hosts = frozenset(h.lower() for h in media_hosts)
        self._slots = CallSlots(max_calls, stuck_after)
        # Told what each call did (the console's audit trail listens); it must be cheap for reads.
        self._on_call = on_call
        # Run before every call goes out (the console's request-rate limit takes its turn there).
        self._before_call = before_call
        self._token = token
        # httpx.Headers masks Authorization in its repr, so the token stays out of tracebacks that show locals.
        self._auth = httpx.Headers({"Authorization": f"Key {token}"})
        self._http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            timeout=self.timeout,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "X-Clarifai-Request-ID-Prefix": "console"},
        )

    def __repr__(self) -> str:
        return f"<ClarifaiClient {self.base_url} user={self.user_id}>"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "ClarifaiClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- RPCs -------------------------------------------------------------------------------------

    def call(self, rpc: str, request: Message, *, deadline: float | None = None) -> Any:
        """Call `rpc` with its clarifai-grpc request message and return its response message.

        Returns on success (10000) and on mixed status (10010, where per-item statuses tell which items
        failed); raises a ClarifaiError otherwise. `deadline` (seconds) overrides the client's default
        for this call. Raises ValueError or TypeError for a call that cannot be built (unknown RPC, wrong
        request type, a field needed by the URL missing): those are bugs, not failures to show.
        """
        prepared = wire.prepare(rpc, request, self.user_id)
        if self._before_call is not None:
            self._before_call()
        started = time.perf_counter()
        try:
            response = self._with_retries(
                rpc, prepared.rpc.idempotent, deadline, lambda until: self._call_once(prepared, until)
            )
        except ClarifaiError as e:
            code = e.code if isinstance(e, ClarifaiStatusError) else None
            self._report(CallReport(rpc, request, not prepared.rpc.idempotent, code, e.req_id, e))
            raise
        finally:
            timing.record(rpc, started, time.perf_counter())
        status = response.status  # type: ignore[attr-defined]  # every response of the API has one
        self._report(CallReport(rpc, request, not prepared.rpc.idempotent, status.code, status.req_id))
        return response

    def _report(self, report: CallReport) -> None:
        if self._on_call is None:
            return
        try:
            self._on_call(report)
        except Exception:
            # The call happened upstream whatever the hook did: its failure must not look like the call's.
            log.exception("The on_call hook failed for %s", report.rpc)

    def iter_pages(
        self, rpc: str, request: Message, items_field: str, *, per_page: int = 128, deadline: float | None = None
    ) -> Iterator[Any]:
        """Yield the items of a list RPC page after page, from page 1, until a page comes back empty.

        The API has no total count, so an empty page is the only sign of the end. Requests with a
        `pagination` field (the searches) are paged through it, others through `page` and `per_page`.
        `deadline` applies to each page's call.
        """
        if not 1 <= per_page <= 1000:
            raise ValueError("per_page must be between 1 and 1000.")
        response_class = wire.get_rpc(rpc).response_class
        if items_field not in response_class.DESCRIPTOR.fields_by_name:
            raise ValueError(f"{response_class.DESCRIPTOR.name} has no field {items_field!r}.")
        fields = request.DESCRIPTOR.fields_by_name
        if "page" not in fields and "pagination" not in fields:
            raise ValueError(f"{request.DESCRIPTOR.name} is not paginated.")
        page = 1
        while True:
            paged = type(request)()
            paged.CopyFrom(request)
            target: Any = paged if "page" in fields else getattr(paged, "pagination")  # noqa: B009
            target.page = page
            target.per_page = per_page
            items = getattr(self.call(rpc, paged, deadline=deadline), items_field)
            if not items:
                return
            yield from items
            page += 1

    # --- Media ------------------------------------------------------------------------------------

    def get_bytes(self, url: str, max_bytes: int, *, deadline: float | None = None) -> Media:
        """Fetch a hosted picture (`{hosted.prefix}/{size}/{hosted.suffix}`) with the connection's token.

        Answers only a complete picture, with the content type its bytes show (not the one the server
        claims); anything else (a failure status, an HTML page, a truncated picture) raises a
        ClarifaiError. Raises ClarifaiTooLarge as soon as the body would pass `max_bytes`. The token is
        only sent to the API's own host, to `media_hosts`, and (for the real API) to https hosts under
        clarifai.com; any other URL is refused rather than fetched with it, and so is a redirect to one.
        """
        try:
            target = self._http.base_url.join(url) if url.startswith("/") else httpx.URL(url)
        except httpx.InvalidURL:
            raise ClarifaiProtocolError(f"The media URL {url!r} is not valid.", rpc="media") from None
        if not self._may_send_token_to(target):
            raise ClarifaiProtocolError(
                f"Will not fetch {target.host or url!r} with the connection's token: "
                f"media must come from {self._host}.",
                rpc="media",
            )
        started = time.perf_counter()
        try:
            return self._with_retries(
                "media", True, deadline, lambda until: self._get_bytes_once(target, max_bytes, until)
            )
        finally:
            timing.record("media", started, time.perf_counter())

    def get_archive(self, url: str, max_bytes: int, into: IO[bytes], *, deadline: float | None = None) -> None:
        """Fetch a finished dataset export (a zip archive at the API's `url`) with the connection's token
        into the file `into` (written from its start; a retry starts it again), under the rules of
        `get_bytes`: the token only to the API's own hosts, redirects checked, the size capped. Only a zip
        archive is kept; anything else raises a ClarifaiError. Archives can be large: they never sit in
        memory whole."""
        try:
            target = self._http.base_url.join(url) if url.startswith("/") else httpx.URL(url)
        except httpx.InvalidURL:
            raise ClarifaiProtocolError(f"The export URL {url!r} is not valid.", rpc="export") from None
        if not self._may_send_token_to(target):
            raise ClarifaiProtocolError(
                f"Will not fetch {target.host or url!r} with the connection's token: "
                f"exports must come from {self._host}.",
                rpc="export",
            )
        started = time.perf_counter()
        try:
            self._with_retries(
                "export",
                True,
                deadline,
                lambda until: self._get_bytes_once(
                    target, max_bytes, until, kind=_zip_type, accept="application/zip", noun="a zip archive", sink=into
                ),
            )
        finally:
            timing.record("export", started, time.perf_counter())

    def _may_send_token_to(self, url: httpx.URL) -> bool:
        if url.scheme not in ("http", "https") or not url.host:
            return False
        base = self._http.base_url
        if url.host == base.host and url.scheme == base.scheme and url.port == base.port:
            return True
        if url.scheme != "https":
            return False
        if url.host in self._media_hosts:
            return True
        # The real API serves hosted media from data.clarifai.com, a sibling of api.clarifai.com.
        return _under(base.host, "clarifai.com") and _under(url.host, "clarifai.com")

    def _get_bytes_once(
        self,
        url: httpx.URL,
        max_bytes: int,
        until: float,
        kind: Callable[[bytes], str | None] = picture_type,
        accept: str = "image/*",
        noun: str = "a picture",
        sink: IO[bytes] | None = None,
    ) -> Media:
        # With a `sink`, a 200 answer's body goes there and only its first bytes come back (to tell its type).
        # Redirects are followed here, one hop at a time, so that every hop passes the token check.
        for _ in range(MAX_REDIRECTS + 1):
            request = self._http.build_request(
                "GET", url, headers={**self._auth, "Accept": accept}, timeout=self._timeout_until(until)
            )
            response, body = self._exchange(request, until, max_bytes, "media", sink=sink)
            if not response.is_redirect:
                break
            url = self._redirect_target(url, response.headers["location"])
        else:
            raise ClarifaiProtocolError(
                f"{self._host} redirected the media more than {MAX_REDIRECTS} times.", rpc="media"
            )
        if response.status_code == 200:
            content_type = kind(body)
            if content_type is not None:
                return Media(body, content_type)
        data = wire.decode_object(body)
        if data is not None and isinstance(data.get("status"), dict):
            try:
                status = json_format.ParseDict(data["status"], status_pb2.Status(), ignore_unknown_fields=True)
            except json_format.ParseError:
                status = None
            if status is not None and status.code != SUCCESS:
                raise self._status_error("media", status, response)
        if response.status_code in RETRYABLE_HTTP:
            raise self._unavailable("media", response)
        if response.status_code == 200:
            started_as = magic_type(body)
            what = f"an incomplete {started_as} picture" if started_as else f"{_content_type(response)}, not {noun}"
            text = f"{url.host} sent {what} for the media at {url.path}."
        else:
            text = f"{url.host} answered HTTP {response.status_code} for the media at {url.path}."
        raise ClarifaiProtocolError(text, http_status=response.status_code, rpc="media", req_id=_req_id(response))

    def _redirect_target(self, url: httpx.URL, location: str) -> httpx.URL:
        try:
            target = url.join(location)
        except httpx.InvalidURL:
            raise ClarifaiProtocolError(f"{url.host} redirected the media to an invalid URL.", rpc="media") from None
        if not self._may_send_token_to(target):
            raise ClarifaiProtocolError(
                f"{url.host} redirected the media to {target.host or location!r}; the console fetches media "
                f"with the connection's token only from {self._host}.",
                rpc="media",
            )
        return target

    # --- One attempt ------------------------------------------------------------------------------

    def _call_once(self, prepared: wire.Prepared, until: float) -> Message:
        rpc = prepared.rpc.name
        request = self._http.build_request(
            prepared.verb,
            prepared.path,
            params=prepared.params,
            content=prepared.body,
            headers={
                **self._auth,
                "Accept": "application/json",
                **({"Content-Type": "application/json"} if prepared.body is not None else {}),
            },
            timeout=self._timeout_until(until),
        )
        response, body = self._exchange(request, until, self.max_response_bytes, rpc)
        data = wire.decode_object(body)
        if data is None or not isinstance(data.get("status"), dict):
            if response.status_code in RETRYABLE_HTTP:
                raise self._unavailable(rpc, response)
            raise ClarifaiProtocolError(
                f"{self.base_url} did not answer like a Clarifai API ({_describe(response)}).",
                http_status=response.status_code,
                rpc=rpc,
                # A garbled success, or a server error in front of the API: the request may have been applied.
                # A 3xx or 4xx page came from something that did not pass the request on.
                outcome_unknown=not 300 <= response.status_code < 500,
                req_id=_req_id(response),
            )
        try:
            message = wire.parse_response(data, prepared.rpc.response_class)
        except (json_format.ParseError, ValueError, TypeError) as e:
            raise ClarifaiProtocolError(
                f"{self.base_url} answered {rpc} with a body that does not fit its response: {e}",
                http_status=response.status_code,
                rpc=rpc,
                outcome_unknown=True,
                req_id=_req_id(response),
            ) from None
        status = message.status  # type: ignore[attr-defined]
        log.debug("%s %s %s: HTTP %s, status %s", rpc, prepared.verb, prepared.path, response.status_code, status.code)
        if status.code in (SUCCESS, MIXED_STATUS):
            return message
        error = self._status_error(rpc, status, response)
        error.items = tuple(
            ItemStatus(i.id, i.status.code, i.status.description, i.status.details)
            for i in getattr(message, "inputs", ())
        )
        raise error

    def _exchange(
        self, request: httpx.Request, until: float, max_bytes: int, rpc: str, sink: IO[bytes] | None = None
    ) -> tuple[httpx.Response, bytes]:
        """Send one request and read its whole body, within the deadline and the size cap. With a `sink`,
        a 200 answer's body is written there (from the sink's start) and only its first SNIFF_BYTES are
        returned; any other answer is read as usual.

        A failure after the request went out (no answer in time, the connection broken or closed
        mid-answer) leaves what the API did unknown: such errors carry `outcome_unknown`.
        """
        if time.monotonic() >= until:
            # Nothing was sent: the deadline (or the console request's budget) ran out before this call.
            raise ClarifaiTimeout(f"No time was left to call {self._host} for {rpc}.", rpc=rpc)
        try:
            response = self._http.send(request, stream=True)
            try:
                length = response.headers.get("content-length", "")
                if length.isdigit() and int(length) > max_bytes:
                    raise self._too_large(rpc, response, max_bytes)
                chunks = []
                size = 0
                if sink is not None and response.status_code == 200:
                    sink.seek(0)
                    sink.truncate()
                else:
                    sink = None
                # Per-read timeouts alone let a server that drips one byte at a time hold a call forever.
                for chunk in response.iter_bytes():
                    if sink is not None:
                        sink.write(chunk)
                        if size < SNIFF_BYTES:
                            chunks.append(chunk[: SNIFF_BYTES - size])
                    else:
                        chunks.append(chunk)
                    size += len(chunk)
                    if size > max_bytes:
                        raise self._too_large(rpc, response, max_bytes)
                    if time.monotonic() >= until:
                        raise self._timed_out(rpc, outcome_unknown=True)
            finally:
                response.close()
        except httpx.ConnectTimeout as e:
            raise ClarifaiTimeout(self._unreachable(e), rpc=rpc, retryable=True) from None
        except httpx.TimeoutException as e:
            raise self._timed_out(rpc, outcome_unknown=isinstance(e, httpx.ReadTimeout)) from None
        except httpx.ConnectError as e:
            raise ClarifaiTransportError(self._unreachable(e), rpc=rpc, retryable=True) from None
        except (httpx.RemoteProtocolError, httpx.ReadError) as e:
            raise ClarifaiTransportError(self._unreachable(e), rpc=rpc, retryable=True, outcome_unknown=True) from None
        except httpx.TransportError as e:
            raise ClarifaiTransportError(self._unreachable(e), rpc=rpc) from None
        except httpx.HTTPError as e:  # a body that cannot be decoded (bad gzip)
            raise ClarifaiProtocolError(
                f"{self._host} sent an answer that could not be read: {e}", rpc=rpc, outcome_unknown=True
            ) from None
        return response, b"".join(chunks)

    def _timeout_until(self, until: float) -> httpx.Timeout:
        remaining = max(until - time.monotonic(), 0.001)
        t = self.timeout
        return httpx.Timeout(
            connect=_at_most(t.connect, remaining),
            read=_at_most(t.read, remaining),
            write=_at_most(t.write, remaining),
            pool=_at_most(t.pool, remaining),
        )

    # --- Retries ----------------------------------------------------------------------------------

    def _with_retries(self, rpc: str, idempotent: bool, deadline: float | None, attempt: Callable[[float], T]) -> T:
        now = time.monotonic()
        until = now + (self.deadline if deadline is None else deadline)
        request_ends_at = budget.ends_at()
        if request_ends_at is not None:
            # A write leaves part of the request's time for what the page does after it: showing the form
            # again and the object as it is now, even when the write got no answer.
            left = request_ends_at - now
            until = min(until, now + (left if idempotent else left * WRITE_SHARE))

        def redacted(until: float) -> T:
            try:
                with self._slots.taken(until):
                    return attempt(until)
            except SlotsTaken:
                raise ClarifaiTransportError(
                    f"{self._slots.size} calls to {self._host} are already waiting for an answer; try again shortly.",
                    rpc=rpc,
                ) from None
            except ClarifaiError as e:
                e.redact(self._token)
                if idempotent:
                    e.outcome_unknown = False  # a read changes nothing, whatever became of it
                raise

        try:
            if not idempotent or self.retry.attempts <= 1:
                return redacted(until)
            return self._retrying(rpc, until)(redacted, until)
        except ClarifaiError as e:
            log.info("%s failed: %s", rpc, e.message)
            raise

    def _retrying(self, rpc: str, until: float) -> Retrying:
        return Retrying(
            retry=retry_if_exception(lambda e: isinstance(e, ClarifaiError) and e.retryable),
            wait=self._wait,
            stop=lambda state: (
                state.attempt_number >= self.retry.attempts
                or time.monotonic() + state.upcoming_sleep + MIN_TRY_SECONDS >= until
            ),
            sleep=self.retry.sleep,
            before_sleep=lambda state: _log_retry(rpc, state, self.retry.attempts),
            reraise=True,
        )

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, ClarifaiError) and error.retry_after is not None:
            return error.retry_after
        return wait_random_exponential(multiplier=self.retry.base_wait, max=self.retry.max_wait)(state)

    # --- Errors -----------------------------------------------------------------------------------

    def _status_error(self, rpc: str, status: Any, response: httpx.Response) -> ClarifaiStatusError:
        error = ClarifaiStatusError(
            code=status.code,
            description=status.description,
            details=status.details,
            req_id=status.req_id or response.headers.get("x-clarifai-request-id", ""),
            http_status=response.status_code,
            rpc=rpc,
            retry_after=retry_after_seconds(response.headers.get("retry-after")),
        )
        error.retryable = not error.is_auth_failure and (
            status.code == THROTTLED or response.status_code in RETRYABLE_HTTP
        )
        return error

    def _unavailable(self, rpc: str, response: httpx.Response) -> ClarifaiError:
        """A transient HTTP failure without a Clarifai status (retried for idempotent calls)."""
        retry_after = retry_after_seconds(response.headers.get("retry-after"))
        if response.status_code == 500:
            return ClarifaiProtocolError(
                f"{self.base_url} did not answer like a Clarifai API ({_describe(response)}).",
                http_status=500,
                rpc=rpc,
                retryable=True,
                outcome_unknown=True,
                req_id=_req_id(response),
            )
        if response.status_code == 429:
            text = f"{self._host} is receiving too many requests ({_describe(response)}); {try_again(retry_after)}."
        else:
            text = f"{self._host} is unavailable ({_describe(response)}); {try_again(retry_after)}."
        return ClarifaiTransportError(
            text,
            rpc=rpc,
            retryable=True,
            retry_after=retry_after,
            # A gateway's 502/503/504 may come after the API received the request; a 429 comes before.
            outcome_unknown=response.status_code != 429,
            req_id=_req_id(response),
        )

    def _timed_out(self, rpc: str, *, retryable: bool = False, outcome_unknown: bool = False) -> ClarifaiTimeout:
        text = (
            f"{self._host} did not send the media in time."
            if rpc == "media"
            else f"{self._host} did not answer {rpc} in time."
        )
        return ClarifaiTimeout(text, rpc=rpc, retryable=retryable, outcome_unknown=outcome_unknown)

    def _too_large(self, rpc: str, response: httpx.Response, max_bytes: int) -> ClarifaiTooLarge:
        return ClarifaiTooLarge(
            f"The answer from {response.url.host} is larger than {_size(max_bytes)}.",
            http_status=response.status_code,
            rpc=rpc,
            outcome_unknown=True,
            req_id=_req_id(response),
        )

    def _unreachable(self, error: httpx.HTTPError) -> str:
        return f"Could not reach {self._host}: {in_words(error)}."

    # Labeling: assignments and annotations -----------------------------------------------------------
    # Thin, typed wrappers: the labeler's workspace and the review queue (console.labeling.work) call these
    # with a member's client (console.labeling.identity.client_as), so the API records who did the work.

    def put_task_assignments(self, request: Message) -> Any:
        """PutTaskAssignments: LABEL_START, LABEL_SUBMIT, REVIEW_START, REVIEW_APPROVE / REJECT /
        REQUEST_CHANGES."""
        return self.call("PutTaskAssignments", request)

    def list_next_task_assignments(self, request: Message) -> Any:
        return self.call("ListNextTaskAssignments", request)

    def post_annotations(self, request: Message) -> Any:
        return self.call("PostAnnotations", request)

    def list_annotations(self, request: Message) -> Any:
        return self.call("ListAnnotations", request)

    def patch_annotations(self, request: Message) -> Any:
        return self.call("PatchAnnotations", request)


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header in seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


_NAME_NOT_FOUND = (
    "name or service not known",
    "nodename nor servname",
    "no address associated",
    "name resolution",
    "getaddrinfo failed",
    "name does not resolve",
)


def in_words(error: httpx.HTTPError) -> str:
    """What went wrong with a connection, in words rather than an errno."""
    text = str(error)
    lower = text.lower()
    if isinstance(error, httpx.ConnectTimeout):
        return "the connection timed out"
    if isinstance(error, httpx.ConnectError):
        if any(s in lower for s in _NAME_NOT_FOUND):
            return "the host name could not be found"
        if "refused" in lower:
            return "the connection was refused"
        if "unreachable" in lower:
            return "the network is unreachable"
        if "no route" in lower:
            return "there is no route to the host"
        if "certificate" in lower:
            return "its certificate could not be verified"
        if "ssl" in lower or "tls" in lower:
            return "a secure connection could not be set up"
    if isinstance(error, httpx.RemoteProtocolError):
        if "without sending a response" in lower:
            return "the connection was closed before an answer came"
        if "incomplete" in lower or "complete message body" in lower:
            return "the connection was closed in the middle of the answer"
        return "the answer did not follow the HTTP protocol"
    if isinstance(error, httpx.ReadError):
        return "the connection was reset" if "reset" in lower else "the connection broke during the answer"
    if isinstance(error, httpx.WriteError):
        return "the connection broke while the request was being sent"
    # Whatever else: without the errno prefix ("[Errno 101] Network is unreachable").
    text = text.split("] ", 1)[-1] if text.startswith("[Errno") else text
    return f"the connection failed ({text or type(error).__name__})"


def _zip_type(content: bytes) -> str | None:
    # A local file header, or the end record of an empty archive.
    return "application/zip" if content.startswith((b"PK\x03\x04", b"PK\x05\x06")) else None


def _req_id(response: httpx.Response) -> str:
    return str(response.headers.get("x-clarifai-request-id", ""))


def _content_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip() or "something without a content type"


def _log_retry(rpc: str, state: RetryCallState, attempts: int) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.info(
        "%s failed (%s); attempt %d of %d in %.2f s",
        rpc,
        error,
        state.attempt_number + 1,
        attempts,
        state.upcoming_sleep,
    )


def _describe(response: httpx.Response) -> str:
    content_type = response.headers.get("content-type", "").split(";")[0].strip() or "no content type"
    text = f"HTTP {response.status_code}, {content_type}"
    if response.is_redirect and "location" in response.headers:
        text += f", redirected to {response.headers['location']}"
    return text


def _at_most(value: float | None, limit: float) -> float:
    return limit if value is None else min(value, limit)


def _under(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} bytes"
