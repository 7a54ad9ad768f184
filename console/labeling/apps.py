from django.apps import AppConfig


class LabelingConfig(AppConfig):
    name = "console.labeling"
    label = "labeling"
