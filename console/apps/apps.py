from django.apps import AppConfig


class AppsConfig(AppConfig):
    name = "console.apps"
    label = "clarifai_apps"
