"""How a job runs: progress from its chunks, chunks applied twice change nothing twice, failures with their
status, inputs that no longer exist skipped, cancel, retry failed only, throttling, a revoked token."""

import json
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from django.contrib.auth.models import User
from django.test import override_settings
from django.utils import timezone

from console.clarifai import ClarifaiClient
from console.clarifai.errors import ClarifaiStatusError
from console.connections.models import Connection
from console.jobs import services
from console.jobs.models import Job, JobChunk
from console.jobs.services import start_job
from console.localapi.models import Input, InputConcept, Token
from console.localapi.models import User as LocalUser
from tests.faults import fault_server
from tests.jobs.conftest import claimed, concepts_of, ids, run, started
from tests.servers import QuietHandler, serving

STAR = {"concepts": ["star"], "value": 1}


@override_settings(JOBS_CHUNK_SIZE=10)
def test_a_snapshot_is_split_into_chunks_and_progress_is_counted_from_them(
    local: Connection, notes: str, staff: User
) -> None:
    job = start_job(staff, local, notes, Job.ADD_CONCEPTS, STAR, [*ids(25), "text-001"])  # a repeat counts once
    assert job.total == 25
    assert [len(c.input_ids) for c in job.chunks.all()] == [10, 10, 5]
    assert job.progress().processed == 0 and job.progress().percent == 0

    services.work_on_chunk(started(job.pk), claimed(job.pk))
    job.refresh_from_db()
    progress = job.progress()
    assert (progress.done, progress.remaining, progress.percent) == (10, 15, 40)
    assert progress.rate is not None and progress.time_left is not None

    job = run(job)
    assert job.state == Job.DONE and job.finished_at is not None
    assert job.progress().done == 25 and job.progress().time_left is None


@override_settings(JOBS_CHUNK_SIZE=10)
def test_a_chunk_applied_twice_changes_each_input_once_and_counts_once(
    local: Connection, notes: str, staff: User
) -> None:
    job = start_job(staff, local, notes, Job.ADD_CONCEPTS, STAR, ids(10))
    running = started(job.pk)
    chunk = claimed(job.pk)
    services.work_on_chunk(running, chunk)
    after_once = sorted(InputConcept.objects.values_list("input__input_id", "concept__concept_id", "value"))
    # A worker that died after applying, before recording, leaves the chunk to be applied again.
    JobChunk.objects.filter(pk=chunk.pk).update(state=JobChunk.PENDING)
    services.work_on_chunk(running, claimed(job.pk))

    assert sorted(InputConcept.objects.values_list("input__input_id", "concept__concept_id", "value")) == after_once
    assert len(after_once) == 10
    assert job.progress().done == 10
    assert JobChunk.objects.get(pk=chunk.pk).attempts == 2


def test_inputs_the_api_refuses_are_recorded_with_its_status(remote: Callable[..., Connection], staff: User) -> None:
    with fault_server() as server:
        server.fault("PATCH", "refuse")
        job = run(start_job(staff, remote(server.url), "app", Job.ADD_CONCEPTS, STAR, ["a", "b", "c"]))
    assert job.state == Job.FAILED
    failures = {f.input_id: f for f in job.failures.all()}
    assert sorted(failures) == ["a", "b", "c"]
    assert {f.code for f in failures.values()} == {codes.CONN_INVALID_REQUEST}
    assert all("refused" in f.reason and not f.skipped for f in failures.values())
    assert job.progress().failed == 3


def test_an_input_deleted_before_its_chunk_is_skipped_not_failed(
    local: Connection, notes: str, staff: User, api: ClarifaiClient
) -> None:
    job = start_job(staff, local, notes, Job.ADD_CONCEPTS, STAR, ids(5))
    Input.objects.filter(input_id__in=["text-001", "text-003"]).delete()
    job = run(job)
    assert job.state == Job.DONE
    progress = job.progress()
    assert (progress.done, progress.failed, progress.skipped) == (3, 0, 2)
    assert sorted(job.failures.filter(skipped=True).values_list("input_id", flat=True)) == ["text-001", "text-003"]
    assert concepts_of(notes, "text-002") == {"star": 1.0}


def test_deleting_inputs_already_gone_skips_them(local: Connection, notes: str, staff: User) -> None:
    job = start_job(staff, local, notes, Job.DELETE_INPUTS, {}, [*ids(3), "no-such-input"])
    job = run(job)
    assert job.state == Job.DONE
    assert (job.progress().done, job.progress().skipped) == (3, 1)


@override_settings(JOBS_CHUNK_SIZE=10)
def test_cancel_stops_after_the_chunk_being_applied(local: Connection, notes: str, staff: User) -> None:
    job = start_job(staff, local, notes, Job.ADD_CONCEPTS, STAR, ids(25))
    running = started(job.pk)
    chunk = claimed(job.pk)
    assert services.cancel_job(job)  # while the first chunk is being applied
    services.work_on_chunk(running, chunk)
    job = run(job)

    assert job.state == Job.CANCELLED and job.finished_at is not None
    assert job.progress().done == 10
    assert InputConcept.objects.count() == 10
    assert not services.cancel_job(job)


def test_retry_failed_only_is_a_new_job_over_the_failed_inputs(
    local: Connection, remote: Callable[..., Connection], notes: str, staff: User
) -> None:
    with fault_server() as server:
        connection = remote(server.url)
        server.fault("PATCH", "refuse")
        failed = run(start_job(staff, connection, "app", Job.ADD_CONCEPTS, STAR, ["a", "b"]))
        server.faults.clear()
        retry = run(services.retry_failed(staff, failed))
        sent = [body for method, _, body in server.received if method == "PATCH"]
    assert retry.retry_of == failed and retry.total == 2
    assert retry.state == Job.DONE and retry.progress().done == 2
    assert [i["id"] for i in sent[-1]["inputs"]] == ["a", "b"]

    # Skipped inputs are not retried; a job with nothing failed has nothing to retry.
    job = start_job(staff, local, notes, Job.ADD_CONCEPTS, STAR, ids(2))
    Input.objects.filter(input_id="text-000").delete()
    job = run(job)
    with pytest.raises(services.JobError, match="nothing to retry"):
        services.retry_failed(staff, job)


class Throttling(QuietHandler):
    """Answers the first `refusals` writes with 429 (or 11005), then success with the inputs it was sent."""

    refusals = 2
    status_answer = False
    writes: list[list[str]] = []

    def do_PATCH(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).writes.append([i["id"] for i in body["inputs"]])
        if type(self).refusals > 0:
            type(self).refusals -= 1
            if self.status_answer:
                status = {"code": codes.CONN_THROTTLED, "description": "Making too many requests"}
                return self._send(429 if self.refusals % 2 else 200, {"status": status}, {"Retry-After": "0.2"})
            return self._send(429, None, {"Retry-After": "0.2"})
        self._send(200, {"status": {"code": 10000, "description": "Ok"}, "inputs": body["inputs"]})
        return None

    def _send(self, code: int, body: object, headers: dict[str, str] | None = None) -> None:
        content = json.dumps(body).encode() if body is not None else b"Too many requests"
        self.send_response(code)
        self.send_header("Content-Type", "application/json" if body is not None else "text/plain")
        self.send_header("Content-Length", str(len(content)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(content)


@pytest.mark.parametrize("status_answer", [False, True], ids=["http-429", "status-11005"])
def test_throttling_slows_a_job_and_never_fails_it(
    remote: Callable[..., Connection], staff: User, status_answer: bool
) -> None:
    class Handler(Throttling):
        refusals = 3
        writes: list[list[str]] = []

    Handler.status_answer = status_answer
    handler = Handler
    with serving(handler) as url:
        job = run(start_job(staff, remote(url), "app", Job.ADD_CONCEPTS, STAR, ["a", "b"]))
    assert job.state == Job.DONE and job.progress().done == 2 and not job.failures.exists()
    assert handler.writes == [["a", "b"]] * 4  # three refused, then applied
    assert job.chunks.get().attempts == 1  # waiting for the API is not a failed attempt
    assert job.progress().elapsed.total_seconds() >= 0.5  # it waited as asked, three times 0.2 s


@override_settings(JOBS_CHUNK_SIZE=10)
def test_a_revoked_token_pauses_the_job_and_fixing_the_connection_resumes_it(
    local: Connection,
    notes: str,
    staff: User,
    django_capture_on_commit_callbacks: Callable[..., AbstractContextManager[object]],
) -> None:
    job = start_job(staff, local, notes, Job.ADD_CONCEPTS, STAR, ids(25))
    services.work_on_chunk(started(job.pk), claimed(job.pk))
    Token.objects.all().delete()  # revoked mid-way

    job = run(job)
    assert job.state == Job.PAUSED
    assert "11008" in job.reason and "Fix the connection" in job.reason
    assert job.progress().done == 10 and not job.failures.exists()
    assert job.chunks.filter(state=JobChunk.PENDING).count() == 2

    _, secret = Token.issue(LocalUser.objects.get(id="demo"))
    local.set_token(secret)
    with django_capture_on_commit_callbacks(execute=True):  # queued after commit: runs here, eagerly
        local.save()
    job.refresh_from_db()
    assert job.state == Job.DONE and job.reason == ""
    assert job.progress().done == 25


def test_the_api_answers_patch_inputs_for_a_missing_input_by_refusing_the_batch(
    api: ClarifaiClient, notes: str
) -> None:
    """What the skipping relies on: the whole batch is refused as does not exist, so the job looks up which."""
    app = resources_pb2.UserAppIDSet(user_id="demo", app_id=notes)
    with pytest.raises(ClarifaiStatusError) as caught:
        api.call(
            "PatchInputs",
            service_pb2.PatchInputsRequest(
                user_app_id=app,
                action="merge",
                inputs=[resources_pb2.Input(id="text-000"), resources_pb2.Input(id="gone")],
            ),
        )
    assert caught.value.code == codes.CONN_DOES_NOT_EXIST


@override_settings(JOBS_CHUNK_SIZE=1)
def test_every_call_of_a_job_waits_for_the_connections_rate_limit(
    remote: Callable[..., Connection], staff: User
) -> None:
    with fault_server() as server:
        job = start_job(staff, remote(server.url, rate_limit=4), "app", Job.ADD_CONCEPTS, STAR, list("abcdefgh"))
        started = time.monotonic()
        job = run(job)
        took = time.monotonic() - started
    assert job.state == Job.DONE and len(server.writes()) == 8
    # 8 calls at 4 a second, 4 of them at once: the last 4 wait a quarter of a second each.
    assert took >= 0.9


def test_a_token_no_key_can_decrypt_pauses_the_job_with_the_reason(
    remote: Callable[..., Connection], staff: User
) -> None:
    connection = remote("http://127.0.0.1:9")
    Connection.objects.filter(pk=connection.pk).update(token_encrypted="not-a-fernet-token")
    job = run(start_job(staff, connection, "app", Job.ADD_CONCEPTS, STAR, ["a"]))
    assert job.state == Job.PAUSED
    assert "cannot be decrypted" in job.reason
    assert job.chunks.get().state == JobChunk.PENDING


@override_settings(JOBS_CHUNK_SIZE=10, JOBS_CHUNK_LEASE=60)
def test_a_chunk_held_past_its_lease_is_claimed_again_and_unfinished_jobs_are_found(
    local: Connection, notes: str, staff: User
) -> None:
    job = start_job(staff, local, notes, Job.ADD_CONCEPTS, STAR, ids(15))  # its message never sent (on commit)
    assert services.unfinished_jobs() == [job.pk]
    services.start_running(job.pk)
    first, second = claimed(job.pk), claimed(job.pk)
    assert (first.index, second.index) == (0, 1)
    assert services.claim_chunk(job.pk) is None  # both held by live workers
    assert services.unfinished_jobs() == []

    JobChunk.objects.filter(pk=first.pk).update(claimed_at=timezone.now() - timedelta(seconds=61))  # its worker died
    assert services.unfinished_jobs() == [job.pk]
    again = claimed(job.pk)
    assert again.pk == first.pk and again.attempts == 2
