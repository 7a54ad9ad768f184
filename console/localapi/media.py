"""Hosted media of the local API: decoding pictures, making thumbnails, where files live, hosted URLs.

Files live in Django's default storage under `localapi/<app pk>/<media key>/<size>`. An input's hosted
URL is `{origin}/v2/hosted/{size}/apps/{app pk}/inputs/image/{media key}` and, like the real API's,
needs the `Authorization: Key` header of someone who may read the app.
"""

import contextlib
import io
import os
import re
import threading
from dataclasses import dataclass, field

from clarifai_grpc.grpc.api import resources_pb2
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps, UnidentifiedImageError

from console.localapi import status
from console.localapi.models import Input

# Longest side of each stored size; "orig" keeps the bytes as they came.
THUMBNAIL_SIZES = {"large": 1024, "small": 400, "tiny": 160}
SIZES = ["orig", *THUMBNAIL_SIZES]
UPLOAD = "upload"
# The content type of each format the local API accepts. Not Pillow's Image.MIME: that fills in only as
# plugins load, so the same picture would be served with a different type by different processes.
CONTENT_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
}
FORMATS = set(CONTENT_TYPES)
HOSTED_PATH = re.compile(r"^/v2/hosted/(?P<size>[a-z]+)/apps/(?P<app>\d+)/inputs/image/(?P<key>[0-9a-f]{32})$")


class MediaError(Exception):
    def __init__(self, code: status.Code, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


@dataclass
class Decoded:
    width: int
    height: int
    format: str
    mode: str
    files: dict[str, bytes] = field(default_factory=dict)  # size -> bytes


def path(app_pk: int, media_key: str, size: str) -> str:
    return f"localapi/{app_pk}/{media_key}/{size}"


def app_folder(app_pk: int) -> str:
    return f"localapi/{app_pk}"


def hosted_url(origin: str, item: Input) -> resources_pb2.HostedURL:
    return resources_pb2.HostedURL(
        prefix=f"{origin}/v2/hosted",
        suffix=f"apps/{item.app_id}/inputs/image/{item.media_key}",
        sizes=SIZES,
    )


def check_bytes(data: bytes) -> str:
    """Cheap check done when an input is posted: within the size limit and a picture Pillow knows."""
    if len(data) > settings.LOCALAPI_MAX_IMAGE_BYTES:
        raise MediaError(
            status.INPUT_OVER_LIMIT,
            f"the image is {len(data):,} bytes, over the limit of {settings.LOCALAPI_MAX_IMAGE_BYTES:,} bytes",
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format or ""
    except (UnidentifiedImageError, OSError, ValueError):
        raise MediaError(
            status.INPUT_UNSUPPORTED_FORMAT, "the bytes are not an image (JPEG, PNG, GIF, WebP, BMP or TIFF)"
        ) from None
    except Image.DecompressionBombError as e:
        raise MediaError(status.INPUT_OVER_LIMIT, f"the image has too many pixels: {e}") from None
    if fmt not in FORMATS:
        raise MediaError(
            status.INPUT_UNSUPPORTED_FORMAT,
            f"{fmt or 'this'} images are not supported (JPEG, PNG, GIF, WebP, BMP or TIFF)",
        )
    return fmt


def decode(data: bytes) -> Decoded:
    """Decode a picture fully, measure it and make its thumbnails; MediaError says why it cannot."""
    check_bytes(data)
    Image.MAX_IMAGE_PIXELS = settings.LOCALAPI_MAX_IMAGE_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            decoded = Decoded(width=image.width, height=image.height, format=image.format or "", mode=image.mode)
            upright = ImageOps.exif_transpose(image)
            rgb = _flatten(upright)
            for size, longest in THUMBNAIL_SIZES.items():
                thumb = rgb.copy()
                thumb.thumbnail((longest, longest))
                out = io.BytesIO()
                thumb.save(out, "JPEG", quality=85, optimize=True)
                decoded.files[size] = out.getvalue()
    except Image.DecompressionBombError as e:
        raise MediaError(status.INPUT_OVER_LIMIT, f"the image has too many pixels: {e}") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise MediaError(status.INPUT_UNSUPPORTED_FORMAT, f"the image could not be decoded: {e}") from None
    decoded.files["orig"] = data
    return decoded


def _flatten(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def put(name: str, data: bytes) -> None:
    """Write a file at exactly `name`, replacing what was there (so a retried task writes the same files)."""
    try:
        target = default_storage.path(name)
    except NotImplementedError:  # storage elsewhere than this machine's folders
        if default_storage.exists(name):
            default_storage.delete(name)
        default_storage.save(name, ContentFile(data))
        return
    # A folder: written beside and moved into place, so a reader never sees half a file. A quarter of the
    # time the storage API took (exists, delete, a free name, then the write) for each of a picture's files.
    os.makedirs(os.path.dirname(target), exist_ok=True)
    partial = f"{target}.{os.getpid()}.{threading.get_ident()}.part"
    with open(partial, "wb") as f:
        f.write(data)
    if settings.FILE_UPLOAD_PERMISSIONS is not None:
        os.chmod(partial, settings.FILE_UPLOAD_PERMISSIONS)
    os.replace(partial, target)


def read(name: str) -> bytes:
    with default_storage.open(name, "rb") as f:
        data: bytes = f.read()  # opened "rb": bytes, which Storage.open's type does not say
    return data


def delete(name: str) -> None:
    default_storage.delete(name)


def delete_tree(prefix: str) -> None:
    """Delete every file under `prefix` in the default storage."""
    try:
        folders, files = default_storage.listdir(prefix)
    except FileNotFoundError:
        return
    for name in files:
        default_storage.delete(f"{prefix}/{name}")
    for folder in folders:
        delete_tree(f"{prefix}/{folder}")
    if hasattr(default_storage, "path"):  # local folders stay behind when emptied
        with contextlib.suppress(OSError):
            os.rmdir(default_storage.path(prefix))


def content_type(size: str, image_format: str) -> str:
    if size == "orig":
        return CONTENT_TYPES.get(image_format, "application/octet-stream")
    return "image/jpeg"
