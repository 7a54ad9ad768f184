"""A page turn in a real Chromium: click "Next" on the inputs grid, until every new visible thumbnail is
decoded; how long, how many thumbnails were requested, and their bytes, at 32 and 128 a page.

The app is `distinct-10000` of bench/million.py (each input with a picture of its own, so no thumbnail
comes from the browser's cache by chance), served by gunicorn as `manage.py serve` runs it (processes of
its own, WEB_PROCESSES x WEB_THREADS) over the benchmark database, with the system Chromium
(CHROMIUM_PATH, default /usr/bin/chromium) driven by Playwright at 1366x900. Each size: the first page
loaded (not timed), then TURNS turns, each to a page not seen before, from the click to the last visible
thumbnail decoded.

With BENCH_LABEL_STUDIO="<url> <email> <password> <project id>", the same browser then times Label
Studio's data manager on a project of the same pictures, in its grid view: each batch from the scroll
that asks for it (set in the page) to the last visible new picture decoded. Label Studio is not a
dependency: install it apart (bench/README.md says how) and start it before the run.
"""

import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.request import urlopen

from console_pages import _builtin_connection
from django.conf import settings
from django.contrib.auth import get_user_model
from harness import Target, table

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Page, Request, Response

TITLE = "Page turn in a browser"
REPO = Path(__file__).resolve().parent.parent
TURNS = 6
SIZES = (32, 128)
APP = "distinct-10000"
USERNAME, PASSWORD = "bench-browser", "bench-browser-page-turn-42"
VISIBLE_LOADED = """() => {
    const imgs = Array.from(document.querySelectorAll('#grid .tile img')).filter((img) => {
        const box = img.getBoundingClientRect();
        return box.bottom > 0 && box.top < window.innerHeight;
    });
    return imgs.length > 0 && imgs.every((img) => img.complete && img.naturalWidth > 0);
}"""


@contextmanager
def _server() -> Iterator[str]:
    """The console on gunicorn, as `manage.py serve` runs it (WEB_PROCESSES, WEB_THREADS), over the
    benchmark's database and media (the environment run.py set), in processes of its own."""
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"], cwd=REPO, check=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        *(sys.executable, "-m", "gunicorn", "console.wsgi", "--bind", f"127.0.0.1:{port}"),
        *("--workers", str(settings.SERVE_WEB_PROCESSES), "--threads", str(settings.SERVE_WEB_THREADS)),
    ]
    server = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urlopen(f"{url}/health", timeout=1).close()  # noqa: S310 (our own server)
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def _turns(page: "Page", url: str, per_page: int) -> list[tuple[float, int, int]]:
    requests: list[Request] = []
    page.on("requestfinished", lambda r: requests.append(r) if "/media?" in r.url else None)
    page.goto(f"{url}?per_page={per_page}&page=1")
    page.wait_for_function(VISIBLE_LOADED)
    page.wait_for_load_state("networkidle")
    results = []
    for turn in range(2, TURNS + 2):
        requests.clear()
        first = page.locator("#grid article.tile").first.get_attribute("id")
        # Clicked in the page, as a person's click arrives: Playwright's own click first scrolls, waits for
        # the link to be still and moves the mouse, 50-90 ms that are not the console's.
        started = page.evaluate(
            "() => { const next = document.querySelector('#grid a[rel=next]'); const t = performance.now();"
            " next.click(); return t; }"
        )
        page.wait_for_function(
            f"() => {{ const t = document.querySelector('#grid article.tile'); return t && t.id !== '{first}'; }}"
        )
        page.wait_for_function(VISIBLE_LOADED)
        elapsed = page.evaluate("() => performance.now()") - started
        page.wait_for_load_state("networkidle")
        assert f"page={turn}" in page.url, page.url
        size = sum(r.sizes()["responseBodySize"] for r in requests)
        results.append((elapsed, len(requests), size))
    return results


LS_VISIBLE = """() => Array.from(document.querySelectorAll('img')).filter((img) => {
    const box = img.getBoundingClientRect();
    return box.width > 40 && box.bottom > 0 && box.top < window.innerHeight;
})"""
LS_SCROLLER = """() => {
    const boxes = Array.from(document.querySelectorAll('*')).filter((e) =>
        e.scrollHeight > e.clientHeight + 50 && /auto|scroll/.test(getComputedStyle(e).overflowY));
    boxes.sort((a, b) => b.scrollHeight - a.scrollHeight);
    boxes[0].setAttribute('data-bench-scroller', '');
}"""


def _asks_for_batch(batch: int) -> "Callable[[Response], bool]":
    return lambda response: "/api/tasks?" in response.url and f"page={batch}&" in response.url


def _label_studio_batches(page: "Page", setting: str) -> list[tuple[float, int]]:
    """Label Studio's next batches: (ms from the scroll to the new visible pictures decoded, pictures fetched)."""
    url, email, password, project = setting.split()
    page.goto(f"{url}/user/login/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.goto(f"{url}/projects/{project}/data?tab=1")
    page.wait_for_load_state("networkidle")
    page.locator("input[type=radio][value=grid]").locator("..").click()
    page.wait_for_function(f"() => {{ const i = ({LS_VISIBLE})(); return i.length > 0 && i.every(x => x.complete); }}")
    fetched: list[str] = []
    page.on("requestfinished", lambda r: fetched.append(r.url) if "/data/local-files/" in r.url else None)
    results = []
    for batch in range(2, TURNS + 2):
        page.evaluate(LS_SCROLLER)
        page.evaluate(f"() => {{ window.benchSeen = new Set(({LS_VISIBLE})().map((i) => i.src)); }}")
        fetched.clear()
        with page.expect_response(_asks_for_batch(batch)):
            started = page.evaluate(
                "() => { const box = document.querySelector('[data-bench-scroller]'); const t = performance.now();"
                " box.scrollTop = box.scrollHeight; return t; }"
            )
        page.wait_for_function(
            f"() => {{ const i = ({LS_VISIBLE})(); return i.some((x) => !window.benchSeen.has(x.src))"
            " && i.every((x) => x.complete && x.naturalWidth > 0); }"
        )
        elapsed = page.evaluate("() => performance.now()") - started
        page.wait_for_load_state("networkidle")
        results.append((elapsed, len(fetched)))
    return results


def benchmark(target: Target) -> str:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "Skipped: Playwright is not installed (requirements-dev.txt)."
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not os.path.exists(chromium):
        return f"Skipped: no Chromium at {chromium}."
    connection = _builtin_connection()
    user, _ = get_user_model().objects.get_or_create(username=USERNAME, defaults={"is_staff": True})
    user.set_password(PASSWORD)
    user.save()
    rows: list[list[str | int]] = []
    with _server() as base, sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        page = context.new_page()
        page.goto(f"{base}/accounts/login/")
        page.get_by_label("Username").fill(USERNAME)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("networkidle")
        grid = f"{base}/c/{connection.pk}/apps/{APP}/inputs/"
        for per_page in SIZES:
            results = _turns(page, grid, per_page)
            times = sorted(r[0] for r in results)
            rows.append(
                [
                    f"console, {per_page} a page",
                    len(results),
                    f"{statistics.median(times):.0f}",
                    f"{times[-1]:.0f}",
                    f"{statistics.median(r[1] for r in results):.0f}",
                    f"{statistics.median(r[2] for r in results):,.0f}",
                ]
            )
        label_studio = os.environ.get("BENCH_LABEL_STUDIO", "")
        if label_studio:
            batches = _label_studio_batches(context.new_page(), label_studio)
            times = sorted(b[0] for b in batches)
            rows.append(
                [
                    "Label Studio 1.23.2, grid, 30 a batch",
                    len(batches),
                    f"{statistics.median(times):.0f}",
                    f"{times[-1]:.0f}",
                    f"{statistics.median(b[1] for b in batches):.0f}",
                    "",
                ]
            )
        browser.close()
    note = (
        f"App `{APP}` (10,000 inputs, distinct pictures); Chromium at 1366x900; the console on gunicorn "
        f"({settings.SERVE_WEB_PROCESSES} processes x {settings.SERVE_WEB_THREADS} threads, as `manage.py serve`); "
        "each turn to a page not seen before, timed in the page from the click to "
        "the last visible thumbnail decoded; thumbnail requests and bytes counted from the click until the "
        "network is idle."
    )
    headers = ["what", "turns", "turn p50 ms", "turn max ms", "pictures requested p50", "picture bytes p50"]
    parts = [note, table(headers, rows, right={1, 2, 3, 4, 5})]
    if label_studio:
        ours = next(float(str(r[2])) for r in rows if r[0] == "console, 128 a page")
        theirs = float(str(rows[-1][2]))
        check = [["console's page turn at 128 / Label Studio's next batch, p50", f"{ours / theirs:.2f}x", "≤ 0.5x"]]
        check[0].append("pass" if ours / theirs <= 0.5 else "MISS")
        parts.append(table(["check", "measured", "target", "result"], check))
    return "\n\n".join(parts)
