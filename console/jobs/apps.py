from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_save


class JobsConfig(AppConfig):
    name = "console.jobs"
    label = "jobs"

    def ready(self) -> None:
        from console.connections.models import Connection

        post_save.connect(_resume_when_fixed, sender=Connection, dispatch_uid="jobs-resume-on-connection-save")


def _resume_when_fixed(sender: type, instance: Any, created: bool, **kwargs: Any) -> None:
    """A connection saved (its token replaced, say) may work again: its paused jobs carry on."""
    if created:
        return
    from console.jobs.services import resume_paused_jobs

    resume_paused_jobs(instance)
