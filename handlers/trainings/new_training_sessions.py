"""The sessions of /newtraining, typed answers and buttons: the start (typed, then confirmed, the
moment riding on the ✅ button), the length (typed or a button), the place (typed, or the previous
session's), another session or Done. A session joins the draft once its place is known, unless it
overlaps another."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Final

from aiogram import Router
from aiogram.fsm.state import State
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import _, format_when
from bot.services.dates import DateError, parse_local_datetime
from bot.services.trainings.rules import DURATION_MAX, SESSIONS_MAX, TrainingError
from handlers.composer import Turn, date_error_text, draft_button
from handlers.events.texts import parse_place
from handlers.trainings.callbacks import TrainingDraft
from handlers.trainings.composer import COMPOSER
from handlers.trainings.new_training_steps import answer, go_on, takes
from handlers.trainings.states import DraftStates as S
from handlers.trainings.texts import DURATION_MIN
from handlers.trainings.training_draft import Draft, moment, overlapping, parse_duration, sessions, token
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)


@takes(S.session_start)
async def _session_start(turn: Turn, draft: Draft, text: str) -> None:
    when = parse_local_datetime(text, draft["zone"], utcnow(), language=turn.ctx.locale).utc
    draft["pending_start"] = when.isoformat()
    await turn.state.update_data(training=draft)
    await confirm_start(turn, when, draft["zone"])


@takes(S.session_duration)
async def _session_duration(turn: Turn, draft: Draft, text: str) -> State:
    return await duration_taken(turn, draft, parse_duration(text))


@takes(S.session_place)
async def _session_place(turn: Turn, draft: Draft, text: str) -> State:
    place, url = parse_place(text)
    if place is None and url is None:
        raise TrainingError("message_empty")  # "That looks empty."
    return session_taken(draft, place, url)


async def confirm_start(turn: Turn, when: datetime, zone: str) -> None:
    words = format_when(when, turn.ctx.locale, zone, "words")
    builder = InlineKeyboardBuilder()
    # The moment this message shows rides on its button: an older echo cannot confirm a newer time.
    builder.button(text=_("✅ Correct"), callback_data=TrainingDraft(action="start_ok", value=token(when)))
    builder.button(text=_("✏️ Change"), callback_data=TrainingDraft(action="start_change"))
    builder.adjust(2)
    await turn.say(
        _("The session starts on {when}. Is that right?").format(when=escape(words)), builder.as_markup()
    )


async def duration_taken(turn: Turn, draft: Draft, minutes: int | None) -> State:
    """The length of the session being added (typed or a button), unless it overlaps another."""
    if minutes is None or not DURATION_MIN <= minutes <= DURATION_MAX:
        raise TrainingError("duration_invalid", DURATION_MAX)
    starts_at = moment(draft.get("pending_start"))
    if starts_at is None:
        return S.session_start
    overlapped = overlapping(draft, starts_at, minutes)
    if overlapped is not None:
        draft.pop("pending_start", None)
        await turn.say(
            _("This session overlaps session {number}. Please send another start time.").format(
                number=overlapped
            )
        )
        return S.session_start
    draft["pending_duration"] = minutes
    return S.session_place


def session_taken(draft: Draft, place: str | None, url: str | None) -> State:
    """The session being added is complete (its place typed, or the previous one's)."""
    starts_at, minutes = draft.pop("pending_start", None), draft.pop("pending_duration", None)
    if not starts_at or not minutes:
        return S.session_start
    item = {"starts_at": starts_at, "duration": int(minutes), "place": place, "online_url": url}
    draft["sessions"] = sorted([*sessions(draft), item], key=lambda entry: entry["starts_at"])
    return S.session_more


# -- the buttons -----------------------------------------------------------------------------------


@draft_button(COMPOSER, router, "start_ok")
async def start_confirmed(turn: Turn, draft: Draft, data: TrainingDraft) -> None:
    """The echoed start is right (the button carries the moment it showed)."""
    pending = moment(draft.get("pending_start"))
    if pending is None or token(pending) != data.value:
        turn.stale()
        return
    following = S.session_duration
    if pending <= utcnow():
        draft.pop("pending_start", None)
        await turn.say(date_error_text(DateError("past")))
        following = S.session_start
    await go_on(turn, draft, following)


@draft_button(COMPOSER, router, "start_change")
async def start_changed(turn: Turn, draft: Draft, data: TrainingDraft) -> None:
    draft.pop("pending_start", None)
    await go_on(turn, draft, S.session_start)


@draft_button(COMPOSER, router, "dur")
async def duration_chosen(turn: Turn, draft: Draft, data: TrainingDraft) -> None:
    if not data.value.isdigit():
        turn.stale()
        return
    await answer(turn, draft, duration_taken(turn, draft, int(data.value)))


@draft_button(COMPOSER, router, "same")
async def same_place(turn: Turn, draft: Draft, data: TrainingDraft) -> None:
    previous = sessions(draft)[-1] if sessions(draft) else None
    if previous is None:
        turn.stale()
        return
    await go_on(turn, draft, session_taken(draft, previous.get("place"), previous.get("online_url")))


@draft_button(COMPOSER, router, "more")
async def another_session(turn: Turn, draft: Draft, data: TrainingDraft) -> None:
    if len(sessions(draft)) >= SESSIONS_MAX:
        turn.stale()
        return
    await go_on(turn, draft, S.session_start)
