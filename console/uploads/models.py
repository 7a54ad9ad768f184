"""An upload: the files and URLs a person sent for one app, waiting in the spool until its job posts them.

Each item has the input id it is posted under, fixed when the upload is made (derived from the upload's
key and the item's place, or given in a CSV's `id` column), so that a batch sent again after an unknown
outcome finds its inputs already there instead of adding them twice. `sent_at` is set just before an
item goes out in a request and cleared when the API says it was not added: an item the API calls a
duplicate was added by us only if it had been sent before.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from console.connections.models import Connection
from console.jobs.models import Job


class Upload(models.Model):
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="uploads")
    app_id = models.CharField(max_length=255)
    # Names the upload's spool folder and prefixes its generated input ids.
    key = models.CharField(max_length=32, unique=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    # Set for the whole upload: {"concepts": [[id, value], ...], "metadata": {...}, "dataset_id": "..."}.
    params = models.JSONField(default=dict, blank=True)
    # What was refused before the job started: [{"name": ..., "reason": ...}], in the order met.
    rejected = models.JSONField(default=list, blank=True)
    job = models.OneToOneField(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="upload")
    # The last job of this upload whose end the spool was cleaned after (its retries are jobs too).
    cleaned_after = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    spool_removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"upload {self.key} into {self.app_id}"


class UploadItem(models.Model):
    FILE = "file"
    URL = "url"

    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="items")
    input_id = models.CharField(max_length=255)
    source = models.CharField(max_length=4, choices=[(FILE, "File"), (URL, "URL")])
    name = models.CharField(max_length=1000)  # the file's name (in its archive) or the URL, to show
    url = models.TextField(blank=True)
    size = models.PositiveBigIntegerField(default=0)
    concepts = models.JSONField(default=list, blank=True)  # [[id, value], ...] of this item's own
    metadata = models.JSONField(default=dict, blank=True)  # this item's own, merged over the upload's
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["upload", "input_id"], name="uploads_item_unique_input")]

    def __str__(self) -> str:
        return f"{self.name} as {self.input_id}"
