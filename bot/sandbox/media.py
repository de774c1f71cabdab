"""Media helpers: image sizes, tiny sample images, MIME types and Telegram-looking file identifiers."""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import struct
import zlib

_FILE_ID_PREFIX = {
    "document": "BQACAgIAAxkBAAI",
    "photo": "AgACAgIAAxkBAAI",
    "sticker": "CAACAgIAAxkBAAI",
    "voice": "AwACAgIAAxkBAAI",
}
_PHOTO_SIDES = (90, 320, 800, 1280, 2560)


def file_ids(kind: str, number: int, salt: str) -> tuple[str, str]:
    """A (file_id, file_unique_id) pair, deterministic for a bot token and a counter."""
    digest = hashlib.sha256(f"{salt}:{kind}:{number}".encode()).digest()
    body = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return f"{_FILE_ID_PREFIX.get(kind, 'BQACAgIAAxkBAAI')}{number:06d}{body[:30]}", f"AQAD{body[30:42]}"


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, GIF, JPEG or WebP image; None if the bytes are not one."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        if data[12:16] == b"VP8X":
            return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
        if data[12:16] == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return width & 0x3FFF, height & 0x3FFF
        return 1, 1
    if data[:2] == b"\xff\xd8":
        pos = 2
        while pos + 9 < len(data):
            if data[pos] != 0xFF:
                return None
            marker, size = data[pos + 1], struct.unpack(">H", data[pos + 2 : pos + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
                return width, height
            pos += 2 + size
    return None


def tiny_png(width: int = 2, height: int = 2) -> bytes:
    """A valid grey PNG image, handy for sendPhoto tests."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
        )

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def photo_sides(width: int, height: int) -> list[tuple[int, int]]:
    """The sizes Telegram generates for a photo (each side at most 90, 320, 800, 1280, 2560)."""
    longest = max(width, height)
    sizes = []
    for side in _PHOTO_SIDES:
        scale = min(1.0, side / longest)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        if not sizes or size != sizes[-1]:
            sizes.append(size)
        if side >= longest:
            break
    return sizes


def guess_mime(file_name: str | None, default: str = "application/octet-stream") -> str:
    """MIME type from a file name, like Telegram's content type detection."""
    return (mimetypes.guess_type(file_name)[0] if file_name else None) or default
