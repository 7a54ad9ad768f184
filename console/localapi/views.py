"""The REST transport: Django hands every request under /v2/ to the dispatcher, as it came."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from console.localapi import dispatch


@csrf_exempt  # token-authenticated API, no cookies involved
@login_not_required
def api(request: HttpRequest) -> HttpResponse:
    body = _read_body(request)
    if body is None:
        reply = dispatch.too_large(
            settings.LOCALAPI_MAX_REQUEST_BYTES, request.headers.get("X-Clarifai-Request-ID-Prefix", "")[:64]
        )
    else:
        reply = dispatch.handle(
            verb=request.method or "GET",
            path=request.path_info,
            query=[(key, value) for key, values in request.GET.lists() for value in values],
            authorization=request.headers.get("Authorization"),
            body=body,
            origin=f"{request.scheme}://{request.get_host()}",
            request_id_prefix=request.headers.get("X-Clarifai-Request-ID-Prefix", "")[:64],
        )
    response = HttpResponse(reply.body, status=reply.status, content_type=reply.content_type)
    for name, value in reply.headers.items():
        response[name] = value
    response.setdefault("Cache-Control", "no-store")
    return response


def _read_body(request: HttpRequest) -> bytes | None:
    """The body, or None when it is over LOCALAPI_MAX_REQUEST_BYTES.

    Read from the stream rather than `request.body`, which Django caps at DATA_UPLOAD_MAX_MEMORY_SIZE
    (2.5 MB, sized for the console's forms): a picture in base64 needs more.
    """
    limit = settings.LOCALAPI_MAX_REQUEST_BYTES
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > limit:
        return None
    body = request.read(limit + 1)
    return None if len(body) > limit else body
