"""How many jobs are running, for the top bar: one count over the indexed state column, lazily."""

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from console.jobs.models import Job


def running_jobs(request: HttpRequest) -> dict[str, Any]:
    return {"running_jobs": SimpleLazyObject(lambda: Job.objects.filter(state__in=Job.ACTIVE).count())}
