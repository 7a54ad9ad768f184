"""`manage.py serve`: the console on gunicorn with a Celery worker beside it, in the foreground.

Both run as child processes under `console.core.supervisor`: their output is interleaved with a name
prefix, a process that dies is started again (so a crashed worker never takes the web server down), and
Ctrl-C or SIGTERM stops both. The defaults come from settings (HOST, PORT, WEB_PROCESSES, WEB_THREADS,
WORKER_CONCURRENCY).
"""

import sys
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from console.core.supervisor import Program, Supervisor


class Command(BaseCommand):
    help = "Serve the console with gunicorn and run a Celery worker beside it, until Ctrl-C or SIGTERM."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default=settings.SERVE_HOST)
        parser.add_argument("--port", type=int, default=settings.SERVE_PORT)
        parser.add_argument("--web-processes", type=int, default=settings.SERVE_WEB_PROCESSES)
        parser.add_argument("--threads", type=int, default=settings.SERVE_WEB_THREADS)
        parser.add_argument("--worker-concurrency", type=int, default=settings.SERVE_WORKER_CONCURRENCY)
        parser.add_argument("--grpc-port", type=int, default=settings.GRPC_PORT, help="0: no gRPC server")

    def handle(self, *args: Any, **options: Any) -> None:
        bind = f"{options['host']}:{options['port']}"
        web = [
            *(sys.executable, "-m", "gunicorn", "console.wsgi", "--bind", bind),
            *("--workers", str(options["web_processes"]), "--threads", str(options["threads"])),
            *("--access-logfile", "-", "--graceful-timeout", "10", "--no-control-socket"),
        ]
        worker = [
            *(sys.executable, "-m", "celery", "-A", "console", "worker", "--loglevel=INFO"),
            f"--concurrency={options['worker_concurrency']}",
        ]
        programs = [Program("web", web), Program("worker", worker, essential=False)]
        if options["grpc_port"]:
            # The local API over gRPC; hosted media URLs in its answers point at the web server.
            web_host = "127.0.0.1" if options["host"] in ("0.0.0.0", "::", "") else options["host"]  # noqa: S104
            origin = settings.GRPC_HTTP_ORIGIN or f"http://{web_host}:{options['port']}"
            grpc = [
                *(sys.executable, str(settings.BASE_DIR / "manage.py"), "grpcserve", "--host", options["host"]),
                *("--port", str(options["grpc_port"]), "--origin", origin),
            ]
            programs.append(Program("grpc", grpc, essential=False))
        self.stdout.write(f"Console at http://{bind}/ (Ctrl-C stops the web server and the worker)")
        self.stdout.flush()
        supervisor = Supervisor(programs, out=sys.stdout)
        sys.exit(supervisor.run())
