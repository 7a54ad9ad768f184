"""Hosted media: the content type of an original picture does not depend on the process serving it."""

import subprocess
import sys

import pytest

from console.localapi import media
from tests.images import png
from tests.processes import ROOT

FORMATS = ["JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF"]
FRESH_PROCESS = f"""
import django
django.setup()
from console.localapi import media
print(",".join(media.content_type("orig", f) for f in {FORMATS!r}))
"""
EXPECTED = "image/jpeg,image/png,image/gif,image/webp,image/bmp,image/tiff"


def test_the_original_pictures_content_type_is_the_same_in_a_fresh_process() -> None:
    """A process that has not opened a picture yet has not loaded Pillow's plugins."""
    result = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "console.settings", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip() == EXPECTED


def test_the_original_pictures_content_type_is_the_same_once_pictures_were_opened() -> None:
    media.check_bytes(png())  # loads Pillow's plugins in this process
    assert ",".join(media.content_type("orig", f) for f in FORMATS) == EXPECTED


@pytest.mark.parametrize("size", ["large", "small", "tiny"])
def test_thumbnails_are_jpeg(size: str) -> None:
    assert media.content_type(size, "PNG") == "image/jpeg"
