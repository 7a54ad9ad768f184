"""The same requests on an app of 10,000 inputs and on one of 1,000,000: what grows with the data set.

Targets (from the issue), 1M against 10k: the inputs grid's partial at page 1 and a middle page at most
1.5 times, the last page at most 3 times, the status counts at most 2 times, a filter with no matching
inputs and a thumbnail's first fetch at most 1.5 times; a thumbnail's first fetch through the console at
10k at most 2 ms p50 (its local API part).

The two apps are `distinct-10000` and `distinct-1000000` of user `demo`, every input with a picture and
media key of its own (`seed_demo --distinct`), seeded once and reused (1M takes minutes: seed it first
with `manage.py seed_demo --inputs 1000000 --app distinct-1000000 --distinct` against the same database).
BENCH_MILLION_SIZES="10000,1000000" chooses the sizes. Meant for PostgreSQL (BENCH_DATABASE_URL).

Grid requests go through Django's test client (every middleware, no socket) over the built-in connection,
each URL again and again (its tiles come from the console's cache after the first time; the times are
mostly the local API's). A thumbnail's first fetch takes a different input each run, at random places in
the app, through the console's media view (its cache does not have it yet) and, separately, straight
from the local API's hosted-media route (`dispatch.handle`).
"""

import os
import random
import re
import sys

from console_pages import _builtin_connection, _client, _p50, _percentile, _sample, _static_storage
from django.db import connection as database
from django.test import override_settings
from harness import Target, measure, table

from console.localapi import demo, dispatch
from console.localapi.models import App, Input

TITLE = "At a million inputs"
PER_PAGE = 128
THUMBNAILS = re.compile(r'src="(/c/\d+/media\?u=[^"]+)"')


def _sizes() -> list[int]:
    return [int(n) for n in os.environ.get("BENCH_MILLION_SIZES", "10000,1000000").split(",")]


def _app(size: int) -> App:
    app_id = f"distinct-{size}"

    def progress(done: int, total: int) -> None:
        if done % 100_000 == 0 or done == total:
            print(f"  seeding {app_id}: {done:,} / {total:,}", file=sys.stderr)

    demo.seed_large(app_id, size, distinct=True, batch_size=10_000, progress=progress)
    return App.objects.get(user_id=demo.DEMO_USER, app_id=app_id, deleted=False)


def _measure_size(size: int, runs: int, target: Target) -> dict[str, tuple[float, float]]:
    """p50 and p90 in ms of each request on the app of `size` inputs."""
    app = _app(size)
    connection = _builtin_connection()
    client = _client()
    htmx = {"HX-Request": "true"}
    grid = f"/c/{connection.pk}/apps/{app.app_id}/inputs/?per_page={PER_PAGE}"
    last = -(-size // PER_PAGE)
    results: dict[str, tuple[float, float]] = {}
    with override_settings(**_static_storage()):
        for name, url in [
            ("grid partial, page 1", f"{grid}&page=1"),
            ("grid partial, middle page", f"{grid}&page={last // 2}"),
            ("grid partial, last page", f"{grid}&page={last}"),
            ("grid partial, filter with no match (failed)", f"{grid}&status=failed"),
        ]:
            s = _sample(client, [url] * (3 + runs), headers=htmx)
            results[name] = (_p50(s.total), _percentile(s.total, 0.9))

        counts = f"/v2/users/{demo.DEMO_USER}/apps/{app.app_id}/inputs/status"
        timing = measure(lambda: dispatch.handle("GET", counts, [], target.authorization, b"", "http://b"), runs)
        results["status counts (GetInputCount, local API)"] = (timing.median * 1000, timing.p90 * 1000)

        rng = random.Random(size)
        pages = rng.sample(range(1, last + 1), min(runs, last))
        sources = []
        for page in pages:  # not timed: where the thumbnails' signed URLs come from
            html = client.get(f"{grid}&page={page}", headers=htmx).content.decode()
            found = THUMBNAILS.findall(html)
            sources.append(rng.choice(found).replace("&amp;", "&"))
        s = _sample(client, sources, warmup=0)
        results["thumbnail first fetch (console media view)"] = (_p50(s.total), _percentile(s.total, 0.9))

        inputs = Input.objects.filter(app=app).order_by("pk")
        first, final = inputs[0].pk, inputs.reverse()[0].pk
        keys = [
            inputs.filter(pk__gte=rng.randint(first, final)).values_list("media_key", flat=True).first()
            for _ in range(runs + 3)
        ]
        paths = iter([f"/v2/hosted/tiny/apps/{app.pk}/inputs/image/{key}" for key in keys])
        timing = measure(lambda: dispatch.handle("GET", next(paths), [], target.authorization, b"", "http://b"), runs)
        results["thumbnail first fetch (local API hosted route)"] = (timing.median * 1000, timing.p90 * 1000)
    return results


TARGETS = {
    "grid partial, page 1": 1.5,
    "grid partial, middle page": 1.5,
    "grid partial, last page": 3.0,
    "grid partial, filter with no match (failed)": 1.5,
    "status counts (GetInputCount, local API)": 2.0,
    "thumbnail first fetch (console media view)": 1.5,
    "thumbnail first fetch (local API hosted route)": 1.5,
}


def benchmark(target: Target) -> str:
    if database.vendor != "postgresql" and "BENCH_MILLION_SIZES" not in os.environ:
        return "Skipped: meant for PostgreSQL (BENCH_DATABASE_URL), or set BENCH_MILLION_SIZES to try it here."
    sizes = _sizes()
    measured = {size: _measure_size(size, target.runs, target) for size in sizes}
    small, large = sizes[0], sizes[-1]
    headers = ["request"]
    for size in sizes:
        headers += [f"{size:,}: p50 ms", f"{size:,}: p90 ms"]
    headers += [f"ratio p50 {large:,} / {small:,}", "target", "result"]
    rows = []
    for name, limit in TARGETS.items():
        row: list[object] = [name]
        for size in sizes:
            p50, p90 = measured[size][name]
            row += [f"{p50:.1f}", f"{p90:.1f}"]
        ratio = measured[large][name][0] / measured[small][name][0]
        row += [f"{ratio:.2f}x", f"≤ {limit}x", "pass" if ratio <= limit else "MISS"]
        rows.append(row)
    checks = [
        [
            f"{name}, {small:,} inputs, p50",
            f"{measured[small][name][0]:.1f} ms",
            "≤ 2 ms",
            "pass" if measured[small][name][0] <= 2 else "MISS",
        ]
        for name in ("thumbnail first fetch (console media view)", "thumbnail first fetch (local API hosted route)")
    ]
    note = (
        f"{database.vendor}; apps of {', '.join(f'{s:,}' for s in sizes)} inputs, each with its own picture; "
        f"{target.runs} runs per request after 3 warm-up runs (none for thumbnails: each run is a different "
        "input, at random places); grid requests through Django's test client, times from Server-Timing "
        f"(total), per_page {PER_PAGE}, each URL again and again (tiles cached by the console after the first)."
    )
    return "\n\n".join(
        [
            note,
            table(headers, rows, right=set(range(1, len(headers) - 1))),
            table(["check", "measured", "target", "result"], checks),
        ]
    )
