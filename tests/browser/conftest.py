"""Fixtures for the browser tests: the system Chromium driven by Playwright, a live console with demo data.

Chromium is the system package (`/usr/bin/chromium`, or CHROMIUM_PATH), launched by executable path; a
missing browser fails the tests rather than skipping them, so the gap cannot go unnoticed (`.ci/run`
installs it). Screenshots go to test-artifacts/browser/ at the repository root.
"""

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connections
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from console.connections.models import Connection

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Chromium's own console message about a blocked inline style does not say which element it was: say it.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  const target = event.target instanceof Element ? event.target.outerHTML.slice(0, 200) : String(event.target);
  console.error(`Content Security Policy violation: ${event.violatedDirective} by ${event.blockedURI}` +
    ` at ${event.sourceFile}:${event.lineNumber}, on ${target}`);
});
"""
USERNAME = "grace"
PASSWORD = "browse-the-grid-42"
APP_ID = "browse"
INPUTS = 300  # more than two pages of 128


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(
            f"No Chromium at {path}: the browser tests need the system Chromium "
            "(apt-get install chromium, as .ci/run does) or CHROMIUM_PATH pointing at one.",
            pytrace=False,
        )
    return path


# Function-scoped: while Playwright runs, its event loop is marked as running in this thread (see below),
# so it is started after the session's database setup and stopped before the database is flushed.
@pytest.fixture
def playwright(_orm_beside_playwright: None) -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver
        # While Playwright runs, Django keeps this thread's database connections per async context: the
        # ones the test opened are not the ones pytest-django closes. Close them (PostgreSQL will not drop
        # a test database that still has sessions).
        connections.close_all()


@pytest.fixture
def browser(playwright: Playwright, chromium_path: str) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def _orm_beside_playwright(monkeypatch: pytest.MonkeyPatch) -> None:
    # Playwright's sync API keeps its event loop marked as running in this thread, which makes Django
    # refuse ORM calls here as if they came from async code. The test's own ORM calls are plain sync code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@dataclass
class Site:
    """The live console: its URL, a staff account, the built-in connection and an app of `demo`."""

    url: str
    connection: Connection
    app_id: str = APP_ID
    username: str = USERNAME
    password: str = PASSWORD

    def at(self, path: str) -> str:
        return f"{self.url}{path}"

    @property
    def apps_path(self) -> str:
        return f"/c/{self.connection.pk}/apps/"

    @property
    def grid_path(self) -> str:
        return f"/c/{self.connection.pk}/apps/{self.app_id}/inputs/"


@pytest.fixture
def site(live_server: Any, settings: Any) -> Site:
    """What `make run` sets up, through the same commands: a first account and the built-in connection."""
    call_command("seed_demo", inputs=INPUTS, app=APP_ID, pictures=16, verbosity=0)
    # What CONSOLE_ADMIN_USER and CONSOLE_ADMIN_PASSWORD set (settings read the environment once, at start).
    settings.CONSOLE_ADMIN_USER, settings.CONSOLE_ADMIN_PASSWORD = USERNAME, PASSWORD
    call_command("bootstrap_console", verbosity=0)
    return Site(url=live_server.url, connection=Connection.objects.get(builtin=True))


@dataclass
class Tab:
    """A browser page, what it logged, and numbered full-page screenshots of it."""

    page: Page
    name: str
    errors: list[str] = field(default_factory=list)
    shots: list[Path] = field(default_factory=list)

    def load_lazy_pictures(self) -> None:
        """Scroll through the page so that every lazy picture loads, wait for them, and go back to the top."""
        self.page.evaluate(
            """async () => {
                const step = window.innerHeight;
                for (let y = 0; y < document.scrollingElement.scrollHeight; y += step) {
                    window.scrollTo(0, y);
                    await new Promise((resolve) => requestAnimationFrame(resolve));
                }
            }"""
        )
        self.page.wait_for_function("() => Array.from(document.images).every((img) => img.complete)")
        self.page.evaluate("() => window.scrollTo(0, 0)")

    def shot(self, step: str) -> Path:
        """A full-page screenshot, from the top, with every picture loaded."""
        self.load_lazy_pictures()
        path = ARTIFACTS / f"{self.name}-{len(self.shots) + 1:02d}-{step}.png"
        # caret="initial": hiding the caret leaves style="" on every input, which htmx's history restore
        # then copies back, and the CSP (rightly) blocks: a violation the page itself never causes.
        self.page.screenshot(path=path, full_page=True, caret="initial")
        self.shots.append(path)
        return path


@pytest.fixture
def open_tab(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Callable[..., Tab]]:
    """Open a page in a fresh browser context (no cookies, no history cache) of the given size."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    contexts = []
    test_name = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name.removeprefix("test_"))

    def open_tab(width: int = 1366, height: int = 900, name: str = "") -> Tab:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        tab = Tab(context.new_page(), name or test_name)
        for old in ARTIFACTS.glob(f"{tab.name}-*.png"):
            old.unlink()

        def on_console(message: ConsoleMessage) -> None:
            if message.type in ("error", "warning"):
                where = message.location
                tab.errors.append(
                    f"console {message.type} on {tab.page.url} ({where.get('url')}:{where.get('lineNumber')}): "
                    f"{message.text}"
                )

        tab.page.on("console", on_console)
        tab.page.on("pageerror", lambda error: tab.errors.append(f"page error on {tab.page.url}: {error}"))
        return tab

    yield open_tab
    for context in contexts:
        context.close()
