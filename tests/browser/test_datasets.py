"""Datasets in a real Chromium: make a dataset from a selection in the grid, find it in the datasets list,
make a version and watch it go from pending to ready without reloading, export it, download the archive
through the console, and open it. Screenshots at 1440, 768 and 390 px; the version and the export are
started from the keyboard."""

import io
import re
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from clarifai_grpc.grpc.api import resources_pb2
from playwright.sync_api import expect

from console.localapi import tasks
from console.localapi.models import DatasetInput
from tests.browser.conftest import Site, Tab
from tests.browser.test_browse import no_errors_logged, no_horizontal_scroll, sign_in
from tests.browser.test_pages import SPILLS

pytestmark = pytest.mark.browser
TILES = "#grid article.tile"
PICKED = 3


class Held:
    """The local API's queued work, held until the test lets it run, so that a version is seen pending
    first. (The live server runs in this process, with Celery eager: without this it would be ready at once.)"""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, tuple[Any, ...]]] = []

    def enqueue(self, task: Any, *args: Any) -> None:
        self.calls.append((task, args))

    def run(self) -> None:
        calls, self.calls = self.calls, []
        for task, args in calls:
            task(*args)


def test_a_dataset_from_a_selection_versioned_exported_and_downloaded(
    site: Site, open_tab: Callable[..., Tab], monkeypatch: pytest.MonkeyPatch
) -> None:
    tab = open_tab(width=1440, height=900)
    page = tab.page
    sign_in(tab, site)
    page.goto(site.at(site.grid_path + "?type=image"))
    boxes = page.locator(f"{TILES} input[data-pick]")
    for n in range(PICKED):
        boxes.nth(n).click()
    picked = page.locator(f"{TILES}.selected").evaluate_all("ts => ts.map(t => t.id.slice(6))")
    assert len(picked) == PICKED
    page.locator("#b-kind").select_option("add_to_dataset")
    page.locator("#b-dataset").fill("picked")
    page.get_by_label("A new dataset: create it first").check()
    tab.shot("new-dataset-from-selection")
    page.get_by_role("button", name="Apply to the selection").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    expect(page.get_by_text("Dataset picked created.")).to_be_visible()
    expect(page.locator("[data-state]").first).to_have_attribute("data-state", "done", timeout=20_000)
    members = DatasetInput.objects.filter(dataset__dataset_id="picked").values_list("input__input_id", flat=True)
    assert sorted(members) == sorted(picked)

    # The datasets list, from the app's tabs; the dataset's name opens the grid filtered by it.
    page.goto(site.at(site.grid_path))
    page.get_by_role("link", name="Datasets", exact=True).click()
    row = page.locator('tr[data-dataset="picked"]')
    expect(row).to_contain_text("none yet")
    tab.shot("datasets-list")
    row.get_by_role("link", name="picked").click()
    expect(page).to_have_url(re.compile(r"/inputs/\?dataset=picked$"))
    expect(page.locator(TILES)).to_have_count(PICKED)
    page.go_back()
    page.locator('tr[data-dataset="picked"]').get_by_role("link", name="Versions").click()
    expect(page.locator("h1")).to_have_text("Versions of picked")

    # A version, from the keyboard: pending while no worker has taken it, the list polling; then ready.
    held = Held()
    monkeypatch.setattr(tasks, "enqueue", held.enqueue)
    page.get_by_label("Version id").focus()
    page.keyboard.type("v1")
    page.keyboard.press("Tab")
    page.keyboard.type("For the first model")
    page.keyboard.press("Enter")
    card = page.locator("#version-v1")
    expect(card.locator(".version-head [data-state]")).to_have_attribute("data-state", "queued")
    expect(page.locator("#versions")).to_have_attribute("hx-trigger", "every 2s")
    tab.shot("version-pending")
    held.run()  # the worker's turn; the page finds out by itself
    expect(card.locator(".version-head [data-state]")).to_have_attribute("data-state", "done", timeout=10_000)
    expect(card.locator('[data-metric="inputs"]')).to_have_text(str(PICKED))
    expect(page.locator("#versions")).not_to_have_attribute("hx-trigger", "every 2s")

    # An export, from the keyboard too, then its download through the console.
    page.locator("#format-v1").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    export = page.locator('#version-v1 li[data-export="protobuf"]')
    expect(export.locator("[data-state]")).to_have_attribute("data-state", "queued")
    held.run()
    expect(export.locator("[data-state]")).to_have_attribute("data-state", "done", timeout=10_000)
    tab.shot("export-ready")
    download_link = export.get_by_role("link", name=re.compile("Download"))
    assert "/v2/" not in (download_link.get_attribute("href") or ""), "the archive comes through the console"
    with page.expect_download() as info:
        download_link.click()
    download = info.value
    assert download.suggested_filename == "picked-v1-protobuf.zip"
    content = download.path().read_bytes()
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.namelist() == ["mimetype", f"all/batch-00000_n{PICKED}"]
        assert archive.read("mimetype") == b"application/x.clarifai-data+protobuf"
        batch = resources_pb2.InputBatch.FromString(archive.read(f"all/batch-00000_n{PICKED}"))
    assert sorted(i.id for i in batch.inputs) == sorted(picked)

    # A poll that fails stops and says so, keeping what was shown; Reload shows the version as it is now.
    page.get_by_label("Version id").fill("v2")
    page.get_by_role("button", name="Make a version").click()
    expect(page.locator("#version-v2 .version-head [data-state]")).to_have_attribute("data-state", "queued")
    page.route(
        re.compile(r"/datasets/picked/versions/$"),
        lambda route: (
            route.fulfill(status=502, body="down") if route.request.headers.get("hx-request") else route.continue_()
        ),
    )
    expect(page.locator(".poll-failed")).to_contain_text(
        "Could not get the versions' status; this list stopped updating."
    )
    expect(page.locator("#version-v2")).to_be_visible()
    tab.shot("poll-failed")
    page.unroute(re.compile(r"/datasets/picked/versions/$"))
    held.run()
    page.locator(".poll-failed").get_by_role("link", name="Reload").click()
    expect(page.locator("#version-v2 .version-head [data-state]")).to_have_attribute("data-state", "done")

    # The jobs page lists the version and its export among the API's own jobs.
    page.goto(site.at(f"/c/{site.connection.pk}/jobs/remote?app={site.app_id}"))
    expect(page.locator('tr[data-remote-job="v1"]')).to_contain_text("Version of dataset picked")
    expect(page.locator('tr[data-remote-job="v1/protobuf"]')).to_contain_text("Clarifai protobuf")
    no_errors_logged(tab, expected=r"status of 502")
    tab.errors.clear()

    # Every datasets page at a tablet's and a phone's width (and the laptop's): nothing scrolls sideways,
    # no badge or button sticks out of its card.
    pages = {"list": "", "versions": "picked/versions/", "edit": "picked/edit", "new": "new", "delete": "picked/delete"}
    for width in (1440, 768, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for name, path in pages.items():
            page.goto(site.at(f"/c/{site.connection.pk}/apps/{site.app_id}/datasets/{path}"))
            no_horizontal_scroll(page)
            assert page.evaluate(SPILLS) == [], f"{name} at {width} px"
            if width != 1440 and name in ("list", "versions"):
                tab.shot(f"{name}-{width}")
    no_errors_logged(tab)
