"""Adding and editing a connection: the token is asked for, checked against the API, and never shown again.

A stored token belongs to the host and user it was saved for: changing the base URL or the user id
asks for the token again, so the stored one is never sent anywhere else.
"""

from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import QuerySet

from console.clarifai import ClarifaiError
from console.connections import clients
from console.connections.models import Connection
from console.teams.models import Team

if TYPE_CHECKING:
    ConnectionModelForm = forms.ModelForm[Connection]
else:  # ModelForm is generic only to type checkers (django-stubs)
    ConnectionModelForm = forms.ModelForm


class ConnectionForm(ConnectionModelForm):
    token = forms.CharField(
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="A personal access token (or an app API key). It is stored encrypted and never shown again.",
    )

    class Meta:
        model = Connection
        fields = ["name", "base_url", "user_id", "rate_limit"]
        labels = {"base_url": "Base URL"}
        help_texts = {
            "base_url": "https://api.clarifai.com for Clarifai, or the address of a compatible API.",
            "user_id": "The Clarifai user whose apps this connection shows.",
        }

    def __init__(self, *args: Any, teams: "QuerySet[Team] | None" = None, **kwargs: Any) -> None:
        """`teams`: for a new connection, the teams it may go to (those the person is an admin of); a
        choice is offered when there are several."""
        super().__init__(*args, **kwargs)
        self.only_team = None
        if teams is not None and not self.instance.pk:
            if len(teams) > 1:
                self.fields["team"] = forms.ModelChoiceField(teams, empty_label=None)
            else:
                self.only_team = teams.first()
        if self.instance.pk:
            self.fields["token"].required = False
            # Only the team's admins reach this form, and only they see any part of a token.
            self.fields["token"].help_text = (
                f"Stored, ending in …{self.instance.token_last4}. Leave empty to keep it, or enter a new one. "
                "Changing the base URL or the user id needs the token again."
            )
        if "rate_limit" in self.fields:
            self.fields["rate_limit"].required = False  # left empty: as it was (15 for a new connection)
        if self.instance.builtin:
            # The built-in connection always reaches the local API in-process, and is never rate limited.
            del self.fields["base_url"]
            del self.fields["rate_limit"]

    def clean_rate_limit(self) -> int:
        value = self.cleaned_data.get("rate_limit")
        return self.instance.rate_limit if value is None else value

    def clean_base_url(self) -> str:
        base_url: str = self.cleaned_data["base_url"]
        return base_url.strip().rstrip("/")

    def _moves_the_token(self, data: dict[str, Any]) -> bool:
        """Whether the stored token would go to another host or user than the one it was saved for."""
        if not self.instance.pk:
            return False
        base_url = data.get("base_url", self.instance.base_url)
        return bool(base_url != self.instance.base_url or data.get("user_id") != self.instance.user_id)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.errors:
            return data
        if not data.get("token") and self._moves_the_token(data):
            self.add_error(
                "token",
                "The base URL or user id changed: enter the token again. The stored token is sent only to "
                "the API and user it was saved for.",
            )
            return data
        token = data.get("token") or (self.instance.token() if self.instance.pk else "")
        base_url = data.get("base_url") or self.instance.base_url
        try:
            clients.probe(base_url, token, data["user_id"], builtin=self.instance.builtin)
        except ClarifaiError as e:
            raise forms.ValidationError(f"Could not check the connection: {e.message}") from None
        except ValueError as e:  # a base URL or token the client cannot use at all
            raise forms.ValidationError(str(e)) from None
        return data

    def full_clean(self) -> None:
        super().full_clean()  # the model's checks too (a name already taken)
        if self.errors and self.data.get("token") and "token" not in self.errors:
            # A typed token is never rendered back: say so beside the now empty field.
            self.add_error("token", "The token was not kept: enter it again.")

    def save(self, commit: bool = True) -> Connection:
        connection = super().save(commit=False)
        team = self.cleaned_data.get("team") or self.only_team
        if team is not None:
            connection.team = team
        if self.cleaned_data.get("token"):
            connection.set_token(self.cleaned_data["token"])
        if commit:
            connection.save()
        return connection
