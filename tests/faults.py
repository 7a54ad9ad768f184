"""A Clarifai API stand-in over real HTTP that misbehaves on request, for the fault tests.

By default it answers every RPC with success and echoes a write's body (so PatchInputs answers the
inputs it was sent). `server.fault(method, kind)` makes the requests of one HTTP method misbehave:

    delay      answers, but only after FAULT_DELAY seconds
    hang       never answers (until the server stops)
    truncate   sends half of a success answer, then closes the connection
    reset      reads the request, then resets the connection without answering
    close      reads the request, then closes the connection without answering
    500        an HTML page with HTTP 500
    502        an HTML page with HTTP 502 (a gateway in front of the API)
    429        HTTP 429 with Retry-After: 30, no Clarifai status
    html       an HTML page with HTTP 200
    refuse     a Clarifai failure status (HTTP 400, 11102 "invalid request")

Every request is recorded in `received` (method, path, body) before its fault is applied: a write
that was received and not refused is one the API may have applied.
"""

import contextlib
import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.servers import QuietHandler, serving

FAULT_DELAY = 30.0  # longer than any test's deadline

KINDS = ("delay", "hang", "truncate", "reset", "close", "500", "502", "429", "html", "refuse")


@dataclass
class FaultServer:
    url: str
    received: list[tuple[str, str, Any]] = field(default_factory=list)
    faults: dict[str, str] = field(default_factory=dict)
    release: threading.Event = field(default_factory=threading.Event)
    picture: bytes = b""  # what GET /media/... answers, when set

    def fault(self, method: str, kind: str) -> None:
        assert kind in KINDS, kind
        self.faults[method] = kind

    def writes(self) -> list[tuple[str, str, Any]]:
        return [r for r in self.received if r[0] != "GET"]


def _ok(body: Any) -> bytes:
    answer = {"status": {"code": 10000, "description": "Ok", "req_id": "fault-req"}}
    if isinstance(body, dict):
        answer.update({k: v for k, v in body.items() if isinstance(v, list)})
    return json.dumps(answer).encode()


@contextmanager
def fault_server() -> Iterator[FaultServer]:
    state = FaultServer(url="")

    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw
            state.received.append((self.command, self.path, body))
            if self.command == "GET" and self.path.startswith("/media/") and state.picture:
                return self._send(200, state.picture, "application/octet-stream")
            kind = state.faults.get(self.command, "ok")
            if kind in ("delay", "hang"):
                state.release.wait(FAULT_DELAY if kind == "delay" else None)
                if state.release.is_set():
                    return self._close()
                return self._send(200, _ok(body), "application/json")
            if kind == "truncate":
                content = _ok(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content[: len(content) // 2])
                self.wfile.flush()
                return self._close()
            if kind == "reset":
                # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return self._close(reset=True)
            if kind == "close":
                return self._close()
            if kind in ("500", "502", "html"):
                status = 200 if kind == "html" else int(kind)
                return self._send(status, b"<html><body>Oops</body></html>", "text/html")
            if kind == "429":
                return self._send(
                    429, b"Too many", "text/plain", {"Retry-After": "30", "X-Clarifai-Request-ID": "r429"}
                )
            if kind == "refuse":
                refusal = {"code": 11102, "description": "Invalid request", "details": "refused", "req_id": "r-refused"}
                return self._send(400, json.dumps({"status": refusal}).encode(), "application/json")
            return self._send(200, _ok(body), "application/json")

        def _send(self, status: int, content: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(content)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(content)

        def _close(self, *, reset: bool = False) -> None:
            self.close_connection = True
            try:
                if not reset:
                    self.connection.shutdown(socket.SHUT_RDWR)
                self.connection.close()
            except OSError:
                pass

        def finish(self) -> None:
            with contextlib.suppress(OSError):  # the connection was closed on purpose
                super().finish()

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _handle  # noqa: N815

    with serving(Handler) as url:
        state.url = url
        try:
            yield state
        finally:
            state.release.set()
            time.sleep(0)  # let released handlers see it before the server closes
