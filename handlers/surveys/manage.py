"""Managing a published survey from its results: ⏹ close it early (after a confirmation), 🕒 extend
it (a new closing time, asked like the dialog's), 📑 duplicate it into a new draft."""

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
from bot.policy import Action, rights
from bot.services.surveys.building import duplicate
from bot.services.surveys.closing import close_survey
from bot.services.surveys.rules import SurveyError
from handlers.surveys.callbacks import SurveyManage
from handlers.surveys.lookups import open_named, published_named
from handlers.surveys.steps import ask_closing
from handlers.surveys.texts import survey_title
from handlers.surveys.views import replace_text, show_results
from storage.models import Survey
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)


@router.callback_query(SurveyManage.filter(F.action == "close"), flags=rights(Action.RUN_SURVEYS))
async def close_asked(
    query: CallbackQuery, callback_data: SurveyManage, ctx: Context, callback_answer: CallbackAnswer, bot: Bot
) -> None:
    """Close now? (Yes / No)"""
    if (survey := await open_named(ctx, callback_answer, callback_data.id)) is None:
        return
    ident = survey.id or 0
    builder = InlineKeyboardBuilder()
    builder.button(text=_("⏹ Yes, close it"), callback_data=SurveyManage(action="close_yes", id=ident))
    builder.button(text=_("← No, keep it open"), callback_data=SurveyManage(action="keep", id=ident))
    builder.adjust(1)
    await bot.send_message(
        query.from_user.id,
        _("Close “{title}” now? Members can no longer answer; the results stay.").format(
            title=escape(survey_title(survey, ctx.locale, ctx.organization))
        ),
        reply_markup=builder.as_markup(),
    )


@router.callback_query(SurveyManage.filter(F.action == "keep"), flags=rights(Action.RUN_SURVEYS))
async def kept_open(
    query: CallbackQuery, callback_data: SurveyManage, ctx: Context, callback_answer: CallbackAnswer
) -> None:
    if await open_named(ctx, callback_answer, callback_data.id) is None:
        return
    if isinstance(query.message, Message):
        await replace_text(query.message, _("Nothing was changed."))


@router.callback_query(SurveyManage.filter(F.action == "close_yes"), flags=rights(Action.RUN_SURVEYS))
async def close_confirmed(
    query: CallbackQuery,
    callback_data: SurveyManage,
    ctx: Context,
    callback_answer: CallbackAnswer,
    bot: Bot,
    delivery: DeliveryEngine,
) -> None:
    """Closed: members can no longer answer; the final results follow."""
    if (survey := await open_named(ctx, callback_answer, callback_data.id)) is None:
        return
    message = query.message if isinstance(query.message, Message) else None
    await _close(bot, query.from_user.id, ctx, survey, message)
    delivery.wake()  # a native poll's copies are stopped through the outbox ("poll_stop")


async def _close(bot: Bot, chat_id: int, ctx: Context, survey: Survey, message: Message | None) -> None:
    try:
        await close_survey(ctx.session, survey, utcnow())
    except SurveyError:
        await ctx.session.rollback()
        await bot.send_message(chat_id, _("This survey is closed."))
        return
    await ctx.session.commit()
    text = _("🔒 Survey #{id} is closed. The final results:").format(id=survey.id)
    if message is not None:
        await message.edit_text(text)
    else:
        await bot.send_message(chat_id, text)
    await show_results(bot, chat_id, ctx, survey)


@router.callback_query(SurveyManage.filter(F.action == "extend"), flags=rights(Action.RUN_SURVEYS))
async def extend_asked(
    query: CallbackQuery,
    callback_data: SurveyManage,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """The new closing time is asked (and confirmed) by the dialog's closing step."""
    if (survey := await open_named(ctx, callback_answer, callback_data.id)) is None:
        return
    await ask_closing(bot, query.from_user.id, state, "extend", survey, ctx.zone)


@router.callback_query(SurveyManage.filter(F.action == "duplicate"), flags=rights(Action.RUN_SURVEYS))
async def duplicate_survey(
    query: CallbackQuery,
    callback_data: SurveyManage,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """A new draft with the same settings and questions; its closing time is asked next."""
    if (survey := await published_named(ctx, callback_answer, callback_data.id)) is None:
        return
    chat_id = query.from_user.id
    copy = await duplicate(ctx.session, survey, utcnow(), ctx.member.id if ctx.member else None)
    await ctx.session.commit()
    await bot.send_message(chat_id, _("📑 A copy is ready as draft #{id}.").format(id=copy.id))
    await ask_closing(bot, chat_id, state, "copy", copy, ctx.zone)
