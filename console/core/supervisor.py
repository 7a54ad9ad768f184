"""Keeps `manage.py serve`'s processes running in the foreground, restarting any that dies.

Each process runs in its own session (so a Ctrl-C in the terminal reaches only the supervisor, which
decides), its output printed line by line under its name. A process that exits is started again after
a short backoff (1, 2, 4, 8, 16 seconds). One that exits again after 5 restarts within a minute is in a
crash loop: when it is essential (the web server: nothing works without it) everything stops; when it
is not (the worker), it is tried again every minute while the rest keeps serving. SIGINT or SIGTERM
stops every process: SIGTERM, then SIGKILL for what is left after the grace period.
"""

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from types import FrameType
from typing import IO

POLL_SECONDS = 0.2


@dataclass
class Program:
    name: str
    argv: list[str]
    essential: bool = True
    process: subprocess.Popen[bytes] | None = None
    restart_at: float | None = None
    restarts: deque[float] = field(default_factory=deque)


class Supervisor:
    def __init__(
        self,
        programs: list[Program],
        out: IO[str],
        *,
        grace: float = 15.0,
        backoff: float = 1.0,
        max_restarts: int = 5,
        window: float = 60.0,
        max_backoff: float = 60.0,
    ) -> None:
        self.programs = programs
        self.out = out
        self.grace = grace
        self.backoff = backoff
        self.max_restarts = max_restarts
        self.window = window
        self.max_backoff = max_backoff
        self.width = max(len(p.name) for p in [*programs, Program("system", [])])
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def run(self) -> int:
        """Run until SIGINT/SIGTERM (0) or a crash loop (1); every process has ended when this returns."""
        previous = {sig: signal.signal(sig, self.request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        returncode = 0
        try:
            for program in self.programs:
                self.start(program)
            while not self.stopping.wait(POLL_SECONDS):
                if not all(self.tend(program) for program in self.programs):
                    returncode = 1
                    break
        finally:
            self.stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return returncode

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping.set()

    def tend(self, program: Program) -> bool:
        """Notice a process that exited and start it again when its backoff is over; False for a crash loop."""
        now = time.monotonic()
        if program.process is not None:
            code = program.process.poll()
            if code is None:
                return True
            self.ended(program, code)
            while program.restarts and now - program.restarts[0] > self.window:
                program.restarts.popleft()
            if len(program.restarts) >= self.max_restarts:
                times = f"{program.name} exited {self.max_restarts + 1} times within {self.window:g} s"
                if program.essential:
                    self.note(f"{times}; stopping")
                    return False
                program.restart_at = now + self.max_backoff
                self.note(f"{times}; trying again every {self.max_backoff:g} s while the rest keeps serving")
                return True
            delay = min(self.backoff * 2 ** len(program.restarts), self.max_backoff)
            program.restart_at = now + delay
            self.note(f"{program.name} starts again in {delay:g} s")
        elif program.restart_at is not None and now >= program.restart_at:
            program.restarts.append(now)
            self.start(program)
        return True

    def start(self, program: Program) -> None:
        process = subprocess.Popen(  # noqa: S603 (our own command lines, from `serve`)
            program.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        program.process, program.restart_at = process, None
        self.note(f"{program.name} started (pid={process.pid})")
        threading.Thread(target=self.relay, args=(program.name, process), daemon=True).start()

    def ended(self, program: Program, code: int) -> None:
        """Report an exit, and end what the process left behind in its session (a pool's children)."""
        assert program.process is not None
        kill_group(program.process.pid, signal.SIGKILL)
        program.process = None
        self.note(f"{program.name} stopped (rc={code})")

    def stop_all(self) -> None:
        running = [p for p in self.programs if p.process is not None and p.process.poll() is None]
        for program in running:
            assert program.process is not None
            program.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for program in self.programs:
            if program.process is None:
                continue
            try:
                program.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.note(f"{program.name} still running after {self.grace:.0f} s; killing it")
                kill_group(program.process.pid, signal.SIGKILL)
                program.process.wait()
            self.ended(program, program.process.returncode)

    def relay(self, name: str, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.say(name, line.decode(errors="replace").rstrip("\n"))

    def note(self, text: str) -> None:
        self.say("system", text)

    def say(self, name: str, text: str) -> None:
        with self.lock:
            self.out.write(f"{time.strftime('%H:%M:%S')} {name:<{self.width}} | {text}\n")
            self.out.flush()


def kill_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
