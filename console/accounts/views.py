"""Sign in, sign out and password change: Django's views, our templates, a message on success; the page
that says a sign-in was refused for too many failures (django-axes, see settings)."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy


class SignIn(auth.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class SignOut(auth.LogoutView):
    pass


class ChangePassword(auth.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        messages.success(self.request, "Your password was changed.")
        return super().form_valid(form)


def _minutes(seconds: float) -> str:
    minutes = max(round(seconds / 60), 1)
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def locked_out(request: HttpRequest, response: HttpResponse | None, credentials: dict[str, Any] | None) -> HttpResponse:
    """The sign-in page again, saying why and for how long (each failed try restarts the wait)."""
    wait = _minutes(settings.AXES_COOLOFF_TIME.total_seconds())
    form = AuthenticationForm(request, initial={"username": (credentials or {}).get("username", "")})
    context = {
        "form": form,
        "next": request.POST.get("next", request.GET.get("next", "")),
        "locked": (
            f"Too many failed sign-ins for this account or from this address. Wait {wait}, then try again; "
            "every try before then starts the wait again."
        ),
    }
    return render(request, "accounts/login.html", context, status=429)
