from django.urls import path

from console.connections import views

app_name = "connections"
urlpatterns = [
    path("", views.connection_list, name="list"),
    path("new", views.connection_new, name="new"),
    path("<int:conn_id>/edit", views.connection_edit, name="edit"),
    path("<int:conn_id>/delete", views.connection_delete, name="delete"),
]
