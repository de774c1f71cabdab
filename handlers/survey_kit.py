"""What the coordinator's survey handlers share: their callback data, dialog states, refusals and
error texts, and the draft card (shown after /newsurvey, after a duplicate, and from /results)."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.numbers import format_decimal, format_percent
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import _, format_when, language_name, ngettext
from bot.services import surveys as service
from bot.services.dates import DateError
from bot.services.events import telegram_length
from bot.services.survey_drafts import count_audience
from bot.services.surveys import SurveyError
from handlers.composer.audience import audience_summary
from storage.models import Organization, QuestionKind, Survey, SurveyQuestion, SurveyStatus

TEXT_BUDGET = 3900  # stay clear of Telegram's 4096
ID_MAX = 2**31 - 1  # the database's integer keys: a forged id beyond cannot be looked up


def known_id(value: int) -> bool:
    """Whether a number from callback data (forgeable) can be a row id at all."""
    return 0 < value <= ID_MAX


class SurveyDialog(CallbackData, prefix="sva"):
    """Buttons of the /poll and /newsurvey dialogs (`id` 0: valid only in the step they belong to)
    and of a draft's card (`id` the survey). `value` is a short code: a kind, a choice, a language
    or the minute token of a typed time being confirmed."""

    action: str
    id: int = 0
    value: str = ""


class SurveyManage(CallbackData, prefix="svr"):
    """/results: `id` the survey (or the list offset for "page"), `question` a question id,
    `page` an offset in a list of text answers, `value` a breakdown or a confirmation."""

    action: str
    id: int = 0
    question: int = 0
    page: int = 0
    value: str = ""


class SurveyStates(StatesGroup):
    """The coordinator's dialogs. Answers live in the FSM data ("survey_draft") until the survey is
    created; typed times are echoed in words and confirmed with a button."""

    question = State()  # /poll: the question
    title = State()  # /newsurvey: the title
    kind = State()  # buttons
    text = State()
    options = State()  # typed, one per line or one per message; Done when 2 or more
    bounds = State()
    max_length = State()
    optional = State()  # buttons
    more = State()  # buttons: another question, or done
    multiple = State()  # /poll: one answer or several (buttons)
    anonymous = State()  # buttons
    audience = State()  # buttons
    opens = State()  # buttons (now / later), then typed
    closes = State()  # typed, then confirmed (also: extending a survey, closing time of a copy)
    reminder = State()  # buttons
    translation = State()  # typed, item after item


KIND_BUTTONS = ("single", "multiple", "rating5", "rating10", "number", "text", "yes_no")


def refusal() -> str:
    return _("Sorry, only coordinators and organizers can run surveys.")


def gone() -> str:
    return _("This survey can no longer be changed.")


def expired() -> str:
    return _("This dialog has expired. Send /poll or /newsurvey to start again.")


def kind_label(kind: str, question: SurveyQuestion | None = None) -> str:
    if kind in ("rating", "rating5", "rating10"):
        low, high = (0, 10) if kind == "rating10" else (1, 5)
        if question is not None:
            low, high = int(question.min_value or 0), int(question.max_value or 0)
        return _("⭐ Rating {low}–{high}").format(low=low, high=high)
    labels = {
        "single": _("🔘 One choice"),
        "multiple": _("☑️ Several choices"),
        "number": _("🔢 Number"),
        "text": _("✍️ Free text"),
        "yes_no": _("👍 Yes / no"),
    }
    return labels.get(kind, kind)


def yes_no(label: str) -> str:
    """The service's "yes"/"no" labels, in words."""
    return {"yes": _("Yes"), "no": _("No")}.get(label, label)


def error_text(error: SurveyError) -> str:
    """A refused value, in words the coordinator can act on."""
    limit = error.limit
    texts = {
        "title_empty": lambda: _("That looks empty. Please type your answer."),
        "question_empty": lambda: _("That looks empty. Please type your answer."),
        "option_empty": lambda: _("That looks empty. Please type your answer."),
        "title_too_long": lambda: _(
            "That title is too long: at most {limit} characters. Please send a shorter one."
        ).format(limit=limit),
        "question_too_long": lambda: _(
            "That question is too long: at most {limit} characters. Please send a shorter one."
        ).format(limit=limit),
        "option_too_long": lambda: _(
            "An answer option can have at most {limit} characters. Please send that message again "
            "with shorter options."
        ).format(limit=limit),
        "options_count": lambda: _("A question needs from {low} to {high} answer options.").format(
            low=service.OPTIONS_MIN, high=service.OPTIONS_MAX
        ),
        "options_duplicate": lambda: _(
            "Each answer option must be different. Please send that message again."
        ),
        "bad_bounds": lambda: _(
            "Please send the lowest and the highest number allowed, for example 0 100 (a dash leaves "
            "one side open: - 100), or press Skip."
        ),
        "bad_max_length": lambda: _("Please send a whole number from 1 to {limit}.").format(
            limit=service.TEXT_MAX
        ),
        "too_many_questions": lambda: _("A survey can have at most {limit} questions.").format(
            limit=service.QUESTIONS_MAX
        ),
        "bad_times": lambda: _(
            "The closing time must be in the future and after the opening time. Please send a later time."
        ),
        "bad_translation": lambda: _(
            "Please send exactly {count} options, one per line, in the same order."
        ).format(count=limit or 0),
        "closed": lambda: _("This survey is closed."),
    }
    make = texts.get(error.reason)
    return make() if make else gone()


def date_error_text(error: DateError) -> str:
    if error.reason == "past":
        return _("That time has already passed. Please send a time in the future.")
    return _("I couldn't read that date. Please write it like 2027-03-14 18:30 or 14.03.2027 18:30.")


def token(moment: datetime) -> str:
    """A typed time rides on its Confirm button: an older echo cannot confirm a newer time."""
    return str(int(moment.timestamp()) // 60)


def number(value: float, locale: str) -> str:
    return format_decimal(value, locale=locale)


def percent(value: float, locale: str) -> str:
    return format_percent(value / 100, format="#,##0.#%", locale=locale)


def survey_title(survey: Survey, locale: str, organization: Organization) -> str:
    version = service.version_for(survey, locale, organization.default_language)
    return survey.translations.get(version, survey.title) if version != survey.language else survey.title


def status_line(survey: Survey, locale: str, zone: str) -> str:
    if survey.status == SurveyStatus.DRAFT:
        return _("📝 Draft, not published yet")
    if survey.status == SurveyStatus.CLOSED:
        when = format_when(survey.closed_at or survey.updated_at, locale, zone)
        return _("🔒 Closed on {when}").format(when=escape(when))
    if survey.closes_at is None:
        return _("🟢 Open")
    return _("🟢 Open until {when}").format(when=escape(format_when(survey.closes_at, locale, zone)))


def reminder_text(minutes: int | None) -> str:
    if minutes is None:
        return _("no reminder")
    hours = minutes // 60
    return ngettext("{count} hour before closing", "{count} hours before closing", hours).format(count=hours)


def question_lines(question: SurveyQuestion) -> list[str]:
    kind = escape(kind_label(question.kind, question))
    head = f"<b>{question.position + 1}.</b> {escape(question.text)} — <i>{kind}</i>"
    if question.optional:
        head += " " + _("(optional)")
    lines = [head]
    lines += [f"   • {escape(option)}" for option in question.options]
    if question.kind == QuestionKind.NUMBER and (
        question.min_value is not None or question.max_value is not None
    ):
        low = "…" if question.min_value is None else f"{question.min_value:g}"
        high = "…" if question.max_value is None else f"{question.max_value:g}"
        lines.append("   " + _("from {low} to {high}").format(low=low, high=high))
    if question.kind == QuestionKind.TEXT:
        lines.append("   " + _("at most {limit} characters").format(limit=question.max_length))
    return lines


async def draft_card(
    session: AsyncSession, survey: Survey, organization: Organization, locale: str, zone: str
) -> str:
    """A survey's settings and questions (the original version), and how many members it reaches."""
    questions = await service.questions_of(session, survey.id or 0)
    reach = await count_audience(session, survey.organization_id, survey.audience)
    icon = "📊" if survey.native_poll else "📋"
    versions = [language_name(survey.language), *map(language_name, sorted(survey.translations))]
    head = [
        f"{icon} <b>{escape(survey.title)}</b> (#{survey.id})",
        status_line(survey, locale, zone),
        "",
    ]
    settings = [
        _("<b>Answers:</b> {mode}").format(mode=_("anonymous") if survey.anonymous else _("with names")),
        _("<b>Audience:</b> {audience}").format(audience=audience_summary(survey.audience)),
        _("<b>Opens:</b> {when}").format(
            when=escape(format_when(survey.opens_at, locale, zone))
            if survey.opens_at
            else _("when published")
        ),
        _("<b>Closes:</b> {when}").format(
            when=escape(format_when(survey.closes_at, locale, zone)) if survey.closes_at else _("not set")
        ),
    ]
    if not survey.native_poll:
        settings.append(
            _("<b>Reminder:</b> {when}").format(when=reminder_text(survey.reminder_before_minutes))
        )
        settings.append(_("<b>Languages:</b> {languages}").format(languages=", ".join(versions)))
    settings += [
        "",
        ngettext("It reaches <b>{count}</b> member.", "It reaches <b>{count}</b> members.", reach).format(
            count=reach
        ),
    ]
    body: list[str] = []
    used = telegram_length("\n".join(head + settings))
    for shown, question in enumerate(questions):
        lines = question_lines(question)
        if used + telegram_length("\n".join(lines)) + 60 > TEXT_BUDGET:
            rest = len(questions) - shown
            body.append(
                ngettext("… and {count} more question", "… and {count} more questions", rest).format(
                    count=rest
                )
            )
            break
        body += lines
        used += telegram_length("\n".join(lines)) + 1
    return "\n".join([*head, *body, "", *settings])


def draft_keyboard(survey: Survey) -> InlineKeyboardMarkup:
    ident = survey.id or 0
    builder = InlineKeyboardBuilder()
    builder.button(text=_("📤 Publish"), callback_data=SurveyDialog(action="publish", id=ident))
    if not survey.native_poll:
        builder.button(
            text=_("🌐 Add a translation"), callback_data=SurveyDialog(action="translate", id=ident)
        )
    builder.button(text=_("🗑 Discard"), callback_data=SurveyDialog(action="discard", id=ident))
    builder.adjust(1, 2)
    return builder.as_markup()


def chunks(lines: list[str], budget: int = TEXT_BUDGET) -> list[str]:
    """Lines joined into messages that each fit in Telegram's limit (cut at line ends; measured in
    UTF-16 code units, as Telegram counts them)."""
    messages: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        length = telegram_length(line)
        if length > budget:
            line, length = line[: budget // 2 - 1] + "…", budget // 2
        if current and size + length + 1 > budget:
            messages.append("\n".join(current))
            current, size = [], 0
        current.append(line)
        size += length + 1
    if current:
        messages.append("\n".join(current))
    return messages


def draft_of(data: dict[str, Any]) -> dict[str, Any] | None:
    draft = data.get("survey_draft")
    return dict(draft) if isinstance(draft, dict) and draft.get("zone") else None
