"""Uploading in a real Chromium: three files chosen with the file picker and a zip archive dropped on the
drop zone (a real drop event carrying a DataTransfer), sent with the page showing how much has been
sent; the job it starts ends on the jobs page, and the new inputs show in the grid."""

import base64
import io
import random
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import FilePayload, expect

from console.localapi.models import Input
from console.uploads.models import Upload
from tests.browser.conftest import Site, Tab
from tests.browser.test_browse import no_errors_logged, no_horizontal_scroll, sign_in, tile_ids
from tests.images import jpeg, png

pytestmark = pytest.mark.browser


def noise(width: int, height: int) -> bytes:
    """A PNG that does not compress: a few MB, so that sending it takes several progress events."""
    pixels = random.Random(width).randbytes(width * height * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (width, height), pixels).save(buffer, "PNG", compress_level=0)
    return buffer.getvalue()


def archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr("in-zip/first.png", png(20, 20, "orange"))
        zipped.writestr("in-zip/second.jpg", jpeg(30, 20, "purple"))
        zipped.writestr("../outside.png", png())
    return buffer.getvalue()


# Records every text the progress line shows, across the navigation that follows the upload.
RECORD_PROGRESS = """() => {
  const text = document.querySelector("[data-progress-text]");
  new MutationObserver(() => {
    sessionStorage.setItem("progress", (sessionStorage.getItem("progress") || "") + "|" + text.textContent);
  }).observe(text, {childList: true, characterData: true, subtree: true});
}"""

DROP = """([name, data]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, {type: "application/zip"}));
  return transfer;
}"""


def test_files_picked_and_a_zip_dropped_are_uploaded_by_a_job_and_show_in_the_grid(
    site: Site, open_tab: Callable[..., Tab], settings: Any, tmp_path: Path
) -> None:
    settings.UPLOAD_SPOOL_DIR = tmp_path / "spool"
    tab = open_tab()
    page = tab.page
    sign_in(tab, site)
    page.goto(site.at(site.grid_path))
    page.get_by_role("link", name="Upload", exact=True).first.click()
    expect(page.get_by_role("heading", name=f"Upload into {site.app_id}")).to_be_visible()

    help_text = page.locator("[data-dropzone] .help")
    expect(help_text).to_contain_text("At most 20.0 MB a file, 1000 files and 2.0 GB at once.")
    picker = page.locator("[data-dropzone] input[type=file]")
    picker.set_input_files(
        [
            FilePayload(name="big.png", mimeType="image/png", buffer=noise(1200, 1000)),
            FilePayload(name="small.jpg", mimeType="image/jpeg", buffer=jpeg(40, 30, "green")),
            FilePayload(name="tiny.png", mimeType="image/png", buffer=png(16, 16, "blue")),
        ]
    )
    zone = page.locator("[data-dropzone]")
    transfer = page.evaluate_handle(DROP, ["photos.zip", base64.b64encode(archive()).decode()])
    zone.dispatch_event("dragenter", {"dataTransfer": transfer})
    expect(zone).to_have_class(re.compile(r"\bdragging\b"))
    zone.dispatch_event("drop", {"dataTransfer": transfer})
    chosen = page.locator("[data-chosen] li")
    expect(chosen).to_have_count(4)
    expect(chosen.last).to_contain_text("photos.zip")
    assert picker.evaluate("input => Array.from(input.files).map(f => f.name)") == [
        "big.png",
        "small.jpg",
        "tiny.png",
        "photos.zip",
    ]
    page.get_by_label("Concepts for every input").fill("uploaded")
    tab.shot("chosen")
    page.evaluate(RECORD_PROGRESS)
    page.get_by_role("button", name="Upload").click()

    expect(page.get_by_role("heading", name=f"Upload into {site.app_id}")).to_be_visible()
    expect(page.locator("[data-upload-queued]")).to_contain_text("5 inputs queued")
    expect(page.locator("table.rejected")).to_contain_text("photos.zip: ../outside.png")
    expect(page.locator("#status [data-count=done]")).to_have_text("5", timeout=30_000)  # the job, live here too
    progress = page.evaluate("() => sessionStorage.getItem('progress')") or ""
    assert re.search(r"Sent [\d.]+ MB of [\d.]+ MB \(\d+%\)", progress), progress
    tab.shot("queued")

    page.get_by_role("link", name=re.compile(r"follow job \d+")).click()
    expect(page.locator("[data-state]")).to_have_attribute("data-state", "done", timeout=30_000)
    expect(page.locator("[data-count=done]")).to_have_text("5")
    expect(page.get_by_role("heading", name="Upload 5 files")).to_be_visible()
    tab.shot("job-done")

    upload = Upload.objects.get()
    page.goto(site.at(site.grid_path))
    new = [i for i in tile_ids(page) if i.startswith(f"input-up-{upload.key}-")]
    assert len(new) == 5, tile_ids(page)[:10]
    assert (
        Input.objects.filter(
            input_id__startswith=f"up-{upload.key}-", input_concepts__concept__concept_id="uploaded"
        ).count()
        == 5
    )
    tab.shot("grid")

    page.goto(site.at(f"/c/{site.connection.pk}/apps/{site.app_id}/upload/"))
    for width in (390, 768):
        page.set_viewport_size({"width": width, "height": 800})
        no_horizontal_scroll(page)
    page.set_viewport_size({"width": 390, "height": 800})
    tab.shot("form-on-a-phone")
    # The keyboard reaches the file picker: it is a real input in the tab order, after the tabs.
    page.get_by_role("link", name="Upload", exact=True).focus()
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.type") == "file":
            break
    expect(page.locator("[data-dropzone] input[type=file]")).to_be_focused()
    no_errors_logged(tab)


def test_files_over_the_total_an_upload_takes_are_refused_before_sending(
    site: Site, open_tab: Callable[..., Tab], settings: Any, tmp_path: Path
) -> None:
    """Tried: a picture of about 1 MB where the console takes 5,000 bytes at once."""
    settings.UPLOAD_SPOOL_DIR = tmp_path / "spool"
    settings.UPLOAD_MAX_REQUEST_BYTES = 5000
    tab = open_tab()
    page = tab.page
    sign_in(tab, site)
    page.goto(site.at(f"/c/{site.connection.pk}/apps/{site.app_id}/upload/"))
    page.locator("[data-dropzone] input[type=file]").set_input_files(
        [FilePayload(name="big.png", mimeType="image/png", buffer=noise(1200, 1000))]
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("[data-progress-text]")).to_contain_text(
        re.compile(r"These files are [\d.]+ MB together; at most 4\.9 KB go at once: send them in smaller groups\.")
    )
    expect(page.get_by_role("button", name="Upload")).to_be_enabled()
    assert not Upload.objects.exists()
