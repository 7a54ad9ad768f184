"""The tasks pages in a real Chromium: an editor makes a task with the keyboard (n, typing, Space on the
choices, Enter to send), it appears in the list with nothing done yet, and one of its labelers (seed_demo's
maya, signed in as herself) finds "Label" on it and starts. Screenshots of the list and the form at 390,
768 and 1440 px go to test-artifacts/browser/.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from console.labeling.demo import builtin_connection, seed_accounts
from console.localapi import demo
from console.localapi.models import Task
from console.teams.models import Membership, Role
from tests.browser.conftest import Tab
from tests.browser.test_browse import no_errors_logged, no_horizontal_scroll
from tests.browser.test_labeling_loop import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
EDITOR, EDITOR_PASSWORD = "eve", "eve-makes-the-tasks-42"


@pytest.fixture(autouse=True)
def _own_media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def passwords(db: None) -> dict[str, str]:
    seeded = demo.seed_demo(shapes=120, notes=6)
    made = dict(seed_accounts(seeded.tokens))
    eve = get_user_model().objects.create_user(EDITOR, password=EDITOR_PASSWORD)
    Membership.objects.create(team=builtin_connection().team, user=eve, role=Role.EDITOR)
    return {**made, EDITOR: EDITOR_PASSWORD}


def tasks_url(url: str) -> str:
    return f"{url}/c/{builtin_connection().pk}/apps/{demo.SHAPES_APP}/tasks/"


def tick(page: Page, group: str, label: str) -> None:
    """Focus a check box or radio button of a group and press Space, as a keyboard user does."""
    page.get_by_role("group", name=group, exact=True).get_by_label(label).focus()
    page.keyboard.press("Space")


def test_an_editor_makes_a_shared_task_and_a_labeler_finds_it(
    live_server: Any, open_tab: Callable[..., Tab], passwords: dict[str, str]
) -> None:
    eve = open_tab(name="tasks-eve")
    page = eve.page
    sign_in(eve, live_server.url, EDITOR, passwords[EDITOR])
    page.goto(tasks_url(live_server.url))
    expect(page.locator("h1")).to_have_text("Labeling tasks")
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_contain_text("New task")
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_be_hidden()
    page.keyboard.press("n")
    expect(page.locator("h1")).to_have_text("New labeling task")

    page.get_by_label("Name").focus()
    page.keyboard.type("Stars by two")
    expect(page.get_by_label("Task id")).to_have_value("stars-by-two")  # follows the name
    expect(page.get_by_label("Labelers per input")).to_be_hidden()  # everyone labels everything, so far
    page.get_by_label("Dataset").select_option("test")
    tick(page, "Concepts", "star")
    tick(page, "Concepts", "circle")
    tick(page, "Labelers", "maya")
    tick(page, "Labelers", "noah")
    tick(page, "How inputs are split", "Share the inputs out among the labelers")
    expect(page.get_by_label("Labelers per input")).to_have_value("1")
    expect(page.get_by_role("group", name="Reviewers")).to_be_hidden()
    tick(page, "Review", "A reviewer approves or rejects each answer")
    tick(page, "Reviewers", "rita")
    page.get_by_label("Instructions").focus()
    page.keyboard.type("Tick every shape you see.")
    page.get_by_label("Name").focus()
    page.keyboard.press("Enter")

    expect(page.locator(".message")).to_have_text("Task Stars by two created.")
    card = page.locator('[data-task="stars-by-two"]')
    expect(card.locator("[data-status]")).to_have_text("In progress")
    expect(card.locator("[data-count]")).to_have_count(3)
    total = page.locator('[data-task="shape-check"] [data-count]').first.inner_text().split(" / ")[1]
    for count in card.locator("[data-count]").all():
        expect(count).to_have_text(f"0 / {total}")
    expect(card).to_contain_text("shared out, 1 per input")
    task = Task.objects.get(task_id="stars-by-two")
    assert (task.worker_strategy, task.workers_per_input, task.description) == (2, 1, "Tick every shape you see.")
    assert sorted(task.members.filter(role="worker").values_list("user_id", flat=True)) == ["maya", "noah"]
    card.get_by_role("link", name="Stars by two").click()  # the task's own page: its dashboard
    expect(page.locator("h1")).to_have_text("Stars by two")
    expect(page.get_by_role("heading", name="Labelers")).to_be_visible()
    page.go_back()
    no_errors_logged(eve)

    maya = open_tab(name="tasks-maya")
    sign_in(maya, live_server.url, "maya", passwords["maya"])
    maya.page.goto(tasks_url(live_server.url))
    mine = maya.page.locator('[data-task="stars-by-two"]')
    expect(mine.get_by_role("link", name="Label")).to_be_visible()
    expect(mine.get_by_role("link", name="Review")).to_have_count(0)
    expect(maya.page.get_by_role("link", name="New task")).to_have_count(0)
    mine.get_by_role("link", name="Label").click()
    expect(maya.page.locator("h1")).to_have_text("Stars by two")
    expect(maya.page.locator("form.work-item:not([hidden])")).to_be_visible()
    no_errors_logged(maya)


def test_the_list_and_the_form_fit_phones_tablets_and_desktops(
    live_server: Any, open_tab: Callable[..., Tab], passwords: dict[str, str]
) -> None:
    for width in (390, 768, 1440):
        tab = open_tab(width=width, name=f"tasks-{width}")
        sign_in(tab, live_server.url, EDITOR, passwords[EDITOR])
        tab.page.goto(tasks_url(live_server.url))
        expect(tab.page.locator('[data-task="shape-check"] progress')).to_have_count(3)
        no_horizontal_scroll(tab.page)
        tab.shot("list")
        tab.page.goto(tasks_url(live_server.url) + "new/")
        tick(tab.page, "Review", "Labelers who agree")  # consensus: every field shows
        expect(tab.page.get_by_label("Labelers who must agree")).to_be_visible()
        no_horizontal_scroll(tab.page)
        tab.shot("form")
        tab.page.goto(tasks_url(live_server.url) + f"{demo.DEMO_TASK}/edit/")
        expect(tab.page.get_by_label("Name")).to_have_value("Check the shapes")
        no_horizontal_scroll(tab.page)
        tab.shot("edit")
        tab.page.goto(tasks_url(live_server.url) + f"{demo.DEMO_TASK}/delete/")
        expect(tab.page.get_by_role("button", name="Delete the task")).to_be_visible()
        no_horizontal_scroll(tab.page)
        tab.shot("delete")
        no_errors_logged(tab)
