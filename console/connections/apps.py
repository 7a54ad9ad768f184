from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "console.connections"
    label = "connections"
