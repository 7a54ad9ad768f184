from django.urls import path

from console.uploads import views

app_name = "uploads"
urlpatterns = [
    path("apps/<str:app_id>/upload/", views.upload_new, name="new"),
    path("uploads/<int:upload_id>/", views.upload_detail, name="detail"),
]
