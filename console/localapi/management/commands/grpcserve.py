"""`manage.py grpcserve`: the local API over gRPC, in the foreground until Ctrl-C or SIGTERM.

`manage.py serve` runs it beside the web server and the worker. It answers with the same handlers,
data and tokens as the REST channel; hosted media URLs in its answers point at the web server (--origin).
"""

import signal
import sys
import threading
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from console.localapi import grpc_server

GRACE_SECONDS = 10.0


class Command(BaseCommand):
    help = "Serve the local API over gRPC (for the official clarifai SDK) until Ctrl-C or SIGTERM."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default=settings.SERVE_HOST)
        parser.add_argument("--port", type=int, default=settings.GRPC_PORT or 8001)
        parser.add_argument(
            "--origin",
            default=settings.GRPC_HTTP_ORIGIN or f"http://{settings.SERVE_HOST}:{settings.SERVE_PORT}",
            help="the web server's http://host:port, which hosted media URLs start with",
        )
        parser.add_argument("--threads", type=int, default=settings.GRPC_THREADS)

    def handle(self, *args: Any, **options: Any) -> None:
        address = f"{options['host']}:{options['port']}"
        try:
            server, port = grpc_server.build(address, options["origin"].rstrip("/"), options["threads"])
        except (OSError, RuntimeError) as e:
            raise CommandError(f"The gRPC server cannot listen on {address}: {e}") from None
        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, request_stop)
        server.start()
        self.stdout.write(f"Local API over gRPC at {options['host']}:{port} (media from {options['origin']})")
        self.stdout.flush()
        stop.wait()
        server.stop(GRACE_SECONDS).wait()
        sys.stdout.flush()
