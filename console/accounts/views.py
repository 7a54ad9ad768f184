"""Sign in, sign out and password change: Django's views, our templates, a message on success."""

from django.contrib import messages
from django.contrib.auth import views as auth
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpResponse
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
