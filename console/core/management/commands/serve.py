"""`manage.py serve`: the console on gunicorn with a Celery worker beside it, in the foreground.

Both run as child processes under honcho's manager: their output is interleaved with a name prefix,
and Ctrl-C or SIGTERM stops both (as does either of them exiting).
"""

import os
import shlex
import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from honcho.manager import Manager


class Command(BaseCommand):
    help = "Serve the console with gunicorn and run a Celery worker beside it, until Ctrl-C or SIGTERM."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--web-processes", type=int, default=int(os.environ.get("WEB_PROCESSES", "2")))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "8")))
        parser.add_argument("--worker-concurrency", type=int, default=int(os.environ.get("WORKER_CONCURRENCY", "2")))

    def handle(self, *args: Any, **options: Any) -> None:
        python = shlex.quote(sys.executable)
        bind = f"{options['host']}:{options['port']}"
        web = (
            f"{python} -m gunicorn console.wsgi --bind {shlex.quote(bind)} --workers {options['web_processes']}"
            f" --threads {options['threads']} --access-logfile - --graceful-timeout 10 --no-control-socket"
        )
        worker = f"{python} -m celery -A console worker --loglevel=INFO --concurrency={options['worker_concurrency']}"
        self.stdout.write(f"Console at http://{bind}/ (Ctrl-C stops the web server and the worker)")
        manager = Manager()
        manager.add_process("web", web)
        manager.add_process("worker", worker)
        manager.loop()
        sys.exit(manager.returncode)
