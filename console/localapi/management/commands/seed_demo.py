"""`manage.py seed_demo`: fill the local API with the demo (user `demo`), or with one large app for benchmarks.

The work is in console.localapi.demo; this command reads the options and reports.
"""

import time
from argparse import ArgumentParser
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand, CommandError

from console.localapi import demo
from console.localapi.handlers.common import ID_PATTERN

if TYPE_CHECKING:
    from console.labeling.demo import Passwords


class Command(BaseCommand):
    help = (
        "Fill the local API with deterministic demo data for user 'demo' (apps shapes, notes and sandbox). "
        "Does nothing if the demo is there already. With --inputs N, make one app of N image inputs instead."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help="delete the demo first: every app of user 'demo' (or, with --inputs, just that app)",
        )
        parser.add_argument(
            "--inputs", type=int, metavar="N", help="make one large app of N image inputs (for benchmarks)"
        )
        parser.add_argument("--app", default="bench", help="the large app's id (with --inputs; default: bench)")
        parser.add_argument(
            "--pictures",
            type=int,
            default=64,
            metavar="K",
            help="distinct pictures the large app's inputs share (default: 64)",
        )
        parser.add_argument(
            "--distinct",
            action="store_true",
            help="give every input a tiny picture of its own instead of sharing --pictures (with --inputs)",
        )
        parser.add_argument(
            "--batch-size", type=int, default=5000, metavar="B", help="inputs per transaction (default: 5000)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["inputs"] is None:
            self._standard(options["reset"])
        else:
            self._large(options)

    def _standard(self, reset: bool) -> None:
        from console.labeling.demo import start_passwords

        people = [*demo.LABELERS, *demo.REVIEWERS]
        passwords = start_passwords(people) if reset or demo.demo_present() is None else None
        seeded = demo.seed_demo(reset=reset)
        if seeded.already:
            self.stdout.write(f"Demo data already present (user {demo.DEMO_USER}, {seeded.details['apps']} apps).")
            return
        self.stdout.write(
            f"Demo data created for user {demo.DEMO_USER}: apps {', '.join(seeded.apps)}, "
            f"{seeded.inputs} inputs, {seeded.details['pictures']} pictures, in {seeded.seconds:.1f} s."
        )
        self._labeling_accounts(seeded.tokens, passwords)

    def _labeling_accounts(self, tokens: dict[str, str], passwords: "Future[Passwords] | None") -> None:
        """Console accounts for the labeling demo's people, signed in to the built-in connection as themselves.
        The console owns these accounts; this command is only where the demo is made (console.labeling.demo)."""
        if not tokens:
            return
        from console.labeling.demo import seed_accounts

        roles = {**dict.fromkeys(demo.LABELERS, "labeler"), **dict.fromkeys(demo.REVIEWERS, "reviewer")}
        self.stdout.write(f"Labeling task {demo.DEMO_TASK!r} in app {demo.SHAPES_APP}; console accounts (shown once):")
        for username, password in seed_accounts(tokens, passwords):
            self.stdout.write(f"  {username} ({roles.get(username, 'member')}): password {password}")

    def _large(self, options: dict[str, Any]) -> None:
        count, app_id = options["inputs"], options["app"]
        if count < 1:
            raise CommandError("--inputs must be at least 1.")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        if not ID_PATTERN.match(app_id):
            raise CommandError(f"{app_id!r} is not a valid app id (letters, digits, '_', '-', '.').")
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            rate = done / max(time.monotonic() - started, 1e-6)
            self.stdout.write(f"  {app_id}: {done:>{len(f'{total:,}')},} / {total:,} inputs ({rate:,.0f}/s)")

        try:
            seeded = demo.seed_large(
                app_id,
                count,
                pictures=options["pictures"],
                batch_size=options["batch_size"],
                reset=options["reset"],
                progress=progress,
                distinct=options["distinct"],
            )
        except demo.DemoError as e:
            raise CommandError(f"{e} Use --reset to rebuild it.") from None
        if seeded.already:
            self.stdout.write(f"App {demo.DEMO_USER}/{app_id} already has {count:,} inputs.")
            return
        self.stdout.write(f"Made app {demo.DEMO_USER}/{app_id}: {count:,} inputs in {seeded.seconds:.1f} s.")
