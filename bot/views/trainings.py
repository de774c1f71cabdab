"""How a training looks to a member: the card (in their language and zone) and its buttons.

Used by /trainings and /mytrainings, by the delivery renderer and by the coordinators' preview, so
a card looks the same wherever it appears. Callers set the gettext locale (the member's language).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import format_when, language_names
from bot.services.text import clip, visible_length
from bot.services.trainings.attendance import completion
from bot.services.trainings.queries import my_signup, sessions_of, signup_counts, waitlist_position
from bot.services.trainings.rules import TAKING, training_text
from bot.views.events import EventAction, when_text
from bot.views.origin import origin_line
from storage.models import Event, EventStatus, SignupStatus, Training, TrainingSignup, TrainingStatus
from storage.types import RowId

SESSIONS_SHOWN = 10  # a longer course lists the first ten and says how many more
CARD_MAX = 3500  # visible characters: with a notice's or a confirmation's heading, under Telegram's 4096
PLACE_SHOWN = 150  # characters of a session's place on the card (the calendar file has it all)


class TrainingAction(CallbackData, prefix="tr"):
    """Member buttons on a training card. `action`: open, signup, cancel, answer (`value` = the
    option's index in question number `step`), page (`id` is then the list offset), mine (the
    /mytrainings page at offset `id`)."""

    action: str
    id: RowId
    value: RowId = 0
    step: RowId = 0


@dataclass(frozen=True)
class MemberView:
    """What the card shows about the member looking at it."""

    signup: SignupStatus | None = None
    position: int | None = None
    completion: tuple[int, int] | None = None


@dataclass(frozen=True)
class CardData:
    training: Training
    sessions: list[Event]
    confirmed: int
    waitlisted: int


async def load(session: AsyncSession, training: Training) -> CardData:
    counts = await signup_counts(session, training.id or 0)
    return CardData(
        training,
        await sessions_of(session, training.id or 0),
        counts[SignupStatus.CONFIRMED],
        counts[SignupStatus.WAITLISTED],
    )


async def member_view(session: AsyncSession, training_id: int, member_id: int | None) -> MemberView:
    if member_id is None:
        return MemberView()
    signup: TrainingSignup | None = await my_signup(session, training_id, member_id)
    if signup is None or signup.status == SignupStatus.CANCELLED:
        return MemberView()
    position = await waitlist_position(session, training_id, member_id)
    return MemberView(
        SignupStatus(signup.status), position, await completion(session, training_id, member_id)
    )


def session_line(event: Event, number: int, locale: str, zone: str) -> str:
    line = f"{number}. {escape(when_text(event, locale, zone))}"
    if event.place:
        line += f"\n    📍 {escape(clip(event.place, PLACE_SHOWN))}"
    if event.online_url:
        label = escape(_("Online link"))  # outside the f-string: pybabel does not look inside them
        line += f'\n    🔗 <a href="{escape(event.online_url, quote=True)}">{label}</a>'
    if event.status == EventStatus.CANCELLED:
        line += " ✖"
    return line


def signups_open(training: Training, now: datetime) -> bool:
    return training.status == TrainingStatus.OPEN and (
        training.signup_deadline is None or training.signup_deadline > now
    )


def training_card(
    data: CardData,
    version: str,
    locale: str,
    zone: str,
    me: MemberView,
    now: datetime,
    origin: str | None = None,
) -> str:
    """The training as HTML: every coordinator-written value escaped (`origin`: its organization's
    name, when the deployment shows it). A long description is cut so that the card stays within
    `CARD_MAX` visible characters."""
    training = data.training
    title, description = training_text(training, version)
    lines = [f"🎓 <b>{escape(title)}</b>", *([origin_line(origin)] if origin else [])]
    if training.trainer:
        lines.append(_("👩‍🏫 Trainer: {name}").format(name=escape(training.trainer)))
    if training.teaching_languages:
        names = language_names(training.teaching_languages)
        lines.append(_("🗣 Taught in: {languages}").format(languages=escape(names)))
    head = len(lines)
    lines += ["", _("🗓 <b>Sessions</b>")]
    for number, event in enumerate(data.sessions[:SESSIONS_SHOWN], start=1):
        lines.append(session_line(event, number, locale, zone))
    if len(data.sessions) > SESSIONS_SHOWN:
        lines.append(_("… and {count} more").format(count=len(data.sessions) - SESSIONS_SHOWN))
    lines.append("")
    free = training.capacity - data.confirmed
    if free > 0:
        lines.append(_("🎟 Seats left: {free} of {capacity}").format(free=free, capacity=training.capacity))
    else:
        lines.append(_("🎟 Full. On the waitlist: {count}").format(count=data.waitlisted))
    if training.status == TrainingStatus.CANCELLED:
        lines.append(_("✖ This training is cancelled."))
    elif signups_open(training, now) and training.signup_deadline is not None:
        when = format_when(training.signup_deadline, locale, zone, "words")
        lines.append(_("Sign up by {when}").format(when=escape(when)))
    elif training.status != TrainingStatus.DRAFT:
        lines.append(_("Sign-ups are closed."))
    if me.signup == SignupStatus.CONFIRMED and training.status != TrainingStatus.CANCELLED:
        lines.append(_("✅ You have a seat."))
    elif me.signup == SignupStatus.WAITLISTED and training.status != TrainingStatus.CANCELLED:
        lines.append(_("⏳ You are number {position} on the waitlist.").format(position=me.position or "?"))
    if description:
        room = CARD_MAX - visible_length("\n".join(lines)) - 2
        lines[head:head] = ["", escape(clip(description, room))]
    return "\n".join(lines)


def card_keyboard(
    data: CardData, me: MemberView, locale: str, zone: str, now: datetime, *, calendar: bool = False
) -> InlineKeyboardMarkup | None:
    """Sign up (or Cancel my sign-up), and with `calendar` an "Add to calendar" button per session
    to come (the events' calendar button: same callback, same file)."""
    training = data.training
    if training.id is None or training.status in (TrainingStatus.DRAFT, TrainingStatus.CANCELLED):
        return None
    builder = InlineKeyboardBuilder()
    rows = []
    if me.signup is None and signups_open(training, now):
        builder.button(text=_("✍️ Sign up"), callback_data=TrainingAction(action="signup", id=training.id))
        rows.append(1)
    elif me.signup is not None and training.status in TAKING:
        builder.button(
            text=_("Cancel my sign-up"), callback_data=TrainingAction(action="cancel", id=training.id)
        )
        rows.append(1)
    if calendar and me.signup == SignupStatus.CONFIRMED:
        for number, event in enumerate(data.sessions, start=1):
            if event.status == EventStatus.PUBLISHED and event.starts_at > now and len(rows) < 11:
                day = format_when(event.starts_at, locale, zone, "d MMM")
                builder.button(
                    text=_("📅 Add session {number} ({day}) to calendar").format(number=number, day=day),
                    callback_data=EventAction(action="ics", id=event.id or 0),
                )
                rows.append(1)
    if not rows:
        return None
    builder.adjust(*rows)
    return builder.as_markup()
