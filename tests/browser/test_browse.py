"""Browsing in a real Chromium: sign in, open an app, page through its inputs (browser back included),
open an input and edit its metadata; and the same pages at a tablet's width.

Each step saves a full-page screenshot under test-artifacts/browser/ to look at.
"""

import json
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from console.localapi.models import Input
from tests.browser.conftest import INPUTS, Site, Tab

pytestmark = pytest.mark.browser

PER_PAGE = 128
TILES = "#grid article.tile"
INPUTS_ON_LAST_PAGE = INPUTS - 2 * PER_PAGE


def sign_in(tab: Tab, site: Site) -> None:
    page = tab.page
    page.goto(site.url)
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    tab.shot("sign-in")
    page.get_by_label("Username").fill(site.username)
    page.get_by_label("Password").fill(site.password)
    page.get_by_role("button", name="Sign in").click()
    # The home page sends a signed-in person to the apps of the first connection, the built-in one.
    expect(page).to_have_url(site.at(site.apps_path))


def tile_ids(page: Page) -> list[str]:
    ids: list[str] = page.locator(TILES).evaluate_all("tiles => tiles.map(t => t.id)")
    return ids


def first_thumbnail_loaded(page: Page) -> None:
    page.wait_for_function(
        "() => { const img = document.querySelector('#grid .tile img');"
        " return img !== null && img.complete && img.naturalWidth > 0; }"
    )


def wait_for_grid(page: Page, query: str, first_tile: str | None = None) -> None:
    expect(page).to_have_url(re.compile(re.escape(query)))
    if first_tile:
        expect(page.locator(TILES).first).to_have_id(first_tile)


def no_horizontal_scroll(page: Page) -> None:
    sizes = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    assert sizes[0] <= sizes[1], f"the page scrolls sideways: {sizes[0]} px wide in a {sizes[1]} px window"


def no_errors_logged(tab: Tab, expected: str = "") -> None:
    """Nothing went wrong in the page: no CSP violation, no script error, no failed request but `expected`
    (Chromium logs every 4xx answer, even one the page asked for, such as a form sent back with errors)."""
    csp = [e for e in tab.errors if "Content Security Policy" in e or "Content-Security-Policy" in e]
    assert not csp, csp
    errors = [
        e for e in tab.errors if not e.startswith("console warning") and not (expected and re.search(expected, e))
    ]
    assert not errors, errors


def test_it_signs_in_pages_through_inputs_and_edits_metadata(site: Site, open_tab: Callable[..., Tab]) -> None:
    tab = open_tab(name="desktop")
    page = tab.page
    sign_in(tab, site)
    tab.shot("apps")

    page.locator(f'a[href="{site.apps_path}{site.app_id}/"]').first.click()
    expect(page.locator("h1")).to_have_text("Benchmark (300 inputs)")
    expect(page.locator(".stats")).to_contain_text("300")
    tab.shot("overview")

    page.locator(".tabs").get_by_role("link", name="Inputs").click()
    expect(page).to_have_url(site.at(site.grid_path))
    expect(page.locator(TILES)).to_have_count(PER_PAGE)
    first_thumbnail_loaded(page)
    tab.load_lazy_pictures()
    broken = page.locator(TILES).evaluate_all(
        "tiles => tiles.filter(t => !(t.querySelector('img')?.naturalWidth > 0)).map(t => t.id)"
    )
    assert not broken, f"thumbnails that did not load: {broken}"
    expect(page.locator(".pager .position").first).to_have_text("1–128 of 300")
    page_1 = tile_ids(page)
    tab.shot("grid-page-1")

    # Next swaps the grid in place (the marker on window survives: no full page load) and pushes the URL.
    page.evaluate("() => { window.stillTheSameDocument = true; }")
    page.locator("#grid a[rel=next]").last.click()  # the pager under the grid
    wait_for_grid(page, "page=2")
    expect(page.locator(TILES).first).not_to_have_id(page_1[0])
    expect(page.locator(TILES)).to_have_count(PER_PAGE)
    assert page.evaluate("() => window.stillTheSameDocument") is True
    page_2 = tile_ids(page)
    assert not set(page_1) & set(page_2)
    first_thumbnail_loaded(page)
    tab.shot("grid-page-2")

    page.locator("#grid a[rel=next]").first.click()  # the pager over the grid
    wait_for_grid(page, "page=3")
    expect(page.locator(TILES)).to_have_count(INPUTS_ON_LAST_PAGE)
    expect(page.locator(".pager .position").first).to_have_text("257–300 of 300")
    expect(page.locator('#grid .pager [aria-disabled="true"]').last).to_have_text("Next →")
    page_3 = tile_ids(page)
    tab.shot("grid-page-3")

    page.locator("#grid a[rel=prev]").last.click()
    wait_for_grid(page, "page=2", page_2[0])
    assert tile_ids(page) == page_2

    # The browser's back button walks the same way back: page 3, page 2, page 1.
    page.go_back()
    wait_for_grid(page, "page=3", page_3[0])
    assert tile_ids(page) == page_3
    page.go_back()
    wait_for_grid(page, "page=2", page_2[0])
    assert tile_ids(page) == page_2
    page.go_back()
    expect(page).to_have_url(site.at(site.grid_path))
    expect(page.locator(TILES).first).to_have_id(page_1[0])
    assert tile_ids(page) == page_1
    tab.shot("back-to-page-1")

    # A pushed URL opened directly is a full page, not a bare partial.
    page.goto(site.at(f"{site.grid_path}?page=2"))
    expect(page.locator("header.topbar")).to_be_visible()
    expect(page.locator(".tabs")).to_be_visible()
    expect(page.locator("h1")).to_have_text("Inputs")
    assert tile_ids(page) == page_2
    first_thumbnail_loaded(page)
    tab.shot("page-2-opened-directly")

    chosen = page_2[5].removeprefix("input-")
    page.locator(f"#input-{chosen} > a").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(site.grid_path)}{chosen}/\?back=page%3D2$"))
    expect(page.locator("h1")).to_have_text(chosen)
    page.wait_for_function(
        "() => { const img = document.querySelector('.detail .picture img'); return img && img.naturalWidth > 0; }"
    )
    tab.shot("detail")

    metadata = {"split": "train", "reviewed": True, "note": "checked in a browser", "score": 7}
    page.get_by_label("Metadata").fill(json.dumps(metadata, indent=2))
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Saved.")
    assert json.loads(page.locator(".detail pre").inner_text()) == metadata
    assert Input.objects.get(app__app_id=site.app_id, input_id=chosen).metadata == metadata
    tab.shot("metadata-saved")

    page.get_by_label("Metadata").fill('{"split": "test",')
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".errorlist")).to_contain_text("This is not valid JSON")
    assert json.loads(page.locator(".detail pre").inner_text()) == metadata
    assert Input.objects.get(app__app_id=site.app_id, input_id=chosen).metadata == metadata
    tab.shot("metadata-invalid")

    page.reload()
    expect(page.locator("h1")).to_have_text(chosen)
    assert json.loads(page.locator(".detail pre").inner_text()) == metadata

    # Back to the grid page the input was opened from.
    page.get_by_role("link", name="← Inputs").click()
    wait_for_grid(page, "page=2", page_2[0])
    no_errors_logged(tab, expected=rf"{chosen}/edit\?back=page%3D2:0\): Failed to load resource: .* status of 400")


def test_the_grid_and_the_detail_fit_a_tablet(site: Site, open_tab: Callable[..., Tab]) -> None:
    tab = open_tab(820, 1180, name="tablet")
    page = tab.page
    sign_in(tab, site)
    no_horizontal_scroll(page)

    page.goto(site.at(site.grid_path))
    expect(page.locator(TILES)).to_have_count(PER_PAGE)
    first_thumbnail_loaded(page)
    no_horizontal_scroll(page)
    tab.shot("grid")

    page.locator("#grid a[rel=next]").last.click()  # the pager under the grid
    wait_for_grid(page, "page=2")
    no_horizontal_scroll(page)

    page.locator(TILES).first.locator(":scope > a").click()
    expect(page.locator("h1 code")).to_be_visible()
    expect(page.get_by_role("button", name="Save")).to_be_visible()
    no_horizontal_scroll(page)
    tab.shot("detail")

    page.goto(site.at(f"{site.apps_path}{site.app_id}/"))
    no_horizontal_scroll(page)
    tab.shot("overview")
    no_errors_logged(tab)


def test_a_tile_being_processed_turns_into_its_picture_without_a_reload(
    site: Site, open_tab: Callable[..., Tab]
) -> None:
    """A worker finishes an input while the grid is open: the page polls, then the tile shows the thumbnail."""
    newest = Input.objects.filter(app__app_id=site.app_id).order_by("-id").first()
    assert newest is not None
    Input.objects.filter(pk=newest.pk).update(status_code=30001)  # as if just posted
    tab = open_tab(name="polling")
    page = tab.page
    sign_in(tab, site)
    page.goto(site.at(site.grid_path))
    tile = page.locator(f"#input-{newest.input_id}")
    expect(tile).to_contain_text("Pending")
    expect(tile.locator("img")).to_have_count(0)
    expect(page.locator("#poller")).to_have_count(1)
    page.evaluate("() => { window.stillTheSameDocument = true; }")
    tab.shot("tile-pending")

    Input.objects.filter(pk=newest.pk).update(status_code=30000)  # the worker is done
    expect(tile.locator("img")).to_have_count(1, timeout=10_000)
    expect(tile).to_contain_text("Processed")
    expect(page.locator("#poller")).to_have_count(0)  # and the polling stopped
    expect(page.locator('#filters a[href="?status=pending"]')).to_contain_text("Pending 0")
    assert page.evaluate("() => window.stillTheSameDocument") is True
    tab.shot("tile-processed")
