"""The address a sign-in came from, for throttling (django-axes asks through AXES_CLIENT_IP_CALLABLE).

Behind proxies, REMOTE_ADDR is the last proxy's, the same for everyone: counting failures by it would let
five failures lock every person out. Each trusted proxy appends the address it was connected from to
X-Forwarded-For, so with TRUSTED_PROXY_HOPS proxies in front the client is that many entries from the
right; entries further left were written by the client and may be anything.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    hops = settings.TRUSTED_PROXY_HOPS
    remote = str(request.META.get("REMOTE_ADDR", ""))
    if hops == 0:
        return remote
    forwarded = [part.strip() for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < hops:
        return remote  # not through every proxy: the nearest peer is all that can be trusted
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
