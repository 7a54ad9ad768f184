"""The jobs pages in a real Chromium: a job started from the jobs page runs to its end and its page shows it
done, with the progress bar full; a poll keeps keyboard focus where it was; a job page whose poll fails
says so and stops polling."""

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from console.jobs.models import Job
from console.localapi.models import Input, InputConcept
from tests.browser.conftest import Site, Tab
from tests.browser.test_browse import no_errors_logged, no_horizontal_scroll, sign_in

pytestmark = pytest.mark.browser


def test_a_job_started_on_the_jobs_page_runs_to_its_end(site: Site, open_tab: Callable[..., Tab]) -> None:
    tab = open_tab()
    page = tab.page
    sign_in(tab, site)
    page.get_by_role("link", name="Jobs", exact=True).click()
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()
    ids = list(Input.objects.filter(app__app_id=site.app_id).order_by("id").values_list("input_id", flat=True)[:5])
    page.get_by_label("App id").fill(site.app_id)
    page.get_by_label("Input ids").fill("\n".join(ids))
    page.get_by_label("Action").select_option("add_concepts")
    page.get_by_label("Concepts").fill("starred")
    tab.shot("form")
    page.get_by_role("button", name="Start the job").click()

    expect(page.locator("[data-state]")).to_have_attribute("data-state", "done", timeout=20_000)
    expect(page.locator("[data-count=done]")).to_have_text("5")
    progress = page.locator("progress.job-progress")
    assert progress.get_attribute("value") == progress.get_attribute("max") == "5"
    assert page.locator("#status[hx-trigger]").count() == 0  # ended: no more polling
    tab.shot("done")
    assert InputConcept.objects.filter(concept__concept_id="starred", input__input_id__in=ids).count() == 5

    page.set_viewport_size({"width": 390, "height": 800})  # a phone: nothing scrolls sideways
    no_horizontal_scroll(page)
    page.get_by_role("link", name="All jobs").click()
    expect(page.get_by_role("link", name="Add concepts starred (yes)")).to_be_visible()
    no_horizontal_scroll(page)
    tab.shot("list-on-a-phone")
    no_errors_logged(tab)


def test_a_job_page_whose_poll_fails_says_so_and_stops_polling(site: Site, open_tab: Callable[..., Tab]) -> None:
    job = Job.objects.create(connection=site.connection, app_id=site.app_id, kind=Job.DELETE_INPUTS, total=3)
    Job.objects.filter(pk=job.pk).update(state=Job.RUNNING)
    tab = open_tab()
    page = tab.page
    sign_in(tab, site)
    page.goto(site.at(f"/c/{site.connection.pk}/jobs/{job.pk}/"))
    expect(page.locator("#status[hx-trigger]")).to_have_count(1)
    polls: list[str] = []
    page.on("request", lambda request: polls.append(request.url) if f"/jobs/{job.pk}/" in request.url else None)
    page.get_by_role("button", name="Cancel").focus()
    page.wait_for_timeout(2500)  # a poll replaces the status, buttons included
    assert polls, "the page did not poll"
    assert page.evaluate("() => document.activeElement.id") == "cancel-job"  # focus stays on the button

    job.delete()  # the next poll answers 404
    expect(page.get_by_role("status").filter(has_text="stopped updating")).to_be_visible(timeout=10_000)
    expect(page.locator("#status[hx-trigger]")).to_have_count(0)
    expect(page.get_by_role("link", name="Reload")).to_be_visible()
    tab.shot("poll-failed")
    seen = len(polls)
    page.wait_for_timeout(4500)  # two more polling periods
    assert len(polls) == seen
    no_errors_logged(tab, expected="404")
