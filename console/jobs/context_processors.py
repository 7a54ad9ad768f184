"""How many jobs are running, for the top bar: one count over the indexed state column, lazily."""

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from console.jobs.models import Job
from console.teams.policy import visible_connections


def running_jobs(request: HttpRequest) -> dict[str, Any]:
    def count() -> int:  # the jobs of the person's teams' connections
        return Job.objects.filter(state__in=Job.ACTIVE, connection__in=visible_connections(request.user)).count()

    return {"running_jobs": SimpleLazyObject(count)}
