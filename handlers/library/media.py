"""What a staff member or a member sends as a resource's file: a document or a photo (re-sent to
members by Telegram file id); videos, stickers, voice and the rest are refused."""

from __future__ import annotations

from aiogram.types import Message

from bot.services.library.rules import LibraryError, checked_file


def file_of(message: Message) -> tuple[str, str]:
    """(kind, file id) of a document or photo; `LibraryError` (bad_file, file_too_big) otherwise."""
    if message.photo:
        photo = message.photo[-1]
        return checked_file("photo", photo.file_size), photo.file_id
    if message.document and not message.animation:
        return checked_file("document", message.document.file_size), message.document.file_id
    raise LibraryError("bad_file")
