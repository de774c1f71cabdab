"""The /newtraining draft: a plain dict under the FSM key "training" (in the database: a restart
loses nothing) — title, description, language, zone, teaching, trainer, sessions (each starts_at
ISO, duration in minutes, place or online_url), capacity, deadline, questions, translations and
audience, plus the half-answered values of the step in progress (pending_start, pending_duration,
pending_question) — reading it back (`saved_draft`, `dialog_draft`), the pure helpers that read and
change it, and the preview text."""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import I18n

from bot.i18n import _, language_names
from bot.services.schedule_math import parse_clock
from bot.services.text import TextRejected, clean_line
from bot.services.trainings.rules import OPTIONS_MAX, TrainingError, validate_questions
from handlers.composer.audience import audience_summary
from handlers.trainings.texts import duration_label, short_when

Draft = dict[str, Any]


def expired() -> str:
    return _("This dialog has expired. Send /newtraining to start again.")


def locale() -> str:
    return I18n.get_current().current_locale


# -- the draft -----------------------------------------------------------------------------------


def moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def token(when: datetime) -> str:
    """The minute of `when`, carried by a confirmation button (an older echo cannot confirm)."""
    return str(int(when.timestamp()) // 60)


def parse_duration(text: str) -> int | None:
    """ "90" (minutes), "1:30", "1h30", "2h" → minutes; None if not a duration."""
    stripped = text.strip().lower().removesuffix("min").strip()
    if stripped.isdigit() and len(stripped) <= 4:
        return int(stripped)
    return parse_clock(stripped)


def sessions(draft: Draft) -> list[dict[str, Any]]:
    return list(draft.get("sessions") or [])


def first_start(draft: Draft) -> datetime | None:
    starts = [moment(item["starts_at"]) for item in sessions(draft)]
    return min((when for when in starts if when), default=None)


def overlapping(draft: Draft, starts_at: datetime, minutes: int) -> int | None:
    """The number (1-based) of a session the new one overlaps, if any."""
    ends_at = starts_at + timedelta(minutes=minutes)
    for number, item in enumerate(sessions(draft), start=1):
        other = moment(item["starts_at"])
        assert other is not None
        if starts_at < other + timedelta(minutes=int(item["duration"])) and other < ends_at:
            return number
    return None


def clean(text: str, limit: int, empty: str, too_long: str) -> str:
    try:
        return clean_line(text, limit)
    except TextRejected as error:
        raise TrainingError(empty if error.reason == "empty" else too_long, limit) from None


def checked_question(text: str, options_text: str | None) -> dict[str, Any]:
    """A question with its choices (one per line), checked by the service's rules."""
    options = [line for line in (options_text or "").splitlines() if line.strip()]
    if options_text is not None and len(options) < 2:
        raise TrainingError("options_count", OPTIONS_MAX)
    return validate_questions([{"text": text, "options": options}])[0]


async def saved_draft(state: FSMContext) -> Draft | None:
    """The draft being written (a copy), if the dialog still has one."""
    draft = (await state.get_data()).get("training")
    return dict(draft) if isinstance(draft, dict) and draft.get("zone") else None


async def dialog_draft(message: Message, state: FSMContext) -> Draft | None:
    """The draft a typed text belongs to; None after saying the dialog has expired."""
    draft = await saved_draft(state)
    if draft is None:
        await state.clear()
        await message.answer(expired())
    return draft


def questions_text(draft: Draft) -> str:
    lines = []
    for number, item in enumerate(draft.get("questions") or [], start=1):
        options = item.get("options") or []
        kind = " / ".join(escape(option) for option in options) if options else _("free text answer")
        lines.append(f"{number}. {escape(item['text'])} <i>({kind})</i>")
    return "\n".join(lines)


def session_line(number: int, item: dict[str, Any], zone: str) -> str:
    starts_at = moment(item["starts_at"])
    assert starts_at is not None
    where = (
        f"📍 {escape(item['place'])}" if item.get("place") else f"🔗 {escape(item.get('online_url') or '')}"
    )
    when = short_when(starts_at, locale(), zone)
    return f"{number}. {escape(when)} · {escape(duration_label(int(item['duration'])))} · {where}"


def session_list(draft: Draft) -> str:
    zone = draft.get("zone", "UTC")
    ordered = sorted(sessions(draft), key=lambda item: item["starts_at"])
    lines = [session_line(number, item, zone) for number, item in enumerate(ordered, start=1)]
    return _("🗓 <b>Sessions</b>") + "\n" + "\n".join(lines)


# -- the preview ---------------------------------------------------------------------------------


def preview_text(draft: Draft) -> str:
    """The whole training as the coordinator entered it (every typed value escaped)."""
    zone = draft.get("zone", "UTC")
    lines = [f"🎓 <b>{escape(draft.get('title', ''))}</b>"]
    if draft.get("description"):
        lines += ["", escape(draft["description"])]
    lines += [
        "",
        _("🗣 Taught in: {languages}").format(languages=language_names(draft.get("teaching") or [])),
        _("👤 Trainer: {name}").format(name=escape(draft.get("trainer", ""))),
        _("🎟 Seats: {count}").format(count=draft.get("capacity")),
    ]
    deadline = moment(draft.get("deadline"))
    if deadline is not None:
        lines.append(_("⏳ Sign up until {when}").format(when=escape(short_when(deadline, locale(), zone))))
    lines += ["", session_list(draft)]
    if draft.get("questions"):
        lines += ["", _("❓ <b>Questions at sign-up</b>"), questions_text(draft)]
    lines += [
        "",
        _("<b>Audience:</b> {audience}").format(audience=audience_summary(draft.get("audience") or {})),
    ]
    if draft.get("translations"):
        lines += [
            _("🌐 Translated: {languages}").format(languages=language_names(draft["translations"])),
        ]
    return "\n".join(lines)
