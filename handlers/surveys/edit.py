"""✏️ Edit on a draft survey's or quick poll's card (the composer kit's edit step, issue 16): the
title, each question's text and a choice question's options are typed and checked as in the dialog
(`bot.services.surveys.editing`); the closing time is the dialog's own step (`ask_closing`, "copy");
anonymity, the reminder and the audience offer the dialog's buttons again, on the draft
(`SurveyDialog` with `e_` before the dialog's action, and the survey's id). Every change ends on
the card again."""

from __future__ import annotations

from typing import Any, Final

from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import _
from bot.services.surveys.editing import set_question, set_settings, set_title
from bot.services.surveys.rules import (
    OPTION_MAX,
    OPTIONS_MAX,
    OPTIONS_MIN,
    QUESTION_MAX,
    TITLE_MAX,
    SurveyError,
)
from handlers.composer import (
    REACH_CODES,
    Item,
    Turn,
    audience_choice,
    audience_summary,
    dialog_reach,
    echo_choice,
    offers_reach,
    show_picker,
)
from handlers.surveys.callbacks import SurveyDialog
from handlers.surveys.steps import BUTTON_VALUES, REMINDERS, STEPS, ask_closing, question_of
from handlers.surveys.texts import ANY_TEXT, QUESTION_TEXT, TITLE_TEXT, error_text
from storage.models import Survey, SurveyQuestion

PREFIX: Final = "e_"  # a setting's button on the draft: "e_" + the dialog's action
BUTTON_STEP: Final = {"anon": "anonymous", "reminder": "reminder", "aud": "audience"}
ACTIONS: Final = tuple(
    PREFIX + action for action in ("anon", "reminder", "aud", "aud_i", "aud_l", *REACH_CODES)
)
DROPPED: Final = "survey_translations_dropped"  # turn.data: the options changed, translations went


def fields(survey: Survey, questions: list[SurveyQuestion]) -> list[Item]:
    """What ✏️ Edit offers: the typed ones with their prompt and rule, then the settings (asked by
    `pick`)."""
    items = []
    if not survey.native_poll:
        title = _("Send the new title (at most {limit} characters).").format(limit=TITLE_MAX)
        items.append(Item("title", title, TITLE_TEXT, label=_("Title")))
    for index, question in enumerate(questions):
        number = index + 1
        text = _("Send the new text of question {number} (at most {limit} characters).")
        label = _("Question") if survey.native_poll else _("Question {number}").format(number=number)
        items.append(
            Item(f"q{index}", text.format(number=number, limit=QUESTION_MAX), QUESTION_TEXT, label=label)
        )
        if question.options:
            options = _(
                "Send the new answer options of question {number}, one per line: from {low} to {high} "
                "options, each at most {limit} characters."
            ).format(number=number, low=OPTIONS_MIN, high=OPTIONS_MAX, limit=OPTION_MAX)
            label = (
                _("Answer options")
                if survey.native_poll
                else _("Answer options {number}").format(number=number)
            )
            items.append(Item(f"o{index}", options, ANY_TEXT, label=label))
    settings = [("closes", _("Closing time")), ("anon", _("Anonymity"))]
    if not survey.native_poll:
        settings.append(("reminder", _("Reminder")))
    settings.append(("aud", _("Audience")))
    items += [Item(key, "", ANY_TEXT, label=label) for key, label in settings]
    return items


def _button(survey: Survey) -> Any:
    """The picker's buttons on the draft (`audience_keyboard` calls it with action and value)."""

    def button(action: str, value: str = "") -> SurveyDialog:
        return SurveyDialog(action=PREFIX + action, id=survey.id or 0, value=value)

    return button


def _mode(survey: Survey) -> dict[str, str]:
    return {"mode": "poll" if survey.native_poll else "survey"}


async def pick(turn: Turn, survey: Survey, key: str) -> bool:
    """A setting asks its own question (False); a typed field's value is asked by the kit (True)."""
    if key == "closes":
        await ask_closing(turn, "copy", survey)
        return False
    step = BUTTON_STEP.get(key)
    if step is None:
        return True
    builder, button = InlineKeyboardBuilder(), _button(survey)
    for label, action, value in STEPS[step].buttons:
        builder.button(text=str(label), callback_data=button(action, value))
    builder.adjust(STEPS[step].width)
    await turn.say(question_of(step, _mode(survey)), builder.as_markup())
    return False


async def save(turn: Turn, survey: Survey, key: str, value: str | None) -> str | None:
    """A typed field's new value kept (None), or why not (the step waits for another)."""
    session = turn.ctx.session
    try:
        if key == "title":
            await set_title(session, survey, value or "")
        elif key[0] in "qo" and key[1:].isdigit():
            changes = {"text": value} if key[0] == "q" else {"options": value}
            turn.data[DROPPED] = await set_question(session, survey, int(key[1:]), **changes)
        else:
            return error_text(SurveyError("not_editable"))
    except SurveyError as error:
        await session.rollback()
        return error_text(error)
    return None


async def choose_setting(turn: Turn, survey: Survey, action: str, value: str) -> bool | None:
    """A setting's button on the draft: True once kept (the card follows), None while the audience
    picker stays open, False for a value the question never offers (a forged button)."""
    action = action.removeprefix(PREFIX)
    if action in REACH_CODES:
        widened = await dialog_reach(turn, dict(survey.audience or {}), action, value, _button(survey))
        if widened is not None:
            await set_settings(turn.ctx.session, survey, audience=widened)
        return None if widened is not None else False
    if action in ("aud", "aud_i", "aud_l"):
        choice = audience_choice(dict(survey.audience or {}), action, value)
        if choice is None:
            return False
        outcome, audience = choice
        await set_settings(turn.ctx.session, survey, audience=audience)
        if outcome == "done":
            await echo_choice(turn, audience_summary(audience))
            return True
        if turn.message is not None:
            hint = _("Tick the interests and languages of the members to ask, then press Done.")
            question = question_of("audience", _mode(survey))
            reach = await offers_reach(turn.ctx)
            await show_picker(turn.message, outcome, audience, question, hint, _button(survey), reach)
        return None
    if value not in BUTTON_VALUES.get(action, ()) or (action == "reminder" and survey.native_poll):
        return False
    changes = (
        {"anonymous": value == "yes"} if action == "anon" else {"reminder_before_minutes": REMINDERS[value]}
    )
    await set_settings(turn.ctx.session, survey, **changes)
    await echo_choice(turn)
    return True


def saved_text(turn: Turn) -> str:
    """✅ Saved, and whether the translations had to go."""
    if turn.data.pop(DROPPED, False):
        return _("✅ Saved. The answer options changed, so the translations were removed: add them again.")
    return _("✅ Saved.")
