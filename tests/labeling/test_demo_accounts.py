"""`seed_demo`'s labeling demo: local API users for two labelers and a reviewer, a task with work done and
work waiting for review, and console accounts attached to the built-in connection as those users."""

from io import StringIO
from typing import Any

import pytest
from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel
from clarifai_grpc.grpc.api import resources_pb2 as r
from clarifai_grpc.grpc.api import service_pb2 as s
from clarifai_grpc.grpc.api import service_pb2_grpc
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from django.contrib.auth import authenticate
from django.core.management import call_command

from console.connections.models import Connection
from console.labeling.models import ConnectionMember
from console.localapi import demo


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def passwords(out: str) -> dict[str, str]:
    found = {}
    for line in out.splitlines():
        if "): password " in line:
            name, _, password = line.strip().partition(" (")
            found[name] = password.split("password ")[1]
    return found


def test_it_makes_the_people_and_the_task_and_they_work_as_themselves(live_server: Any) -> None:
    out = seed()

    assert "Demo data created for user demo" in out
    assert "Labeling task 'shape-check' in app shapes" in out
    assert "maya (labeler): password " in out and "rita (reviewer): password " in out
    given = passwords(out)
    assert set(given) == {"maya", "noah", "rita"}
    builtin = Connection.objects.get(builtin=True)
    for name, password in given.items():
        assert authenticate(username=name, password=password) is not None
        member = ConnectionMember.objects.get(user__username=name, connection=builtin)
        assert member.clarifai_user_id == name
        assert member.token() not in out  # the token is shown nowhere
        assert member.token_last4 == member.token()[-4:]

    # Each account's own token reaches the task as its own local API user.
    stubs = {}
    for name in given:
        stub = service_pb2_grpc.V2Stub(ClarifaiChannel.get_json_channel(base_url=live_server.url))
        token = ConnectionMember.objects.get(user__username=name).token()
        stubs[name] = (stub, (("authorization", f"Key {token}"),))

    def call(name: str, rpc: str, request: Any) -> Any:
        stub, metadata = stubs[name]
        response = getattr(stub, rpc)(request, metadata=metadata)
        assert response.status.code == codes.SUCCESS, response.status
        return response

    app = r.UserAppIDSet(user_id=demo.DEMO_USER, app_id=demo.SHAPES_APP)
    task = call("maya", "GetTask", s.GetTaskRequest(user_app_id=app, task_id=demo.DEMO_TASK)).task
    assert task.worker.strategy == r.TaskWorker.PARTITIONED
    assert [w.user.id for w in task.worker.workers] == ["maya", "noah"]
    assert [u.id for u in task.review.users] == ["rita"]
    assert task.metrics.work.inputs_count_estimated == 11  # labeled: 6 by maya, 5 by noah
    counts = call("rita", "GetTaskAnnotationCount", s.GetTaskCountRequest(user_app_id=app, task_id=demo.DEMO_TASK))
    by_user = {c.user_id: (c.success, c.review_denied, c.awaiting_review) for c in counts.counts}
    assert by_user == {"maya": (3, 1, 2), "noah": (2, 0, 3)}
    waiting = call(
        "rita",
        "PutTaskAssignments",
        s.PutTaskAssignmentsRequest(user_app_id=app, task_id=demo.DEMO_TASK, action=s.REVIEW_START),
    ).task_assignments
    assert sorted(a.worker.user.id for a in waiting) == ["maya", "maya", "noah", "noah", "noah"]
    mine = call(
        "maya", "ListNextTaskAssignments", s.ListNextTaskAssignmentsRequest(user_app_id=app, task_id="shape-check")
    )
    assert len(mine.inputs) == 10
    assert all(i.data.image.hosted.suffix for i in mine.inputs)

    # A second run changes nothing and says only that the demo is there.
    assert seed().strip() == "Demo data already present (user demo, 3 apps)."
    # The first console account is still made after the demo's people.
    call_command("bootstrap_console", stdout=StringIO())
    assert ConnectionMember.objects.count() == 3


@pytest.mark.django_db
def test_a_reset_gives_new_tokens_and_passwords() -> None:
    first = passwords(seed())
    old = {m.user.username: m.token() for m in ConnectionMember.objects.select_related("user")}

    second = passwords(seed("--reset"))

    new = {m.user.username: m.token() for m in ConnectionMember.objects.select_related("user")}
    assert set(second) == set(first) and all(second[n] != first[n] for n in first)
    assert all(new[n] != old[n] for n in old)
    assert ConnectionMember.objects.count() == 3
    assert all(authenticate(username=n, password=p) for n, p in second.items())
