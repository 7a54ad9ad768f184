"""The Celery app, configured from Django settings (the CELERY_* names)."""

import os
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
