"""`{% was name=concept.name %}`: the old values of what a form changes, signed, for its hidden `was` field
(console.audit.context.before_posted reads it back as the change's "before", with no extra API call)."""

from typing import Any

from django import template

from console.audit.context import sign_before

register = template.Library()


@register.simple_tag
def was(**values: Any) -> str:
    return sign_before(values)
