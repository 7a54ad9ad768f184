"""Concept counts (GetConceptCounts) stay exact through every kind of write that labels inputs, and under
concurrent writers: they are rows the database's triggers keep, compared here with a count of the labels."""

import json
import threading
from typing import Any

import pytest
from django.db import connections
from django.db.models import Count, Q

from console.localapi import demo, dispatch, status
from console.localapi.models import App, ConceptCount, InputConcept, Token, User


@pytest.fixture(autouse=True)
def _own_media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def api(token: str, verb: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    reply = dispatch.handle(verb, path, [], f"Key {token}", json.dumps(body or {}).encode(), "http://testserver")
    answer: dict[str, Any] = json.loads(reply.body)
    assert answer["status"]["code"] == status.SUCCESS, answer
    return answer


def counts_read(token: str, app_id: str) -> dict[str, tuple[int, int]]:
    path = f"/v2/users/me/apps/{app_id}/concepts/status"
    reply = dispatch.handle("GET", path, [("per_page", "1000")], f"Key {token}", b"", "http://testserver")
    answer = json.loads(reply.body)
    assert answer["status"]["code"] == status.SUCCESS, answer
    return {
        c["id"]: (int(c["concept_type_count"].get("positive", 0)), int(c["concept_type_count"].get("negative", 0)))
        for c in answer.get("concept_counts", [])
        if c.get("concept_type_count")
    }


def counts_counted(app: App) -> dict[str, tuple[int, int]]:
    rows = (
        InputConcept.objects.filter(concept__app=app)
        .values_list("concept__concept_id")
        .annotate(yes=Count("id", filter=Q(value__gt=0)), no=Count("id", filter=Q(value__lte=0)))
        .order_by()
    )
    return {concept_id: (yes, no) for concept_id, yes, no in rows if yes or no}


def text(input_id: str, **concepts: float) -> dict[str, Any]:
    return {
        "id": input_id,
        "data": {"text": {"raw": input_id}, "concepts": [{"id": c, "value": v} for c, v in concepts.items()]},
    }


@pytest.fixture
def owner() -> tuple[User, str]:
    user = User.objects.create(id="owner")
    return user, Token.issue(user)[1]


@pytest.mark.django_db(transaction=True)
def test_the_concept_counts_stay_exact_through_every_kind_of_write(owner: tuple[User, str]) -> None:
    user, token = owner
    app = App.objects.create(user=user, app_id="main")
    base = "/v2/users/me/apps/main"
    api(token, "POST", f"{base}/inputs", {"inputs": [text(f"t{n}", cat=1, dog=0) for n in range(6)]})
    api(token, "POST", f"{base}/inputs", {"inputs": [text("u", dog=1, bird=1)]})
    api(token, "PATCH", f"{base}/inputs", {"action": "merge", "inputs": [text("t0", dog=1), text("t1", cat=0)]})
    api(token, "PATCH", f"{base}/inputs", {"action": "remove", "inputs": [text("t2", cat=1)]})
    api(token, "PATCH", f"{base}/inputs", {"action": "overwrite", "inputs": [text("t3", bird=0)]})
    api(token, "DELETE", f"{base}/inputs/t4")
    api(token, "DELETE", f"{base}/inputs", {"ids": ["t5", "nothing"]})
    # Bulk operations, run by a worker (eagerly here): a label on everything, then one taken off again.
    every: dict[str, Any] = {"search": {"query": {"filters": [{"input": {"data": {"text": {}}}}]}}}
    api(
        token,
        "POST",
        f"{base}/bulk_operations",
        {"bulk_operations": [{**every, "operation": {"add_concepts": {"concepts": [{"id": "fish", "value": 0}]}}}]},
    )
    api(
        token,
        "POST",
        f"{base}/bulk_operations",
        {
            "bulk_operations": [
                {"input_ids": {"input_ids": ["u"]}, "operation": {"delete_concepts": {"concepts": [{"id": "fish"}]}}}
            ]
        },
    )

    assert counts_read(token, "main") == counts_counted(app)
    assert counts_read(token, "main") == {
        "cat": (1, 1),  # t0 yes; t1 no (t2 removed, t3 overwritten, t4 t5 deleted)
        "dog": (2, 2),  # t0 u yes; t1 t2 no (t3 overwritten)
        "bird": (1, 1),
        "fish": (0, 4),
    }

    demo.seed_large("big", 30)
    big = App.objects.get(app_id="big")
    seeded = {
        c: (p, n)
        for c, p, n in ConceptCount.objects.filter(concept__app=big).values_list(
            "concept__concept_id", "positive", "negative"
        )
        if p or n
    }
    assert seeded == counts_counted(big)

    api(token, "DELETE", base)  # a worker purges it (eagerly here)
    assert not ConceptCount.objects.filter(concept__app_id=app.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_labellers_lose_no_counts(owner: tuple[User, str]) -> None:
    user, token = owner
    app = App.objects.create(user=user, app_id="main")
    base = "/v2/users/me/apps/main"
    api(token, "POST", f"{base}/concepts", {"concepts": [{"id": "cat"}, {"id": "dog"}]})

    def label(worker: int) -> None:
        try:
            for n in range(4):
                ids = [f"w{worker}-{n}-{k}" for k in range(3)]
                api(token, "POST", f"{base}/inputs", {"inputs": [text(i, cat=1, dog=0) for i in ids]})
                api(token, "PATCH", f"{base}/inputs", {"action": "merge", "inputs": [text(ids[0], dog=1)]})
        finally:
            connections.close_all()

    threads = [threading.Thread(target=label, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert counts_read(token, "main") == counts_counted(app) == {"cat": (48, 0), "dog": (16, 32)}
