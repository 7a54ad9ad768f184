from django.urls import path

from console.audit import views

app_name = "audit"
urlpatterns = [
    path("c/<int:conn_id>/audit/", views.audit_log, name="log"),
    path("c/<int:conn_id>/audit/export.csv", views.audit_csv, name="csv"),
    path("audit/", views.audit_log, name="all"),
    path("audit/export.csv", views.audit_csv, name="all_csv"),
]
