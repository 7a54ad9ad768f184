"""The jobs pages in a real Chromium: a job started from the jobs page runs to its end and its page shows it
done, with the progress bar full; a poll keeps keyboard focus where it was; a job page whose poll fails
says so and stops polling; inputs that failed mid-way are retried alone."""

from collections.abc import Callable
from typing import Any

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from playwright.sync_api import expect

from console.connections.clients import client_for
from console.jobs import kinds, services
from console.jobs.models import Job
from console.localapi.models import DatasetInput, Input, InputConcept
from console.teams.models import Membership, Role
from tests.browser.conftest import Site, Tab
from tests.browser.test_browse import no_errors_logged, no_horizontal_scroll, sign_in

pytestmark = pytest.mark.browser


def test_a_job_started_on_the_jobs_page_runs_to_its_end(site: Site, open_tab: Callable[..., Tab]) -> None:
    tab = open_tab()
    page = tab.page
    sign_in(tab, site)
    page.get_by_role("link", name="Jobs", exact=True).click()
    expect(page.get_by_role("heading", name="Jobs", exact=True)).to_be_visible()
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


def test_inputs_that_failed_mid_way_are_retried_alone_once_the_cause_is_fixed(
    site: Site, open_tab: Callable[..., Tab], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An add-to-dataset job over 8 inputs, 2 a chunk: after the first chunk someone deletes the dataset and
    the last input. The 6 inputs left fail with the API's reason; once the dataset is made again, "Retry
    the failed only" sends those 6, adds 5 and reports the deleted one as skipped."""
    settings.JOBS_CHUNK_SIZE = 2
    api = client_for(site.connection)
    app = resources_pb2.UserAppIDSet(user_id="demo", app_id=site.app_id)
    holdout = [resources_pb2.Dataset(id="holdout")]
    api.call("PostDatasets", service_pb2.PostDatasetsRequest(user_app_id=app, datasets=holdout))
    ids = list(Input.objects.filter(app__app_id=site.app_id).order_by("id").values_list("input_id", flat=True)[:8])
    apply = kinds.apply
    chunks = []

    def someone_else_deletes_after_the_first_chunk(*args: Any) -> kinds.Outcome:
        outcome = apply(*args)
        chunks.append(args[-1])
        if len(chunks) == 1:
            api.call("DeleteDatasets", service_pb2.DeleteDatasetsRequest(user_app_id=app, dataset_ids=["holdout"]))
            api.call("DeleteInputs", service_pb2.DeleteInputsRequest(user_app_id=app, ids=[ids[-1]]))
        return outcome

    monkeypatch.setattr(kinds, "apply", someone_else_deletes_after_the_first_chunk)
    tab = open_tab(width=1440, height=900)
    page = tab.page
    sign_in(tab, site)
    page.goto(site.at(f"/c/{site.connection.pk}/jobs/"))
    page.get_by_label("App id").fill(site.app_id)
    page.get_by_label("Input ids").fill("\n".join(ids))
    page.get_by_label("Action").select_option("add_to_dataset")
    page.get_by_label("Dataset id").fill("holdout")
    page.get_by_role("button", name="Start the job").click()

    expect(page.locator("[data-count=failed]")).to_have_text("6", timeout=20_000)
    expect(page.locator("[data-count=done]")).to_have_text("2")
    expect(page.locator("[data-state]")).to_have_text("Done, 6 failed")
    failures = page.locator("table.failures tbody tr")
    expect(failures).to_have_count(6)
    expect(failures.filter(has_text=ids[2])).to_contain_text("holdout")
    tab.shot("failed-mid-way")

    api.call("PostDatasets", service_pb2.PostDatasetsRequest(user_app_id=app, datasets=holdout))
    page.get_by_role("button", name="Retry the 6 failed only").click()
    expect(page.locator("[data-state]")).to_have_attribute("data-state", "done", timeout=20_000)
    expect(page.locator("[data-count=done]")).to_have_text("5")
    expect(page.locator("[data-count=skipped]")).to_have_text("1")
    expect(page.locator("table.failures tbody tr")).to_contain_text(ids[-1])
    assert sorted(i for c in chunks[4:] for i in c) == ids[2:], "the retry sends the failed inputs only"
    added = DatasetInput.objects.filter(dataset__dataset_id="holdout").values_list("input__input_id", flat=True)
    assert sorted(added) == ids[2:7]
    tab.shot("retried")

    page.get_by_role("link", name="All jobs").click()
    rows = page.locator("#jobs tbody tr")
    expect(rows).to_have_count(2)
    retry_bar = rows.first.locator("progress")
    assert retry_bar.get_attribute("value") == retry_bar.get_attribute("max") == "6"
    expect(rows.first).to_contain_text("5 done, 1 skipped of 6")
    expect(rows.nth(1)).to_contain_text("2 done, 6 failed of 8")
    page.set_viewport_size({"width": 390, "height": 800})
    no_horizontal_scroll(page)
    tab.shot("list-after-retry-390")
    no_errors_logged(tab)


def test_a_job_paused_because_its_starter_was_demoted_says_why_and_an_admin_resumes_it(
    site: Site, open_tab: Callable[..., Tab], django_user_model: Any
) -> None:
    starter = django_user_model.objects.create_user("bob", password="x-long-enough-42")
    Membership.objects.create(team=site.connection.team, user=starter, role=Role.EDITOR)
    ids = list(Input.objects.filter(app__app_id=site.app_id).order_by("id").values_list("input_id", flat=True)[:3])
    Membership.objects.filter(user=starter).update(role=Role.VIEWER)  # lowered as the job is queued
    # The job runs at once, eagerly (as a worker would, it looks at bob's role before the first chunk).
    job = services.start_job(starter, site.connection, site.app_id, Job.ADD_CONCEPTS, {"concepts": ["kept"]}, ids)

    tab = open_tab()
    page = tab.page
    sign_in(tab, site)
    page.goto(site.at(f"/c/{site.connection.pk}/jobs/{job.pk}/"))
    expect(page.locator("[data-state]")).to_have_attribute("data-state", "paused")
    expect(page.locator(".reason")).to_have_text(
        "bob may no longer change data on Local demo (role is now viewer). An editor can resume it."
    )
    for width in (390, 768, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        no_horizontal_scroll(page)
        tab.shot(f"paused-{width}")

    page.get_by_role("button", name="Resume").focus()
    page.keyboard.press("Enter")
    expect(page.locator("[data-state]")).to_have_attribute("data-state", "done", timeout=20_000)
    expect(page.get_by_text(f"Resumed by {site.username}: it now changes data as them.")).to_be_visible()
    tab.shot("resumed")
    assert InputConcept.objects.filter(concept__concept_id="kept", input__input_id__in=ids).count() == 3
    no_errors_logged(tab)
