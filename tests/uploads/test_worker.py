"""Real worker processes post a 2,000-file upload; one is killed (SIGKILL) while its PostInputs is on the
way, and another finishes the job: every file is an input exactly once, each counted once.

The upstream is the real local API (pytest-django's live server) behind a proxy of the test's own that
records the input ids each PostInputs carries and holds one request (the 8th) until the worker that sent
it is dead; then the request goes on and the API adds its inputs, but no worker recorded the chunk:
the worst moment to die. The next worker sends that chunk again and the API answers that its inputs
exist; they are counted as uploaded, not failed. Runs on the embedded broker, and on Redis when one
answers at 127.0.0.1:6379 (database 15).
"""

import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from console.jobs.models import Job, JobChunk
from console.localapi.models import App, Input, Token
from console.localapi.models import User as LocalUser
from console.uploads import services
from console.uploads.models import Upload
from tests import workers
from tests.images import png
from tests.localapi.test_worker import wait_for
from tests.servers import serving
from tests.workers import HoldingProxy, proxied_connection

pytestmark = pytest.mark.worker

FILES = 2000
HELD = 8

REDIS = "redis://127.0.0.1:6379/15"
BROKERS = workers.brokers(REDIS)
broker = workers.broker
start_worker = workers.start_worker


def posts_of_inputs(method: str, path: str) -> bool:
    return method == "POST" and path.rstrip("/").endswith("/inputs")


def _files() -> list[SimpleUploadedFile]:
    colours = ["red", "green", "blue", "white", "black", "yellow", "purple", "orange"]
    return [SimpleUploadedFile(f"p{n:04}.png", png(8 + n % 50, 8 + n // 50 % 40, colours[n % 8])) for n in range(FILES)]


@pytest.mark.parametrize("broker", BROKERS, indirect=True)
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_upload_leaves_a_job_another_finishes_with_each_file_uploaded_once(
    live_server: Any,
    broker: dict[str, str],
    start_worker: Callable[..., subprocess.Popen[bytes]],
    staff: Any,
    spool_dir: Path,
) -> None:
    demo, _ = LocalUser.objects.get_or_create(id="demo")
    App.objects.create(user=demo, app_id="big", name="big")
    _, secret = Token.issue(demo)
    proxy = HoldingProxy(live_server.url, posts_of_inputs, hold=HELD)
    env = {"UPLOAD_SPOOL_DIR": str(spool_dir), "JOBS_CHUNK_LEASE": "3", "JOBS_RESUME_EVERY": "1"}
    with serving(proxy.handler()) as url:
        connection = proxied_connection(url, secret)
        upload = services.create_upload(staff, connection, "big", services.Shared([["star", 1.0]], {}), _files())
        assert upload.rejected == [] and upload.job is not None
        job = upload.job
        assert job.chunks.count() == 20
        assert len(list((spool_dir / upload.key).iterdir())) == FILES

        first = start_worker(**env)
        assert proxy.held.wait(180), "the worker never reached the held chunk"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        proxy.release.set()  # the held request now reaches the API; no worker will record it
        wait_for(lambda: Input.objects.filter(app__app_id="big", input_id=proxy.held_ids[-1]).exists(), timeout=30)
        assert 0 < JobChunk.objects.filter(job=job, state=JobChunk.DONE).count() < 20
        assert JobChunk.objects.filter(job=job, state=JobChunk.RUNNING).count() == 1

        start_worker(**env)
        wait_for(lambda: Job.objects.get(pk=job.pk).state in Job.FINAL, timeout=300)
        # The worker's look at the spool removes the files once the job has ended.
        wait_for(lambda: not (spool_dir / upload.key).exists(), timeout=30)

    job.refresh_from_db()
    assert job.state == Job.DONE
    progress = job.progress()
    assert (progress.done, progress.failed, progress.skipped) == (FILES, 0, 0)
    expected = {f"up-{upload.key}-{n:05d}" for n in range(1, FILES + 1)}
    stored = list(Input.objects.filter(app__app_id="big").values_list("input_id", flat=True))
    assert len(stored) == FILES and set(stored) == expected
    assert Input.objects.filter(app__app_id="big", input_concepts__concept__concept_id="star").count() == FILES
    # Every file was sent; only the chunk the dead worker held was sent again, and counted once.
    assert set(proxy.sent) == expected
    assert {i for i, n in proxy.sent.items() if n > 1} == set(proxy.held_ids)
    assert max(proxy.sent.values()) == 2
    assert Upload.objects.get(pk=upload.pk).spool_removed_at is not None
