"""A draft's card (after /poll, /newsurvey, a duplicate, a translation, or opened from /results):
Publish invites the audience through the outbox; Discard deletes the draft. (Its translation
buttons are in `translations`.)"""

from __future__ import annotations

from typing import Final

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.context import Context
from bot.delivery import DeliveryEngine
from bot.i18n import _, ngettext
from bot.policy import Action, rights
from bot.services.surveys.drafts import delete_draft
from bot.services.surveys.publish import publish
from bot.services.surveys.rules import SurveyError
from handlers.fallback import toast
from handlers.surveys.callbacks import SurveyDialog
from handlers.surveys.lookups import draft_named
from handlers.surveys.steps import ask_closing
from handlers.surveys.texts import error_text
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)


@router.callback_query(SurveyDialog.filter(F.action == "publish"), flags=rights(Action.RUN_SURVEYS))
async def publish_draft(
    query: CallbackQuery,
    callback_data: SurveyDialog,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
    bot: Bot,
) -> None:
    """Members are invited (from the opening time); a closing time already past is asked again."""
    if (survey := await draft_named(ctx, callback_answer, callback_data.id)) is None:
        return
    chat_id = query.from_user.id
    if survey.closes_at is None or survey.closes_at <= utcnow():
        await bot.send_message(chat_id, error_text(SurveyError("bad_times")))
        await ask_closing(bot, chat_id, state, "copy", survey, ctx.zone)
        return
    try:
        invited = await publish(ctx.session, survey, utcnow())
    except SurveyError as error:
        await ctx.session.rollback()
        toast(callback_answer, error_text(error), alert=True)
        return
    await ctx.session.commit()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
    await bot.send_message(
        chat_id,
        ngettext(
            "📤 Published: {count} member is invited.", "📤 Published: {count} members are invited.", invited
        ).format(count=invited)
        + "\n"
        + _("/results shows the answers as they come in."),
    )
    delivery.wake()


@router.callback_query(SurveyDialog.filter(F.action == "discard"), flags=rights(Action.RUN_SURVEYS))
async def discard_draft(
    query: CallbackQuery, callback_data: SurveyDialog, ctx: Context, callback_answer: CallbackAnswer
) -> None:
    if (survey := await draft_named(ctx, callback_answer, callback_data.id)) is None:
        return
    await delete_draft(ctx.session, survey)
    await ctx.session.commit()
    if isinstance(query.message, Message):
        await query.message.edit_text(_("🗑 The draft was discarded."))
