"""The URL table of the Clarifai REST API, derived from clarifai-grpc's `google.api.http` bindings.

Every RPC of the V2 service is listed with each of its bindings (the main rule and its
`additional_bindings`), so paths are exactly those the official clients build. A path matches the
binding with the most literal segments first: `/inputs/status` is GetInputCount, not GetInput.
"""

import re
from dataclasses import dataclass
from functools import cache

from clarifai_grpc.grpc.api import service_pb2
from google.api import annotations_pb2
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

_PLACEHOLDER = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class Route:
    rpc: str
    verb: str
    template: str
    pattern: re.Pattern[str]
    fields: tuple[str, ...]  # placeholder names in order, e.g. ("user_app_id.user_id", "input_id")
    literals: int
    method: MethodDescriptor

    def request_class(self) -> type[Message]:
        return GetMessageClass(self.method.input_type)

    def response_class(self) -> type[Message]:
        return GetMessageClass(self.method.output_type)


def _compile(template: str) -> tuple[re.Pattern[str], tuple[str, ...], int]:
    fields: list[str] = []
    parts = []
    literals = 0
    for segment in template.strip("/").split("/"):
        match = _PLACEHOLDER.fullmatch(segment)
        if match:
            fields.append(match.group(1))
            parts.append(f"(?P<p{len(fields) - 1}>[^/]+)")
        else:
            literals += 1
            parts.append(re.escape(segment))
    return re.compile("^/" + "/".join(parts) + "/?$"), tuple(fields), literals


@cache
def all_routes() -> tuple[Route, ...]:
    service = service_pb2.DESCRIPTOR.services_by_name["V2"]
    routes = []
    for method in service.methods:
        rule = method.GetOptions().Extensions[annotations_pb2.http]
        for binding in [rule, *rule.additional_bindings]:
            verb = binding.WhichOneof("pattern")
            if verb is None or verb == "custom":
                continue
            template = getattr(binding, verb)
            pattern, fields, literals = _compile(template)
            routes.append(Route(method.name, verb.upper(), template, pattern, fields, literals, method))
    # Most literal segments first, then fewer placeholders: the most specific binding wins.
    routes.sort(key=lambda r: (-r.literals, len(r.fields)))
    return tuple(routes)


def match(verb: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in all_routes():
        if route.verb != verb:
            continue
        m = route.pattern.match(path)
        if m:
            return route, {field: m.group(f"p{i}") for i, field in enumerate(route.fields)}
    return None


def verbs_for(path: str) -> list[str]:
    """The verbs some route accepts at `path`, for a 405 answer."""
    return sorted({r.verb for r in all_routes() if r.pattern.match(path)})
