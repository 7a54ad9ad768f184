from django.apps import AppConfig


class DatasetsConfig(AppConfig):
    name = "console.datasets"
    label = "datasets"
