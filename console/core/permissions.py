"""Sign-in checks that views declare themselves. What a signed-in person may do is console/teams/policy.py."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.cache import patch_cache_control


def signed_in_or_401(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """For what a page loads rather than shows (pictures): without a session, a plain 401. A redirect to
    the sign-in page would be fetched as a picture, and showing that page uses up the messages meant for
    the page itself (such as "your session has ended")."""

    @login_not_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            response = HttpResponse("Sign in to see this.", status=401, content_type="text/plain")
            patch_cache_control(response, no_store=True)
            return response
        return view(request, *args, **kwargs)

    return wrapped
