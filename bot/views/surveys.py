"""How a survey looks to a member: the invitation, one question at a time with its buttons, the
review before Submit and the submitted answers.

Used by the /surveys handlers and by the delivery renderers. Callers set the gettext locale (the
member's language); `version` is the survey's language version the member reads (`version_for`).
"""

from __future__ import annotations

from html import escape
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import format_when
from bot.services.events import telegram_length
from bot.services.surveys.languages import question_text
from bot.views.origin import with_origin
from storage.models import QuestionKind, Survey, SurveyQuestion

MESSAGE_MAX = 4096
REVIEW_ANSWER_MAX = 120  # characters of a typed answer shown in the review


class SurveyAction(CallbackData, prefix="sv"):
    """Member buttons of a survey. `action`: start (or continue), answer (`value`: an option index,
    a rating, 1/0 for yes/no), toggle (multiple choice: `value` the selection after the tap, a bit
    per option), done (`value` the selection), skip, back, submit. `question` is the question the
    button belongs to (0 on the invitation and the review). Forgeable: the handlers re-check all."""

    action: str
    survey: int
    question: int = 0
    value: int = 0


def survey_title(survey: Survey, version: str) -> str:
    return survey.translations.get(version, survey.title) if version != survey.language else survey.title


def closes_text(survey: Survey, locale: str, zone: str) -> str | None:
    if survey.closes_at is None:
        return None
    return _("Open until {when}.").format(when=escape(format_when(survey.closes_at, locale, zone, "words")))


def invitation(
    survey: Survey,
    version: str,
    questions: int,
    locale: str,
    zone: str,
    reminder: bool = False,
    origin: str | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    """The message with the Start button (or the reminder to finish), under the name of the
    survey's organization (`origin`, when the deployment shows it)."""
    title = escape(survey_title(survey, version))
    if reminder:
        lines = [
            _("⏰ <b>Reminder:</b> the survey <b>{title}</b> is waiting for your answers.").format(
                title=title
            )
        ]
    else:
        lines = [_("📋 <b>New survey:</b> {title}").format(title=title)]
    lines.append(ngettext("{count} question.", "{count} questions.", questions).format(count=questions))
    if closing := closes_text(survey, locale, zone):
        lines.append(closing)
    if survey.anonymous:
        lines.append(_("🔒 Anonymous: your answers are not linked to your name."))
    builder = InlineKeyboardBuilder()
    builder.button(text=_("▶️ Start"), callback_data=SurveyAction(action="start", survey=survey.id or 0))
    return with_origin("\n".join(lines), origin), builder.as_markup()


def poll_reminder(survey: Survey, question: SurveyQuestion, version: str, locale: str, zone: str) -> str:
    """A native poll's reminder: the poll itself is further up in the chat."""
    text = escape(question_text(question, version)[0])
    lines = [_("⏰ <b>Reminder:</b> the poll «{question}» is waiting for your vote.").format(question=text)]
    if closing := closes_text(survey, locale, zone):
        lines.append(closing)
    return "\n".join(lines)


def _hint(question: SurveyQuestion) -> str:
    kind = QuestionKind(question.kind)
    if kind == QuestionKind.MULTIPLE:
        return _("Choose one or more, then tap Done.")
    if kind == QuestionKind.NUMBER:
        return number_hint(question)
    if kind == QuestionKind.TEXT:
        return _("Type your answer (up to {limit} characters).").format(limit=question.max_length)
    return _("Tap your answer.")


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if value == int(value) else str(value)


def number_hint(question: SurveyQuestion) -> str:
    low, high = question.min_value, question.max_value
    if low is not None and high is not None:
        return _("Type a number from {min} to {max}.").format(min=_number(low), max=_number(high))
    if low is not None:
        return _("Type a number, at least {min}.").format(min=_number(low))
    if high is not None:
        return _("Type a number, at most {max}.").format(max=_number(high))
    return _("Type a number.")


def question_view(
    survey: Survey,
    question: SurveyQuestion,
    version: str,
    total: int,
    current: Any = None,
    selection: int | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    """The question, progress ("3/7") and its buttons. `current` is the stored answer (after Back),
    `selection` the multiple-choice bits being toggled."""
    text, options = question_text(question, version)
    lines = [
        f"📋 <b>{escape(survey_title(survey, version))}</b> · {question.position + 1}/{total}",
        "",
        f"<b>{escape(text)}</b>",
        f"<i>{escape(_hint(question))}</i>",
    ]
    if question.optional:
        lines.append(_("<i>(optional: you may skip it)</i>"))
    if current is not None and QuestionKind(question.kind) in (QuestionKind.NUMBER, QuestionKind.TEXT):
        lines += ["", _("Your answer so far: {answer}").format(answer=escape(clip(str(current))))]
    builder = InlineKeyboardBuilder()
    sizes: list[int] = []

    def button(label: str, action: str, value: int = 0) -> None:
        callback = SurveyAction(action=action, survey=survey.id or 0, question=question.id or 0, value=value)
        builder.button(text=label, callback_data=callback)

    kind = QuestionKind(question.kind)
    if kind == QuestionKind.SINGLE:
        for index, option in enumerate(options):
            button(("✅ " if current == index else "") + option, "answer", index)
        sizes += [1] * len(options)
    elif kind == QuestionKind.YES_NO:
        button(("✅ " if current is True else "") + _("Yes"), "answer", 1)
        button(("✅ " if current is False else "") + _("No"), "answer", 0)
        sizes.append(2)
    elif kind == QuestionKind.RATING:
        low, high = int(question.min_value or 0), int(question.max_value or 0)
        for value in range(low, high + 1):
            button(("✅" if current == value else "") + str(value), "answer", value)
        count = high - low + 1
        sizes += [count] if count <= 6 else [6, count - 6]
    elif kind == QuestionKind.MULTIPLE:
        if selection is None:
            selection = sum(1 << index for index in current or [] if 0 <= index < len(options))
        for index, option in enumerate(options):
            mark = "☑️" if selection & (1 << index) else "⬜"
            button(f"{mark} {option}", "toggle", selection ^ (1 << index))
        sizes += [1] * len(options)
        button(_("Done ✔️"), "done", selection)
        sizes.append(1)
    navigation = 0
    if question.position > 0:
        button(_("◀ Back"), "back")
        navigation += 1
    if question.optional:
        button(_("Skip ⏭"), "skip")
        navigation += 1
    if navigation:
        sizes.append(navigation)
    builder.adjust(*sizes)
    return "\n".join(lines), builder.as_markup()


def clip(text: str, limit: int = REVIEW_ANSWER_MAX) -> str:
    """`text` within `limit` UTF-16 code units (as Telegram counts: an emoji is two), cut with "…"."""
    if telegram_length(text) <= limit:
        return text
    kept, used = [], 1
    for char in text:
        used += telegram_length(char)
        if used > limit:
            break
        kept.append(char)
    return "".join(kept) + "…"


def answer_label(question: SurveyQuestion, version: str, value: Any) -> str:
    """A stored answer in words, in the member's language."""
    if value is None:
        return _("(skipped)")
    options = question_text(question, version)[1]
    kind = QuestionKind(question.kind)
    if kind == QuestionKind.YES_NO:
        return _("Yes") if value else _("No")
    if kind == QuestionKind.SINGLE:
        return options[value] if 0 <= value < len(options) else "?"
    if kind == QuestionKind.MULTIPLE:
        return clip(", ".join(options[index] for index in value if 0 <= index < len(options)))
    if kind == QuestionKind.NUMBER:
        return _number(float(value))
    return clip(str(value))


def answers_list(questions: list[SurveyQuestion], version: str, answers: dict[int, Any]) -> list[str]:
    lines = []
    for question in questions:
        text = clip(question_text(question, version)[0], 80)
        label = answer_label(question, version, answers.get(question.id or 0))
        lines.append(f"{question.position + 1}. {escape(text)}\n    → <b>{escape(label)}</b>")
    return lines


def fit(lines: list[str]) -> str:
    """Join lines, dropping the last ones (marked "…") if the message would be over Telegram's limit
    (counted in UTF-16 code units, as Telegram does; markup counted too, which only errs on the safe side)."""
    text = "\n".join(lines)
    while telegram_length(text) > MESSAGE_MAX - 2 and len(lines) > 1:
        lines = lines[:-1]
        text = "\n".join(lines) + "\n…"
    return text


def review(
    survey: Survey, questions: list[SurveyQuestion], version: str, answers: dict[int, Any]
) -> tuple[str, InlineKeyboardMarkup]:
    """All answers before Submit."""
    lines = [
        f"📋 <b>{escape(survey_title(survey, version))}</b>",
        "",
        _("Please check your answers, then tap Submit. Answers are final after that."),
        "",
        *answers_list(questions, version, answers),
    ]
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ Submit"), callback_data=SurveyAction(action="submit", survey=survey.id or 0))
    builder.button(text=_("◀ Back"), callback_data=SurveyAction(action="back", survey=survey.id or 0))
    builder.adjust(1, 1)
    return fit(lines), builder.as_markup()


def submitted_view(
    survey: Survey, questions: list[SurveyQuestion], version: str, answers: dict[int, Any] | None
) -> str:
    """What a member sees when they come back after submitting."""
    title = escape(survey_title(survey, version))
    if answers is None:  # anonymous: nobody (not even the bot) knows which answers were theirs
        return _("You have already answered the survey <b>{title}</b>. Thank you!").format(title=title)
    lines = [
        _("You have already answered the survey <b>{title}</b>. Your answers:").format(title=title),
        "",
        *answers_list(questions, version, answers),
    ]
    return fit(lines)


def thanks(survey: Survey, version: str) -> str:
    return _("🙏 Thank you! Your answers to <b>{title}</b> are saved.").format(
        title=escape(survey_title(survey, version))
    )
