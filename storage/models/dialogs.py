"""Dialog (FSM) state, kept in the database so a restart loses no dialog."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, String
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow

__all__ = ["DialogState"]


class DialogState(SQLModel, table=True):
    """aiogram FSM state and data, so a restart or a crash mid-dialog loses nothing."""

    __tablename__ = "dialog_states"

    key: str = Field(primary_key=True, sa_type=String(200))
    state: str | None = Field(default=None, sa_type=String(200))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
