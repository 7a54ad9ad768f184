"""The audit trail in a real Chromium: an edit made on an input's page shows in its History and in the
connection's log, reached from the *Audit log* link; the log's filters work from the keyboard alone (HTMX
swaps the list and the URL follows); the log fits 390, 768 and 1440 px wide."""

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import expect

from console.localapi.models import Input
from tests.browser.conftest import Site, Tab
from tests.browser.test_browse import no_errors_logged, no_horizontal_scroll, sign_in

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/audit")


def test_an_edit_shows_in_the_inputs_history_and_the_filtered_log(site: Site, open_tab: Callable[..., Tab]) -> None:
    tab = open_tab()
    page = tab.page
    sign_in(tab, site)
    input_id = Input.objects.filter(app__app_id=site.app_id).order_by("id").values_list("input_id", flat=True)[0]
    page.goto(site.at(f"{site.grid_path}{input_id}/"))
    page.get_by_label("Metadata").fill('{"note": "<b>checked</b>"}')
    page.get_by_role("button", name="Save", exact=True).click()
    history = page.get_by_role("region", name="History")
    expect(history).to_contain_text(f"{site.username} · PatchInputs")
    history.get_by_role("link", name="All of this input’s history").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    expect(page.locator("#results .summary")).to_have_count(1)
    expect(page.locator("#results")).to_contain_text(f"PatchInputs: input {input_id}")

    page.get_by_role("link", name="Audit log").click()  # the whole log of the connection
    page.get_by_label("Person").focus()
    page.get_by_label("Person").select_option(site.username)
    page.keyboard.press("Tab")
    page.get_by_role("button", name="Filter").press("Enter")
    expect(page).to_have_url(re.compile(f"person={site.username}"))
    expect(page.locator("#results .summary").first).to_be_visible()
    page.get_by_text("Before and after").first.press("Enter")
    SHOTS.mkdir(exist_ok=True)
    for width in (390, 768, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        no_horizontal_scroll(page)
        shutil.copy(tab.shot(f"log-{width}"), SHOTS / f"log-{width}.png")
    page.goto(site.at(f"{site.grid_path}{input_id}/"))
    for width in (390, 768, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        no_horizontal_scroll(page)
        shutil.copy(tab.shot(f"history-{width}"), SHOTS / f"history-{width}.png")
    no_errors_logged(tab)
