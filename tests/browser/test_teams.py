"""Teams in a real Chromium: an admin makes an invite link with the keyboard, a new person opens it, makes
an account and joins as a labeler, and then meets pages without the controls a labeler may not use. The
team pages fit a phone's, a tablet's and a laptop's width.
"""

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from console.teams.models import Membership, Role
from tests.browser.conftest import Site, Tab
from tests.browser.test_browse import no_errors_logged, no_horizontal_scroll, sign_in

pytestmark = pytest.mark.browser

WIDTHS = (390, 768, 1440)


@pytest.mark.parametrize("width", WIDTHS)
def test_an_invite_link_brings_a_new_labeler_in(site: Site, open_tab: Callable[..., Tab], width: int) -> None:
    admin = open_tab(width, 900, name=f"teams-{width}")
    page = admin.page
    sign_in(admin, site)
    page.get_by_role("link", name="Teams").click()
    expect(page.locator("h1")).to_have_text("Teams")
    admin.shot("teams")
    no_horizontal_scroll(page)
    page.get_by_role("link", name="Team", exact=True).click()
    admin.shot("team")
    no_horizontal_scroll(page)
    # Keyboard only: choose the role, then send the form.
    page.get_by_label("Role", exact=True).focus()
    page.keyboard.press("Home")
    page.keyboard.press("ArrowDown")  # viewer → labeler
    page.get_by_role("button", name="Make an invite link").focus()
    page.keyboard.press("Enter")
    link = page.get_by_label("Invite link")
    expect(link).to_be_visible()
    admin.shot("invite-link")
    no_horizontal_scroll(page)
    url = link.input_value()

    newcomer = open_tab(width, 900, name=f"join-{width}")
    page = newcomer.page
    page.goto(url)
    expect(page.locator("h1")).to_have_text("Join Team")
    newcomer.shot("join")
    no_horizontal_scroll(page)
    page.get_by_label("Username").fill("lena")
    page.get_by_label("Password", exact=True).fill("a-long-passphrase-77")
    page.get_by_label("Password confirmation").fill("a-long-passphrase-77")
    page.get_by_role("button", name="Make my account and join").click()
    expect(page.locator(".messages, [role=status]").first).to_contain_text("You joined Team as labeler")
    assert Membership.objects.get(user__username="lena").role == Role.LABELER
    newcomer.shot("joined")

    page.goto(site.at(site.grid_path))
    expect(page.locator("#grid")).to_be_visible()
    expect(page.get_by_role("link", name="Upload")).to_have_count(0)
    expect(page.locator("#bulk")).to_have_count(0)
    newcomer.shot("grid-as-labeler")
    page.goto(url)  # the link worked once
    expect(page.locator("h1")).to_have_text("This invite link no longer works")
    no_errors_logged(admin)
    no_errors_logged(newcomer, expected=r"status of 404")
