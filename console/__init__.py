"""The console for the Clarifai API: a Django project package."""

from console.celery import app as celery_app

__all__ = ["celery_app"]
