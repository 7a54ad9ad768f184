"""Several workers share one job: a bulk change over every input of the benchmark app, by 1 and by 4 Celery
worker processes, with every upstream call 50 ms slow (latency, not CPU).

The upstream is an HTTP server in this process that answers every PatchInputs with success after 50 ms and
counts the inputs each one carries, so the table can say that each input was sent exactly once. The
workers are real `celery worker --pool=solo` processes on the benchmark database, on the broker of
CELERY_BROKER_URL (Redis, say) or else a filesystem broker under var/bench/; they are started and ready
before the clock starts. The time is from `start_job` to the job's end.
"""

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import kombu.pools
from django.conf import settings
from django.contrib.auth.models import User
from harness import Target, table

from console.celery import app as celery_app
from console.connections.models import Connection
from console.jobs.models import Job
from console.jobs.services import cancel_job, start_job
from console.localapi.models import Input

TITLE = "Jobs: workers sharing one job"
LATENCY = 0.05
WORKERS = (1, 4)
REPO = Path(__file__).resolve().parent.parent
VAR = REPO / "var" / "bench" / "jobs"


class Upstream:
    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()
        self.lock = threading.Lock()

    @contextmanager
    def serving(self) -> Iterator[str]:
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_PATCH(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                time.sleep(LATENCY)
                with upstream.lock:
                    upstream.sent.update(i["id"] for i in body["inputs"])
                answer = json.dumps({"status": {"code": 10000, "description": "Ok"}, "inputs": body["inputs"]})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer.encode())

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


def _broker() -> dict[str, str]:
    """The workers' broker: CELERY_BROKER_URL if set, else filesystem folders of the benchmark's own."""
    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        return {}
    folder = VAR / "broker"
    options = {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "control_folder": str(folder / "control"),
    }
    for path in set(options.values()):
        Path(path).mkdir(parents=True, exist_ok=True)
    celery_app.conf.broker_transport_options = {**settings.CELERY_BROKER_TRANSPORT_OPTIONS, **options}
    kombu.pools.reset()
    celery_app._after_fork()  # type: ignore[attr-defined]  # private: what Celery does in a forked child
    return {"CONSOLE_VAR_DIR": str(VAR)}  # the workers derive the same folders from it


def _start_workers(count: int, env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    workers = []
    for n in range(count):
        log = VAR / f"worker-{count}-{n}.log"
        log.unlink(missing_ok=True)
        workers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "console",
                    "worker",
                    "--pool=solo",
                    "--loglevel=INFO",
                    "-n",
                    f"bench{n}@%h",
                ],
                cwd=REPO,
                env={**os.environ, **env},
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
            )
        )
    deadline = time.monotonic() + 120
    while not all("ready." in (VAR / f"worker-{count}-{n}.log").read_text() for n in range(count)):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the workers did not start; see {VAR}/worker-*.log")
        time.sleep(0.2)
    return workers


def benchmark(target: Target) -> str:
    VAR.mkdir(parents=True, exist_ok=True)
    celery_app.conf.task_always_eager = False
    env = {
        **_broker(),
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "SECRET_KEY": settings.SECRET_KEY,
        "CONSOLE_TOKEN_KEYS": ",".join(settings.CONSOLE_TOKEN_KEYS),
        "LOG_LEVEL": "WARNING",
        "JOBS_RESUME_EVERY": "0",
    }
    for job in Job.objects.exclude(state__in=Job.FINAL):  # left by an interrupted run
        cancel_job(job)
    ids = list(Input.objects.filter(app__app_id=target.app_id).order_by("id").values_list("input_id", flat=True))
    user, _ = User.objects.get_or_create(username="bench")
    rows = []
    seconds_by_count: dict[int, float] = {}
    for count in WORKERS:
        upstream = Upstream()
        with upstream.serving() as url:
            Connection.objects.filter(name="bench upstream").delete()
            connection = Connection(name="bench upstream", base_url=url, user_id="bench", rate_limit=0)
            connection.set_token("bench-token")
            connection.save()
            workers = _start_workers(count, env)
            try:
                started = time.monotonic()
                job = start_job(user, connection, target.app_id, Job.ADD_CONCEPTS, {"concepts": ["bench"]}, ids)
                while Job.objects.get(pk=job.pk).state not in Job.FINAL:
                    time.sleep(0.2)
                seconds = time.monotonic() - started
            finally:
                for worker in workers:
                    worker.terminate()
                for worker in workers:
                    worker.wait(timeout=60)
        job.refresh_from_db()
        once = set(upstream.sent) == set(ids) and set(upstream.sent.values()) == {1}
        seconds_by_count[count] = seconds
        rows.append(
            [
                str(count),
                f"{len(ids):,}",
                str(job.chunks.count()),
                f"{seconds:.1f}",
                f"{len(ids) / seconds:,.0f}",
                f"{seconds_by_count[WORKERS[0]] / seconds:.2f}x",
                f"{job.progress().done:,}",
                "yes" if once else "NO",
            ]
        )
    broker = "Redis" if not settings.CELERY_BROKER_URL.startswith("filesystem://") else "the filesystem broker"
    speedup = seconds_by_count[WORKERS[0]] / seconds_by_count[WORKERS[-1]]
    intro = (
        f"{len(ids):,} inputs in chunks of {settings.JOBS_CHUNK_SIZE}, every upstream call +{LATENCY * 1000:.0f} ms "
        f"(latency), worker processes on {broker}, {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}."
    )
    header = ["workers", "inputs", "chunks", "seconds", "inputs/s", "speed-up", "changed", "each sent once"]
    check = table(
        ["check", "measured", "target", "result"],
        [[f"{WORKERS[-1]} workers vs 1", f"{speedup:.2f}x", "≥ 3x", "pass" if speedup >= 3 else "MISS"]],
    )
    return f"{intro}\n\n{table(header, rows, right=set(range(7)))}\n\n{check}"
