"""An app's Access area in a real Chromium: an admin opens the Access tab, adds a collaborator and makes a
key with the keyboard, and sees the key's secret once. The pages fit a phone's, a tablet's and a laptop's
width.
"""

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from console.localapi.models import Collaborator, Token
from console.localapi.models import User as LocalUser
from tests.browser.conftest import Site, Tab
from tests.browser.test_browse import no_errors_logged, no_horizontal_scroll, sign_in

pytestmark = pytest.mark.browser

WIDTHS = (390, 768, 1440)


@pytest.mark.parametrize("width", WIDTHS)
def test_an_admin_adds_a_collaborator_and_makes_a_key_with_the_keyboard(
    site: Site, open_tab: Callable[..., Tab], width: int
) -> None:
    LocalUser.objects.create(id="carol", first_name="Carol", email="carol@example.com")
    tab = open_tab(width, 900, name=f"access-{width}")
    page = tab.page
    sign_in(tab, site)
    page.goto(site.at(f"{site.apps_path}{site.app_id}/"))
    page.get_by_role("link", name="Access", exact=True).click()
    expect(page.locator("h1")).to_have_text(f"Access to {site.app_id}")
    expect(page.get_by_role("table")).to_contain_text("owns the app")
    tab.shot("who-can-do-what")
    no_horizontal_scroll(page)

    page.get_by_role("link", name="Collaborators").click()
    expect(page.get_by_text("No collaborators yet.")).to_be_visible()
    # Keyboard only: the user id, then the preset (arrow keys in the radio group), then Enter on the button.
    page.get_by_label("Clarifai user id or email").focus()
    page.keyboard.type("carol@example.com")
    page.keyboard.press("Tab")  # onto the chosen preset: labeler
    page.keyboard.press("ArrowDown")  # labeler → reviewer
    expect(page.get_by_label("Reviewer", exact=False)).to_be_checked()
    page.get_by_role("button", name="Add the collaborator").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".messages, [role=status]").first).to_contain_text("is now a collaborator")
    assert "Annotations:Delete" in Collaborator.objects.get(user_id="carol").scopes
    expect(page.get_by_role("table")).to_contain_text("carol")
    tab.shot("collaborators")
    no_horizontal_scroll(page)
    page.get_by_role("link", name="Change carol's scopes").click()
    expect(page.get_by_label("Reviewer", exact=False)).to_be_checked()
    tab.shot("collaborator-change")
    no_horizontal_scroll(page)
    page.get_by_role("link", name="Cancel").click()
    page.get_by_role("link", name="Remove carol").click()
    expect(page.locator("h1")).to_have_text("Remove carol?")
    tab.shot("collaborator-remove")
    no_horizontal_scroll(page)
    page.get_by_role("link", name="Cancel").click()
    assert Collaborator.objects.filter(user_id="carol").exists()

    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Description").focus()
    page.keyboard.type("Nightly export")
    page.keyboard.press("Enter")  # the default preset: read only
    secret = page.get_by_label("The key's secret")
    expect(secret).to_be_visible()
    token = Token.objects.get(description="Nightly export")
    assert secret.input_value().startswith(token.key_id)
    tab.shot("key-made")
    no_horizontal_scroll(page)
    page.get_by_role("link", name="Done: back to the keys").click()
    expect(page.get_by_role("table")).to_contain_text("Nightly export")
    expect(page.get_by_role("table")).not_to_contain_text(token.key_id)
    tab.shot("keys")
    no_horizontal_scroll(page)
    no_errors_logged(tab)
