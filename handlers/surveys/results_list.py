"""/results: the coordinator's surveys of their organization, newest first, a page at a time; each
opens its results (or its card, for a draft)."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.context import Context
from bot.i18n import _
from bot.policy import Action, rights
from bot.services.surveys.lists import surveys_page
from handlers.composer import staff_dialog
from handlers.surveys.callbacks import SurveyManage
from handlers.surveys.texts import survey_title
from handlers.surveys.views import replace_text
from storage.models import SurveyStatus

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")

PAGE_SIZE = 6  # surveys per page of the list


@staff_dialog(router, "results", Action.RUN_SURVEYS, "surveys_admin")
async def list_surveys(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    text, keyboard = await _list_page(ctx, 0)
    await message.answer(text, reply_markup=keyboard)


@router.callback_query(SurveyManage.filter(F.action == "page"), flags=rights(Action.RUN_SURVEYS))
async def list_page(query: CallbackQuery, callback_data: SurveyManage, ctx: Context) -> None:
    """◀️ / ▶️ under the list: `id` is the offset of the page."""
    if isinstance(query.message, Message):
        text, keyboard = await _list_page(ctx, callback_data.id)
        await replace_text(query.message, text, keyboard)


async def _list_page(ctx: Context, offset: int) -> tuple[str, InlineKeyboardMarkup | None]:
    page = await surveys_page(ctx.session, ctx.organization_id, offset, PAGE_SIZE)
    surveys, offset, total = page.surveys, page.offset, page.total
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
        title = survey_title(survey, ctx.locale, ctx.organization)
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
