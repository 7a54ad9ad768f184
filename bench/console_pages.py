"""The console's own pages against the local API: the inputs grid (its HTMX partial and the full page) and
the app overview with a slow upstream.

Targets (from the issue): the console's own time per inputs-grid partial at 128 per page (its total minus
the time waiting on the API, from the Server-Timing header) has a p50 of at most 10 ms; the partial's
bytes are at most 20% of the full page's; with every upstream call slowed by 100 ms, the app overview
takes at most 1.3 times its slowest upstream call.

In-process, through Django's test client (the whole middleware stack, no socket), signed in as a staff
account of the benchmark database, over the built-in connection (the in-process local API transport).
"""

import gzip
import re
import statistics
import threading
import time
from dataclasses import dataclass, field

import httpx
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.staticfiles.storage import staticfiles_storage
from django.test import Client, override_settings
from harness import Target, table

from console.connections import clients
from console.connections.models import BUILTIN_BASE_URL, Connection
from console.localapi.demo import DEMO_USER
from console.localapi.models import Token
from console.localapi.models import User as LocalUser
from console.localapi.transport import LocalAPITransport
from console.teams.models import Membership, Role

TITLE = "Console pages"
PER_PAGE = 128
WARMUP = 3
OVERVIEW_RUNS = 10
UPSTREAM_DELAY = 0.100  # seconds added to every upstream call for the overview
CONSOLE_USER = "bench"
ISSUED_FOR = "bench/console_pages.py"  # the description of the token it issues
TILE = re.compile(rb'<article class="tile".*?</article>', re.DOTALL)
TIMING = re.compile(r"(\w+);dur=([0-9.]+)")
CALLS = re.compile(r'desc="(\d+) calls"')


class SlowLocalAPITransport(LocalAPITransport):
    """The in-process local API, 100 ms slower per call (a remote API's latency); records each call."""

    calls: list[tuple[str, float, float]] = []
    _lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        time.sleep(UPSTREAM_DELAY)
        response = super().handle_request(request)
        with self._lock:
            self.calls.append((request.url.path, started, time.perf_counter()))
        return response


@dataclass
class Samples:
    """Server-Timing values (ms) and sizes of the runs of one request."""

    total: list[float] = field(default_factory=list)
    upstream: list[float] = field(default_factory=list)
    app: list[float] = field(default_factory=list)
    content: bytes = b""  # of the last run
    calls: int = 0

    @property
    def runs(self) -> int:
        return len(self.app)

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def gzip_size(self) -> int:
        return len(gzip.compress(self.content))


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _p50(values: list[float]) -> float:
    return statistics.median(values)


def _server_timing(header: str) -> dict[str, float]:
    return {name: float(value) for name, value in TIMING.findall(header)}


def _builtin_connection() -> Connection:
    """The built-in connection to the local API as `demo`, as bootstrap_console makes it, with a fresh token.

    (Not bootstrap_console itself: it would also make a first account and write its password under var/.)
    """
    demo = LocalUser.objects.get(id=DEMO_USER)
    Token.objects.filter(user=demo, description=ISSUED_FOR).delete()
    _, secret = Token.issue(demo, description=ISSUED_FOR)
    connection = Connection.objects.filter(builtin=True).first() or Connection(
        name="Local demo", builtin=True, base_url=BUILTIN_BASE_URL
    )
    connection.user_id = demo.id
    connection.set_token(secret)
    connection.save()
    return connection


def _client() -> Client:
    user, _ = get_user_model().objects.get_or_create(username=CONSOLE_USER, defaults={"is_staff": True})
    builtin = Connection.objects.filter(builtin=True).first()
    if builtin is not None:  # an admin of its team, so that every page and action is open to it
        Membership.objects.update_or_create(team=builtin.team, user=user, defaults={"role": Role.ADMIN})
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


def _static_storage() -> dict[str, object]:
    """The configured static storage if collectstatic has run, else the plain one (as the tests use)."""
    try:
        staticfiles_storage.url("css/console.css")
    except ValueError:
        plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
        return {"STORAGES": {**settings.STORAGES, "staticfiles": plain}}
    return {}


def _sample(client: Client, paths: list[str], warmup: int = WARMUP, headers: dict[str, str] | None = None) -> Samples:
    """GET each path in turn (the first `warmup` ones are not counted)."""
    samples = Samples()
    for run, path in enumerate(paths):
        response = client.get(path, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"GET {path} answered {response.status_code}:\n{response.content[:2000].decode()}")
        if run < warmup:
            continue
        timing = _server_timing(response["Server-Timing"])
        samples.total.append(timing["total"])
        samples.upstream.append(timing["upstream"])
        samples.app.append(timing["app"])
        samples.content = response.content
        calls = CALLS.search(response["Server-Timing"])
        samples.calls = int(calls[1]) if calls else 0
    return samples


@dataclass
class Overview:
    total: list[float] = field(default_factory=list)
    slowest: list[float] = field(default_factory=list)
    ratio: list[float] = field(default_factory=list)
    calls: int = 0


def _overview_slowed(client: Client, path: str) -> Overview:
    transport = f"{SlowLocalAPITransport.__module__}.{SlowLocalAPITransport.__qualname__}"
    result = Overview()
    clients._clients.clear()  # the client of the built-in connection is made anew with this transport
    try:
        with override_settings(CONSOLE_BUILTIN_TRANSPORT=transport):
            for run in range(WARMUP + OVERVIEW_RUNS):
                SlowLocalAPITransport.calls = []
                response = client.get(path)
                if response.status_code != 200:
                    raise SystemExit(f"GET {path} answered {response.status_code}")
                if run < WARMUP:
                    continue
                total = _server_timing(response["Server-Timing"])["total"]
                slowest = max(end - start for _, start, end in SlowLocalAPITransport.calls) * 1000
                result.total.append(total)
                result.slowest.append(slowest)
                result.ratio.append(total / slowest)
                result.calls = len(SlowLocalAPITransport.calls)
    finally:
        clients._clients.clear()
    return result


def _ms(value: float) -> str:
    return f"{value:.1f}"


def benchmark(target: Target) -> str:
    connection = _builtin_connection()
    client = _client()
    grid = f"/c/{connection.pk}/apps/{target.app_id}/inputs/?per_page={PER_PAGE}"
    overview = f"/c/{connection.pk}/apps/{target.app_id}/"
    htmx = {"HX-Request": "true"}
    # Full pages 2, 3... each seen once: nothing of them is cached yet (as when paging forward).
    new_pages = [f"{grid}&page={n}" for n in range(2, min(target.runs + 1, target.inputs // PER_PAGE) + 1)]
    with override_settings(**_static_storage()):
        same = _sample(client, [grid] * (WARMUP + target.runs), headers=htmx)
        new = _sample(client, new_pages, warmup=0, headers=htmx)
        full = _sample(client, [grid] * (WARMUP + target.runs))
        plain_overview = _sample(client, [overview] * (WARMUP + target.runs))
        slowed = _overview_slowed(client, overview)

    rows = [
        [
            *(f"{name} ({s.runs} runs)", s.calls, _ms(_p50(s.total)), _ms(_p50(s.upstream))),
            *(_ms(_p50(s.app)), _ms(_percentile(s.app, 0.9)), f"{s.size:,}", f"{s.gzip_size:,}"),
        ]
        for name, s in [
            (f"grid partial (HTMX), per_page {PER_PAGE}, page 1 again and again", same),
            (f"grid partial (HTMX), per_page {PER_PAGE}, a page not seen before", new),
            (f"grid full page, per_page {PER_PAGE}, page 1", full),
            ("app overview", plain_overview),
        ]
    ]
    headers = ["request", "upstream calls", "total p50 ms", "upstream p50 ms", "console p50 ms", "console p90 ms"]
    headers += ["bytes", "gzip bytes"]
    slow_rows = [
        [
            f"app overview, +{UPSTREAM_DELAY * 1000:.0f} ms per upstream call ({len(slowed.ratio)} runs)",
            slowed.calls,
            _ms(_p50(slowed.total)),
            _ms(_p50(slowed.slowest)),
            f"{_p50(slowed.ratio):.2f}x",
            f"{max(slowed.ratio):.2f}x",
        ]
    ]
    share = same.size / full.size
    ratio = _p50(slowed.ratio)
    checks = [
        *(
            [
                f"console time per grid partial (per_page {PER_PAGE}), p50, {case}",
                f"{_p50(s.app):.1f} ms",
                "≤ 10 ms",
                "pass" if _p50(s.app) <= 10 else "MISS",
            ]
            for case, s in [("page seen before", same), ("page not seen before", new)]
        ),
        ["grid partial bytes / full page bytes", f"{share:.0%}", "≤ 20%", "pass" if share <= 0.2 else "MISS"],
        [
            f"overview total / slowest upstream call (+{UPSTREAM_DELAY * 1000:.0f} ms each), median",
            f"{ratio:.2f}x",
            "≤ 1.3x",
            "pass" if ratio <= 1.3 else "MISS",
        ],
    ]
    tiles = sum(len(tile) for tile in TILE.findall(same.content))
    note = (
        f"{target.inputs:,} inputs; in-process through Django's test client (every middleware, no socket) over the "
        "built-in connection; times from the Server-Timing header (console = total - upstream), after "
        f"{WARMUP} warm-up runs (none for pages not seen before); the slowed overview's slowest call is timed in "
        "its transport."
    )
    sizes = (
        f"Of the grid partial's {same.size:,} bytes, {tiles:,} are its {len(TILE.findall(same.content))} tiles and "
        f"{same.size - tiles:,} the filters, page size and pager; the full page adds {full.size - same.size:,} "
        "bytes (head, top bar, tabs, heading)."
    )
    return "\n\n".join(
        [
            note,
            table(headers, rows, right=set(range(1, len(headers)))),
            table(
                ["request", "upstream calls", "total p50 ms", "slowest call p50 ms", "ratio p50", "ratio max"],
                slow_rows,
                right={1, 2, 3, 4, 5},
            ),
            sizes,
            table(["check", "measured", "target", "result"], checks),
        ]
    )
