from django.urls import path

from console.inputs import views

app_name = "inputs"
urlpatterns = [
    path("apps/<str:app_id>/inputs/", views.input_grid, name="grid"),
    path("apps/<str:app_id>/inputs/poll", views.input_poll, name="poll"),
    path("apps/<str:app_id>/inputs/snapshot", views.input_snapshot, name="snapshot"),
    path("apps/<str:app_id>/inputs/bulk", views.input_bulk, name="bulk"),
    path("apps/<str:app_id>/inputs/choices", views.input_choices, name="choices"),
    path("apps/<str:app_id>/inputs/<str:input_id>/", views.input_detail, name="detail"),
    path("apps/<str:app_id>/inputs/<str:input_id>/edit", views.input_edit, name="edit"),
    path("apps/<str:app_id>/inputs/<str:input_id>/delete", views.input_delete, name="delete"),
    path("media", views.media, name="media"),
]
