"""The jobs pages: the list (newest first, polled while a job runs), a job's page (progress, failures,
cancel, retry failed only, resume), the form that starts a job, and the count in the top bar."""

from collections.abc import Callable
from contextlib import AbstractContextManager

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from console.connections.models import Connection
from console.jobs import services
from console.jobs.models import Job, JobChunk, JobFailure
from console.jobs.services import start_job
from console.localapi.models import Input
from tests.faults import fault_server
from tests.jobs.conftest import concepts_of, ids, run

HX = {"HX-Request": "true"}
STAR = {"concepts": ["star"], "value": 1}


def test_the_list_shows_jobs_newest_first_and_polls_only_while_one_runs(
    console: Client, local: Connection, notes: str, staff: User
) -> None:
    first = run(start_job(staff, local, notes, Job.ADD_CONCEPTS, STAR, ids(3)))
    url = reverse("jobs:list", args=[local.pk])
    html = console.get(url).content.decode()
    assert "<html" in html and 'hx-trigger="every 2s"' not in html
    assert "Add concepts star (yes)" in html and "3 done" in html and "ada" in html

    second = start_job(staff, local, notes, Job.REMOVE_METADATA, {"keys": ["split"]}, ids(2))
    partial = console.get(url, headers=HX).content.decode()
    assert partial.lstrip().startswith('<div id="jobs"')
    assert 'hx-trigger="every 2s"' in partial and "data-poll-failed" in partial
    assert partial.index(f"/jobs/{second.pk}/") < partial.index(f"/jobs/{first.pk}/")
    assert "<html" not in partial


def test_the_list_shows_only_this_connections_jobs(
    console: Client, local: Connection, remote: Callable[..., Connection], notes: str, staff: User
) -> None:
    other = remote("http://127.0.0.1:9")
    start_job(staff, other, "elsewhere", Job.DELETE_INPUTS, {}, ["x"])
    html = console.get(reverse("jobs:list", args=[local.pk])).content.decode()
    assert "No jobs yet" in html and "elsewhere" not in html


def test_the_form_starts_a_job_over_the_ids_given_one_a_line(
    console: Client,
    local: Connection,
    notes: str,
    django_capture_on_commit_callbacks: Callable[..., AbstractContextManager[object]],
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # the job is queued on commit; eager here
        response = console.post(
            reverse("jobs:new", args=[local.pk]),
            {
                "app_id": notes,
                "input_ids": "text-000\ntext-001\r\n\ntext-002",
                "kind": "add_concepts",
                "concepts": "star, moon",
                "positive": "on",
            },
        )
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("jobs:detail", args=[local.pk, job.pk])
    assert job.params == {"concepts": ["star", "moon"], "value": 1} and job.total == 3
    job.refresh_from_db()
    assert job.state == Job.DONE and job.started_by is not None and job.started_by.get_username() == "ada"
    assert concepts_of(notes, "text-002") == {"star": 1.0, "moon": 1.0}


def test_the_form_refuses_metadata_that_is_not_json_and_starts_nothing(
    console: Client, local: Connection, notes: str
) -> None:
    response = console.post(
        reverse("jobs:new", args=[local.pk]),
        {"app_id": notes, "input_ids": "text-000", "kind": "set_metadata", "metadata": "{split: test"},
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.content.decode()
    assert not Job.objects.exists()


def test_the_job_page_shows_progress_and_failures_with_their_status(
    console: Client, remote: Callable[..., Connection], staff: User
) -> None:
    with fault_server() as server:
        connection = remote(server.url)
        server.fault("PATCH", "refuse")
        job = run(start_job(staff, connection, "app", Job.ADD_CONCEPTS, STAR, ["a", "b"]))
    url = reverse("jobs:detail", args=[connection.pk, job.pk])
    html = console.get(url).content.decode()
    assert "<html" in html and "<progress" in html
    assert 'data-state="failed"' in html and "11102" in html and "refused" in html
    assert "Retry the 2 failed only" in html and 'hx-trigger="every 2s"' not in html
    partial = console.get(url, headers=HX).content.decode()
    assert partial.lstrip().startswith('<section id="status"') and "<html" not in partial


def test_a_running_job_page_polls_and_can_be_cancelled(
    console: Client, local: Connection, notes: str, staff: User
) -> None:
    job = start_job(staff, local, notes, Job.ADD_CONCEPTS, STAR, ids(3))
    url = reverse("jobs:detail", args=[local.pk, job.pk])
    assert 'hx-trigger="every 2s"' in console.get(url, headers=HX).content.decode()
    assert console.get(reverse("jobs:cancel", args=[local.pk, job.pk])).status_code == 405
    response = console.post(reverse("jobs:cancel", args=[local.pk, job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.state == Job.CANCELLED
    html = console.get(url).content.decode()
    assert 'hx-trigger="every 2s"' not in html and "Cancelled" in html


def test_retry_failed_only_opens_the_new_job(
    console: Client,
    remote: Callable[..., Connection],
    staff: User,
    django_capture_on_commit_callbacks: Callable[..., AbstractContextManager[object]],
) -> None:
    with fault_server() as server:
        connection = remote(server.url)
        server.fault("PATCH", "refuse")
        job = run(start_job(staff, connection, "app", Job.ADD_CONCEPTS, STAR, ["a", "b"]))
        server.faults.clear()
        with django_capture_on_commit_callbacks(execute=True):
            response = console.post(reverse("jobs:retry", args=[connection.pk, job.pk]))
    retry = Job.objects.get(retry_of=job)
    assert response["Location"] == reverse("jobs:detail", args=[connection.pk, retry.pk])
    retry.refresh_from_db()
    assert retry.state == Job.DONE
    assert f"job {retry.pk}" in console.get(reverse("jobs:detail", args=[connection.pk, job.pk])).content.decode()


def test_a_paused_job_has_a_resume_button(console: Client, local: Connection, notes: str, staff: User) -> None:
    job = start_job(staff, local, notes, Job.ADD_CONCEPTS, STAR, ids(2))
    services.start_running(job.pk)
    services.pause_job(job, "The connection's token was refused.")
    url = reverse("jobs:detail", args=[local.pk, job.pk])
    html = console.get(url).content.decode()
    assert "Resume" in html and "token was refused" in html
    console.post(reverse("jobs:resume", args=[local.pk, job.pk]))
    job.refresh_from_db()
    assert job.state == Job.RUNNING


def test_the_top_bar_counts_running_jobs_and_the_nav_links_the_jobs(
    console: Client, local: Connection, notes: str, staff: User
) -> None:
    page = reverse("apps:list", args=[local.pk])
    html = console.get(page).content.decode()
    assert "running-jobs" not in html
    assert f'href="{reverse("jobs:list", args=[local.pk])}"' in html
    start_job(staff, local, notes, Job.DELETE_INPUTS, {}, ids(1))
    start_job(staff, local, notes, Job.DELETE_INPUTS, {}, ids(2))
    assert "2 jobs running" in console.get(page).content.decode()
    assert Input.objects.count() == 25  # queued, not yet run


def test_the_jobs_pages_need_a_signed_in_person(client: Client, local: Connection, notes: str, staff: User) -> None:
    job = start_job(staff, local, notes, Job.DELETE_INPUTS, {}, ids(1))
    for url in (reverse("jobs:list", args=[local.pk]), reverse("jobs:detail", args=[local.pk, job.pk])):
        assert client.get(url).status_code == 302
    assert client.post(reverse("jobs:cancel", args=[local.pk, job.pk])).status_code == 302
    job.refresh_from_db()
    assert job.state == Job.QUEUED


def test_a_connections_rate_limit_is_a_setting_and_keeps_its_value_when_left_empty(
    console: Client, local: Connection
) -> None:
    from tests.faults import fault_server as server_for

    with server_for() as server:
        console.post(
            reverse("connections:new"),
            {"name": "Remote", "base_url": server.url, "user_id": "me", "token": "tok-1234", "rate_limit": "5"},
        )
        connection = Connection.objects.get(name="Remote")
        assert connection.rate_limit == 5 and connection.requests_per_second == 5
        console.post(
            reverse("connections:edit", args=[connection.pk]),
            {"name": "Remote", "base_url": server.url, "user_id": "me", "rate_limit": ""},
        )
    connection.refresh_from_db()
    assert connection.rate_limit == 5
    assert local.requests_per_second == 0  # the built-in connection is never limited


def test_a_jobs_page_names_its_items_as_what_they_are(console: Client, local: Connection) -> None:
    deletion = Job.objects.create(connection=local, app_id="old", kind=Job.DELETE_APP, total=1)
    upload = Job.objects.create(connection=local, app_id="notes", kind=Job.UPLOAD_INPUTS, total=3)
    gone = JobChunk.objects.create(job=upload, index=0, input_ids=["up-k-1"], state=JobChunk.DONE, failed_count=1)
    JobFailure.objects.create(job=upload, chunk=gone, input_id="up-k-1", code=10020, reason="not a picture")
    html = console.get(reverse("jobs:detail", args=[local.pk, deletion.pk])).content.decode()
    assert "1 app;" in html and "1 input" not in html and ">deleted</div>" in html
    html = console.get(reverse("jobs:detail", args=[local.pk, upload.pk])).content.decode()
    assert "3 inputs;" in html and ">uploaded</div>" in html and "Not uploaded" in html
    assert "<code>up-k-1</code>" in html and "/inputs/up-k-1/" not in html, "an input never made has no page"
