"""The REST transport: Django hands every request under /v2/ to the dispatcher, as it came."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from console.localapi import dispatch


@csrf_exempt  # token-authenticated API, no cookies involved
@login_not_required
def api(request: HttpRequest) -> HttpResponse:
    reply = dispatch.handle(
        verb=request.method or "GET",
        path=request.path_info,
        query=[(key, value) for key, values in request.GET.lists() for value in values],
        authorization=request.headers.get("Authorization"),
        body=request.body,
        origin=f"{request.scheme}://{request.get_host()}",
        request_id_prefix=request.headers.get("X-Clarifai-Request-ID-Prefix", "")[:64],
    )
    response = HttpResponse(reply.body, status=reply.status, content_type=reply.content_type)
    for name, value in reply.headers.items():
        response[name] = value
    response.setdefault("Cache-Control", "no-store")
    return response
