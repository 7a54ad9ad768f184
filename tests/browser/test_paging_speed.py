"""A page turn in a real Chromium asks only for the new page's thumbnails, and browser back still works.

htmx saves a snapshot of the page before a swap that pushes a URL; cloning the page for it made Chromium
load every lazy thumbnail of the page being left, just as it was left.
"""

import re
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import Request, expect

from console.connections.models import Connection
from tests.browser.conftest import Site, Tab
from tests.browser.test_browse import TILES, first_thumbnail_loaded, sign_in, tile_ids

pytestmark = pytest.mark.browser

DISTINCT_APP = "distinct"


@pytest.fixture
def distinct_site(site: Site) -> Site:
    """The site with an app whose 300 inputs each have a picture of their own (so no URL repeats)."""
    call_command("seed_demo", inputs=300, app=DISTINCT_APP, distinct=True, verbosity=0)
    return Site(url=site.url, connection=Connection.objects.get(builtin=True), app_id=DISTINCT_APP)


def thumbnail_sources(tab: Tab) -> set[str]:
    return set(tab.page.locator(f"{TILES} img").evaluate_all("imgs => imgs.map(i => i.src)"))


def visible_thumbnails_loaded(tab: Tab) -> None:
    tab.page.wait_for_function(
        """() => Array.from(document.querySelectorAll('#grid .tile img')).filter((img) => {
            const box = img.getBoundingClientRect();
            return box.bottom > 0 && box.top < window.innerHeight;
        }).every((img) => img.complete && img.naturalWidth > 0)"""
    )


def test_a_page_turn_fetches_only_the_new_pages_thumbnails_and_back_shows_the_previous_page(
    distinct_site: Site, open_tab: Any
) -> None:
    tab = open_tab()
    page = tab.page
    sign_in(tab, distinct_site)
    page.goto(distinct_site.at(distinct_site.grid_path))
    first_thumbnail_loaded(page)
    visible_thumbnails_loaded(tab)
    page.wait_for_load_state("networkidle")
    first_page = tile_ids(page)
    first_sources = thumbnail_sources(tab)
    requested: list[str] = []

    def on_request(request: Request) -> None:
        if "/media?" in request.url:
            requested.append(request.url)

    page.on("request", on_request)
    page.get_by_role("link", name="Next →").first.click()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.locator(TILES).first).not_to_have_id(first_page[0])
    visible_thumbnails_loaded(tab)
    page.wait_for_load_state("networkidle")
    page.remove_listener("request", on_request)

    second_sources = thumbnail_sources(tab)
    assert requested, "the new page's visible thumbnails were fetched"
    assert not set(requested) & first_sources, "thumbnails of the page being left were fetched"
    # Only the new page's, each once, and only those in the window or just below it (static/js/thumbs.js:
    # Chromium's own lazy loading would fetch three quarters of a 128-tile page).
    assert set(requested) <= second_sources
    assert len(requested) == len(set(requested))
    near = page.locator(f"{TILES} img").evaluate_all(
        """imgs => imgs.filter((img) => {
            const box = img.getBoundingClientRect();
            return box.bottom > -160 && box.top < window.innerHeight + 160;
        }).length"""
    )
    assert len(requested) <= near < len(tile_ids(page)), (len(requested), near)

    page.go_back()
    expect(page).not_to_have_url(re.compile(r"page=2"))
    expect(page.locator(TILES).first).to_have_id(first_page[0])
    assert tile_ids(page) == first_page
    first_thumbnail_loaded(page)
    tab.shot("back-on-page-1")
    assert not tab.errors, tab.errors
