"""Who signed up, for coordinators: the roster by status in tap order, a message to the confirmed
participants, and the roster and attendance as CSV files."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.audience import spreadsheet_cell
from bot.services.trainings.attendance import attendance
from bot.services.trainings.notices import notify
from bot.services.trainings.queries import fresh, sessions_of
from bot.services.trainings.rules import TrainingError, validate_message
from storage.models import EventStatus, Member, SignupStatus, Training, TrainingSignup, TrainingStatus


@dataclass(frozen=True)
class RosterEntry:
    member: Member
    status: SignupStatus
    seq: int
    answers: list[str]
    position: int | None  # on the waitlist, 1 = next in line
    signed_up_at: datetime


@dataclass(frozen=True)
class Roster:
    confirmed: list[RosterEntry]
    waitlisted: list[RosterEntry]  # in order
    cancelled: list[RosterEntry]


async def roster(session: AsyncSession, training_id: int) -> Roster:
    """Everyone who signed up, by status, each list in tap order."""
    rows = (
        await session.exec(
            select(TrainingSignup, Member)
            .join(Member, col(Member.id) == col(TrainingSignup.member_id))
            .where(TrainingSignup.training_id == training_id)
            .order_by(col(TrainingSignup.seq))
            .execution_options(populate_existing=True)
        )
    ).all()
    lists: dict[SignupStatus, list[RosterEntry]] = {status: [] for status in SignupStatus}
    for signup, member in rows:
        status = SignupStatus(signup.status)
        position = len(lists[status]) + 1 if status == SignupStatus.WAITLISTED else None
        lists[status].append(
            RosterEntry(member, status, signup.seq, list(signup.answers), position, signup.created_at)
        )
    return Roster(
        lists[SignupStatus.CONFIRMED], lists[SignupStatus.WAITLISTED], lists[SignupStatus.CANCELLED]
    )


async def message_participants(session: AsyncSession, training: Training, text: str, now: datetime) -> int:
    """A message from the coordinators to every confirmed participant (plain text, escaped when
    shown). Returns how many get it."""
    training = await fresh(session, training)
    message = validate_message(text)
    if training.status in (TrainingStatus.DRAFT, TrainingStatus.CANCELLED):
        raise TrainingError("not_editable")
    return await notify(session, training, "message", {"text": message}, (SignupStatus.CONFIRMED,), now)


# -- CSV files --------------------------------------------------------------------------------------


def _csv(rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def _name(member: Member) -> str:
    return spreadsheet_cell(member.display_name or f"#{member.id}")


async def export_roster_csv(session: AsyncSession, training: Training) -> bytes:
    """One row per sign-up: name, username, language, status, waitlist position, when, and the
    answer to each eligibility question (UTF-8 with BOM for Excel)."""
    people = await roster(session, training.id or 0)
    header = ["name", "username", "language", "status", "position", "signed_up_at"]
    header += [spreadsheet_cell(question["text"]) for question in training.questions]
    rows: list[list[Any]] = [header]
    for entry in people.confirmed + people.waitlisted + people.cancelled:
        rows.append(
            [
                _name(entry.member),
                entry.member.username or "",
                entry.member.language or "",
                str(entry.status),
                entry.position or "",
                entry.signed_up_at.isoformat(),
                *(spreadsheet_cell(answer) for answer in entry.answers),
            ]
        )
    return _csv(rows)


async def export_attendance_csv(session: AsyncSession, training: Training) -> bytes:
    """One row per participant (confirmed, or anyone with attendance recorded): a column per
    session ("yes" when attended) and the completion "N of M"."""
    sessions = [e for e in await sessions_of(session, training.id or 0) if e.status != EventStatus.CANCELLED]
    marks = await attendance(session, training.id or 0)
    people = await roster(session, training.id or 0)
    marked = {member_id for (member_id, _event), attended in marks.items() if attended}
    entries = people.confirmed + [e for e in people.waitlisted + people.cancelled if e.member.id in marked]
    header = ["name", "status", *(event.starts_at.isoformat() for event in sessions), "completed"]
    rows: list[list[Any]] = [header]
    for entry in entries:
        ticks = [marks.get((entry.member.id or 0, event.id or 0), False) for event in sessions]
        rows.append(
            [
                _name(entry.member),
                str(entry.status),
                *("yes" if tick else "" for tick in ticks),
                f"{sum(ticks)} of {len(sessions)}",
            ]
        )
    return _csv(rows)
