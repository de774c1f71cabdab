"""The coordinator's survey cards: a draft with its settings and questions (after /poll and
/newsurvey, a duplicate or a translation, and from /results), and the results with their buttons
and a chart per choice or rating question; and replacing a message's text."""

from __future__ import annotations

from html import escape

from aiogram import Bot
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.charts import render_bar_chart
from bot.i18n import _, format_when, language_name, ngettext
from bot.press_answers import render
from bot.services.audience import is_wide
from bot.services.events import telegram_length
from bot.services.surveys.building import questions_of
from bot.services.surveys.drafts import count_audience
from bot.services.surveys.results import results
from bot.services.surveys.tally import QuestionResult, SurveyResults
from handlers.composer import Turn
from handlers.composer.audience import audience_summary
from handlers.surveys.callbacks import SurveyManage
from handlers.surveys.texts import (
    TEXT_BUDGET,
    chunks,
    kind_label,
    number,
    percent,
    reminder_text,
    status_line,
    survey_title,
    yes_no,
)
from storage.models import Organization, QuestionKind, Survey, SurveyQuestion, SurveyStatus

CAPTION_MAX = 1024
CHART_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.YES_NO, QuestionKind.RATING)


# -- a draft --------------------------------------------------------------------------------------


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
    questions = await questions_of(session, survey.id or 0)
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


# -- results ------------------------------------------------------------------------------------


def option_labels(result: QuestionResult) -> list[str]:
    return [yes_no(label) for label in result.labels] if result.kind == QuestionKind.YES_NO else result.labels


def question_block(result: QuestionResult, locale: str, *, texts: bool = True) -> list[str]:
    """One question's results: a line per option with its count and percentage, the average of
    numbers, how many answered."""
    lines = [f"<b>{result.position + 1}. {escape(result.text)}</b>"]
    for label, count, share in zip(option_labels(result), result.counts, result.percentages, strict=True):
        lines.append(f"• {escape(label)} — {count} ({percent(share, locale)})")
    if result.average is not None and result.kind in (QuestionKind.NUMBER, QuestionKind.RATING):
        lines.append(
            _("Average: {average} (from {low} to {high})").format(
                average=number(result.average, locale),
                low=number(result.minimum or 0, locale),
                high=number(result.maximum or 0, locale),
            )
        )
    if result.kind == QuestionKind.TEXT and texts:
        lines.append(
            ngettext(
                "{count} written answer: press 📝 below to read it.",
                "{count} written answers: press 📝 below to read them.",
                result.answered,
            ).format(count=result.answered)
        )
    else:
        lines.append(
            ngettext(
                "{count} person answered this question.",
                "{count} people answered this question.",
                result.answered,
            ).format(count=result.answered)
        )
    return lines


async def results_lines(
    session: AsyncSession, survey: Survey, organization: Organization, locale: str, zone: str
) -> tuple[list[str], SurveyResults]:
    """The results as text lines (in the coordinator's language) and the figures behind them."""
    outcome = await results(session, survey, language=locale)
    lines = [
        f"{'📊' if survey.native_poll else '📋'} <b>{escape(survey_title(survey, locale, organization))}</b>"
        f" (#{survey.id})",
        status_line(survey, locale, zone),
        (_("🙈 Anonymous") if survey.anonymous else _("👤 With names")),
        ngettext("<b>{count}</b> response", "<b>{count}</b> responses", outcome.respondents).format(
            count=outcome.respondents
        ),
    ]
    for result in outcome.questions:
        lines += ["", *question_block(result, locale)]
    return lines, outcome


def manage_keyboard(survey: Survey, outcome: SurveyResults) -> InlineKeyboardMarkup:
    ident = survey.id or 0
    builder = InlineKeyboardBuilder()

    def add(text: str, action: str, **extra: object) -> None:
        builder.button(text=text, callback_data=SurveyManage(action=action, id=ident, **extra))  # type: ignore[arg-type]

    add(_("🔄 Refresh"), "open")
    for result in outcome.questions:
        if result.kind == QuestionKind.TEXT:
            add(
                _("📝 Answers to {number}").format(number=result.position + 1),
                "texts",
                question=result.question_id,
            )
    if not survey.anonymous and not survey.native_poll:
        add(_("👥 By language"), "by", value="lang")
        add(_("👥 By country of residence"), "by", value="res")
        add(_("👥 By country of origin"), "by", value="orig")
        if is_wide(survey.audience):
            add(_("🏛 By organization"), "by", value="org")
    add(_("📄 CSV"), "csv")
    add(_("📗 Excel (XLSX)"), "xlsx")
    if survey.status == SurveyStatus.OPEN:
        add(_("⏹ Close now"), "close")
        add(_("🕒 Extend"), "extend")
    add(_("📑 Duplicate"), "duplicate")
    builder.adjust(2)
    return builder.as_markup()


async def send_results(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    survey: Survey,
    organization: Organization,
    locale: str,
    zone: str,
) -> None:
    """The results in text (the buttons under the last message), then one chart per choice or
    rating question."""
    lines, outcome = await results_lines(session, survey, organization, locale, zone)
    messages = chunks(lines)
    for index, text in enumerate(messages):
        keyboard = manage_keyboard(survey, outcome) if index == len(messages) - 1 else None
        await bot.send_message(chat_id, text, reply_markup=keyboard)
    for result in outcome.questions:
        if result.kind not in CHART_KINDS or not result.labels:
            continue
        annotations = [
            f"{count} · {percent(share, locale)}"
            for count, share in zip(result.counts, result.percentages, strict=True)
        ]
        chart = await render(render_bar_chart, result.text, option_labels(result), result.counts, annotations)
        caption = f"{result.position + 1}. {result.text}"
        await bot.send_photo(
            chat_id,
            BufferedInputFile(chart.png, filename=f"survey-{survey.id}-q{result.position + 1}.png"),
            caption=escape(
                caption if len(caption) <= CAPTION_MAX - 10 else caption[: CAPTION_MAX - 11] + "…"
            ),
        )


async def show_results(turn: Turn, survey: Survey) -> None:
    ctx = turn.ctx
    await send_results(turn.bot, turn.chat_id, ctx.session, survey, ctx.organization, ctx.locale, ctx.zone)


async def replace_text(message: Message, text: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
    """Replace a message (a double tap, "message is not modified", is done: see bot/reply_requests.py)."""
    await message.edit_text(text, reply_markup=keyboard)
