from django.urls import path

from console.apps import access, views

app_name = "apps"
urlpatterns = [
    path("", views.app_list, name="list"),
    path("new", views.app_new, name="new"),
    path("<str:app_id>/", views.app_overview, name="overview"),
    path("<str:app_id>/settings", views.app_settings, name="settings"),
    path("<str:app_id>/delete", views.app_delete, name="delete"),
    path("<str:app_id>/access/", access.access, name="access"),
    path("<str:app_id>/access/collaborators", access.collaborators, name="collaborators"),
    path(
        "<str:app_id>/access/collaborators/<str:collaborator_id>/edit",
        access.collaborator_edit,
        name="collaborator_edit",
    ),
    path(
        "<str:app_id>/access/collaborators/<str:collaborator_id>/remove",
        access.collaborator_remove,
        name="collaborator_remove",
    ),
    path("<str:app_id>/access/keys", access.keys, name="keys"),
    path("<str:app_id>/access/keys/<str:key_ref>/delete", access.key_delete, name="key_delete"),
]
