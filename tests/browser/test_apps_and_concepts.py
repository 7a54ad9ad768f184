"""Apps and concepts in a real Chromium: rename an app, delete it (a wrong id typed is refused) as a job;
the concepts page's counts follow a bulk label change made in the grid; add and remove a relation on a
concept's page. Screenshots at 1440, 768 and 390 px."""

import re
from collections.abc import Callable

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from playwright.sync_api import Page, expect

from console.connections.clients import client_for
from console.localapi.models import App, Input
from tests.browser.conftest import INPUTS, Site, Tab
from tests.browser.test_browse import no_errors_logged, no_horizontal_scroll, sign_in

pytestmark = pytest.mark.browser
TILES = "#grid article.tile"


def concept_row(page: Page, concept_id: str) -> tuple[str, str]:
    row = page.locator(f'tr[data-concept="{concept_id}"]')
    return row.locator("[data-count=positive]").inner_text(), row.locator("[data-count=negative]").inner_text()


def test_rename_and_delete_an_app(site: Site, open_tab: Callable[..., Tab]) -> None:
    tab = open_tab(width=1440, height=900)
    page = tab.page
    sign_in(tab, site)
    expect(page.locator(f'[data-inputs="{site.app_id}"]')).to_have_text(str(INPUTS))
    tab.shot("apps-with-counts")

    page.locator(f'#results a[href="{site.apps_path}{site.app_id}/"]').click()
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Name").fill("Shapes <for> the grid")
    page.get_by_label("Description").fill("Renamed in a browser")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"App {site.app_id} saved.")).to_be_visible()
    expect(page.locator("h1")).to_have_text("Shapes <for> the grid")
    tab.shot("renamed")

    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Delete the app…").click()
    expect(page.locator("[data-count=inputs]")).to_have_text(str(INPUTS))
    narrow = open_tab(width=390, height=800, name="delete-390")
    sign_in(narrow, site)
    narrow.page.goto(page.url)
    no_horizontal_scroll(narrow.page)
    narrow.shot("confirm")
    no_errors_logged(narrow)

    field = page.get_by_label(re.compile("Type the app's id"))
    field.fill(site.app_id + "x")
    page.get_by_role("button", name="Delete the app").click()
    expect(page.get_by_text("is not this app's id")).to_be_visible()
    tab.shot("wrong-id-refused")
    assert App.objects.filter(app_id=site.app_id, deleted=False).exists()

    page.get_by_label(re.compile("Type the app's id")).fill(site.app_id)
    page.get_by_role("button", name="Delete the app").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    expect(page.locator("h1")).to_have_text(f"Delete app {site.app_id}")
    expect(page.locator("[data-state]")).to_have_attribute("data-state", "done", timeout=30_000)
    tab.shot("deleted-as-a-job")
    page.goto(site.at(site.apps_path))
    expect(page.locator(f'[data-inputs="{site.app_id}"]')).to_have_count(0)
    assert not Input.objects.filter(app__app_id=site.app_id).exists()
    no_errors_logged(tab, expected=r"/delete:0\): Failed to load resource: .* status of 400")


def test_concept_counts_follow_a_bulk_label_change(site: Site, open_tab: Callable[..., Tab]) -> None:
    api = client_for(site.connection)
    app = resources_pb2.UserAppIDSet(user_id=site.connection.user_id, app_id=site.app_id)
    api.call(
        "PostConcepts",
        service_pb2.PostConceptsRequest(user_app_id=app, concepts=[resources_pb2.Concept(id="gem", name="Gem")]),
    )
    tab = open_tab(width=768, height=900)
    page = tab.page
    sign_in(tab, site)
    concepts = site.at(f"{site.apps_path}{site.app_id}/concepts/")
    page.goto(concepts)
    assert concept_row(page, "gem") == ("0", "0")
    no_horizontal_scroll(page)
    tab.shot("before")

    # Three tiles labelled Gem (yes) in the grid, as a job.
    page.goto(site.at(site.grid_path))
    boxes = page.locator(f"{TILES} input[data-pick]")
    for n in (0, 2, 4):
        boxes.nth(n).click()
    page.locator("#b-kind").select_option("add_concepts")
    page.locator("#b-concept").fill("Gem")
    page.get_by_role("button", name="Apply to the selection").click()
    expect(page.locator("[data-state]")).to_have_attribute("data-state", "done", timeout=20_000)

    page.goto(concepts)
    assert concept_row(page, "gem") == ("3", "0")
    # Sorted by count, the least used come last; the count links to the grid filtered by the concept.
    page.get_by_role("link", name="Most used").click()
    expect(page).to_have_url(re.compile(r"sort=count"))
    ids = page.locator("tr[data-concept]").evaluate_all("rows => rows.map(r => r.dataset.concept)")
    assert ids[-1] == "gem", ids
    tab.shot("sorted-by-count")
    page.locator('tr[data-concept="gem"] [data-count=positive]').click()
    expect(page).to_have_url(re.compile(r"/inputs/\?concept=gem$"))
    expect(page.locator(TILES)).to_have_count(3)
    no_errors_logged(tab)


def test_add_and_remove_a_relation(site: Site, open_tab: Callable[..., Tab]) -> None:
    tab = open_tab(width=1440, height=900)
    page = tab.page
    sign_in(tab, site)
    page.goto(site.at(f"{site.apps_path}{site.app_id}/concepts/"))
    page.locator('tr[data-concept="square"] td').first.get_by_role("link").click()
    expect(page.locator("h1")).to_have_text("square")
    expect(page.get_by_text("The Clarifai API has no way to delete a concept")).to_be_visible()
    expect(page.get_by_text("No relations yet.")).to_be_visible()

    page.get_by_label("Relation", exact=True).select_option("hyponym")
    page.get_by_label("Concept", exact=True).fill("star")
    page.get_by_role("button", name="Add the relation").click()
    expect(page.get_by_text("square is now a hyponym of star.")).to_be_visible()
    row = page.locator("table.relations tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("is a kind of")
    tab.shot("related")

    # Relating it to itself is refused with the API's reason, and nothing changes.
    page.get_by_label("Relation", exact=True).select_option("synonym")
    page.get_by_label("Concept", exact=True).fill("square")
    page.get_by_role("button", name="Add the relation").click()
    expect(page.get_by_text("cannot be related to itself")).to_be_visible()
    expect(row).to_have_count(1)

    # The related concept is a link; its page shows the relation from its side.
    row.get_by_role("link", name="star").click()
    expect(page.locator("h1")).to_have_text("star")
    expect(page.locator("table.relations tbody tr")).to_contain_text("is a parent of")
    page.locator("table.relations").get_by_role("link", name="square").click()
    expect(page.locator("h1")).to_have_text("square")

    page.locator("table.relations").get_by_role("button", name=re.compile("^Remove")).click()
    expect(page.get_by_text("Relation removed.")).to_be_visible()
    expect(page.get_by_text("No relations yet.")).to_be_visible()
    narrow = open_tab(width=390, height=800, name="concept-390")
    sign_in(narrow, site)
    narrow.page.goto(page.url)
    no_horizontal_scroll(narrow.page)
    narrow.shot("concept-page")
    no_errors_logged(tab)
