"""`{% may "manage" connection as can_manage %}`: policy.may for a target other than the page's own."""

from typing import Any

from django import template

from console.teams import policy

register = template.Library()


@register.simple_tag(takes_context=True)
def may(context: dict[str, Any], action: str, target: Any) -> bool:
    return policy.may(context["request"].user, action, target)
