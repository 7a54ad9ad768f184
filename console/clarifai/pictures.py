"""Telling a complete picture from anything else by its bytes, cheaply (no decoding).

Hosted media is shown in the console and kept in caches, so a truncated picture, an HTML page or a
JSON status served as a picture must be told apart before it is kept. Each check reads the format's
header and its end marker, which costs microseconds even for a large original.
"""

import struct


def picture_type(content: bytes) -> str | None:
    """The content type of `content` if it is a complete JPEG, PNG, GIF, WebP, BMP or AVIF picture, else None."""
    kind = magic_type(content)
    if kind == "image/jpeg":
        complete = _jpeg_complete(content)
    elif kind == "image/png":
        # The IEND chunk (with its fixed CRC) ends every PNG.
        complete = content.rfind(b"IEND\xaeB`\x82") > 8
    elif kind == "image/gif":
        complete = content.rstrip(b"\x00").endswith(b";")
    elif kind == "image/webp":
        complete = len(content) >= struct.unpack("<I", content[4:8])[0] + 8
    elif kind == "image/bmp":
        complete = len(content) >= struct.unpack("<I", content[2:6])[0] > 14
    elif kind == "image/avif":
        complete = _boxes_complete(content)
    else:
        return None
    return kind if complete else None


def magic_type(content: bytes) -> str | None:
    """The picture type that `content` starts as, complete or not."""
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    if content[:2] == b"BM" and len(content) >= 14:
        return "image/bmp"
    if content[4:8] == b"ftyp" and content[8:12] in (b"avif", b"avis"):
        return "image/avif"
    return None


def _jpeg_complete(content: bytes) -> bool:
    """Walk the segments to the first scan; the picture is complete when an end marker follows it.

    Inside scan data a 0xFF byte is always followed by 0x00 or a restart marker, so the first FFD9
    after the scan starts is the end of the picture (an EXIF thumbnail's own FFD9 sits in a segment
    before the scan and is skipped with it).
    """
    pos = 2
    while pos + 4 <= len(content):
        if content[pos] != 0xFF:
            return False
        marker = content[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        (length,) = struct.unpack(">H", content[pos + 2 : pos + 4])
        if marker == 0xDA:
            return content.find(b"\xff\xd9", pos + 2 + length) != -1
        pos += 2 + length
    return False


def _boxes_complete(content: bytes) -> bool:
    """An ISO media file (AVIF) is a run of boxes whose sizes add up to the whole file."""
    pos = 0
    while pos < len(content):
        if pos + 8 > len(content):
            return False
        (size,) = struct.unpack(">I", content[pos : pos + 4])
        if size == 0:  # the last box runs to the end
            return True
        if size == 1:
            if pos + 16 > len(content):
                return False
            (size,) = struct.unpack(">Q", content[pos + 8 : pos + 16])
        if size < 8:
            return False
        pos += size
    return pos == len(content)
