"""A page turn in a real Chromium: click "Next" on the inputs grid, until every new visible thumbnail is
decoded; how long, how many thumbnails were requested, and their bytes, at 32 and 128 a page.

The app is `distinct-10000` of bench/million.py (each input with a picture of its own, so no thumbnail
comes from the browser's cache by chance), served by a threaded wsgiref server in this process over
the benchmark database, with the system Chromium (CHROMIUM_PATH, default /usr/bin/chromium) driven by
Playwright at 1366x900. Each size: the first page loaded (not timed), then TURNS turns, each to a page
not seen before, from the click to the last visible thumbnail decoded.
"""

import os
import statistics
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from threading import Thread
from typing import TYPE_CHECKING
from wsgiref.simple_server import WSGIServer, make_server

from console_pages import _builtin_connection, _static_storage
from django.contrib.auth import get_user_model
from django.test import override_settings
from harness import Target, _QuietHandler, table

if TYPE_CHECKING:
    from playwright.sync_api import Page, Request

TITLE = "Page turn in a browser"
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


class _ThreadedServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


@contextmanager
def _server() -> Iterator[str]:
    from django.core.wsgi import get_wsgi_application

    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    server = make_server(
        "127.0.0.1", 0, get_wsgi_application(), server_class=_ThreadedServer, handler_class=_QuietHandler
    )
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


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
        started = page.evaluate("() => performance.now()")
        page.get_by_role("link", name="Next →").first.click()
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
    rows = []
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop runs in this thread beside the server
    # Static files (htmx among them) from the apps' folders: collectstatic need not have run.
    static = {**_static_storage(), "WHITENOISE_USE_FINDERS": True, "WHITENOISE_AUTOREFRESH": True}
    with override_settings(**static), _server() as base, sync_playwright() as driver:
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
                    per_page,
                    len(results),
                    f"{statistics.median(times):.0f}",
                    f"{times[-1]:.0f}",
                    f"{statistics.median(r[1] for r in results):.0f}",
                    f"{statistics.median(r[2] for r in results):,.0f}",
                ]
            )
        browser.close()
    note = (
        f"App `{APP}` (10,000 inputs, distinct pictures); Chromium at 1366x900 through a threaded wsgiref server "
        "in the benchmark's process; each turn to a page not seen before, timed in the page from the click to "
        "the last visible thumbnail decoded; thumbnail requests and bytes counted from the click until the "
        "network is idle."
    )
    headers = ["per page", "turns", "turn p50 ms", "turn max ms", "thumbnails requested p50", "thumbnail bytes p50"]
    return "\n\n".join([note, table(headers, rows, right={0, 1, 2, 3, 4, 5})])
