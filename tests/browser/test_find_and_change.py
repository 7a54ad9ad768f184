"""Finding and changing many inputs in a real Chromium: filter by concept and metadata, open the shared
URL in a new context, select a range with Shift and with Space, select all that match, run a bulk concept
change and watch its job finish, and move through inputs with j and k. Screenshots at 1440, 768 and 390 px."""

import re
from collections.abc import Callable

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from playwright.sync_api import Page, expect

from console.connections.clients import client_for
from console.localapi.models import Input, InputConcept
from tests.browser.conftest import Site, Tab
from tests.browser.test_browse import no_errors_logged, no_horizontal_scroll, sign_in

pytestmark = pytest.mark.browser
TILES = "#grid article.tile"
STARRED = 12  # inputs labelled gem; of them, MATCHING also have split = "test"
MATCHING = 8


def label_some(site: Site) -> list[str]:
    """Label the newest inputs gem, and give most of them split = "test"; answer the matching ids, newest first."""
    api = client_for(site.connection)
    app = resources_pb2.UserAppIDSet(user_id=site.connection.user_id, app_id=site.app_id)
    concepts = [resources_pb2.Concept(id="gem", name="Gem"), resources_pb2.Concept(id="reviewed", name="Reviewed")]
    api.call("PostConcepts", service_pb2.PostConceptsRequest(user_app_id=app, concepts=concepts))
    newest = list(
        Input.objects.filter(app__app_id=site.app_id).order_by("-created_at", "-id").values_list("input_id", flat=True)
    )
    starred = newest[1 : 1 + STARRED * 2 : 2]  # every other one, so the filter visibly changes the grid
    patches = []
    for n, input_id in enumerate(starred):
        item = resources_pb2.Input(id=input_id)
        item.data.concepts.append(resources_pb2.Concept(id="gem", value=1.0))
        item.data.metadata.update({"split": "test" if n < MATCHING else "train"})
        patches.append(item)
    api.call("PatchInputs", service_pb2.PatchInputsRequest(user_app_id=app, inputs=patches, action="merge"))
    return starred[:MATCHING]


def tile_ids(page: Page) -> list[str]:
    ids: list[str] = page.locator(TILES).evaluate_all("tiles => tiles.map(t => t.id.slice('input-'.length))")
    return ids


def test_find_select_change_and_move_through_inputs(site: Site, open_tab: Callable[..., Tab]) -> None:
    matching = label_some(site)
    tab = open_tab(width=1440, height=900)
    page = tab.page
    sign_in(tab, site)
    page.goto(site.at(site.grid_path))
    expect(page.locator(TILES)).to_have_count(128)

    # Filter by concept (offered by name) and metadata: one history entry for the applied filter.
    page.locator("#f-concept").focus()  # the concepts offered by name come once a field is used
    expect(page.locator('#f-concepts option[value="Gem"]')).to_have_count(1)
    page.locator("#f-concept").fill("Gem")
    page.locator("#f-meta").fill('split = "test"')
    page.get_by_role("button", name="Filter", exact=True).click()
    expect(page).to_have_url(re.compile(r"concept=Gem.*meta=split"))
    expect(page.locator(TILES)).to_have_count(MATCHING)
    assert tile_ids(page) == matching
    expect(page.locator("#counts-note")).to_contain_text("whole app")
    tab.shot("filtered-1440")
    shared = page.url

    # The shared link opens the same view in a new context.
    other = open_tab(width=768, height=900, name="shared-768")
    sign_in(other, site)
    other.page.goto(shared)
    expect(other.page.locator(TILES)).to_have_count(MATCHING)
    assert tile_ids(other.page) == matching
    expect(other.page.locator("#f-meta")).to_have_value('split = "test"')
    no_horizontal_scroll(other.page)
    other.shot("shared")
    no_errors_logged(other)

    # A range with Shift, then one more with Space on a focused tile.
    boxes = page.locator(f"{TILES} input[data-pick]")
    boxes.nth(1).click()
    boxes.nth(4).click(modifiers=["Shift"])
    expect(page.locator(f"{TILES}.selected")).to_have_count(4)
    expect(page.locator("[data-selected-count]")).to_have_text("4 ticked tiles")
    page.locator(f"{TILES} > a").nth(6).focus()
    page.keyboard.press("Space")
    expect(page.locator(f"{TILES}.selected")).to_have_count(5)
    assert page.locator(f"{TILES}.selected").evaluate_all("ts => ts.map(t => t.id.slice(6))") == [
        matching[i] for i in (1, 2, 3, 4, 6)
    ]
    tab.shot("range-selected")

    # All that match: counted, then the bulk concept change runs over exactly those.
    page.get_by_role("button", name="Select all that match").click()
    expect(page.get_by_text(f"All {MATCHING} that match")).to_be_visible()
    expect(page.locator("input[name=scope][value=all]")).to_be_checked()
    page.locator("#b-kind").select_option("add_concepts")
    page.locator("#b-concept").fill("Reviewed")
    tab.shot("bulk-ready")
    page.get_by_role("button", name="Apply to the selection").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    expect(page.locator("[data-state]")).to_have_attribute("data-state", "done", timeout=20_000)
    expect(page.locator("[data-count=done]")).to_have_text(str(MATCHING))
    tab.shot("job-done")
    checked = InputConcept.objects.filter(concept__concept_id="reviewed", concept__app__app_id=site.app_id)
    assert sorted(checked.values_list("input__input_id", flat=True)) == sorted(matching)

    # Moving through inputs: j and k, then Esc back to the grid at the tile.
    page.goto(shared)
    page.locator(f"{TILES} > a").nth(2).click()
    expect(page.locator("h1")).to_have_text(matching[2])
    page.keyboard.press("j")
    expect(page.locator("h1")).to_have_text(matching[3])
    expect(page).to_have_url(re.compile(re.escape(f"/inputs/{matching[3]}/")))
    page.keyboard.press("ArrowRight")
    expect(page.locator("h1")).to_have_text(matching[4])
    page.keyboard.press("k")
    expect(page.locator("h1")).to_have_text(matching[3])
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_be_visible()
    tab.shot("detail-shortcuts")
    page.keyboard.press("Escape")
    expect(page).to_have_url(re.compile(re.escape(f"#input-{matching[3]}")))
    expect(page.locator(TILES)).to_have_count(MATCHING)

    # A phone: nothing scrolls sideways on the filtered grid and the input page.
    page.set_viewport_size({"width": 390, "height": 800})
    no_horizontal_scroll(page)
    tab.shot("filtered-390")
    page.locator(f"{TILES} > a").first.click()
    expect(page.locator("h1")).to_have_text(matching[0])
    no_horizontal_scroll(page)
    tab.shot("detail-390")
    no_errors_logged(tab)
