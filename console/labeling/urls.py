"""An app's labeling tasks: the list, making and changing a task. A task's own pages (its dashboard,
the labeler's workspace, the review queue) are in work_urls, mounted under the task's id."""

from django.urls import URLPattern

app_name = "labeling"
urlpatterns: list[URLPattern] = []
