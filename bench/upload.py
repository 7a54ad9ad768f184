"""Uploads: 10,000 generated distinct pictures through a console upload job, against the same pictures posted
directly with the official clarifai-grpc client (its JSON channel, requests of 128), in one run; and the
worker's peak memory with 1,000 and with 10,000 files.

The local API is served by gunicorn in a process of its own (1 process, 4 threads) on the benchmark
database; its processing tasks go to a broker folder no worker reads, so only the posting is measured
(bench/processing.py measures the processing). The console's job runs in one real
`celery worker --pool=solo` started for each upload, over a connection to that server (no rate limit),
in chunks of 128 (JOBS_CHUNK_SIZE, one PostInputs each, as the direct client's requests). The job's time
runs from `start_job` to its end; the upload's own time before it (reading the files, checking each is a
picture, writing them to the spool) is shown apart. The direct posting runs before and after the
console's uploads and its mean is the reference, so that a change in the machine's load falls on both.
The worker's peak memory is its VmHWM (peak resident set) after the job.
"""

import io
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import kombu.pools
from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel
from clarifai_grpc.grpc.api import resources_pb2, service_pb2, service_pb2_grpc
from clarifai_grpc.grpc.api.status import status_code_pb2
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from harness import Target, table
from PIL import Image

from console.celery import app as celery_app
from console.connections.models import Connection
from console.jobs.models import Job
from console.jobs.services import cancel_job
from console.localapi import media
from console.localapi.models import App, Input, Token
from console.localapi.models import User as LocalUser
from console.uploads import services, spool

TITLE = "Uploads: console job against the official client"
FILES = 10_000
SMALL = 1_000
BATCH = 128
REPO = Path(__file__).resolve().parent.parent
VAR = REPO / "var" / "bench" / "upload"


def pictures(count: int) -> list[bytes]:
    """Distinct 96x72 JPEGs: a colour of their own and a little noise (about 3 KB each)."""
    rng = random.Random(11)
    out = []
    for n in range(count):
        image = Image.new("RGB", (96, 72), (n % 256, (n // 256) % 256, (n * 37) % 256))
        noise = Image.frombytes("RGB", (24, 18), rng.randbytes(24 * 18 * 3))
        image.paste(noise, (n % 72, n % 54))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=85)
        out.append(buffer.getvalue())
    return out


def _env(var: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CONSOLE_VAR_DIR": str(var),
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "SECRET_KEY": settings.SECRET_KEY,
        "CONSOLE_TOKEN_KEYS": ",".join(settings.CONSOLE_TOKEN_KEYS),
        "CELERY_BROKER_URL": "filesystem://",
        "LOG_LEVEL": "WARNING",
    }


def _start_api() -> tuple[subprocess.Popen[bytes], str]:
    var = VAR / "api"  # its processing tasks land in var/broker here, and stay there
    var.mkdir(parents=True, exist_ok=True)
    log = VAR / "gunicorn.log"
    with socket.socket() as probe:  # a free port, for gunicorn to take
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "console.wsgi", "--workers", "1", "--threads", "4"),
            *("--bind", f"127.0.0.1:{port}", "--timeout", "120", "--log-level", "warning"),
        ],
        cwd=REPO,
        env={**_env(var), "ALLOWED_HOSTS": "127.0.0.1", "SECURE_COOKIES": "0"},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return server, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            raise RuntimeError(f"gunicorn did not start; see {log}")
        time.sleep(0.2)


def _jobs_broker() -> Path:
    """The console's broker for the jobs: folders of this benchmark's own, read by its worker."""
    var = VAR / "jobs"
    folder = var / "broker"
    shutil.rmtree(folder, ignore_errors=True)
    options = {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "control_folder": str(folder / "control"),
    }
    for path in set(options.values()):
        Path(path).mkdir(parents=True, exist_ok=True)
    celery_app.conf.update(
        broker_url="filesystem://",
        broker_transport="console.broker:Transport",
        broker_transport_options={"polling_interval": 0.1, **options},
    )
    celery_app.conf.task_always_eager = False
    kombu.pools.reset()
    celery_app._after_fork()  # type: ignore[attr-defined]  # private: what Celery does in a forked child
    return var


def _start_worker(var: Path) -> subprocess.Popen[bytes]:
    log = VAR / "worker.log"
    log.unlink(missing_ok=True)
    env = {
        **_env(var),
        "UPLOAD_SPOOL_DIR": str(settings.UPLOAD_SPOOL_DIR),
        "JOBS_CHUNK_SIZE": str(BATCH),
        "JOBS_RESUME_EVERY": "0",
        "LOG_LEVEL": "INFO",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "console", "worker", "--pool=solo", "--loglevel=INFO", "-n", "up@%h"],
        cwd=REPO,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while "ready." not in log.read_text():
        if time.monotonic() > deadline or worker.poll() is not None:
            raise RuntimeError(f"the worker did not start; see {log}")
        time.sleep(0.2)
    return worker


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM")


def _fresh_app(user: LocalUser, app_id: str) -> None:
    for old in App.objects.filter(app_id=app_id):
        shutil.rmtree(Path(settings.MEDIA_ROOT) / media.app_folder(old.pk), ignore_errors=True)
        old.delete()
    App.objects.create(user=user, app_id=app_id, name=app_id)


def _direct(url: str, secret: str, user_id: str, app_id: str, data: list[bytes]) -> float:
    stub = service_pb2_grpc.V2Stub(ClarifaiChannel.get_json_channel(base_url=url))
    auth = (("authorization", f"Key {secret}"),)
    app = resources_pb2.UserAppIDSet(user_id=user_id, app_id=app_id)
    started = time.monotonic()
    for start in range(0, len(data), BATCH):
        request = service_pb2.PostInputsRequest(
            user_app_id=app,
            inputs=[
                resources_pb2.Input(
                    id=f"direct-{n:05d}",
                    data=resources_pb2.Data(
                        image=resources_pb2.Image(base64=picture),
                        concepts=[resources_pb2.Concept(id="bench", value=1.0)],
                    ),
                )
                for n, picture in enumerate(data[start : start + BATCH], start=start)
            ],
        )
        response = stub.PostInputs(request, metadata=auth)
        if response.status.code != status_code_pb2.SUCCESS:
            raise RuntimeError(f"PostInputs failed: {response.status}")
    return time.monotonic() - started


def _console(connection: Connection, user: User, app_id: str, data: list[bytes], var: Path) -> tuple[float, float, int]:
    """(seconds to take the upload in, seconds of the job, the worker's peak RSS)."""
    worker = _start_worker(var)
    try:
        files = [SimpleUploadedFile(f"picture-{n:05d}.jpg", picture) for n, picture in enumerate(data)]
        started = time.monotonic()
        upload = services.create_upload(user, connection, app_id, services.Shared([["bench", 1.0]], {}), files)
        spooled = time.monotonic()
        if upload.job is None or upload.rejected:
            raise RuntimeError(f"the upload was not taken in whole: {upload.rejected[:3]}")
        job_id = upload.job.pk
        while Job.objects.filter(pk=job_id).values_list("state", flat=True).get() not in Job.FINAL:
            time.sleep(0.1)
        ended = time.monotonic()
        rss = _peak_rss(worker.pid)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    job = Job.objects.get(pk=job_id)
    progress = job.progress()
    if job.state != Job.DONE or progress.done != len(data):
        raise RuntimeError(f"the upload job ended {job.state} with {progress.done} of {len(data)} uploaded")
    stored = Input.objects.filter(app__app_id=app_id).count()
    if stored != len(data):
        raise RuntimeError(f"{stored} inputs in {app_id}, not {len(data)}")
    spool.remove_folder(upload.key)
    # The job's own time: from its start (after the spooling) to its end, as the job records it.
    seconds = (job.finished_at - job.created_at).total_seconds() if job.finished_at else ended - spooled
    return spooled - started, seconds, rss


def benchmark(target: Target) -> str:
    VAR.mkdir(parents=True, exist_ok=True)
    settings.UPLOAD_SPOOL_DIR = VAR / "spool"
    settings.JOBS_CHUNK_SIZE = BATCH
    for job in Job.objects.exclude(state__in=Job.FINAL):  # left by an interrupted run
        cancel_job(job)
    data = pictures(FILES)
    size = sum(len(p) for p in data)
    demo = LocalUser.objects.get(id=target.user_id)
    Token.objects.filter(user=demo, description="bench/upload.py").delete()
    _, secret = Token.issue(demo, description="bench/upload.py")
    person, _ = User.objects.get_or_create(username="bench")
    var = _jobs_broker()
    server, url = _start_api()
    try:
        Connection.objects.filter(name="bench upload").delete()
        connection = Connection(name="bench upload", base_url=url, user_id=demo.id, rate_limit=0)
        connection.set_token(secret)
        connection.save()

        _fresh_app(demo, "upload-direct")
        direct_before = _direct(url, secret, demo.id, "upload-direct", data)
        _fresh_app(demo, "upload-1k")
        small_spool, small_job, small_rss = _console(connection, person, "upload-1k", data[:SMALL], var)
        _fresh_app(demo, "upload-10k")
        spool_seconds, job_seconds, rss = _console(connection, person, "upload-10k", data, var)
        _fresh_app(demo, "upload-direct")
        direct_after = _direct(url, secret, demo.id, "upload-direct", data)
    finally:
        server.terminate()
        server.wait(timeout=60)
        shutil.rmtree(VAR / "api" / "broker", ignore_errors=True)
        for app_id in ("upload-direct", "upload-1k", "upload-10k"):
            for app in App.objects.filter(app_id=app_id):
                shutil.rmtree(Path(settings.MEDIA_ROOT) / media.app_folder(app.pk), ignore_errors=True)
                app.delete()

    direct = (direct_before + direct_after) / 2
    rows = [
        [
            "direct: clarifai-grpc JSON channel, before",
            f"{FILES:,}",
            "—",
            f"{direct_before:.1f}",
            f"{FILES / direct_before:,.0f}",
            "",
        ],
        [
            "direct: clarifai-grpc JSON channel, after",
            f"{FILES:,}",
            "—",
            f"{direct_after:.1f}",
            f"{FILES / direct_after:,.0f}",
            "",
        ],
        ["direct: mean", f"{FILES:,}", "—", f"{direct:.1f}", f"{FILES / direct:,.0f}", "1.00x"],
        [
            "console job, 1,000 files",
            f"{SMALL:,}",
            f"{small_spool:.1f}",
            f"{small_job:.1f}",
            f"{SMALL / small_job:,.0f}",
            f"{(SMALL / small_job) / (FILES / direct):.2f}x",
        ],
        [
            "console job, 10,000 files",
            f"{FILES:,}",
            f"{spool_seconds:.1f}",
            f"{job_seconds:.1f}",
            f"{FILES / job_seconds:,.0f}",
            f"{direct / job_seconds:.2f}x",
        ],
        [
            "console, 10,000 files, spool + job",
            f"{FILES:,}",
            "",
            f"{spool_seconds + job_seconds:.1f}",
            f"{FILES / (spool_seconds + job_seconds):,.0f}",
            f"{direct / (spool_seconds + job_seconds):.2f}x",
        ],
    ]
    growth = rss / small_rss - 1
    memory = [
        [f"{SMALL:,}", f"{small_rss / 1024 / 1024:.1f}"],
        [f"{FILES:,}", f"{rss / 1024 / 1024:.1f}"],
    ]
    ratio = direct / job_seconds
    checks = [
        [
            "console job / direct throughput (10,000 files)",
            f"{ratio:.2f}x",
            "≥ 0.8x",
            "pass" if ratio >= 0.8 else "MISS",
        ],
        ["worker peak RSS, 10,000 vs 1,000 files", f"{growth:+.0%}", "< +50%", "pass" if growth < 0.5 else "MISS"],
    ]
    intro = (
        f"{FILES:,} distinct 96x72 JPEG pictures ({size / FILES / 1024:.1f} KB each, "
        f"{size / 1024 / 1024:.1f} MB in all), requests of {BATCH}, the local API on gunicorn (1 process, "
        f"4 threads), {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}; one "
        "`celery worker --pool=solo` for each console upload."
    )
    return "\n\n".join(
        [
            intro,
            table(["how", "files", "spool s", "post s", "files/s", "vs direct"], rows, right={1, 2, 3, 4, 5}),
            table(["files", "worker peak RSS MB"], memory, right={0, 1}),
            table(["check", "measured", "target", "result"], checks),
        ]
    )
