from django.urls import path

from console.core import views

urlpatterns = [
    path("", views.home, name="home"),
    path("health", views.health, name="health"),
]
