"""Ending a person's sessions, everywhere: their session rows go, so every process sees them signed out."""

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.module_loading import import_string


def end_sessions(user: AbstractBaseUser) -> int:
    """Delete the user's live sessions (through the session engine, so a cached copy goes too).
    Returns how many there were. Django keeps no index from user to session: each live one is decoded."""
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            store(session_key=session.session_key).delete()
            ended += 1
    return ended
