"""Callback data of /stats' buttons, and its typed step (persisted by name: never rename it)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from pydantic import Field

from storage.types import RowId

DAY_MAX = 3_652_059  # date.max.toordinal(): a forged day beyond it does not match the button


class StatsButton(CallbackData, prefix="st"):
    """`action`: "days" (the last `days` days), "show" (the days `first` to `last`), "dates" (type a
    range), "charts", "csv", "xlsx", "orgs" (super-admins: choose the organization; `page`).
    `org`: the organization shown, 0 for every one (super-admins only). Days are ordinals
    (`date.toordinal`). Forgeable: the handlers check `org` against who presses."""

    action: str
    org: RowId = 0
    days: int = Field(default=0, ge=0, le=366)
    first: int = Field(default=0, ge=0, le=DAY_MAX)
    last: int = Field(default=0, ge=0, le=DAY_MAX)
    page: int = Field(default=0, ge=0, le=10_000)


class StatsStates(StatesGroup):
    dates = State()
