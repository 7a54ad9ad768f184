"""PostInputsSearches on a large app against a plain ListInputs of the same page: queries and time.

Targets (from the issue): a search with a concept filter or a metadata filter costs a constant number
of queries (the same for per_page 1 and 1000) and takes at most 2 times a ListInputs of the same page
size. On PostgreSQL it also prints how the database runs the metadata filters (EXPLAIN).
"""

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from harness import ORIGIN, Target, Timing, ms, table

from console.localapi import dispatch

TITLE = "PostInputsSearches"
PER_PAGE = 128


def _concept(concept_id: str, value: int) -> dict[str, Any]:
    return {"annotation": {"data": {"concepts": [{"id": concept_id, "value": value}]}}}


def _metadata(**values: Any) -> dict[str, Any]:
    return {"annotation": {"data": {"metadata": values}}}


@dataclass
class Case:
    name: str
    filters: list[dict[str, Any]] | None  # None: ListInputs
    kind: str = ""  # "concept" or "metadata": held to the 2x target
    returned: int = 0
    queries: dict[int, int] = field(default_factory=dict)  # per_page -> queries
    time: Timing | None = None


def _cases() -> list[Case]:
    return [
        Case("ListInputs", None),
        Case("search, no filter", []),
        Case("concept star = 1 (about 1 in 4)", [_concept("star", 1)], "concept"),
        Case("concept circle = 0 (a negative label)", [_concept("circle", 0)], "concept"),
        Case("metadata split = test (about 1 in 5)", [_metadata(split="test")], "metadata"),
        Case("metadata picture = 7 (about 1 in 64)", [_metadata(picture=7)], "metadata"),
        Case("dataset test", [{"input": {"dataset_ids": ["test"]}}]),
        Case("concept star = 1 and split = test", [_concept("star", 1), _metadata(split="test")], "concept"),
        Case("metadata split = none (no input matches)", [_metadata(split="none")]),
    ]


def _call(target: Target, case: Case, per_page: int) -> Callable[[], dispatch.Reply]:
    base = f"/v2/users/{target.user_id}/apps/{target.app_id}/inputs"
    if case.filters is None:
        query = [("page", "1"), ("per_page", str(per_page))]
        return lambda: target.get(base, query)
    body = json.dumps(
        {"searches": [{"query": {"filters": case.filters}}], "pagination": {"page": 1, "per_page": per_page}}
    ).encode()
    return lambda: dispatch.handle("POST", f"{base}/searches", [], target.authorization, body, ORIGIN)


def _count(target: Target, case: Case) -> None:
    for per_page in (1, 1000, PER_PAGE):
        call = _call(target, case, per_page)
        with CaptureQueriesContext(connection) as queries:
            reply = call()
        body = json.loads(reply.body)
        if reply.status != 200:
            raise SystemExit(f"{case.name} answered {reply.status}: {body['status']}")
        case.queries[per_page] = len(queries)
        case.returned = len(body.get("hits", body.get("inputs", [])))


def _time(target: Target, cases: list[Case]) -> None:
    """Each case's runs interleaved with the others', so that a change in the machine's load while the
    benchmark runs falls on every case alike rather than on whichever ran then."""
    calls = [_call(target, case, PER_PAGE) for case in cases]
    times: list[list[float]] = [[] for _ in cases]
    for run in range(target.runs + 3):
        for n, call in enumerate(calls):
            started = time.perf_counter()
            call()
            if run >= 3:
                times[n].append(time.perf_counter() - started)
    for case, spent in zip(cases, times, strict=True):
        spent.sort()
        case.time = Timing(
            statistics.median(spent), spent[min(len(spent) - 1, round(0.9 * (len(spent) - 1)))], len(spent)
        )


def _explain(target: Target, filters: list[dict[str, Any]]) -> str:
    from clarifai_grpc.grpc.api import resources_pb2
    from google.protobuf import json_format

    from console.localapi.models import App
    from console.localapi.query import search_inputs

    app = App.objects.get(user_id=target.user_id, app_id=target.app_id)
    search = json_format.ParseDict({"query": {"filters": filters}}, resources_pb2.Search())
    inputs = search_inputs(app, search)
    page = inputs.order_by("-id").values_list("pk", flat=True)[:PER_PAGE]
    return "\n".join(
        [
            "page of 128: " + page.explain(),
            "count (only_count): " + inputs.order_by().values("pk").explain(),
        ]
    )


def _analyze() -> None:
    """Give PostgreSQL's planner the statistics autovacuum would have gathered after the seeding."""
    with connection.cursor() as cursor:
        for table_name in ("localapi_input", "localapi_inputconcept", "localapi_datasetinput"):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table_name)}")


def benchmark(target: Target) -> str:
    if connection.vendor == "postgresql":
        _analyze()
    cases = _cases()
    for case in cases:
        _count(target, case)
    _time(target, cases)
    base = cases[0]
    assert base.time is not None
    rows = []
    checks = []
    for case in cases:
        assert case.time is not None
        ratio = case.time.median / base.time.median
        rows.append(
            [
                case.name,
                case.returned,
                f"{case.queries[1]} / {case.queries[1000]}",
                ms(case.time.median),
                ms(case.time.p90),
                f"{ratio:.2f}x",
            ]
        )
        if case.kind:
            constant = case.queries[1] == case.queries[1000]
            checks.append(
                [
                    f"{case.name}: queries per_page 1 / 1000",
                    f"{case.queries[1]} / {case.queries[1000]}",
                    "equal",
                    "pass" if constant else "MISS",
                ]
            )
            checks.append(
                [f"{case.name}: time / ListInputs", f"{ratio:.2f}x", "≤ 2x", "pass" if ratio <= 2 else "MISS"]
            )
    note = (
        f"{target.inputs:,} inputs; page 1 at per_page {PER_PAGE}, in-process through `dispatch.handle`; "
        f"{target.runs} runs of each after 3 warm-up runs, the cases taking turns. Queries are counted at "
        "per_page 1 and 1000."
    )
    parts = [
        note,
        table(
            ["request", "hits", "queries (1 / 1000)", "median ms", "p90 ms", "vs ListInputs"],
            rows,
            right={1, 2, 3, 4, 5},
        ),
        table(["check", "measured", "target", "result"], checks),
    ]
    if connection.vendor == "postgresql":
        for name, filters in (
            ("split = test", [_metadata(split="test")]),
            ("picture = 7", [_metadata(picture=7)]),
            ("split = none", [_metadata(split="none")]),
        ):
            parts.append(f"EXPLAIN, metadata {name}:\n\n```\n{_explain(target, filters)}\n```")
    return "\n\n".join(parts)
