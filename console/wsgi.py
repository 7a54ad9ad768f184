"""WSGI entry point for gunicorn (`console.wsgi:application`)."""

import os

from django.core.wsgi import get_wsgi_application

from console.env import stop_on_bad_setting

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

# A bad environment variable: its one line, and exit code 3, gunicorn's "worker failed to boot", on which
# gunicorn stops rather than starting the worker again and again.
with stop_on_bad_setting(exit_code=3):
    application = get_wsgi_application()
