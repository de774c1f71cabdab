"""/results: the coordinator's surveys, their live results (text and a chart per choice or rating
question), the written answers page by page, breakdowns by group, CSV and XLSX exports, and closing
early, extending or duplicating a survey.

Every button re-checks on the server that the user may coordinate and that the survey belongs to
their organization: callback data can be forged.
"""

from __future__ import annotations

import asyncio
from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.charts import render_bar_chart
from bot.config import SHIPPED_LANGUAGES, Settings
from bot.delivery import DeliveryEngine
from bot.i18n import _, language_name, ngettext
from bot.policy import Action, rights
from bot.services import surveys as service
from bot.services.geo import country_name
from bot.services.roles import Actor, can_coordinate
from bot.services.survey_exports import export_rows_csv, export_xlsx
from bot.services.surveys import QuestionResult, SurveyError, SurveyResults
from bot.survey_view import clip
from handlers.fallback import stale_button, toast
from handlers.survey_admin import ask_closing, send_draft
from handlers.survey_kit import (
    ID_MAX,
    SurveyManage,
    chunks,
    known_id,
    number,
    percent,
    refusal,
    status_line,
    survey_title,
    yes_no,
)
from handlers.ui import member_zone
from storage.models import Member, Organization, QuestionKind, Survey, SurveyQuestion, SurveyStatus
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")

PAGE_SIZE = 6  # surveys per page of the list
TEXTS_PAGE = 8  # written answers per page
ANSWER_SHOWN = 400  # UTF-16 code units of each written answer in the list (8 × 400 fit in a message)
CAPTION_MAX = 1024
CHART_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.YES_NO, QuestionKind.RATING)
BREAKDOWN_CODES: Final = {"lang": "language", "res": "residence_country", "orig": "origin_country"}


# -- the list ---------------------------------------------------------------------------------------


@router.message(Command("results", "surveys_admin"), flags=rights(Action.RUN_SURVEYS))
async def list_surveys(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    i18n: I18n,
) -> None:
    if not await can_coordinate(session, actor, member, organization.id or 0):
        await message.answer(refusal())
        return
    text, keyboard = await _list_page(session, organization, 0, i18n.current_locale)
    await message.answer(text, reply_markup=keyboard)


async def _list_page(
    session: AsyncSession, organization: Organization, offset: int, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    where = Survey.organization_id == organization.id
    total = int((await session.exec(select(func.count()).select_from(Survey).where(where))).one())
    offset = max(0, min(offset, max(total - 1, 0)))
    surveys = (
        await session.exec(
            select(Survey).where(where).order_by(col(Survey.id).desc()).offset(offset).limit(PAGE_SIZE)
        )
    ).all()
    if not surveys:
        return _("There are no surveys yet. /poll asks a quick question, /newsurvey creates a survey."), None
    lines = [
        _("📊 <b>Your surveys</b> ({first}–{last} of {total})").format(
            first=offset + 1, last=offset + len(surveys), total=total
        )
    ]
    marks = {SurveyStatus.DRAFT: "📝", SurveyStatus.OPEN: "🟢", SurveyStatus.CLOSED: "🔒"}
    builder = InlineKeyboardBuilder()
    for survey in surveys:
        title = survey_title(survey, locale, organization)
        icon = "📊" if survey.native_poll else "📋"
        lines.append(f"{marks[survey.status]} {icon} #{survey.id} {escape(title)}")
        label = f"#{survey.id} {title}"
        builder.button(
            text=label if len(label) <= 40 else label[:39] + "…",
            callback_data=SurveyManage(action="open", id=survey.id or 0),
        )
    sizes = [1] * len(surveys)
    navigation = 0
    if offset > 0:
        builder.button(text="◀️", callback_data=SurveyManage(action="page", id=max(0, offset - PAGE_SIZE)))
        navigation += 1
    if offset + PAGE_SIZE < total:
        builder.button(text="▶️", callback_data=SurveyManage(action="page", id=offset + PAGE_SIZE))
        navigation += 1
    builder.adjust(*sizes, *([navigation] if navigation else []))
    return "\n".join(lines), builder.as_markup()


# -- results ----------------------------------------------------------------------------------------


def _labels(result: QuestionResult) -> list[str]:
    return [yes_no(label) for label in result.labels] if result.kind == QuestionKind.YES_NO else result.labels


def question_block(result: QuestionResult, locale: str, *, texts: bool = True) -> list[str]:
    """One question's results: a line per option with its count and percentage, the average of
    numbers, how many answered."""
    lines = [f"<b>{result.position + 1}. {escape(result.text)}</b>"]
    for label, count, share in zip(_labels(result), result.counts, result.percentages, strict=True):
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
    outcome = await service.results(session, survey, language=locale)
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


def _manage_keyboard(survey: Survey, outcome: SurveyResults) -> InlineKeyboardMarkup:
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
        keyboard = _manage_keyboard(survey, outcome) if index == len(messages) - 1 else None
        await bot.send_message(chat_id, text, reply_markup=keyboard)
    for result in outcome.questions:
        if result.kind not in CHART_KINDS or not result.labels:
            continue
        annotations = [
            f"{count} · {percent(share, locale)}"
            for count, share in zip(result.counts, result.percentages, strict=True)
        ]
        chart = await asyncio.to_thread(
            render_bar_chart, result.text, _labels(result), result.counts, annotations
        )
        caption = f"{result.position + 1}. {result.text}"
        await bot.send_photo(
            chat_id,
            BufferedInputFile(chart.png, filename=f"survey-{survey.id}-q{result.position + 1}.png"),
            caption=escape(
                caption if len(caption) <= CAPTION_MAX - 10 else caption[: CAPTION_MAX - 11] + "…"
            ),
        )


def _group_name(breakdown: str, group: str, locale: str) -> str:
    if group == "?":
        return _("not given")
    if breakdown == "language":
        return language_name(group) if group in SHIPPED_LANGUAGES else group
    return country_name(group, locale) or group


async def breakdown_lines(
    session: AsyncSession, survey: Survey, breakdown: str, locale: str, min_group: int = service.MIN_GROUP
) -> list[str]:
    """The results per group of members; groups under the threshold are not shown, only counted."""
    outcome = await service.results(
        session, survey, language=locale, breakdown=breakdown, min_group=min_group
    )
    titles = {
        "language": _("👥 <b>By language</b>"),
        "residence_country": _("👥 <b>By country of residence</b>"),
        "origin_country": _("👥 <b>By country of origin</b>"),
    }
    lines = [titles[breakdown]]
    for group, part in sorted(outcome.groups.items()):
        lines += [
            "",
            f"<b>{escape(_group_name(breakdown, group, locale))}</b> — "
            + ngettext("{count} response", "{count} responses", part.respondents).format(
                count=part.respondents
            ),
        ]
        for result in part.questions:
            if result.kind != QuestionKind.TEXT:
                lines += question_block(result, locale, texts=False)
    if outcome.suppressed_groups:
        lines += [
            "",
            ngettext(
                "🔒 {count} group is hidden to protect small groups (fewer than {min} responses): "
                "{people} responses.",
                "🔒 {count} groups are hidden to protect small groups (fewer than {min} responses): "
                "{people} responses in all.",
                outcome.suppressed_groups,
            ).format(count=outcome.suppressed_groups, min=min_group, people=outcome.suppressed_respondents),
        ]
    if not outcome.groups and not outcome.suppressed_groups:
        lines += ["", _("No responses yet.")]
    return lines


async def _texts_page(
    session: AsyncSession, question: SurveyQuestion, survey: Survey, offset: int, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    offset = min(max(offset, 0), ID_MAX)
    answers, total = await service.text_answers(session, question, offset, TEXTS_PAGE)
    if not answers and offset > 0:  # fewer answers than when the button was sent
        offset = 0
        answers, total = await service.text_answers(session, question, 0, TEXTS_PAGE)
    text_of, _options = service.question_text(question, locale)
    lines = [f"📝 <b>{question.position + 1}. {escape(text_of)}</b>"]
    if not answers:
        lines.append(_("No written answers yet."))
        return "\n".join(lines), None
    lines.append(
        _("Answers {first}–{last} of {total}").format(
            first=offset + 1, last=offset + len(answers), total=total
        )
    )
    for answer in answers:
        lines += ["", f"• {escape(clip(answer, ANSWER_SHOWN))}"]
    builder = InlineKeyboardBuilder()
    ident, question_id = survey.id or 0, question.id or 0
    if offset > 0:
        builder.button(
            text=_("◀️ Previous"),
            callback_data=SurveyManage(
                action="texts", id=ident, question=question_id, page=max(0, offset - TEXTS_PAGE)
            ),
        )
    if offset + TEXTS_PAGE < total:
        builder.button(
            text=_("Next ▶️"),
            callback_data=SurveyManage(
                action="texts", id=ident, question=question_id, page=offset + TEXTS_PAGE
            ),
        )
    markup = builder.as_markup() if list(builder.buttons) else None
    return "\n".join(lines), markup


# -- buttons ----------------------------------------------------------------------------------------


async def _edit(message: Message, text: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
    """Replace a message; a double tap (the message already shows it) changes nothing."""
    try:
        await message.edit_text(text, reply_markup=keyboard)
    except TelegramBadRequest as error:
        if "not modified" not in str(error):
            raise


@router.callback_query(SurveyManage.filter(), flags=rights(Action.RUN_SURVEYS))
async def manage_button(
    query: CallbackQuery,
    callback_data: SurveyManage,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    i18n: I18n,
    bot: Bot,
    delivery: DeliveryEngine,
    settings: Settings,
) -> None:
    if not await can_coordinate(session, actor, member, organization.id or 0):
        toast(callback_answer, refusal(), alert=True)
        return
    action, chat_id = callback_data.action, query.from_user.id
    locale, zone = i18n.current_locale, member_zone(member, organization)
    message = query.message if isinstance(query.message, Message) else None
    if action == "page":
        if message is not None:
            text, keyboard = await _list_page(session, organization, callback_data.id, locale)
            await _edit(message, text, keyboard)
        return
    survey = await session.get(Survey, callback_data.id) if known_id(callback_data.id) else None
    if survey is None or survey.organization_id != organization.id:
        stale_button(callback_answer)
        return
    ident = survey.id or 0
    if action == "open":
        if survey.status == SurveyStatus.DRAFT:
            await send_draft(bot, chat_id, session, survey, organization, locale, zone)
        else:
            await send_results(bot, chat_id, session, survey, organization, locale, zone)
        return
    if survey.status == SurveyStatus.DRAFT:
        stale_button(callback_answer)
        return
    if action == "texts":
        question = (
            await session.get(SurveyQuestion, callback_data.question)
            if known_id(callback_data.question)
            else None
        )
        if question is None or question.survey_id != survey.id or question.kind != QuestionKind.TEXT:
            stale_button(callback_answer)
            return
        text, keyboard = await _texts_page(session, question, survey, callback_data.page, locale)
        if message is not None and message.text and message.text.startswith("📝"):
            await _edit(message, text, keyboard)
        else:
            await bot.send_message(chat_id, text, reply_markup=keyboard)
    elif action == "by":
        breakdown = BREAKDOWN_CODES.get(callback_data.value)
        if breakdown is None or survey.anonymous or survey.native_poll:
            stale_button(callback_answer)
            return
        lines = await breakdown_lines(session, survey, breakdown, locale, settings.survey_min_group)
        for text in chunks(lines):
            await bot.send_message(chat_id, text)
    elif action == "csv":
        await bot.send_document(
            chat_id,
            BufferedInputFile(await export_rows_csv(session, survey), filename=f"survey-{ident}.csv"),
            caption=_("📄 Responses to “{title}”").format(
                title=escape(survey_title(survey, locale, organization))
            ),
        )
    elif action == "xlsx":
        data = await export_xlsx(session, survey, language=locale, translate=yes_no, headings=_headings())
        await bot.send_document(
            chat_id,
            BufferedInputFile(data, filename=f"survey-{ident}.xlsx"),
            caption=_("📗 Responses to “{title}”").format(
                title=escape(survey_title(survey, locale, organization))
            ),
        )
    elif action in ("close", "close_yes", "keep", "extend") and survey.status != SurveyStatus.OPEN:
        toast(callback_answer, _("This survey is closed."), alert=True)
    elif action == "close":
        builder = InlineKeyboardBuilder()
        builder.button(text=_("⏹ Yes, close it"), callback_data=SurveyManage(action="close_yes", id=ident))
        builder.button(text=_("← No, keep it open"), callback_data=SurveyManage(action="keep", id=ident))
        builder.adjust(1)
        await bot.send_message(
            chat_id,
            _("Close “{title}” now? Members can no longer answer; the results stay.").format(
                title=escape(survey_title(survey, locale, organization))
            ),
            reply_markup=builder.as_markup(),
        )
    elif action == "keep":
        if message is not None:
            await _edit(message, _("Nothing was changed."))
    elif action == "close_yes":
        await _close(bot, chat_id, session, survey, organization, message, locale, zone)
        delivery.wake()  # a native poll's copies are stopped through the outbox ("poll_stop")
    elif action == "extend":
        await ask_closing(bot, chat_id, state, "extend", survey, zone)
    elif action == "duplicate":
        copy = await service.duplicate(session, survey, utcnow(), member.id if member else None)
        await session.commit()
        await bot.send_message(chat_id, _("📑 A copy is ready as draft #{id}.").format(id=copy.id))
        await ask_closing(bot, chat_id, state, "copy", copy, zone)
    else:
        stale_button(callback_answer)


async def _close(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    survey: Survey,
    organization: Organization,
    message: Message | None,
    locale: str,
    zone: str,
) -> None:
    try:
        await service.close_survey(session, survey, utcnow())
    except SurveyError:
        await session.rollback()
        await bot.send_message(chat_id, _("This survey is closed."))
        return
    await session.commit()
    text = _("🔒 Survey #{id} is closed. The final results:").format(id=survey.id)
    if message is not None:
        await message.edit_text(text)
    else:
        await bot.send_message(chat_id, text)
    await send_results(bot, chat_id, session, survey, organization, locale, zone)


def _headings() -> dict[str, str]:
    return {
        "question": _("Question"),
        "answer": _("Answer"),
        "count": _("Count"),
        "percent": _("Percent"),
        "answered": _("Answered"),
        "average": _("Average"),
        "minimum": _("Minimum"),
        "maximum": _("Maximum"),
    }
