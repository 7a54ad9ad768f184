"""Client for the Clarifai REST API: one httpx client per connection, one error family, pagination.

    client = ClarifaiClient(base_url, token, user_id)
    response = client.call("ListInputs", service_pb2.ListInputsRequest(user_app_id=..., per_page=50))

Views catch `ClarifaiError` and show its `message`. Timing of upstream calls for a Server-Timing header
is in `console.clarifai.timing`; running calls at the same time is `concurrently`.
"""

from console.clarifai.client import ClarifaiClient, Media, RetryPolicy
from console.clarifai.concurrency import concurrently
from console.clarifai.errors import (
    ClarifaiError,
    ClarifaiProtocolError,
    ClarifaiStatusError,
    ClarifaiTimeout,
    ClarifaiTooLarge,
    ClarifaiTransportError,
)

__all__ = [
    "ClarifaiClient",
    "ClarifaiError",
    "ClarifaiProtocolError",
    "ClarifaiStatusError",
    "ClarifaiTimeout",
    "ClarifaiTooLarge",
    "ClarifaiTransportError",
    "Media",
    "RetryPolicy",
    "concurrently",
]
