"""Callback data of the joint positions' buttons: ids and short codes only, every one re-checked on
the server (a forged id finds nothing it may touch; a decision after the deadline changes nothing)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from storage.types import RowId


class PositionDraft(CallbackData, prefix="pod"):
    """The /newposition dialog and its preview (the composer kit's buttons and the dialog's own):
    `id` is the draft, `value` a language, an organization id or an option."""

    action: str
    id: RowId
    value: str = ""


class PositionStaff(CallbackData, prefix="pos"):
    """The drafter's card (/mypositions): `open` (the card), `list` (page `page`), `close` (close
    now), `withdraw`, `submission` (the PDF, CSV and XLSX now), `lang` (the submission's language:
    `value`)."""

    action: str
    id: RowId = 0
    value: str = ""
    page: RowId = 0


class Endorsement(CallbackData, prefix="poe"):
    """An organization admin's answer: `endorse`, `decline` (`id` is the PositionEndorsement row, so
    the right is checked in the organization asked)."""

    action: str
    id: RowId


class PositionMember(CallbackData, prefix="pom"):
    """A member's buttons: `list` (page `page`), `open`, `sign` (shows the consent text), `consent`
    (adds the name), `cancel` (declines the consent: nothing added), `withdraw` (removes it), all on
    the position `id`."""

    action: str
    id: RowId = 0
    page: RowId = 0
