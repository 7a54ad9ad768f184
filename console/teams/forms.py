"""Forms of the team pages: a new team, an invite, a member's role, and the account an invite link makes."""

from typing import TYPE_CHECKING

from django import forms
from django.contrib.auth.forms import UserCreationForm

from console.teams.models import Role, Team

if TYPE_CHECKING:
    TeamModelForm = forms.ModelForm[Team]
else:  # ModelForm is generic only to type checkers (django-stubs)
    TeamModelForm = forms.ModelForm


class TeamForm(TeamModelForm):
    class Meta:
        model = Team
        fields = ["name"]


class RoleForm(forms.Form):
    role = forms.ChoiceField(
        choices=Role.choices,
        help_text="Viewer: looks. Labeler: also labels in assigned tasks. Reviewer: also reviews. "
        "Editor: also changes inputs, concepts, datasets, apps and tasks, runs jobs and uploads. "
        "Admin: also members, connections, collaborators and keys.",
    )


class SignUpForm(UserCreationForm):  # type: ignore[type-arg]
    """The account a person makes from an invite link: a username and a password (checked by
    AUTH_PASSWORD_VALIDATORS)."""
