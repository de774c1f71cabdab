"""Managing a published survey from its results: ⏹ close it early (after a confirmation), 🕒 extend
it (a new closing time, asked like the dialog's), 📑 duplicate it into a new draft. Close and Extend
of a survey closed meanwhile get an alert that says so (`lookups.closed`)."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.context import Context
from bot.delivery import DeliveryEngine
from bot.i18n import _
from bot.services.surveys.building import duplicate
from bot.services.surveys.closing import close_survey
from bot.services.surveys.rules import SurveyError
from handlers.composer import button_turn
from handlers.surveys.callbacks import SurveyManage
from handlers.surveys.lookups import ON_SURVEY, closed
from handlers.surveys.steps import ask_closing
from handlers.surveys.texts import survey_title
from handlers.surveys.views import replace_text, show_results
from storage.models import Survey
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)


@router.callback_query(SurveyManage.filter(F.action == "close"), flags=ON_SURVEY)
async def close_asked(
    query: CallbackQuery, survey: Survey, ctx: Context, callback_answer: CallbackAnswer, bot: Bot
) -> None:
    """Close now? (Yes / No)"""
    if closed(survey, callback_answer):
        return
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("⏹ Yes, close it"), callback_data=SurveyManage(action="close_yes", id=survey.id or 0)
    )
    builder.button(text=_("← No, keep it open"), callback_data=SurveyManage(action="keep", id=survey.id or 0))
    builder.adjust(1)
    title = escape(survey_title(survey, ctx.locale, ctx.organization))
    text = _("Close “{title}” now? Members can no longer answer; the results stay.").format(title=title)
    await bot.send_message(query.from_user.id, text, reply_markup=builder.as_markup())


@router.callback_query(SurveyManage.filter(F.action == "keep"), flags=ON_SURVEY)
async def kept_open(query: CallbackQuery, survey: Survey, callback_answer: CallbackAnswer) -> None:
    if not closed(survey, callback_answer) and isinstance(query.message, Message):
        await replace_text(query.message, _("Nothing was changed."))


@router.callback_query(SurveyManage.filter(F.action == "close_yes"), flags=ON_SURVEY)
async def close_confirmed(
    query: CallbackQuery,
    survey: Survey,
    ctx: Context,
    callback_answer: CallbackAnswer,
    bot: Bot,
    delivery: DeliveryEngine,
) -> None:
    """Closed: members can no longer answer; the final results follow."""
    if closed(survey, callback_answer):
        return
    chat_id = query.from_user.id
    try:
        await close_survey(ctx.session, survey, utcnow())
    except SurveyError:
        await ctx.session.rollback()
        await bot.send_message(chat_id, _("This survey is closed."))
        return
    text = _("🔒 Survey #{id} is closed. The final results:").format(id=survey.id)
    if isinstance(query.message, Message):
        await query.message.edit_text(text)
    else:
        await bot.send_message(chat_id, text)
    await show_results(bot, chat_id, ctx, survey)
    delivery.wake()  # a native poll's copies are stopped through the outbox ("poll_stop")


@router.callback_query(SurveyManage.filter(F.action == "extend"), flags=ON_SURVEY)
async def extend_asked(
    query: CallbackQuery,
    survey: Survey,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """The new closing time is asked (and confirmed) by the dialog's closing step."""
    if not closed(survey, callback_answer):
        await ask_closing(button_turn(query, ctx, state, bot, callback_answer), "extend", survey)


@router.callback_query(SurveyManage.filter(F.action == "duplicate"), flags=ON_SURVEY)
async def duplicate_survey(
    query: CallbackQuery,
    survey: Survey,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """A new draft with the same settings and questions; its closing time is asked next."""
    turn = button_turn(query, ctx, state, bot, callback_answer)
    copy = await duplicate(ctx.session, survey, utcnow(), ctx.member.id if ctx.member else None)
    await turn.say(_("📑 A copy is ready as draft #{id}.").format(id=copy.id))
    await ask_closing(turn, "copy", copy)
