"""Template filters of the console."""

from datetime import UTC, datetime

from django import template
from google.protobuf.timestamp_pb2 import Timestamp

register = template.Library()


@register.filter
def as_datetime(value: Timestamp | None) -> datetime | None:
    """A protobuf Timestamp as an aware datetime, so that `|date` shows it in the console's time zone."""
    if not value or not (value.seconds or value.nanos):
        return None
    return value.ToDatetime(tzinfo=UTC)
