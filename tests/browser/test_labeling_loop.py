"""The labeling loop in a real Chromium, each person signed in as themselves (seed_demo's labelers maya and
noah, reviewer rita, each a console account with their own token on the built-in connection): the
labelers label with the keyboard only, the reviewer rejects one answer with a reason, sends one back with
a reason and approves one; the labeler sees the reason, fixes the answer, and the reviewer approves it.

At the end, the task's dashboard shows the right numbers. Screenshots of the workspace, the queue, the
task's dashboard and its activity at 390, 768 and 1440 px go to test-artifacts/browser/.
"""

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from console.labeling.demo import builtin_connection, seed_accounts
from console.localapi import demo, status
from console.localapi.models import Annotation, Task, TaskAssignment
from console.teams.models import Membership, Role
from tests.browser.conftest import Tab
from tests.browser.test_browse import no_errors_logged, no_horizontal_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHAPES = list(demo.SHAPES)


@pytest.fixture(autouse=True)
def _own_media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def sign_in(tab: Tab, url: str, username: str, password: str) -> None:
    page = tab.page
    page.goto(url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def shown_input(page: Page) -> str:
    found: str = page.locator("form.work-item:not([hidden])").get_attribute("data-input-id") or ""
    return found


def label(page: Page, key: str) -> str:
    """Toggle the concept of `key`, press Enter; answer the input that was labeled, once the next shows."""
    labeled = shown_input(page)
    page.keyboard.press(key)
    expect(page.locator(f'form.work-item:not([hidden]) input[data-key="{key}"]')).to_be_checked()
    page.keyboard.press("Enter")
    expect(page.locator("form.work-item:not([hidden])")).not_to_have_attribute("data-input-id", labeled)
    page.wait_for_function(
        f"() => document.querySelector('form.work-item[data-input-id=\"{labeled}\"]').dataset.state === 'done'"
    )
    return labeled


def answer(input_id: str, user_id: str) -> Annotation:
    return Annotation.objects.get(task__task_id=demo.DEMO_TASK, input__input_id=input_id, user_id=user_id)


def focus_answer(page: Page, worker: str, input_id: str) -> None:
    """Press j until the answer of `worker` for `input_id` has the focus."""
    wanted = f"{worker}'s answer for {input_id}"
    page.keyboard.press("k")  # the first card
    for _ in range(40):
        if page.evaluate("() => document.activeElement.getAttribute('aria-label')") == wanted:
            return
        page.keyboard.press("j")
    raise AssertionError(f"j never reached {wanted}")


def test_two_labelers_and_a_reviewer_go_round_the_loop_with_the_keyboard(
    live_server: Any, open_tab: Callable[..., Tab]
) -> None:
    seeded = demo.seed_demo(shapes=120, notes=6)
    passwords = dict(seed_accounts(seeded.tokens))
    connection = builtin_connection()
    base = f"{live_server.url}/c/{connection.pk}/apps/{demo.SHAPES_APP}/tasks/{demo.DEMO_TASK}/"

    # maya labels two inputs, noah one: number keys and Enter only.
    maya = open_tab(name="labeling-maya")
    sign_in(maya, live_server.url, "maya", passwords["maya"])
    maya.page.goto(base + "work/")
    expect(maya.page.locator("h1")).to_have_text("Check the shapes")
    maya.page.keyboard.press("?")
    expect(maya.page.locator("#shortcuts")).to_be_visible()
    maya.page.keyboard.press("?")
    first = label(maya.page, "1")  # circle
    second = label(maya.page, "2")  # square
    skipped = shown_input(maya.page)
    maya.page.keyboard.press("s")
    expect(maya.page.locator("form.work-item:not([hidden])")).not_to_have_attribute("data-input-id", skipped)
    maya.page.keyboard.press("p")
    maya.page.keyboard.press("p")
    expect(maya.page.locator("form.work-item:not([hidden])")).to_have_attribute("data-input-id", second)
    expect(maya.page.locator("form.work-item:not([hidden]) [data-submitted]")).to_be_visible()
    assert [c["id"] for c in answer(first, "maya").data["concepts"]] == ["circle"]
    assert answer(second, "maya").status_code == status.ANNOTATION_AWAITING_REVIEW

    noah = open_tab(name="labeling-noah")
    sign_in(noah, live_server.url, "noah", passwords["noah"])
    noah.page.goto(base + "work/")
    nouns = label(noah.page, "3")  # triangle
    assert answer(nouns, "noah").user_id == "noah"
    assert first != nouns and second != nouns, "PARTITIONED: never one input to both"

    # rita rejects noah's answer, sends maya's first back, approves her second: keyboard only.
    rita = open_tab(name="labeling-rita")
    sign_in(rita, live_server.url, "rita", passwords["rita"])
    rita.page.goto(base + "review/")
    expect(rita.page.locator("h1")).to_contain_text("Review")
    focus_answer(rita.page, "noah", nouns)
    rita.page.keyboard.press("r")
    rita.page.keyboard.type("That is a star.")
    rita.page.keyboard.press("Enter")
    expect(rita.page.locator("[data-decided=reject]")).to_contain_text(f"noah's answer for {nouns}: That is a star.")
    focus_answer(rita.page, "maya", first)
    rita.page.keyboard.press("b")
    rita.page.keyboard.type("Look at the corners again.")
    rita.page.keyboard.press("Enter")
    expect(rita.page.locator("[data-decided=send_back]")).to_contain_text("Look at the corners again.")
    focus_answer(rita.page, "maya", second)
    rita.page.keyboard.press("a")
    expect(rita.page.locator("[data-decided=approve]")).to_contain_text(f"maya's answer for {second}")
    rejected = TaskAssignment.objects.get(task__task_id=demo.DEMO_TASK, input__input_id=nouns)
    assert (rejected.status_code, rejected.status_details) == (status.TASK_ASSIGNMENT_REJECTED, "That is a star.")
    assert answer(second, "maya").status_code == status.ANNOTATION_SUCCESS

    # maya sees the reason on the input sent back, fixes it (circle off, square on) and submits.
    maya.page.goto(base + "work/")
    expect(maya.page.locator("form.work-item:not([hidden])")).to_have_attribute("data-input-id", first)
    expect(maya.page.locator("form.work-item:not([hidden]) .sent-back")).to_contain_text("Look at the corners again.")
    expect(maya.page.locator('form.work-item:not([hidden]) input[data-key="1"]')).to_be_checked()
    maya.page.keyboard.press("1")
    # A submit the API refuses (the lead paused the task meanwhile) brings the input back with the reason.
    Task.objects.filter(task_id=demo.DEMO_TASK).update(status_code=status.TASK_IDLE)
    maya.page.keyboard.press("2")
    maya.page.keyboard.press("Enter")
    expect(maya.page.locator("#work-problem")).to_contain_text(f"Input {first} was not submitted")
    expect(maya.page.locator("#work-problem")).to_contain_text("paused")
    expect(maya.page.locator("form.work-item:not([hidden])")).to_have_attribute("data-input-id", first)
    Task.objects.filter(task_id=demo.DEMO_TASK).update(status_code=status.TASK_IN_PROGRESS)
    maya.page.keyboard.press("Enter")
    maya.page.wait_for_function(
        f"() => document.querySelector('form.work-item[data-input-id=\"{first}\"]').dataset.state === 'done'"
    )
    assert answer(first, "maya").data["concepts"] == [{"id": "square", "value": 1.0}]

    # rita approves the fixed answer.
    rita.page.goto(base + "review/")
    focus_answer(rita.page, "maya", first)
    expect(rita.page.locator("form.review-answer:focus input[data-key='2']")).to_be_checked()
    rita.page.keyboard.press("a")
    expect(rita.page.locator("[data-decided=approve]")).to_contain_text(f"maya's answer for {first}")
    fixed = answer(first, "maya")
    assert (fixed.status_code, fixed.reviewed_by) == (status.ANNOTATION_SUCCESS, "rita")

    # Anyone of the team opens the task's dashboard: each labeler's numbers and the task's, as they now are.
    rita.page.goto(base)
    expect(rita.page.locator("h1")).to_have_text("Check the shapes")
    numbers = {"maya": ("8", "5", "1", "2"), "noah": ("6", "2", "1", "3")}
    for who, expected in numbers.items():
        row = rita.page.locator(f"tr[data-labeler={who}]")
        for column, value in zip(("labeled", "approved", "rejected", "awaiting"), expected, strict=True):
            expect(row.locator(f"[data-{column}]")).to_have_text(value)
    expect(rita.page.locator("[data-count=approved]")).to_have_text("7")
    expect(rita.page.locator("[data-count=rejected]")).to_have_text("2")
    expect(rita.page.locator("[data-count=awaiting]")).to_have_text("5")
    expect(rita.page.locator("tr[data-reviewer=rita] [data-decided]")).to_have_text("9")
    expect(rita.page.locator("svg.progress-chart polyline[data-series=approved]")).to_have_attribute(
        "data-values", re.compile(r"(^|,)7$")
    )
    no_horizontal_scroll(rita.page)
    rita.shot("dashboard")

    # The team's admin reads the task's activity: who labeled and who reviewed, through the console.
    lead = get_user_model().objects.create_user("lead", password="the-lead-reads-the-log-42")
    Membership.objects.create(team=connection.team, user=lead, role=Role.ADMIN)
    for width in (390, 1440):
        admin = open_tab(width=width, name=f"labeling-activity-{width}")
        sign_in(admin, live_server.url, "lead", "the-lead-reads-the-log-42")
        admin.page.goto(base)
        admin.page.get_by_role("link", name="Activity", exact=True).click()
        expect(admin.page.locator("h1")).to_have_text("Activity: Check the shapes")
        rows = admin.page.locator("table.audit-log tbody tr")
        expect(rows.filter(has_text="maya").filter(has_text="PostAnnotations").first).to_be_visible()
        expect(rows.filter(has_text="rita").filter(has_text="REVIEW_APPROVE").first).to_be_attached()
        no_horizontal_scroll(admin.page)
        admin.shot("activity")
        no_errors_logged(admin)

    no_errors_logged(maya, expected="the server responded with a status of 400")  # the refused submit
    for tab in (noah, rita):
        no_errors_logged(tab)


def test_the_workspace_and_the_queue_fit_phones_tablets_and_desktops(
    live_server: Any, open_tab: Callable[..., Tab]
) -> None:
    seeded = demo.seed_demo(shapes=120, notes=6)
    passwords = dict(seed_accounts(seeded.tokens))
    connection = builtin_connection()
    base = f"{live_server.url}/c/{connection.pk}/apps/{demo.SHAPES_APP}/tasks/{demo.DEMO_TASK}/"
    ada = get_user_model().objects.create_user("ada", password="ada-has-no-identity-42")
    Membership.objects.create(team=connection.team, user=ada, role=Role.LABELER)
    passwords["ada"] = "ada-has-no-identity-42"
    lead = get_user_model().objects.create_user("lead", password="the-lead-reads-the-log-42")
    Membership.objects.create(team=connection.team, user=lead, role=Role.ADMIN)
    passwords["lead"] = "the-lead-reads-the-log-42"
    for width in (390, 768, 1440):
        for who, page_path in (
            ("maya", "work/"),
            ("rita", "review/"),
            ("ada", "work/"),
            ("ada", "identity"),
            ("rita", ""),
            ("lead", "activity/"),
        ):
            tab = open_tab(width=width, name=f"labeling-{who}-{page_path.strip('/') or 'dashboard'}-{width}")
            sign_in(tab, live_server.url, who, passwords[who])
            tab.page.goto(base + page_path)
            expect(tab.page.locator("h1")).to_be_visible()
            no_horizontal_scroll(tab.page)
            tab.shot(page_path.strip("/") or "dashboard")
            no_errors_logged(tab)
