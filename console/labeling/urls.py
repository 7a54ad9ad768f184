"""An app's labeling tasks: the list, making and changing a task. A task's own pages (its dashboard,
the labeler's workspace, the review queue) are in work_urls, mounted under the task's id."""

from django.urls import path

from console.labeling import tasks

app_name = "labeling"
urlpatterns = [
    path("", tasks.task_list, name="list"),
    path("new/", tasks.task_new, name="new"),
    path("<str:task_id>/edit/", tasks.task_edit, name="edit"),
    path("<str:task_id>/status/", tasks.task_status, name="status"),
    path("<str:task_id>/delete/", tasks.task_delete, name="delete"),
]
