"""Run every benchmark in bench/ and print their tables as Markdown: `make bench`, or

    .venv/bin/python bench/run.py [--inputs N] [--fresh] [--runs R] [--no-http] [--only NAME]

It never touches the developer's data: it uses its own SQLite database and media folder under
var/bench/ (or the database in BENCH_DATABASE_URL, e.g. a PostgreSQL database kept for benchmarks),
migrates it, and seeds the demo user's app `bench-<N>` with N image inputs once; later runs reuse it.
A benchmark is a module here with a `benchmark(target) -> str` function returning Markdown.
"""

import argparse
import importlib
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
VAR = REPO / "var" / "bench"


def _configure() -> None:
    """Point the settings at the benchmark's own database and media (they read the environment once)."""
    VAR.mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{VAR / 'bench.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(VAR / "media")
    os.environ["DJANGO_SETTINGS_MODULE"] = "console.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(REPO))


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run the benchmarks in bench/ and print Markdown tables.")
    parser.add_argument("--inputs", type=int, default=100_000, help="inputs in the benchmark app (default 100,000)")
    parser.add_argument("--fresh", action="store_true", help="rebuild the benchmark app even if it exists")
    parser.add_argument("--runs", type=int, default=30, help="timed runs per measurement (default 30)")
    parser.add_argument("--no-http", action="store_true", help="skip the measurements over real HTTP")
    parser.add_argument("--only", action="append", metavar="NAME", help="run only this benchmark (repeatable)")
    return parser.parse_args()


def _benchmarks(only: list[str] | None) -> list[str]:
    names = sorted(p.stem for p in BENCH.glob("*.py") if p.stem not in ("run", "harness"))
    if only:
        unknown = set(only) - set(names)
        if unknown:
            raise SystemExit(f"No benchmark named {', '.join(sorted(unknown))}; there are: {', '.join(names)}.")
        names = [n for n in names if n in only]
    return names


def main() -> None:
    args = _arguments()
    _configure()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from harness import Target, http_server

    from console.localapi import demo
    from console.localapi.models import Token, User

    call_command("migrate", interactive=False, verbosity=0)
    app_id = f"bench-{args.inputs}"
    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        print(f"  seeding {app_id}: {done:,} / {total:,} inputs ({time.monotonic() - started:.0f} s)", file=sys.stderr)

    seeded = demo.seed_large(app_id, args.inputs, reset=args.fresh, progress=progress)
    if not seeded.already:
        print(f"Seeded {args.inputs:,} inputs in {seeded.seconds:.1f} s.", file=sys.stderr)
    user = User.objects.get(id=demo.DEMO_USER)
    Token.objects.filter(user=user, description="bench/run.py").delete()
    _, secret = Token.issue(user, description="bench/run.py", scopes=["Inputs:Get"])
    target = Target(user_id=user.id, app_id=app_id, inputs=args.inputs, secret=secret, runs=args.runs)

    database = settings.DATABASES["default"]
    print(
        f"Benchmarks on {platform.python_implementation()} {platform.python_version()}, "
        f"{database['ENGINE'].rsplit('.', 1)[-1]}, {os.cpu_count()} CPUs.\n"
    )
    for name in _benchmarks(args.only):
        module = importlib.import_module(name)
        if not hasattr(module, "benchmark"):
            continue
        if args.no_http:
            output = module.benchmark(target)
        else:
            with http_server() as url:
                target.http_url = url
                output = module.benchmark(target)
            target.http_url = None
        print(f"## {getattr(module, 'TITLE', name)}\n\n{output}\n", flush=True)


if __name__ == "__main__":
    main()
