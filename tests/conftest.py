"""Fixtures for the whole suite.

Tests run against real parts: a real database (SQLite in a file, or PostgreSQL by DATABASE_URL),
real HTTP through pytest-django's live server, real files under a temporary MEDIA_ROOT. Celery tasks
run eagerly in the process that queues them, after the transaction commits, except in the tests
marked `worker`, which start a real worker process on the embedded broker.
"""

from pathlib import Path

import pytest
from django.conf import settings

from console.celery import app as celery_app


@pytest.fixture(autouse=True, scope="session")
def _test_settings(tmp_path_factory: pytest.TempPathFactory) -> None:
    media_root = tmp_path_factory.mktemp("media")
    settings.MEDIA_ROOT = media_root
    # Tests render templates without collectstatic having run; the manifest storage needs its output.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.SECURE_COOKIES = False
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True


@pytest.fixture
def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)
