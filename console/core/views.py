"""Pages that belong to no one area: the home page and the health check."""

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from console.connections.models import Connection


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Straight to the apps of the first connection (the built-in one sorts first)."""
    first = Connection.objects.first()
    if first is None:
        return render(request, "core/home.html")
    return redirect("apps:list", first.pk)


@require_GET
@login_not_required
def health(request: HttpRequest) -> JsonResponse:
    """The database answers. Never calls a Clarifai API, so a hanging one cannot make it wait; and since
    each connection holds at most a few web threads (console.clarifai.client.MAX_CALLS), it finds one."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
