"""Fixtures for the whole suite.

Tests run against real parts: a real database (SQLite in a file, or PostgreSQL by DATABASE_URL),
real HTTP through pytest-django's live server, real files under a temporary MEDIA_ROOT. Celery tasks
run eagerly in the process that queues them, after the transaction commits, except in the tests
marked `worker`, which start a real worker process on the embedded broker.
"""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from console.celery import app as celery_app
from console.clarifai import ClarifaiClient
from console.connections.clients import client_for
from console.connections.models import BUILTIN_BASE_URL, Connection
from console.localapi.models import Token
from console.localapi.models import User as LocalUser
from console.teams.models import Membership, Role, default_team
from tests.faults import FaultServer, fault_server
from tests.images import png


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
    # Connections opened by the console's thread pool close after each call, so none outlives the test
    # database (PostgreSQL cannot drop a database that still has sessions).
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True


@pytest.fixture
def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


# The console side: signed-in people and the built-in connection to the local API.

PASSWORD = "correct horse battery staple"


@pytest.fixture
def staff(django_user_model: type[User]) -> User:
    """An admin of the team every connection of a test goes to unless it names another (the oldest)."""
    user = django_user_model.objects.create_user("ada", password=PASSWORD, is_staff=True)
    Membership.objects.create(team=default_team(), user=user, role=Role.ADMIN)
    return user


@pytest.fixture
def member(django_user_model: type[User]) -> User:
    """An editor of that team: changes data, but not its connections or members."""
    user = django_user_model.objects.create_user("bob", password=PASSWORD)
    Membership.objects.create(team=default_team(), user=user, role=Role.EDITOR)
    return user


@pytest.fixture
def console(client: Client, staff: User) -> Client:
    """The Django test client, signed in as an admin of the team."""
    client.force_login(staff)
    return client


@pytest.fixture
def local(db: None) -> Connection:
    """The built-in connection: the local API, in-process, as its user `demo`."""
    demo, _ = LocalUser.objects.get_or_create(id="demo")
    _, secret = Token.issue(demo)
    connection = Connection(name="Local demo", builtin=True, base_url=BUILTIN_BASE_URL, user_id="demo")
    connection.set_token(secret)
    connection.save()
    return connection


@pytest.fixture
def api(local: Connection) -> ClarifaiClient:
    """The console's own client of the built-in connection, to set up data the way a user would."""
    return client_for(local)


@pytest.fixture
def make_app(api: ClarifaiClient, django_capture_on_commit_callbacks: Any) -> Callable[..., str]:
    """Create an app with text and image inputs through the API; queued processing runs at once."""

    def make(app_id: str = "shapes", texts: int = 0, images: int = 0, **inputs_kwargs: Any) -> str:
        api.call("PostApps", service_pb2.PostAppsRequest(apps=[resources_pb2.App(id=app_id, name=app_id.title())]))
        items = [
            resources_pb2.Input(id=f"text-{n:03}", data=resources_pb2.Data(text=resources_pb2.Text(raw=f"Note {n}")))
            for n in range(texts)
        ] + [
            resources_pb2.Input(
                id=f"image-{n:03}",
                data=resources_pb2.Data(
                    image=resources_pb2.Image(base64=png(40 + n % 20, 30, "red")),
                    concepts=[resources_pb2.Concept(id="red", value=1.0)],
                ),
            )
            for n in range(images)
        ]
        for start in range(0, len(items), 128):
            with django_capture_on_commit_callbacks(execute=True):
                api.call(
                    "PostInputs",
                    service_pb2.PostInputsRequest(
                        user_app_id=resources_pb2.UserAppIDSet(user_id="demo", app_id=app_id),
                        inputs=items[start : start + 128],
                    ),
                )
        return app_id

    return make


@pytest.fixture
def faulty(settings: Any, db: None) -> Iterator[tuple[FaultServer, Connection]]:
    """A connection to an API stand-in that misbehaves when told to (tests/faults.py), whose calls give up
    after a second."""
    settings.CONSOLE_CLARIFAI_DEADLINE = 1
    with fault_server() as server:
        connection = Connection(name="Faulty", user_id="u", base_url=server.url)
        connection.set_token("fault-test-token")
        connection.save()
        yield server, connection
