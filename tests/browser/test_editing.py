"""Editing in a real Chromium: the concept picker (by name, with the keyboard; a new name created only once
confirmed), a failed input's page (its failure shown, nothing loaded from a third party), and the concepts'
search after a failed create.

Each step saves a full-page screenshot under test-artifacts/browser/ to look at.
"""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Request, expect

from console.localapi.models import App, Concept, Input
from tests.browser.conftest import Site, Tab
from tests.browser.test_browse import no_errors_logged, no_horizontal_scroll, sign_in

pytestmark = pytest.mark.browser

FIRST = "browse-000001"


def input_path(site: Site, input_id: str) -> str:
    return f"{site.grid_path}{input_id}/"


def labels(site: Site, input_id: str) -> dict[str, float]:
    item = Input.objects.get(app__app_id=site.app_id, input_id=input_id)
    return {ic.concept.concept_id: ic.value for ic in item.input_concepts.select_related("concept")}


def test_the_concept_picker_adds_by_name_and_creates_only_once_confirmed(
    site: Site, open_tab: Callable[..., Tab]
) -> None:
    Concept.objects.filter(app__app_id=site.app_id, concept_id="star").update(name="Starry shape")
    before = labels(site, FIRST)
    assert "star" not in before
    tab = open_tab()
    page = tab.page
    sign_in(tab, site)
    page.goto(site.at(input_path(site, FIRST)))
    expect(page.locator("h1")).to_have_text(FIRST)
    editor = page.locator("fieldset.concept-editor")
    tab.shot("editor")

    # Typing a name's start narrows the offered concepts (fetched as typed), by name.
    add = page.get_by_label("Add a concept")
    add.focus()
    page.keyboard.type("Starr")
    expect(page.locator("#concept-choices option")).to_have_count(1)
    expect(page.locator("#concept-choices option")).to_have_attribute("value", "Starry shape")
    page.keyboard.type("y shape")
    page.keyboard.press("Enter")  # the form's first button: Save
    expect(page.locator(".messages")).to_contain_text("Saved.")
    expect(editor.locator(".concept-row", has_text="Starry shape")).to_be_visible()
    assert labels(site, FIRST) == {**before, "star": 1.0}
    tab.shot("added-by-name")

    # A name that is no concept: the save asks first, keeping what was typed, and creates nothing.
    page.get_by_label("Add a concept").focus()
    page.keyboard.type("feature request")
    page.keyboard.press("Enter")
    question = "“feature request” is not a concept of this app. Create it?"
    expect(page.locator(".errorlist", has_text=question)).to_be_visible()
    expect(page.get_by_label("Add a concept")).to_have_value("feature request")
    confirm = page.get_by_role("button", name="Yes, create “feature request” and save")
    expect(confirm).to_be_focused()
    assert not Concept.objects.filter(app__app_id=site.app_id, concept_id="feature-request").exists()
    tab.shot("asks-before-creating")

    page.keyboard.press("Enter")  # the confirm button has the focus
    expect(page.locator(".messages")).to_contain_text("Saved. Concept “feature request” created (id feature-request).")
    expect(editor.locator(".concept-row", has_text="feature request")).to_be_visible()
    expect(page.locator(".chips")).to_contain_text("feature request")
    created = Concept.objects.get(app__app_id=site.app_id, concept_id="feature-request")
    assert created.name == "feature request"
    assert labels(site, FIRST) == {**before, "star": 1.0, "feature-request": 1.0}
    tab.shot("created-on-confirmation")

    # Remove and no, with the keyboard: Space on the checkbox and a choice in the select.
    editor.get_by_label("Remove Starry shape").focus()
    page.keyboard.press("Space")
    editor.get_by_label("Label feature request").select_option("no")
    with page.expect_response(re.compile(r"/edit$")):
        page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messages")).to_have_text("Saved.")
    expect(editor.locator(".concept-row", has_text="Starry shape")).to_have_count(0)
    assert labels(site, FIRST) == {**before, "feature-request": 0.0}
    no_horizontal_scroll(page)
    tab.shot("removed-and-set-to-no")
    no_errors_logged(tab, expected=rf"{FIRST}/edit:0\): Failed to load resource: .* status of 400")


def test_a_failed_input_shows_its_failure_and_nothing_from_a_third_party(
    site: Site, open_tab: Callable[..., Tab]
) -> None:
    Input.objects.create(
        app=App.objects.get(app_id=site.app_id),
        input_id="broken-download",
        kind=Input.IMAGE,
        source_url="https://images.example.com/missing.jpg",
        status_code=30002,
        status_details="The server answered HTTP 404 for https://images.example.com/missing.jpg.",
    )
    tab = open_tab()
    page = tab.page
    elsewhere: list[str] = []

    def watch(request: Request) -> None:
        if not request.url.startswith(site.url) and not request.url.startswith("data:"):
            elsewhere.append(request.url)

    page.on("request", watch)
    sign_in(tab, site)

    page.goto(site.at(f"{site.grid_path}?status=failed"))
    tile = page.locator("#input-broken-download")
    expect(tile.locator(".failed")).to_contain_text("Failed")
    expect(tile.locator(".failed")).to_contain_text("The server answered HTTP 404")
    tab.shot("failed-tile")

    tile.locator(":scope > a").click()
    expect(page.locator("h1")).to_have_text("broken-download")
    notice = page.get_by_role("alert").filter(has_text="could not be processed")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("The server answered HTTP 404")
    expect(notice.get_by_role("link", name="https://images.example.com/missing.jpg")).to_be_visible()
    sources = page.evaluate("() => Array.from(document.images).map((img) => img.src)")
    assert all(src.startswith(site.url) for src in sources), sources
    tab.shot("failed-detail")

    page.reload()
    expect(notice).to_be_visible()
    assert elsewhere == [], elsewhere
    no_errors_logged(tab)


def test_searching_concepts_after_a_failed_create_stays_on_the_list(site: Site, open_tab: Callable[..., Tab]) -> None:
    tab = open_tab()
    page = tab.page
    sign_in(tab, site)
    concepts = f"{site.apps_path}{site.app_id}/concepts/"
    page.goto(site.at(concepts))
    page.get_by_label("Concept id").fill("circle")  # taken
    page.get_by_role("button", name="Create concept").click()
    expect(page.get_by_role("alert")).to_contain_text("already exists")
    expect(page).to_have_url(re.compile(r"/concepts/new$"))
    tab.shot("create-failed")

    page.get_by_label("Search by name").fill("squ")
    expect(page).to_have_url(site.at(f"{concepts}?q=squ"))
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results")).to_contain_text("square")
    tab.shot("searched-after-failed-create")
    no_errors_logged(tab, expected=r"concepts/new:0\): Failed to load resource: .* status of 400")
