"""Fixtures for the Clarifai client: a scripted fake API on httpx.MockTransport, and a client on it."""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from console.clarifai import ClarifaiClient, RetryPolicy

TOKEN = "SENTINEL-TOKEN-1234567890"
BASE_URL = "https://api.example.com"

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def ok(**fields: Any) -> httpx.Response:
    return httpx.Response(200, json={"status": {"code": 10000, "description": "Ok", "req_id": "r1"}, **fields})


def status(
    code: int, http_status: int = 400, description: str = "", details: str = "", **headers: str
) -> httpx.Response:
    body = {"status": {"code": code, "description": description, "details": details, "req_id": "req-42"}}
    return httpx.Response(http_status, json=body, headers=headers)


def html(http_status: int, **headers: str) -> httpx.Response:
    return httpx.Response(
        http_status, text="<html><body>Nope</body></html>", headers={"Content-Type": "text/html", **headers}
    )


@dataclass
class FakeAPI:
    """Answers requests with the scripted replies in order; the last reply repeats."""

    replies: list[Reply]
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        if isinstance(reply, Exception):
            raise reply
        if callable(reply) and not isinstance(reply, httpx.Response):
            return reply(request)
        # A Response is consumed by being sent: hand out a fresh copy each time.
        return httpx.Response(reply.status_code, headers=reply.headers, content=reply.content)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


@dataclass
class Harness:
    api: FakeAPI
    client: ClarifaiClient
    sleeps: list[float]


@pytest.fixture
def make_client() -> Iterator[Callable[..., Harness]]:
    clients: list[ClarifaiClient] = []

    def make(*replies: Reply, **kwargs: Any) -> Harness:
        api = FakeAPI(list(replies) or [ok()])
        sleeps: list[float] = []
        kwargs.setdefault("retry", RetryPolicy(base_wait=0.01, max_wait=0.02, sleep=sleeps.append))
        client = ClarifaiClient(BASE_URL, TOKEN, "alice", transport=httpx.MockTransport(api), **kwargs)
        clients.append(client)
        return Harness(api, client, sleeps)

    yield make
    for client in clients:
        client.close()
