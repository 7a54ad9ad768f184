"""Labeling: the time from submitting one label to the next input on screen, the next input prefetched.

A task of its own (`bench-labeling`, FULL, reviewed by hand, the four shapes) over app `labeling-400` (400
inputs, each with a tiny picture of its own, seeded once), labeled by `bench-labeler`, a console account
attached to the built-in connection as the local API user of the same name (its own token), made anew
each run with the task, so there is always work left.

- Server: the workspace's submit (PostAnnotations, then PutTaskAssignments LABEL_SUBMIT, as the labeler)
  through Django's test client, every middleware, no socket: p50 and p90, and the fetch of the next
  batch (LABEL_START and the labeler's drafts, rendered as the page's partial) that the page makes
  ahead. Target: submit p50 at most 50 ms.
- Browser: the system Chromium (CHROMIUM_PATH) on the console served by gunicorn as `manage.py serve`
  runs it (page_turn.py's server): from the Enter key's keydown in the page to the next input's picture
  on screen (its form shown, its picture decoded, two animation frames later: painted), TURNS times.
  Target: p50 at most 150 ms.
"""

import os
import statistics
import time

from console_pages import _static_storage
from django.test import Client, override_settings
from harness import Target, table

from console.labeling.demo import seed_accounts
from console.localapi import demo, labeling, status
from console.localapi.models import Annotation, App, Task, TaskMember, Token, User

TITLE = "Labeling: submit to the next input"
APP = "labeling-400"
TASK = "bench-labeling"
LABELER = "bench-labeler"
SUBMITS = 40
TURNS = 20
NEXT_PAINTED = """(previous) => new Promise((resolve) => {
    const check = () => {
        const form = document.querySelector('form.work-item:not([hidden])');
        const img = form && form.dataset.inputId !== previous ? form.querySelector('img') : null;
        if (img && img.complete && img.naturalWidth > 0) {
            requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - window.benchEnter)));
        } else {
            requestAnimationFrame(check);
        }
    };
    check();
})"""


def _fresh_task() -> tuple[App, str]:
    """The app (seeded once), a new task over it, and the labeler's console password."""
    demo.seed_large(APP, 400, distinct=True)
    app = App.objects.get(user_id=demo.DEMO_USER, app_id=APP)
    labeler, _ = User.objects.get_or_create(id=LABELER, defaults={"first_name": "Bench", "last_name": "Labeler"})
    Token.objects.filter(user=labeler, description=TITLE).delete()
    _, secret = Token.issue(labeler, description=TITLE)
    Annotation.objects.filter(task__app=app, task__task_id=TASK).delete()
    Task.objects.filter(app=app, task_id=TASK).delete()
    task = Task.objects.create(
        app=app,
        task_id=TASK,
        name="Bench labeling",
        input_source_type=labeling.ALL_INPUTS,
        concept_ids=list(demo.SHAPES),
        worker_strategy=labeling.FULL,
        review_strategy=labeling.REVIEW_MANUAL,
        created_by=app.user_id,
    )
    TaskMember.objects.create(task=task, user=labeler, role=TaskMember.WORKER, position=0)
    ((_, password),) = seed_accounts({LABELER: secret})
    return app, password


def _server_times(base: str) -> tuple[list[float], list[float]]:
    from django.contrib.auth import get_user_model

    from console.localapi.models import TaskAssignment

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(get_user_model().objects.get(username=LABELER))
    hx = {"HX-Request": "true"}
    submits, batches = [], []
    client.get(base + "work/")  # warm: the first batch is claimed
    for n in range(SUBMITS):
        pending = TaskAssignment.objects.filter(
            task__task_id=TASK, worker_id=LABELER, status_code=status.TASK_ASSIGNMENT_PENDING
        ).first()
        if pending is None:
            started = time.perf_counter()
            client.get(base + "work/?more=1", headers=hx)
            batches.append(time.perf_counter() - started)
            continue
        input_id = pending.input.input_id
        started = time.perf_counter()
        response = client.post(base + "work/submit", {"input_id": input_id, "concept": ["circle"]}, headers=hx)
        submits.append(time.perf_counter() - started)
        assert response.status_code == 204, response.content[:300]
        if n % 8 == 7:
            started = time.perf_counter()
            client.get(base + "work/?more=1", headers=hx)
            batches.append(time.perf_counter() - started)
    return submits, batches


def _browser_times(connection_pk: int, password: str) -> list[float] | str:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "Playwright is not installed (requirements-dev.txt)"
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not os.path.exists(chromium):
        return f"no Chromium at {chromium}"
    from page_turn import _server

    times = []
    with _server() as url, sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
        page.goto(f"{url}/accounts/login/")
        page.get_by_label("Username").fill(LABELER)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("networkidle")
        page.goto(f"{url}/c/{connection_pk}/apps/{APP}/tasks/{TASK}/work/")
        page.wait_for_function("() => Array.from(document.images).every((img) => img.complete)")
        page.evaluate(
            "() => window.addEventListener('keydown', (e) => { if (e.key === 'Enter') window.benchEnter ="
            " performance.now(); }, true)"
        )
        for _ in range(TURNS):
            shown = page.locator("form.work-item:not([hidden])").get_attribute("data-input-id")
            page.keyboard.press("1")
            page.keyboard.press("Enter")
            times.append(page.evaluate(NEXT_PAINTED, shown))
            page.wait_for_load_state("networkidle")
        browser.close()
    return times


def benchmark(target: Target) -> str:
    from console.labeling.demo import builtin_connection

    _fresh_task()
    connection = builtin_connection()
    with override_settings(**_static_storage()):
        submits, batches = _server_times(f"/c/{connection.pk}/apps/{APP}/tasks/{TASK}/")
    _, password = _fresh_task()  # the browser starts on fresh work too
    browser = _browser_times(connection.pk, password)

    def p(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    rows: list[list[str | int]] = [
        [
            "server: submit (PostAnnotations + LABEL_SUBMIT)",
            len(submits),
            f"{statistics.median(submits) * 1000:.1f}",
            f"{p(submits, 0.9) * 1000:.1f}",
            "≤ 50",
        ],
        [
            "server: next batch fetched ahead (10 inputs)",
            len(batches),
            f"{statistics.median(batches) * 1000:.1f}",
            f"{p(batches, 0.9) * 1000:.1f}",
            "",
        ],
    ]
    if isinstance(browser, str):
        rows.append(["Chromium: Enter to the next picture painted", 0, "skipped", browser, "≤ 150"])
    else:
        rows.append(
            [
                "Chromium: Enter to the next picture painted",
                len(browser),
                f"{statistics.median(browser):.1f}",
                f"{p(browser, 0.9):.1f}",
                "≤ 150",
            ]
        )
    return table(["what", "runs", "p50 ms", "p90 ms", "target ms"], rows, right={1, 2, 3})
