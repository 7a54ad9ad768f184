"""The JSON wire format of the Clarifai REST API, over clarifai-grpc's messages.

Requests arrive as a JSON body (snake_case or lowerCamelCase) or as a query string with dotted and
repeated keys; both become the RPC's request message. Responses are printed the way the official
client prints requests: snake_case names, enums by name, `Concept.value` always present, with one
difference the wire reference asks for: every `StatusCode` is an integer.
"""

import base64
import binascii
import json
import math
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from console.localapi.errors import ApiError
from console.localapi.status import CONN_BAD_REQUEST_FORMAT, CONN_INVALID_REQUEST
from console.protojson import Printer, descriptor_of

_WRAPPERS = {"google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue"}

# The real API's limit is not documented. Protobuf refuses to decode a message nested deeper than 100
# messages, and each level of a Struct costs up to three (Struct, map entry, Value): 24 levels keep an
# input's metadata, and the response around it, within that for every client, gRPC ones included.
MAX_METADATA_DEPTH = 24
# Far deeper than any request message needs; a deeper body is refused before anything walks it.
MAX_BODY_DEPTH = 64


_printer = Printer(ignore_show_empty=False, integer_status_codes=True)


def message_to_dict(message: Message) -> dict[str, Any]:
    return _printer.to_dict(message)


def parse_body(body: bytes, message: Message) -> None:
    """Fill `message` from a JSON request body; an empty body is an empty message."""
    if not body.strip():
        return
    try:
        data = json.loads(body)
    except ValueError as e:  # not JSON, not UTF-8, or a number of more digits than Python reads
        raise ApiError(CONN_BAD_REQUEST_FORMAT, details=f"The request body is not valid JSON: {e}") from None
    except RecursionError:
        raise ApiError(CONN_BAD_REQUEST_FORMAT, details=_too_deep("The request body", MAX_BODY_DEPTH)) from None
    if not isinstance(data, dict):
        raise ApiError(CONN_BAD_REQUEST_FORMAT, details="The request body must be a JSON object.")
    if depth(data) > MAX_BODY_DEPTH:
        raise ApiError(CONN_BAD_REQUEST_FORMAT, details=_too_deep("The request body", MAX_BODY_DEPTH))
    parse_dict(data, message)


def parse_dict(data: dict[str, Any], message: Message) -> None:
    _check_fields(data, descriptor_of(message), "")
    try:
        json_format.ParseDict(data, message, ignore_unknown_fields=False)
    except json_format.ParseError as e:
        raise ApiError(CONN_BAD_REQUEST_FORMAT, details=_short_parse_error(str(e))) from None
    except RecursionError:
        raise ApiError(CONN_BAD_REQUEST_FORMAT, details=_too_deep("The request", MAX_BODY_DEPTH)) from None


def _too_deep(what: str, limit: int) -> str:
    return f"{what} is nested deeper than {limit} levels."


def depth(value: object) -> int:
    """How many objects and lists deep `value` is ({} is 1); iterative, so no depth can overflow the stack."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def metadata_problem(value: object) -> str | None:
    """Why `value` cannot be carried as a Struct (metadata) to every client, or None if it can."""
    if depth(value) > MAX_METADATA_DEPTH:
        return f"is nested deeper than {MAX_METADATA_DEPTH} levels"
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, float) and not math.isfinite(item):
            return "holds NaN or Infinity, which JSON cannot carry"
    return None


def _short_parse_error(text: str) -> str:
    # protobuf appends the list of every available field, which can run to hundreds of names.
    text = text.split(" Available Fields(except extensions):")[0]
    return text.replace("clarifai.api.", "").replace("..", ".").strip()


def _field_by_name(descriptor: Descriptor, name: str) -> FieldDescriptor | None:
    field: FieldDescriptor | None = descriptor.fields_by_name.get(name)
    if field is None:
        # protobuf's Descriptor has the camelCase index too; types-protobuf leaves it out
        field = descriptor.fields_by_camelcase_name.get(name)  # type: ignore[attr-defined]
    return field


def _check_fields(data: object, descriptor: Descriptor, path: str) -> None:
    """Refuse what protobuf's own parser would let through: bytes fields that are not strict base64 (it
    silently drops bad characters), and Structs (metadata) that no response could print."""
    if descriptor.full_name in _WRAPPERS:
        problem = metadata_problem(data)
        if problem:
            raise ApiError(CONN_INVALID_REQUEST, details=f"{path or 'The request'} {problem}.")
        return
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        field = _field_by_name(descriptor, key)
        if field is None or value is None:
            continue
        here = f"{path}.{field.name}" if path else field.name
        values = value if field.is_repeated and isinstance(value, list) else [value]
        for i, item in enumerate(values):
            item_path = f"{here}[{i}]" if values is value else here
            if field.type == FieldDescriptor.TYPE_BYTES:
                if not isinstance(item, str) or not _is_base64(item):
                    raise ApiError(CONN_BAD_REQUEST_FORMAT, details=f"{item_path} is not valid base64.")
            elif field.type == FieldDescriptor.TYPE_MESSAGE and not field.message_type.GetOptions().map_entry:
                _check_fields(item, field.message_type, item_path)


def _is_base64(text: str) -> bool:
    compact = "".join(text.split())
    try:
        if "-" in compact or "_" in compact:
            base64.urlsafe_b64decode(compact + "=" * (-len(compact) % 4))
        else:
            base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


def parse_query(pairs: list[tuple[str, str]], message: Message) -> None:
    """Fill `message` from query-string pairs: `a.b=1` for nested fields, `ids=x&ids=y` for lists.

    Values that cannot be read for a repeated message field are skipped: the official client garbles
    those (`statuses=code`). Unknown names are refused, so a misspelt filter does not go unnoticed.
    """
    data: dict[str, Any] = {}
    for key, raw in pairs:
        descriptor = descriptor_of(message)
        target = data
        parts = key.split(".")
        field = None
        for depth, part in enumerate(parts):
            field = _field_by_name(descriptor, part)
            if field is None:
                raise ApiError(CONN_INVALID_REQUEST, details=f"Unknown query parameter {key!r}.")
            is_last = depth == len(parts) - 1
            if field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type.full_name not in _WRAPPERS:
                if field.is_repeated or is_last:
                    break  # a repeated or whole message in a query string: not readable, skip it
                target = target.setdefault(field.name, {})
                descriptor = field.message_type
                continue
            if not is_last:
                raise ApiError(CONN_INVALID_REQUEST, details=f"Unknown query parameter {key!r}.")
            value = _query_scalar(field, raw, key)
            if field.is_repeated:
                target.setdefault(field.name, []).append(value)
            else:
                target[field.name] = value
    parse_dict(data, message)


def _query_scalar(field: FieldDescriptor, raw: str, key: str) -> Any:
    if field.cpp_type == FieldDescriptor.CPPTYPE_BOOL:
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ApiError(CONN_INVALID_REQUEST, details=f"Query parameter {key!r} must be true or false, not {raw!r}.")
    if field.cpp_type in (
        FieldDescriptor.CPPTYPE_INT32,
        FieldDescriptor.CPPTYPE_INT64,
        FieldDescriptor.CPPTYPE_UINT32,
        FieldDescriptor.CPPTYPE_UINT64,
    ):
        try:
            return int(raw)
        except ValueError:
            raise ApiError(
                CONN_INVALID_REQUEST, details=f"Query parameter {key!r} must be an integer, not {raw!r}."
            ) from None
    if field.cpp_type in (FieldDescriptor.CPPTYPE_FLOAT, FieldDescriptor.CPPTYPE_DOUBLE):
        try:
            return float(raw)
        except ValueError:
            raise ApiError(
                CONN_INVALID_REQUEST, details=f"Query parameter {key!r} must be a number, not {raw!r}."
            ) from None
    if field.cpp_type == FieldDescriptor.CPPTYPE_ENUM and raw.lstrip("-").isdigit():
        return int(raw)
    return raw


def set_field_path(message: Message, path: str, value: str) -> None:
    """Set a dotted field such as `user_app_id.user_id` (a route placeholder) on a message."""
    *parents, last = path.split(".")
    target = message
    for name in parents:
        target = getattr(target, name)
    setattr(target, last, value)
