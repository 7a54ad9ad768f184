"""Sessions that end after a time without activity (SESSION_COOKIE_AGE, from SESSION_IDLE_SECONDS).

Django moves a session's expiry on only when the session is saved. Saving it on every request
(SESSION_SAVE_EVERY_REQUEST) would write a row for each thumbnail of a page; instead a signed-in
session is touched at most once a minute, which moves its expiry (and the cookie's) on.
"""

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

TOUCH_EVERY = 60  # seconds
SEEN_KEY = "_seen"


class SessionActivityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            if now - int(request.session.get(SEEN_KEY, 0)) >= TOUCH_EVERY:
                request.session[SEEN_KEY] = now  # modified: saved with a new expiry on the way out
        return self.get_response(request)
