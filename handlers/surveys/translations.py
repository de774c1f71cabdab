"""Translations of a draft survey: 🌐 Add a translation offers the shipped languages, then the
coordinator types the title, each question and each list of options in that language, item after
item (the progress lives in the FSM data, "survey_translation"); the draft card comes back with the
translation saved. Native polls have no translations (Telegram shows one text to everyone).
"""

from __future__ import annotations

from html import escape
from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import SHIPPED_LANGUAGES
from bot.context import Context
from bot.i18n import _, language_name
from bot.policy import Action, rights
from bot.services.surveys.building import questions_of
from bot.services.surveys.drafts import (
    check_title,
    checked_line,
    more_options,
    set_translation,
    translation_items,
)
from bot.services.surveys.rules import QUESTION_MAX, SurveyError
from handlers.fallback import stale_button
from handlers.surveys.callbacks import SurveyDialog
from handlers.surveys.dialog import is_command
from handlers.surveys.lookups import draft_named
from handlers.surveys.states import SurveyDialogStates
from handlers.surveys.texts import error_text, gone
from handlers.surveys.views import send_draft
from storage.models import Survey, SurveyStatus

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")


@router.callback_query(SurveyDialog.filter(F.action == "translate"), flags=rights(Action.RUN_SURVEYS))
async def translate(
    query: CallbackQuery, callback_data: SurveyDialog, ctx: Context, callback_answer: CallbackAnswer, bot: Bot
) -> None:
    """The languages to translate into (✅ those done already)."""
    if (survey := await draft_named(ctx, callback_answer, callback_data.id)) is None:
        return
    if survey.native_poll:
        stale_button(callback_answer)
        return
    builder = InlineKeyboardBuilder()
    for code in SHIPPED_LANGUAGES:
        if code != survey.language:
            mark = "✅ " if code in survey.translations else ""
            builder.button(
                text=mark + language_name(code),
                callback_data=SurveyDialog(action="tr_lang", id=survey.id or 0, value=code),
            )
    builder.adjust(2)
    await bot.send_message(
        query.from_user.id, _("Which language is the translation in?"), reply_markup=builder.as_markup()
    )


@router.callback_query(SurveyDialog.filter(F.action == "tr_lang"), flags=rights(Action.RUN_SURVEYS))
async def language_chosen(
    query: CallbackQuery,
    callback_data: SurveyDialog,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """The translation begins: its first item (the title) is asked."""
    if (survey := await draft_named(ctx, callback_answer, callback_data.id)) is None:
        return
    if (
        survey.native_poll
        or callback_data.value not in SHIPPED_LANGUAGES
        or callback_data.value == survey.language
    ):
        stale_button(callback_answer)
        return
    info = {"survey_id": survey.id, "language": callback_data.value, "title": None, "versions": []}
    await state.set_state(SurveyDialogStates.translation)
    await state.update_data(survey_translation=info)
    await _ask_translation(bot, query.from_user.id, ctx, survey, info)


async def _ask_translation(
    bot: Bot, chat_id: int, ctx: Context, survey: Survey, info: dict[str, Any]
) -> None:
    questions = await questions_of(ctx.session, survey.id or 0)
    items = translation_items(survey, questions)
    what, index = items[_position(info)]
    language = language_name(info["language"])
    if what == "title":
        text = _("Send the title in {language}. The original: {original}").format(
            language=language, original=f"<i>{escape(survey.title)}</i>"
        )
    elif what == "text":
        text = _("Question {number} in {language}. The original: {original}").format(
            number=index + 1, language=language, original=f"<i>{escape(questions[index].text)}</i>"
        )
    else:
        options = "\n".join(escape(option) for option in questions[index].options)
        text = (
            _("The answer options of question {number} in {language}, one per line, in this order:").format(
                number=index + 1, language=language
            )
            + f"\n<i>{options}</i>"
        )
    await bot.send_message(chat_id, text)


def _position(info: dict[str, Any]) -> int:
    """How many items of the translation are answered (the title, then texts and option lists)."""
    answered = 0 if info.get("title") is None else 1
    for version in info.get("versions") or []:
        answered += 1 + ("options" in version)
    return answered


@router.message(StateFilter(SurveyDialogStates.translation), F.text, flags=rights(Action.RUN_SURVEYS))
async def translation_typed(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    """One item of the translation; after the last one, the translation is saved."""
    if await is_command(message):
        return
    info = (await state.get_data()).get("survey_translation")
    survey_id = int(info.get("survey_id") or 0) if isinstance(info, dict) else 0
    survey = await ctx.load(Action.RUN_SURVEYS, Survey, survey_id)
    if (
        survey is None or survey.status != SurveyStatus.DRAFT or info.get("language") not in SHIPPED_LANGUAGES  # type: ignore[union-attr]
    ):
        await state.clear()
        await message.answer(gone())
        return
    info = dict(info)  # type: ignore[arg-type]
    questions = await questions_of(ctx.session, survey.id or 0)
    items = translation_items(survey, questions)
    position = _position(info)
    if position >= len(items):
        await state.clear()
        await message.answer(gone())
        return
    what, index = items[position]
    text = message.text or ""
    try:
        if what == "title":
            info["title"] = check_title(text)
        elif what == "text":
            line = checked_line(text, QUESTION_MAX, "question_empty", "question_too_long")
            info["versions"] = [*info["versions"], {"text": line}]
        else:
            expected = len(questions[index].options)
            typed = [line for line in text.splitlines() if line.strip()]
            if len(typed) != expected:
                raise SurveyError("bad_translation", expected)
            options = more_options([], "\n".join(typed))
            info["versions"] = [*info["versions"][:-1], {**info["versions"][-1], "options": options}]
    except SurveyError as error:
        await message.answer(error_text(error))
        return
    if _position(info) < len(items):
        await state.update_data(survey_translation=info)
        await _ask_translation(bot, message.chat.id, ctx, survey, info)
        return
    try:
        await set_translation(ctx.session, survey, info["language"], info["title"], info["versions"])
    except SurveyError as error:
        await ctx.session.rollback()
        await state.clear()
        await message.answer(error_text(error))
        return
    await state.clear()
    await ctx.session.commit()
    await message.answer(
        _("✅ Translation saved: {language}.").format(language=language_name(info["language"]))
    )
    await send_draft(bot, message.chat.id, ctx, survey, ctx.zone)
