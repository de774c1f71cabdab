"""Callback data of /audit's buttons, and its typed steps (persisted by name: never rename them)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from pydantic import Field

from handlers.stats.callbacks import DAY_MAX
from storage.types import RowId


class AuditButton(CallbackData, prefix="au"):
    """`action`: "page" (show page `page`), "fam" (choose an action family), "who" / "dates" (type
    a person / a range of days), "csv", "clear". The filters ride along: `fam` (a family code or ""),
    `member` and `actor` (the person: their member id, their Telegram id), `first`/`last` (day
    ordinals). Forgeable: the trail shown is always the presser's own organization's (or, for
    super-admins, the whole one), and a person outside it makes the button stale."""

    action: str
    page: int = Field(default=0, ge=0, le=100_000)
    fam: str = Field(default="", max_length=2)
    member: RowId = 0
    actor: int = Field(default=0, ge=0, le=2**53)
    first: int = Field(default=0, ge=0, le=DAY_MAX)
    last: int = Field(default=0, ge=0, le=DAY_MAX)


class AuditStates(StatesGroup):
    person = State()
    dates = State()
