from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "console.uploads"
    label = "uploads"
