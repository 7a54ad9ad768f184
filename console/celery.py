"""The Celery app, configured from Django settings (the CELERY_* names)."""

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from celery import Celery

from console.env import stop_on_bad_setting

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

app = Celery("console")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_configure.connect
def read_the_settings_first(**kwargs: Any) -> None:
    """Read Django's settings before Celery does, so that a bad environment variable stops a worker with its
    one line rather than a traceback."""
    from django.conf import settings

    with stop_on_bad_setting():
        settings.INSTALLED_APPS  # noqa: B018 (reading it loads the settings)


def queue_now_and_every(seconds: int, queue: Callable[[], object], name: str) -> None:
    """Call `queue` (which sends a task) now and then every `seconds` (0: only now), from a thread of the
    worker that calls this: a worker's own timer, for looks at unfinished work that must not wait for the
    next restart. A failure to send (the broker away for a moment) waits for the next tick."""
    queue()
    if seconds <= 0:
        return

    def tick() -> None:
        while True:
            time.sleep(seconds)
            try:
                queue()
            except Exception:
                logging.getLogger(__name__).exception("could not queue %s", name)

    threading.Thread(target=tick, name=name, daemon=True).start()
