from django.apps import AppConfig


class InputsConfig(AppConfig):
    name = "console.inputs"
    label = "inputs"
