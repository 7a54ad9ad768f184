from django.urls import path

from console.apps import views

app_name = "apps"
urlpatterns = [
    path("", views.app_list, name="list"),
    path("new", views.app_new, name="new"),
    path("<str:app_id>/", views.app_overview, name="overview"),
    path("<str:app_id>/settings", views.app_settings, name="settings"),
    path("<str:app_id>/delete", views.app_delete, name="delete"),
]
