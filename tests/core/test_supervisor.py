"""The supervisor behind `manage.py serve` restarts a process that exits, with a growing pause, and gives up on
a crash loop; real child processes, with the pauses shortened."""

import io
import sys
import threading
import time

from console.core.supervisor import Program, Supervisor


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_a_process_in_a_crash_loop_stops_everything_after_a_few_restarts_with_growing_pauses() -> None:
    out = io.StringIO()
    crashing = Program("crashing", python("import sys; print('up', flush=True); sys.exit(3)"))
    steady = Program("steady", python("import time; time.sleep(60)"))
    supervisor = Supervisor([crashing, steady], out, grace=5, backoff=0.05, max_restarts=3, window=30)
    started = time.monotonic()
    assert supervisor.run() == 1
    assert time.monotonic() - started < 20
    output = out.getvalue()
    assert output.count("crashing started") == 4
    assert output.count("crashing stopped (rc=3)") == 4
    assert [line.split("in ")[-1] for line in output.splitlines() if "starts again" in line] == [
        "0.05 s",
        "0.1 s",
        "0.2 s",
    ]
    assert "crashing exited 4 times within 30 s; stopping" in output
    assert output.count("steady started") == 1
    assert "steady stopped" in output
    assert "crashing | up" in output


def test_a_process_that_is_not_essential_is_tried_again_while_the_rest_keeps_running() -> None:
    out = io.StringIO()
    crashing = Program("worker", python("import sys; sys.exit(3)"), essential=False)
    steady = Program("web", python("import time; time.sleep(60)"))
    supervisor = Supervisor([crashing, steady], out, backoff=0.05, max_restarts=2, window=30, max_backoff=0.3)
    threading.Timer(3, supervisor.stopping.set).start()  # as SIGTERM would
    assert supervisor.run() == 0
    output = out.getvalue()
    assert "worker exited 3 times within 30 s; trying again every 0.3 s while the rest keeps serving" in output
    assert output.count("worker started") >= 5
    assert output.count("web started") == 1
    assert "stopping" not in output


def test_restarts_long_ago_do_not_count_towards_a_crash_loop() -> None:
    out = io.StringIO()
    # Exits after a short run, more often than max_restarts, but never twice within the window.
    flaky = Program("flaky", python("import time; time.sleep(0.3)"))
    supervisor = Supervisor([flaky], out, backoff=0.01, max_restarts=1, window=0.2)
    threading.Timer(2.5, supervisor.stopping.set).start()  # as SIGTERM would
    assert supervisor.run() == 0
    assert out.getvalue().count("flaky started") >= 3
