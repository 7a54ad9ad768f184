"""How an RPC and its clarifai-grpc request message become an HTTP request, and a body its response.

The route table comes from the `google.api.http` bindings in clarifai-grpc's service descriptor, and the
route is chosen the way the official JSON client chooses it (clarifai-wire.md §3): the binding with the
most placeholders that can all be filled wins, ties going to the first listed. Two deliberate
differences: path values are URL-escaped, and every placeholder field (`user_app_id.app_id` included) is
left out of the query or body, since the path already carries it.
"""

import base64
import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import quote

from clarifai_grpc.grpc.api import service_pb2
from google.api import annotations_pb2
from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from console.protojson import Printer

_PLACEHOLDER = re.compile(r"\{([^}=]+)\}")

# POST only because a search query is too big for a URL; they change nothing, so retrying is safe.
READ_ONLY_POSTS = frozenset({"PostInputsSearches", "PostConceptsSearches", "PostAnnotationsSearches", "PostSearches"})

USER_ID_FIELD = "user_app_id.user_id"


@dataclass(frozen=True)
class Binding:
    verb: str
    template: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Rpc:
    name: str
    bindings: tuple[Binding, ...]
    request_class: type[Message]
    response_class: type[Message]

    @property
    def idempotent(self) -> bool:
        return self.name in READ_ONLY_POSTS or all(b.verb == "GET" for b in self.bindings)


@dataclass(frozen=True)
class Prepared:
    """One HTTP request ready to send: verb, escaped path, query pairs (GET) or JSON body (other verbs)."""

    rpc: Rpc
    verb: str
    path: str
    params: tuple[tuple[str, str], ...]
    body: bytes | None


@cache
def rpcs() -> dict[str, Rpc]:
    table = {}
    for method in service_pb2.DESCRIPTOR.services_by_name["V2"].methods:
        rule = method.GetOptions().Extensions[annotations_pb2.http]
        bindings = []
        for binding in [rule, *rule.additional_bindings]:
            verb = binding.WhichOneof("pattern")
            if verb is None or verb == "custom":
                continue
            template = getattr(binding, verb)
            bindings.append(Binding(verb.upper(), template, tuple(_PLACEHOLDER.findall(template))))
        if bindings:
            table[method.name] = Rpc(
                method.name, tuple(bindings), GetMessageClass(method.input_type), GetMessageClass(method.output_type)
            )
    return table


def get_rpc(name: str) -> Rpc:
    try:
        return rpcs()[name]
    except KeyError:
        raise ValueError(f"{name!r} is not an RPC of the Clarifai V2 service with a REST route.") from None


def prepare(name: str, request: Message, user_id: str = "me") -> Prepared:
    """Build the HTTP request for `name`; `user_id` fills `{user_app_id.user_id}` when the request has none."""
    rpc = get_rpc(name)
    expected = rpc.request_class.DESCRIPTOR.full_name
    if request.DESCRIPTOR.full_name != expected:
        raise TypeError(f"{name} takes a {expected}, not a {request.DESCRIPTOR.full_name}.")
    binding, values = _choose(rpc, request, user_id or "me")
    path = binding.template
    for field in binding.fields:
        path = path.replace("{" + field + "}", _escape(values[field]))
    rest = type(request)()
    rest.CopyFrom(request)
    for field in binding.fields:
        _clear(rest, field)
    if binding.verb == "GET":
        return Prepared(rpc, binding.verb, path, tuple(query_pairs(rest)), None)
    return Prepared(rpc, binding.verb, path, (), json.dumps(to_json_dict(rest), separators=(",", ":")).encode())


def _escape(value: str) -> str:
    # A value of "." or ".." would be a dot segment that clients resolve away: DeleteInput of ".." would
    # become DELETE of the app itself. Percent-encoded, it stays a literal id.
    if set(value) == {"."}:
        return "%2E" * len(value)
    return quote(value, safe="")


def _choose(rpc: Rpc, request: Message, user_id: str) -> tuple[Binding, dict[str, str]]:
    best: tuple[Binding, dict[str, str]] | None = None
    for binding in rpc.bindings:
        values = {
            field: _path_value(request, field) or (user_id if field == USER_ID_FIELD else "")
            for field in binding.fields
        }
        if all(values.values()) and (best is None or len(binding.fields) > len(best[0].fields)):
            best = (binding, values)
    if best is None:
        needed = sorted({f for b in rpc.bindings for f in b.fields} - {USER_ID_FIELD})
        raise ValueError(f"{rpc.name} needs one of these fields set to build its URL: {', '.join(needed)}.")
    return best


def _path_value(message: Message, path: str) -> str:
    target = message
    *parents, last = path.split(".")
    for name in parents:
        if name not in target.DESCRIPTOR.fields_by_name:
            return ""
        target = getattr(target, name)
    field = target.DESCRIPTOR.fields_by_name.get(last)
    if field is None or field.is_repeated:
        return ""
    value = getattr(target, last)
    if field.cpp_type == FieldDescriptor.CPPTYPE_ENUM:
        return field.enum_type.values_by_number[value].name if value in field.enum_type.values_by_number else str(value)
    if field.cpp_type == FieldDescriptor.CPPTYPE_MESSAGE:
        return ""
    return "" if value in ("", 0) else str(value)


def _clear(message: Message, path: str) -> None:
    *parents, last = path.split(".")
    chain = [message]
    for name in parents:
        target = chain[-1]
        if name not in target.DESCRIPTOR.fields_by_name or not target.HasField(name):
            return
        chain.append(getattr(target, name))
    chain[-1].ClearField(last)
    # Drop parents left empty, so `user_app_id` does not travel as `{}`.
    for parent, name, child in reversed(list(zip(chain[:-1], parents, chain[1:], strict=True))):
        if child.ListFields():
            break
        parent.ClearField(name)


def to_json_dict(message: Message) -> dict[str, Any]:
    """The JSON body for a message: snake_case, defaults omitted, but `Concept.value` always present.

    clarifai-grpc's own printer sends `"value": 0.0` for a Concept whose value is 0.0 (a negative label),
    where protobuf's would drop it as a default; the server would then read the missing value as 1.0.
    This is that printer (`protobuf_to_dict(message, use_integers_for_enums=False, ignore_show_empty=True)`).
    """
    return _printer.to_dict(message)


_printer = Printer(ignore_show_empty=True)


# Well-known messages that print as one JSON scalar, and so fit in a query string.
_SCALAR_MESSAGES = {
    "google.protobuf.Timestamp",
    "google.protobuf.Duration",
    "google.protobuf.FieldMask",
    "google.protobuf.BoolValue",
    "google.protobuf.StringValue",
    "google.protobuf.BytesValue",
    "google.protobuf.Int32Value",
    "google.protobuf.Int64Value",
    "google.protobuf.UInt32Value",
    "google.protobuf.UInt64Value",
    "google.protobuf.FloatValue",
    "google.protobuf.DoubleValue",
}


def query_pairs(message: Message, prefix: str = "") -> list[tuple[str, str]]:
    """Flatten a message into query pairs: dotted keys for nested fields, one pair per list item.

    Fields at their default value are left out. Enums go as numbers, which the server reads as well as
    names and which avoids sending the wrong one of two aliased names.
    """
    pairs: list[tuple[str, str]] = []
    for field, value in message.ListFields():
        key = prefix + field.name
        if field.cpp_type != FieldDescriptor.CPPTYPE_MESSAGE:
            values = value if field.is_repeated else [value]
            pairs.extend((key, _query_scalar(field, v)) for v in values)
        elif field.message_type.full_name in _SCALAR_MESSAGES and not field.is_repeated:
            pairs.append((key, _query_scalar(None, json_format.MessageToDict(value))))
        elif field.is_repeated or field.message_type.full_name.startswith("google.protobuf."):
            # The official client garbles these (`statuses=code`); refusing beats a filter silently lost.
            raise ValueError(f"{key} cannot be sent in a query string; this GET request cannot carry it.")
        else:
            pairs.extend(query_pairs(value, key + "."))
    return pairs


def _query_scalar(field: FieldDescriptor | None, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if field is not None and field.cpp_type == FieldDescriptor.CPPTYPE_ENUM:
        return str(int(value))
    return str(value)


def decode_object(body: bytes) -> dict[str, Any] | None:
    """The JSON object in a body, or None when the body is not one."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def parse_response(data: dict[str, Any], response_class: type[Message]) -> Message:
    """Fill a response message leniently: snake_case or camelCase, enums by name or number, unknown fields ignored.

    A direct walk over the JSON fills the message (about three times faster than protobuf's ParseDict on a
    page of inputs); anything it does not expect sends the whole body to ParseDict, whose result and errors
    are the reference. Raises json_format.ParseError when a known field holds a value of the wrong kind.
    """
    try:
        return _fill(response_class(), data)
    except (TypeError, ValueError, AttributeError, KeyError):
        return json_format.ParseDict(data, response_class(), ignore_unknown_fields=True)


# How _fill reads each kind of field.
_TIMESTAMP, _STRUCT, _OWN_JSON, _MESSAGES, _MESSAGE, _SCALARS, _SCALAR = range(7)


@cache
def _fields(descriptor: Any) -> dict[str, tuple[FieldDescriptor, int]]:
    """A message's fields by both of their JSON spellings, with how each is read."""
    by_name: dict[str, tuple[FieldDescriptor, int]] = {}
    for field in descriptor.fields:
        kind = field.message_type.full_name if field.message_type is not None else ""
        if kind == "google.protobuf.Timestamp" and not field.is_repeated:
            how = _TIMESTAMP
        elif kind == "google.protobuf.Struct" and not field.is_repeated:
            how = _STRUCT
        elif kind.startswith("google.protobuf.") or (kind and field.message_type.GetOptions().map_entry):
            how = _OWN_JSON  # the other well-known types and maps have JSON forms of their own
        elif kind:
            how = _MESSAGES if field.is_repeated else _MESSAGE
        else:
            how = _SCALARS if field.is_repeated else _SCALAR
        by_name[field.json_name] = by_name[field.name] = (field, how)
    return by_name


def _fill(message: Message, data: dict[str, Any]) -> Message:
    fields = _fields(message.DESCRIPTOR)
    for key, value in data.items():
        found = fields.get(key)
        if found is None:
            continue  # unknown to this version of the schema: ignored, as ParseDict(ignore_unknown_fields) does
        field, how = found
        if value is None and how != _OWN_JSON:
            continue  # null is the default value
        if how == _MESSAGE:
            _fill(getattr(message, field.name), value)
        elif how == _SCALAR:
            setattr(message, field.name, _scalar(field, value))
        elif how == _MESSAGES:
            items = getattr(message, field.name)
            for item in value:
                _fill(items.add(), item)
        elif how == _SCALARS:
            getattr(message, field.name).extend([_scalar(field, item) for item in value])
        elif how == _TIMESTAMP:
            getattr(message, field.name).FromJsonString(value)
        elif how == _STRUCT:
            struct = getattr(message, field.name)
            struct.SetInParent()
            struct.update(value)
        else:
            single = type(message)()
            json_format.ParseDict({field.name: value}, single, ignore_unknown_fields=True)
            message.MergeFrom(single)
    return message


_INTEGERS = {
    FieldDescriptor.CPPTYPE_INT32,
    FieldDescriptor.CPPTYPE_INT64,
    FieldDescriptor.CPPTYPE_UINT32,
    FieldDescriptor.CPPTYPE_UINT64,
}


def _scalar(field: FieldDescriptor, value: Any) -> Any:
    kind = field.cpp_type
    if kind == FieldDescriptor.CPPTYPE_ENUM:
        if isinstance(value, str):
            known = field.enum_type.values_by_name.get(value)
            if known is not None:
                return known.number
            return int(value) if value.lstrip("-").isdigit() else 0  # an unknown name reads as 0, as ParseDict's
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(value)
        return value
    if kind in _INTEGERS:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise TypeError(value)
        return int(value)
    if kind in (FieldDescriptor.CPPTYPE_FLOAT, FieldDescriptor.CPPTYPE_DOUBLE):
        if isinstance(value, bool):
            raise TypeError(value)
        return float(value)
    if field.type == FieldDescriptor.TYPE_BYTES:
        if not isinstance(value, str):
            raise TypeError(value)
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    if kind == FieldDescriptor.CPPTYPE_BOOL and not isinstance(value, bool):
        raise TypeError(value)
    if kind == FieldDescriptor.CPPTYPE_STRING and not isinstance(value, str):
        raise TypeError(value)
    return value
