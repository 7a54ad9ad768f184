from django.urls import include, path

urlpatterns = [
    path("", include("console.localapi.urls")),
    path("", include("console.core.urls")),
    path("accounts/", include("console.accounts.urls")),
    path("connections/", include("console.connections.urls")),
    path("teams/", include("console.teams.urls")),
    path("c/<int:conn_id>/apps/", include("console.apps.urls")),
    path("c/<int:conn_id>/", include("console.inputs.urls")),
    path("c/<int:conn_id>/", include("console.concepts.urls")),
    path("c/<int:conn_id>/jobs/", include("console.jobs.urls")),
    path("c/<int:conn_id>/", include("console.uploads.urls")),
    path("c/<int:conn_id>/apps/<str:app_id>/datasets/", include("console.datasets.urls")),
    path("", include("console.audit.urls")),  # /c/<conn_id>/audit/ and /audit/
    # The tasks' list and making one come first: "tasks/new/" is not a task's id.
    path("c/<int:conn_id>/apps/<str:app_id>/tasks/", include("console.labeling.urls")),
    path("c/<int:conn_id>/apps/<str:app_id>/tasks/<str:task_id>/", include("console.labeling.work_urls")),
]

handler403 = "console.core.views.forbidden"
handler404 = "console.core.views.not_found"
handler500 = "console.core.views.server_error"
