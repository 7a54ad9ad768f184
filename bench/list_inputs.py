"""ListInputs on a large app: query count, time and size by page size and by page depth.

Targets (from the issue): the query count is the same for per_page 1 and 1000; per_page 1000 takes at
most 8 times as long as per_page 128; page 700 takes at most 3 times as long as page 1 (per_page 128).
"""

import json
from dataclasses import dataclass

import httpx
from django.db import connection
from django.test.utils import CaptureQueriesContext
from harness import Target, Timing, measure, ms, table

TITLE = "ListInputs"
DEEP_PAGE = 700


@dataclass
class Case:
    name: str
    page: int
    per_page: int
    returned: int = 0
    queries: int = 0
    size: int = 0
    time: Timing | None = None
    http: Timing | None = None

    def row(self) -> list[object]:
        assert self.time is not None, "the case has not run"
        measured = [ms(self.time.median), ms(self.time.p90)]
        over_http = [ms(self.http.median), ms(self.http.p90)] if self.http else []
        return [self.name, self.returned, self.queries, *measured, f"{self.size:,}", *over_http]

    @property
    def query(self) -> list[tuple[str, str]]:
        return [("page", str(self.page)), ("per_page", str(self.per_page))]


def _cases(inputs: int) -> list[Case]:
    # With a small data set (--inputs), the deep page is the last full one.
    deep = max(2, min(DEEP_PAGE, inputs // 128))
    return [
        Case("per_page 1", 1, 1),
        Case("per_page 128", 1, 128),
        Case("per_page 1000", 1, 1000),
        Case(f"page {deep}, per_page 128", deep, 128),
    ]


def _run(target: Target, case: Case, path: str) -> None:
    with CaptureQueriesContext(connection) as queries:
        reply = target.get(path, case.query)
    body = json.loads(reply.body)
    if reply.status != 200:
        raise SystemExit(f"ListInputs {case.name} answered {reply.status}: {body['status']}")
    case.returned, case.queries, case.size = len(body.get("inputs", [])), len(queries), len(reply.body)
    case.time = measure(lambda: target.get(path, case.query), target.runs)
    if target.http_url:
        with httpx.Client(base_url=target.http_url, headers={"Authorization": target.authorization}) as client:
            case.http = measure(lambda: client.get(path, params=tuple(case.query)).raise_for_status(), target.runs)


def _ratio(a: Timing | None, b: Timing | None) -> float:
    assert a is not None
    assert b is not None
    return a.median / b.median


def benchmark(target: Target) -> str:
    path = f"/v2/users/{target.user_id}/apps/{target.app_id}/inputs"
    cases = _cases(target.inputs)
    for case in cases:
        _run(target, case, path)
    one, page_1, thousand, deep = cases
    http = target.http_url is not None
    headers = ["request", "inputs", "queries", "median ms", "p90 ms", "bytes"] + (
        ["HTTP median ms", "HTTP p90 ms"] if http else []
    )
    rows = [c.row() for c in cases]
    by_size = _ratio(thousand.time, page_1.time)
    by_depth = _ratio(deep.time, page_1.time)
    checks = [
        [
            "queries: per_page 1000 vs per_page 1",
            f"{thousand.queries} vs {one.queries}",
            "equal",
            "pass" if thousand.queries == one.queries else "MISS",
        ],
        ["time: per_page 1000 / per_page 128", f"{by_size:.2f}x", "≤ 8x", "pass" if by_size <= 8 else "MISS"],
        [f"time: page {deep.page} / page 1", f"{by_depth:.2f}x", "≤ 3x", "pass" if by_depth <= 3 else "MISS"],
    ]
    if http:
        http_size = _ratio(thousand.http, page_1.http)
        http_depth = _ratio(deep.http, page_1.http)
        checks += [
            [
                "HTTP time: per_page 1000 / per_page 128",
                f"{http_size:.2f}x",
                "≤ 8x",
                "pass" if http_size <= 8 else "MISS",
            ],
            [
                f"HTTP time: page {deep.page} / page 1",
                f"{http_depth:.2f}x",
                "≤ 3x",
                "pass" if http_depth <= 3 else "MISS",
            ],
        ]
    note = (
        f"{target.inputs:,} inputs; in-process through `dispatch.handle` (what the HTTP view calls)"
        + (", and over HTTP (wsgiref, one connection per request)" if http else "")
        + f"; {target.runs} runs after 3 warm-up runs."
    )
    return "\n\n".join(
        [
            note,
            table(headers, rows, right=set(range(1, len(headers)))),
            table(["check", "measured", "target", "result"], checks),
        ]
    )
