"""The outbox rows the services write: one row per member and message, pending, in the caller's
transaction (so a decision and its messages commit together); the delivery engine renders each in
the member's language and sends it. An audience is written a page of members at a time, one
INSERT per page.

Events and trainings record each notification decision as a notice row (`EventNotice`,
`TrainingNotice`) whose outbox rows (ref_id = the notice id) carry the subject's id, the language
version the member reads (`versions`) and the member's time zone; reminders carry the same."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import insert, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.audience import is_wide, member_pages
from bot.services.schedule_math import after_quiet_hours
from bot.services.versions import Translated, version_for
from storage.models import DeliveryStatus, Organization, OutboxMessage


class Subject(Translated, Protocol):
    """What a notice is about (an event, a training)."""

    @property
    def id(self) -> int | None: ...


Addressee = tuple[int | None, int, str]  # (member id, chat id, language of the row)


def speaker(organization_id: int, audience: Any) -> int | None:
    """Whom a message speaks for (`pending_row`'s `organization_id`): its organization, or the
    confederation itself (None) for a super-admin's reach beyond it, which no suspension holds."""
    return None if is_wide(audience) else organization_id


def pending_row(
    kind: str,
    ref_id: int | None,
    to: Addressee,
    payload: dict[str, Any],
    not_before: datetime,
    now: datetime,
    *,
    organization_id: int | None,
) -> dict[str, Any]:
    """One outbox row (for `insert_rows`), due at `not_before`, speaking for `organization_id`
    (held while that organization is suspended; None: the confederation itself)."""
    member_id, chat_id, language = to
    return {
        "kind": kind,
        "ref_id": ref_id,
        "member_id": member_id,
        "organization_id": organization_id,
        "chat_id": chat_id,
        "language": language,
        "payload": payload,
        "status": DeliveryStatus.PENDING,
        "not_before": not_before,
        "attempts": 0,
        "created_at": now,
    }


def personalized(
    recipient: Any, subject: Subject, organization: Organization, payload: dict[str, Any]
) -> tuple[Addressee, dict[str, Any]]:
    """A notice or reminder about `subject` for `recipient` (member id, chat id, language, zone):
    addressed in the member's interface language (for the message chrome), its payload completed
    with `version` (the language of the title and description they get) and their `timezone`."""
    member_id, chat_id, language, zone = recipient
    default = organization.default_language
    payload = {
        **payload,
        "version": version_for(subject, language, default),
        "timezone": zone or organization.timezone,
    }
    return (member_id, chat_id, language or default), payload


async def insert_rows(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await (await session.connection()).execute(insert(OutboxMessage), rows)


async def write_rows(session: AsyncSession, recipients: Any, row_for: Callable[[Any], dict[str, Any]]) -> int:
    """One outbox row per member of `recipients` (a query whose first column is the member id),
    a page of members and one INSERT at a time (see `member_pages`). Returns how many rows."""
    total = 0
    async for page in member_pages(session, recipients):
        rows = [row_for(recipient) for recipient in page]
        await insert_rows(session, rows)
        total += len(rows)
    return total


def notice_time(now: datetime, zone: str, organization: Organization, deadline: datetime) -> datetime:
    """When a notice to a group of members may reach one of them: inside their quiet hours it waits
    for their morning, unless that morning is at or after `deadline` (an event's start, a
    training's sign-up deadline: better now than never). One rule for "published", "changed" and
    "cancelled", so a change never overtakes the announcement it changes."""
    not_before = after_quiet_hours(now, zone, organization.quiet_start, organization.quiet_end)
    return now if not_before >= deadline else not_before


@dataclass(frozen=True)
class Notices:
    """How a capability records its notices: their table (`EventNotice`), the column naming the
    subject (also the payload key of its id: "event_id") and the outbox kind of their rows."""

    table: type[Any]
    subject_key: str
    outbox_kind: str


async def write_notice(
    session: AsyncSession,
    notices: Notices,
    subject: Subject,
    organization: Organization,
    kind: str,
    details: dict[str, Any],
    recipients: Any,
    now: datetime,
    *,
    urgent_from: datetime | None = None,
    recorded: dict[str, Any] | None = None,
) -> int:
    """The notice of `kind` about `subject` (its row records `recorded`, by default `details`) and
    one outbox row for each of `recipients` (a query of member id, chat id, language, zone, and
    optionally their RSVP status, carried as "rsvp"); ref_id = the notice id. Each row waits for its
    member's morning at night, unless that is at or after `urgent_from` (see `notice_time`); without
    `urgent_from` it goes now. Returns how many members are told."""
    notice = notices.table(
        **{notices.subject_key: subject.id or 0},
        kind=kind,
        details=details if recorded is None else recorded,
        created_at=now,
    )
    session.add(notice)
    await session.flush()
    assert notice.id is not None
    notice_id = notice.id

    def row_for(row: Any) -> dict[str, Any]:
        rsvp = {"rsvp": str(row[4])} if len(row) > 4 else {}
        payload = {notices.subject_key: subject.id, "notice": kind, **rsvp, **details}
        to, payload = personalized(row[:4], subject, organization, payload)
        zone = row[3] or organization.timezone
        not_before = now if urgent_from is None else notice_time(now, zone, organization, urgent_from)
        return pending_row(
            notices.outbox_kind, notice_id, to, payload, not_before, now, organization_id=organization.id
        )

    return await write_rows(session, recipients, row_for)


async def cancel_pending(session: AsyncSession, *conditions: Any) -> int:
    """Cancel the rows still waiting that meet `conditions`. Returns how many."""
    result = await (await session.connection()).execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == DeliveryStatus.PENDING, *conditions)
        .values(status=DeliveryStatus.CANCELLED)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
