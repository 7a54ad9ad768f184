"""What keeps the local API fast with a million inputs: indexes for its lookups, counts kept as it goes."""

from typing import Any

import pytest
from django.db import connection

from console.localapi import demo
from console.localapi.models import App, Input


@pytest.fixture(autouse=True)
def _own_media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.django_db
def test_a_hosted_picture_is_found_by_an_index_on_app_and_media_key() -> None:
    demo.seed_large("big", 50, distinct=True)
    app = App.objects.get(app_id="big")
    key = Input.objects.filter(app=app).order_by("id").first().media_key

    plan = Input.objects.filter(app_id=app.pk, media_key=key).explain()

    assert "input_app_media_key" in plan, plan
    if connection.vendor == "sqlite":
        assert "media_key=?" in plan, plan  # both columns are searched on the index, not filtered after
