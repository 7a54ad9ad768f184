from django.urls import path

from console.datasets import views

app_name = "datasets"
urlpatterns = [
    path("", views.dataset_list, name="list"),
    path("new", views.dataset_new, name="new"),
    path("<str:dataset_id>/edit", views.dataset_edit, name="edit"),
    path("<str:dataset_id>/delete", views.dataset_delete, name="delete"),
    path("<str:dataset_id>/versions/", views.dataset_versions, name="versions"),
    path("<str:dataset_id>/versions/new", views.version_new, name="version_new"),
    path("<str:dataset_id>/versions/<str:version_id>/export", views.version_export, name="export"),
    path("<str:dataset_id>/versions/<str:version_id>/exports/<str:fmt>.zip", views.export_download, name="download"),
]
