from django.apps import AppConfig


class ConceptsConfig(AppConfig):
    name = "console.concepts"
    label = "concepts"
