"""Seats: signing up (confirmed while seats are free, else waitlisted in tap order), leaving, a
coordinator's removal, changing the number of seats, and promotion from the waitlist. Every
transaction here starts with `lock_training` (see `bot.services.trainings.lock`).

A confirmed participant has a Going RSVP on every session not yet started; leaving (or being
removed) turns them to Not going. Session events refuse event RSVPs: seats are held here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.seat_queries import held_parent_ids, in_tap_order
from bot.services.trainings.lock import Locked, deadline_open, lock_training, refusal
from bot.services.trainings.notices import notify
from bot.services.trainings.queries import (
    count_signups,
    fresh,
    get_training,
    my_signup,
    next_session,
    place_in_line,
    sessions_of,
)
from bot.services.trainings.rules import (
    HOLDING,
    SOON,
    TAKING,
    TrainingError,
    validate_answers,
    validate_capacity,
)
from storage.models import (
    EventStatus,
    Rsvp,
    RsvpStatus,
    SignupStatus,
    Training,
    TrainingSignup,
    TrainingStatus,
)


@dataclass(frozen=True)
class SignupResult:
    status: SignupStatus
    changed: bool
    position: int | None = None  # place on the waitlist, 1 = next in line
    promoted: tuple[int, ...] = ()  # members given a seat because of this change


async def _set_rsvps(
    session: AsyncSession, training_id: int, member_ids: Sequence[int], going: bool, seq: int, now: datetime
) -> None:
    """Going (or Not going) on every session that has not started, for these members."""
    if not member_ids:
        return
    upcoming = [
        event
        for event in await sessions_of(session, training_id)
        if event.starts_at > now and event.status != EventStatus.CANCELLED
    ]
    if not upcoming:
        return
    status = RsvpStatus.GOING if going else RsvpStatus.NOT_GOING
    existing = {
        (rsvp.event_id, rsvp.member_id): rsvp
        for rsvp in (
            await session.exec(
                select(Rsvp)
                .where(
                    col(Rsvp.event_id).in_([event.id for event in upcoming]),
                    col(Rsvp.member_id).in_(member_ids),
                )
                .execution_options(populate_existing=True)
            )
        ).all()
    }
    for event in upcoming:
        for member_id in member_ids:
            rsvp = existing.get((event.id or 0, member_id))
            if rsvp is None:
                if not going:
                    continue
                rsvp = Rsvp(
                    event_id=event.id or 0, member_id=member_id, status=status, seq=seq, created_at=now
                )
            rsvp.status, rsvp.seq, rsvp.updated_at = status, seq, now
            session.add(rsvp)
    await session.flush()


async def promote_from_waitlist(
    session: AsyncSession, training_id: int, locked: Locked, now: datetime
) -> list[int]:
    """Give free seats to the waitlist in tap order; each promoted member gets Going RSVPs and a
    "promoted" notice (saying so when the next session is less than 24 hours away). Call with the
    training locked."""
    if locked.status not in TAKING:
        return []
    free = locked.capacity - await count_signups(session, training_id, SignupStatus.CONFIRMED)
    if free <= 0:
        return []
    parent = col(TrainingSignup.training_id)
    waiting = await in_tap_order(session, parent, training_id, SignupStatus.WAITLISTED, limit=free)
    if not waiting:
        return []
    for signup in waiting:
        signup.status, signup.updated_at = SignupStatus.CONFIRMED, now
        session.add(signup)
    await session.flush()
    promoted = [signup.member_id for signup in waiting]
    await _set_rsvps(session, training_id, promoted, True, locked.seq, now)
    upcoming = await next_session(session, training_id, now)
    soon = upcoming is not None and upcoming.starts_at - now < SOON
    training = await get_training(session, training_id)
    for member_id in promoted:
        details = {"member_id": member_id, "soon": soon}
        await notify(session, training, "promoted", details, (), now, member_ids=[member_id])
    return promoted


async def sign_up(
    session: AsyncSession, training_id: int, member_id: int, answers: Sequence[str], now: datetime
) -> SignupResult:
    """Sign up with the answers to the eligibility questions: confirmed while seats are free (and
    nobody waits), else waitlisted in tap order. Refused ("not_found", "cancelled", "closed",
    "deadline_passed", "already_signed_up", answer reasons) without any change. A member who left
    may sign up again, at the end of the line. Runs in the caller's transaction."""
    locked = await lock_training(
        session, training_id, Training.status == TrainingStatus.OPEN, deadline_open(now)
    )
    if locked is None:
        raise await refusal(session, training_id, now)
    training = await get_training(session, training_id)
    cleaned = validate_answers(training.questions, list(answers))
    signup = await my_signup(session, training_id, member_id)
    if signup is not None and signup.status in HOLDING:
        raise TrainingError("already_signed_up")
    confirmed = await count_signups(session, training_id, SignupStatus.CONFIRMED)
    waiting = await count_signups(session, training_id, SignupStatus.WAITLISTED)
    status = (
        SignupStatus.CONFIRMED if confirmed < locked.capacity and not waiting else SignupStatus.WAITLISTED
    )
    if signup is None:
        signup = TrainingSignup(
            training_id=training_id, member_id=member_id, status=status, seq=locked.seq, created_at=now
        )
    signup.status, signup.seq, signup.answers, signup.updated_at = status, locked.seq, cleaned, now
    session.add(signup)
    await session.flush()
    if status == SignupStatus.CONFIRMED:
        await _set_rsvps(session, training_id, [member_id], True, locked.seq, now)
        return SignupResult(status, True)
    return SignupResult(status, True, await place_in_line(session, training_id, locked.seq))


async def _leave(
    session: AsyncSession, training_id: int, locked: Locked, signup: TrainingSignup, now: datetime
) -> SignupResult:
    was_confirmed = signup.status == SignupStatus.CONFIRMED
    signup.status, signup.updated_at = SignupStatus.CANCELLED, now
    session.add(signup)
    await session.flush()
    promoted: list[int] = []
    if was_confirmed:
        await _set_rsvps(session, training_id, [signup.member_id], False, locked.seq, now)
        promoted = await promote_from_waitlist(session, training_id, locked, now)
    return SignupResult(SignupStatus.CANCELLED, True, None, tuple(promoted))


async def cancel_signup(
    session: AsyncSession, training_id: int, member_id: int, now: datetime
) -> SignupResult:
    """The member leaves: a confirmed seat is given up before the deadline only (then the first in
    line is promoted, atomically); a place on the waitlist can be left at any time while the
    training runs. Refused: "not_found", "cancelled", "closed" (completed), "not_signed_up",
    "deadline_passed"."""
    locked = await lock_training(session, training_id, col(Training.status).in_(TAKING))
    if locked is None:
        raise await refusal(session, training_id, now)
    signup = await my_signup(session, training_id, member_id)
    if signup is None or signup.status not in HOLDING:
        raise TrainingError("not_signed_up")
    if (
        signup.status == SignupStatus.CONFIRMED
        and locked.signup_deadline is not None
        and locked.signup_deadline <= now
    ):
        raise TrainingError("deadline_passed")
    return await _leave(session, training_id, locked, signup, now)


async def remove_participant(
    session: AsyncSession, training: Training, member_id: int, now: datetime
) -> SignupResult:
    """A coordinator removes someone (confirmed or waitlisted, deadline or not): they are told
    ("removed" notice) and their seat goes to the next in line."""
    training = await fresh(session, training)
    locked = await lock_training(session, training.id or 0, col(Training.status).in_(TAKING))
    if locked is None:
        raise await refusal(session, training.id or 0, now)
    signup = await my_signup(session, training.id or 0, member_id)
    if signup is None or signup.status not in HOLDING:
        raise TrainingError("not_signed_up")
    result = await _leave(session, training.id or 0, locked, signup, now)
    await notify(session, training, "removed", {"member_id": member_id}, (), now, member_ids=[member_id])
    return result


async def set_capacity(
    session: AsyncSession, training: Training, capacity: int | str, now: datetime
) -> list[int]:
    """Change the number of seats. More seats promote the waitlist at once, in order (each is told);
    fewer take no seat back. Returns the promoted member ids."""
    training = await fresh(session, training)
    value = validate_capacity(capacity)
    if training.status in (TrainingStatus.CANCELLED, TrainingStatus.COMPLETED):
        raise TrainingError("not_editable")
    locked = await lock_training(session, training.id or 0)
    if locked is None:
        raise TrainingError("not_found")
    await (await session.connection()).execute(
        update(Training).where(col(Training.id) == training.id).values(capacity=value, updated_at=now)
    )
    training.capacity = value
    return await promote_from_waitlist(
        session, training.id or 0, Locked(locked.seq, locked.status, value, locked.signup_deadline), now
    )


async def withdraw_member(session: AsyncSession, member_id: int, now: datetime) -> int:
    """Leave every running training (for `/forget`): confirmed seats go to the next in line, whatever
    the deadline. Returns how many sign-ups ended."""
    running = col(Training.status).in_(TAKING)
    parent = col(TrainingSignup.training_id)
    training_ids = await held_parent_ids(session, parent, Training, member_id, HOLDING, running)
    ended = 0
    for training_id in training_ids:
        locked = await lock_training(session, training_id, col(Training.status).in_(TAKING))
        signup = await my_signup(session, training_id, member_id)
        if locked is not None and signup is not None and signup.status in HOLDING:
            await _leave(session, training_id, locked, signup, now)
            ended += 1
    return ended
