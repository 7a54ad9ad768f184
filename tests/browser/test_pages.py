"""Pages as a person meets them in a real Chromium: every page at a phone's, a tablet's and a laptop's width
without sideways scrolling; keyboard focus on the grid; a session that expires in the middle of editing.

Each step saves a full-page screenshot under test-artifacts/browser/ to look at.
"""

import re
from collections.abc import Callable

import pytest
from django.contrib.sessions.models import Session
from playwright.sync_api import expect

from console.localapi.models import Input
from tests.browser.conftest import ARTIFACTS, Site, Tab
from tests.browser.test_browse import TILES, no_errors_logged, no_horizontal_scroll, sign_in

pytestmark = pytest.mark.browser

WIDTHS = (390, 768, 1440)
# Badges and buttons that stick out of the card, tile or stat they are in (an overflow the page does not show).
SPILLS = """() => Array.from(document.querySelectorAll(".badge, .button")).flatMap((el) => {
    const box = el.parentElement.closest(".card, .tile, .stat");
    if (!box) return [];
    const [inner, outer] = [el.getBoundingClientRect(), box.getBoundingClientRect()];
    const out = inner.right > outer.right + 1 || inner.left < outer.left - 1;
    return out ? [`${el.textContent.trim()} out of its box`] : [];
})"""


def view_shot(tab: Tab, step: str) -> None:
    """A screenshot of what is in the window now (no scrolling): where the page is and what has focus."""
    path = ARTIFACTS / f"{tab.name}-{len(tab.shots) + 1:02d}-{step}.png"
    tab.page.screenshot(path=path, caret="initial")
    tab.shots.append(path)


def every_page(site: Site) -> dict[str, str]:
    """A path for each kind of page the console has, signed in."""
    newest = Input.objects.filter(app__app_id=site.app_id).order_by("-id").first()
    assert newest is not None
    conn = site.connection.pk
    return {
        "apps": site.apps_path,
        "overview": f"{site.apps_path}{site.app_id}/",
        "grid": site.grid_path,
        "grid-past-the-end": f"{site.grid_path}?page=9",
        "detail": f"{site.grid_path}{newest.input_id}/",
        "missing-input": f"{site.grid_path}no-such-input/",
        "concepts": f"/c/{conn}/apps/{site.app_id}/concepts/",
        "tasks": f"/c/{conn}/apps/{site.app_id}/tasks/",
        "access": f"/c/{conn}/apps/{site.app_id}/access/",
        "connections": "/connections/",
        "connection-new": "/connections/new",
        "connection-edit": f"/connections/{conn}/edit",
        "not-found": "/no/such/page",
        "password": "/accounts/password/",
    }


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_scrolls_sideways(site: Site, open_tab: Callable[..., Tab], width: int) -> None:
    tab = open_tab(width, 900, name=f"width-{width}")
    page = tab.page
    page.goto(site.url)
    no_horizontal_scroll(page)
    sign_in(tab, site)
    wide = []
    for name, path in every_page(site).items():
        page.goto(site.at(path))
        expect(page.locator("h1, h2").first).to_be_visible()
        tab.shot(name)
        sizes = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
        if sizes[0] > sizes[1]:
            wide.append(f"{name} is {sizes[0]} px wide")
        wide += [f"{name}: {spill}" for spill in page.evaluate(SPILLS)]
    assert not wide, f"pages that scroll sideways at {width} px: {wide}"
    no_errors_logged(tab, expected=r"status of 40[45]")


def test_on_a_phone_the_current_tab_is_scrolled_into_its_strip(site: Site, open_tab: Callable[..., Tab]) -> None:
    """At 390 px the app's tabs overflow their strip: the page's own tab (Access, the last) is in view."""
    tab = open_tab(390, 800, name="tabs-390")
    page = tab.page
    sign_in(tab, site)
    page.goto(site.at(f"/c/{site.connection.pk}/apps/{site.app_id}/access/"))
    current = page.locator('.subnav .tabs [aria-current="page"]')
    expect(current).to_have_text("Access")
    expect(current).to_be_in_viewport(ratio=0.95)  # whole, but for sub-pixel rounding
    assert page.evaluate("() => document.querySelector('.subnav .tabs').scrollLeft") > 0
    assert page.evaluate("() => window.scrollY") == 0  # the page itself did not move
    tab.shot("access-tab")
    no_errors_logged(tab)


def test_keyboard_focus_shows_on_a_tile_and_lands_on_the_input_after_enter(
    site: Site, open_tab: Callable[..., Tab]
) -> None:
    tab = open_tab(name="focus")
    page = tab.page
    sign_in(tab, site)
    page.goto(site.at(site.grid_path))
    first = page.locator(TILES).first
    first.locator(":scope > a").focus()
    page.keyboard.press("Tab")  # from the first tile to the second, as a keyboard user moves
    second = page.locator(TILES).nth(1)
    expect(second.locator(":scope > a")).to_be_focused()
    # The ring is drawn by the tile, whose overflow would clip the link's own outline.
    outline = second.evaluate("t => [getComputedStyle(t).outlineStyle, getComputedStyle(t).outlineWidth]")
    assert outline == ["solid", "2px"]
    view_shot(tab, "tile-focused")

    input_id = (second.get_attribute("id") or "").removeprefix("input-")
    page.keyboard.press("Enter")
    heading = page.locator("#content h1")
    expect(heading).to_have_text(input_id)
    expect(heading).to_be_focused()
    expect(page).to_have_title(re.compile(rf"^{re.escape(input_id)} · Inputs"))
    # The heading is in view, not under the sticky top bar.
    top = heading.evaluate("h => h.getBoundingClientRect().top")
    bar = page.locator("header.topbar").evaluate("b => b.getBoundingClientRect().bottom")
    assert top >= bar, f"the heading's top ({top}) is under the top bar (bottom {bar})"
    view_shot(tab, "input-opened-focus-on-heading")

    # A failed Save: the error is in view and focus is on the field to fix.
    page.get_by_label("Metadata").fill('{"broken": ')
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("Metadata")).to_be_focused()
    expect(page.locator(".errorlist").first).to_be_in_viewport()
    view_shot(tab, "save-failed-error-in-view")
    no_errors_logged(tab, expected=r"status of 400")


def expire_sessions() -> None:
    """What an expiry does: the session rows are gone (the cache, if any, forgets them too)."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    for key in Session.objects.values_list("session_key", flat=True):
        store(key).delete()
    Session.objects.all().delete()


def test_a_session_that_expires_mid_edit_signs_in_as_a_full_page_and_comes_back(
    site: Site, open_tab: Callable[..., Tab]
) -> None:
    tab = open_tab(name="session-expiry")
    page = tab.page
    sign_in(tab, site)
    page.goto(site.at(site.grid_path))
    expect(page.locator(TILES).first).to_be_visible()

    expire_sessions()
    page.locator("#grid a[rel=next]").last.click()  # an HTMX request without a session
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    expect(page.locator("h1")).to_have_text("Sign in")
    expect(page.locator("header.topbar nav.topnav")).to_have_count(0)  # a full page, nobody signed in
    expect(page.locator("#grid")).to_have_count(0)
    expect(page.locator(".messages")).to_contain_text("Your session has ended.")
    tab.shot("next-signs-in")
    page.get_by_label("Username").fill(site.username)
    page.get_by_label("Password").fill(site.password)
    page.get_by_role("button", name="Sign in").click()
    # Back where the click was made (the grid it was on; the Next was never answered).
    expect(page).to_have_url(site.at(site.grid_path))
    expect(page.locator(TILES).first).to_be_visible()
    tab.shot("back-on-the-grid")

    page.locator(TILES).first.locator(":scope > a").click()
    expect(page.get_by_role("button", name="Save")).to_be_visible()
    detail_url = page.url
    expire_sessions()
    page.get_by_label("Metadata").fill('{"typed": "before the session expired"}')
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    expect(page.locator("h1")).to_have_text("Sign in")
    expect(page.locator(".messages")).to_contain_text("What was being saved was not")
    tab.shot("save-signs-in")
    page.get_by_label("Username").fill(site.username)
    page.get_by_label("Password").fill(site.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(detail_url)
    expect(page.get_by_role("button", name="Save")).to_be_visible()
    tab.shot("back-on-the-input")
    no_errors_logged(tab, expected=r"status of 401")  # pictures still loading when the session ended


def test_page_size_starts_at_page_1_and_search_replaces_the_url_once_typing_settles(
    site: Site, open_tab: Callable[..., Tab]
) -> None:
    tab = open_tab(name="page-size-and-search")
    page = tab.page
    sign_in(tab, site)
    page.goto(site.at(f"{site.grid_path}?per_page=32&page=3&status=processed"))
    page.get_by_label("Per page").select_option("64")
    expect(page).to_have_url(site.at(f"{site.grid_path}?status=processed&per_page=64"))
    expect(page.locator(".pager .position").first).to_have_text("1–64 of 300")
    tab.shot("page-size-changed")

    page.goto(site.at(site.apps_path))
    entries = page.evaluate("() => history.length")
    search = page.get_by_label("Search by name")
    search.press_sequentially("Ben")
    expect(page).to_have_url(site.at(f"{site.apps_path}?q=Ben"))
    search.press_sequentially("ch")
    expect(page).to_have_url(site.at(f"{site.apps_path}?q=Bench"))
    expect(page.locator("#results")).to_contain_text("Benchmark")
    assert page.evaluate("() => history.length") == entries  # replaced, not one entry per pause
    expect(page).to_have_title("“Bench” · Apps · Local demo · Clarifai console")
    tab.shot("searched")
    no_errors_logged(tab)


def test_a_save_with_an_out_of_date_csrf_token_says_so_and_keeps_what_was_typed(
    site: Site, open_tab: Callable[..., Tab]
) -> None:
    tab = open_tab(name="csrf-in-place")
    page = tab.page
    sign_in(tab, site)
    page.goto(site.at(site.grid_path))
    page.locator(TILES).first.locator(":scope > a").click()
    expect(page.get_by_role("button", name="Save")).to_be_visible()
    # As if the page had been open across a new sign-in in another tab: its token is no longer the cookie's.
    page.evaluate(
        """() => {
            document.body.setAttribute("hx-headers", JSON.stringify({"X-CSRFToken": "x".repeat(64)}));
            document.querySelectorAll("input[name=csrfmiddlewaretoken]").forEach((i) => { i.value = "x".repeat(64); });
        }"""
    )
    typed = '{"typed": "kept"}'
    page.get_by_label("Metadata").fill(typed)
    page.get_by_role("button", name="Save").click()
    notice = page.locator("#alerts [role=alert]")
    expect(notice).to_contain_text("This page is out of date")
    expect(notice).to_be_in_viewport()
    expect(page.get_by_label("Metadata")).to_have_value(typed)  # the form stays as it was
    view_shot(tab, "notice-in-place")
    notice.get_by_role("link", name="Reload the page").click()
    expect(page.locator("#alerts [role=alert]")).to_have_count(0)
    expect(page.get_by_role("button", name="Save")).to_be_visible()
    no_errors_logged(tab, expected=r"status of 403")
