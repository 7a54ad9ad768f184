"""Pages to list, add, edit and delete connections: a person sees the connections of their teams; a team's
admins add, edit and delete them (checked by console.teams.policy before these views run)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from console.connections.forms import ConnectionForm
from console.connections.models import Connection
from console.teams.policy import manageable_teams, visible_connections


def connection_list(request: HttpRequest) -> HttpResponse:
    items = visible_connections(request.user).select_related("team")
    return render(request, "connections/list.html", {"items": items})


@require_http_methods(["GET", "POST"])
def connection_new(request: HttpRequest) -> HttpResponse:
    form = ConnectionForm(request.POST or None, teams=manageable_teams(request.user))
    if request.method == "POST" and form.is_valid():
        connection = form.save(commit=False)
        connection.created_by = request.user if request.user.is_authenticated else None
        connection.save()
        messages.success(request, f"Connection {connection.name} added.")
        return redirect("apps:list", connection.pk)
    return render(request, "connections/form.html", {"form": form, "title": "Add a connection"})


@require_http_methods(["GET", "POST"])
def connection_edit(request: HttpRequest, conn_id: int) -> HttpResponse:
    connection = get_object_or_404(Connection, pk=conn_id)
    form = ConnectionForm(request.POST or None, instance=connection)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Connection {connection.name} saved.")
        return redirect("connections:list")
    return render(request, "connections/form.html", {"form": form, "title": f"Edit {connection.name}"})


@require_http_methods(["GET", "POST"])
def connection_delete(request: HttpRequest, conn_id: int) -> HttpResponse:
    connection = get_object_or_404(Connection, pk=conn_id, builtin=False)
    if request.method == "POST":
        connection.delete()
        messages.success(request, f"Connection {connection.name} deleted.")
        return redirect("connections:list")
    return render(request, "connections/delete.html", {"item": connection})
