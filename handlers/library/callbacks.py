"""Callback data of the library's buttons: ids and short codes only, every one re-checked on the
server (a forged id finds nothing it may touch)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from storage.types import RowId


class ResourceDraft(CallbackData, prefix="lrd"):
    """The /newresource dialog and its preview (the composer kit's buttons and the dialog's own):
    `id` is the draft, `value` a kind, a category, a language or a scope."""

    action: str
    id: RowId
    value: str = ""


class Library(CallbackData, prefix="lib"):
    """A member's buttons: `cats` (the categories), `cat` (a category's page: `value`), `sp` (the
    last search's page), `saved` (their saved ones), `open`, `save`, `unsave`, `up`, `down` (a
    resource: `id`), `suggest`, `sorg` (suggest to the organization `id`), `skip` (no note)."""

    action: str
    id: RowId = 0
    value: str = ""
    page: RowId = 0


class Decision(CallbackData, prefix="lsd"):
    """The staff's answer to a suggestion: `approve`, `cat` (approved into the category `value`),
    `reject`."""

    action: str
    id: RowId
    value: str = ""
