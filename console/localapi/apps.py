from django.apps import AppConfig


class LocalApiConfig(AppConfig):
    name = "console.localapi"
    label = "localapi"
    verbose_name = "Local Clarifai-compatible API"
