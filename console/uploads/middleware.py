"""A form upload over the size the console takes at once is refused before any of it is read."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat

from console.core.views import problem


class UploadSizeMiddleware:
    """Django reads a whole multipart body (its files into temporary files) as soon as anything asks for
    the form, the CSRF check first; a body over UPLOAD_MAX_REQUEST_BYTES would fill the disk before the
    upload's own checks run. It is refused from its Content-Length, with a page that says why."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.content_type == "multipart/form-data":
            length = request.META.get("CONTENT_LENGTH", "")
            most = settings.UPLOAD_MAX_REQUEST_BYTES
            if length.isdigit() and int(length) > most:
                message = (
                    f"This upload is {filesizeformat(int(length))}; the console takes at most "
                    f"{filesizeformat(most)} at once. Nothing was uploaded: send the files in smaller groups."
                )
                return problem(request, 413, "The upload is too large", message)
        return self.get_response(request)
