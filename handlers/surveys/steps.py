"""The steps of the /poll and /newsurvey dialogs: which state each waits in, which buttons belong to
it and what they may carry, what each asks (with its buttons), and which step comes next.

The dialog keeps its answers as plain JSON in the FSM data ("survey_draft"), so a restart loses
nothing; the survey is written as a draft only at the end (`dialog.create_draft`).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from html import escape
from typing import Any, Final

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import _, format_when, ngettext
from bot.services.surveys.drafts import is_choice
from bot.services.surveys.rules import (
    OPTION_MAX,
    OPTIONS_MAX,
    OPTIONS_MIN,
    QUESTION_MAX,
    TEXT_DEFAULT,
    TEXT_MAX,
    TITLE_MAX,
)
from handlers.surveys.callbacks import SurveyDialog
from handlers.surveys.states import SurveyDialogStates
from handlers.surveys.texts import kind_label
from storage.models import Survey

KIND_BUTTONS: Final = ("single", "multiple", "rating5", "rating10", "number", "text", "yes_no")
REMINDERS: Final = {"24": 1440, "2": 120, "48": 2880, "off": None}
TYPED: Final = ("question", "title", "text", "options", "bounds", "max_length", "opens", "closes")
BUTTONS: Final = ("kind", "optional", "more", "multiple", "anonymous", "audience", "reminder")
STEP_STATES: Final = {name: getattr(SurveyDialogStates, name) for name in (*TYPED, *BUTTONS)}
STEP_OF_STATE: Final = {state.state: name for name, state in STEP_STATES.items()}
# Which step each dialog button belongs to: pressed in any other, it is stale.
BUTTON_STEPS: Final = {
    "kind": "kind",
    "opt_done": "options",
    "skip_bounds": "bounds",
    "maxlen_default": "max_length",
    "optional": "optional",
    "more": "more",
    "multiple": "multiple",
    "anon": "anonymous",
    "aud": "audience",
    "aud_i": "audience",
    "aud_l": "audience",
    "opens": "opens",
    "opens_ok": "opens",
    "opens_change": "opens",
    "closes_ok": "closes",
    "closes_change": "closes",
    "reminder": "reminder",
}
# The values each choice button may carry.
BUTTON_VALUES: Final = {
    "kind": KIND_BUTTONS,
    "optional": ("yes", "no"),
    "more": ("add", "done"),
    "multiple": ("yes", "no"),
    "anon": ("yes", "no"),
    "opens": ("now", "later"),
    "reminder": tuple(REMINDERS),
}


def draft_of(data: dict[str, Any]) -> dict[str, Any] | None:
    draft = data.get("survey_draft")
    return dict(draft) if isinstance(draft, dict) and draft.get("zone") else None


def token(moment: datetime) -> str:
    """A typed time rides on its Confirm button: an older echo cannot confirm a newer time."""
    return str(int(moment.timestamp()) // 60)


def options_so_far(options: list[str]) -> str:
    lines = [f"{number}. {escape(option)}" for number, option in enumerate(options, start=1)]
    return "\n".join(
        [
            ngettext("{count} answer option so far:", "{count} answer options so far:", len(options)).format(
                count=len(options)
            ),
            *lines,
            "",
            _("Send more, or press Done."),
        ]
    )


async def ask(bot: Bot, chat_id: int, state: FSMContext, step: str, draft: dict[str, Any]) -> None:
    """Send the question of a step (with its buttons) and wait for the answer in its state."""
    await state.set_state(STEP_STATES[step])
    builder = InlineKeyboardBuilder()
    number = len(draft.get("questions") or []) + 1

    def button(text: str, action: str, value: str = "") -> None:
        builder.button(text=text, callback_data=SurveyDialog(action=action, value=value))

    sizes: tuple[int, ...] = (1,)
    if step == "question":
        text = _(
            "📊 <b>New quick poll</b>\n\nSend the question (at most {limit} characters). "
            "Send /cancel to stop."
        ).format(limit=QUESTION_MAX)
    elif step == "title":
        text = _(
            "📋 <b>New survey</b>\n\nWhat is the survey called? Send its title (at most {limit} "
            "characters). Send /cancel to stop."
        ).format(limit=TITLE_MAX)
    elif step == "kind":
        text = _("<b>Question {number}</b>: what kind of answer?").format(number=number)
        for kind in KIND_BUTTONS:
            button(kind_label(kind), "kind", kind)
        sizes = (2,)
    elif step == "text":
        text = _("Send the text of question {number} (at most {limit} characters).").format(
            number=number, limit=QUESTION_MAX
        )
    elif step == "options":
        text = _(
            "Send the answer options, one per line or one per message: from {low} to {high} options, "
            "each at most {limit} characters. Press Done when they are all there."
        ).format(low=OPTIONS_MIN, high=OPTIONS_MAX, limit=OPTION_MAX)
        button(_("Done"), "opt_done")
    elif step == "bounds":
        text = _(
            "Should the number have limits? Send the lowest and the highest allowed, for example "
            "0 100, or press Skip."
        )
        button(_("Skip"), "skip_bounds")
    elif step == "max_length":
        text = _("How long may an answer be? Send the maximum number of characters (1 to {limit}).").format(
            limit=TEXT_MAX
        )
        button(
            ngettext("{count} character", "{count} characters", TEXT_DEFAULT).format(count=TEXT_DEFAULT),
            "maxlen_default",
        )
    elif step == "optional":
        text = _("Must members answer this question?")
        button(_("Required"), "optional", "no")
        button(_("Optional (can be skipped)"), "optional", "yes")
        sizes = (2,)
    elif step == "more":
        text = _("✅ Question {number} is added. Add another one?").format(number=number - 1)
        button(_("➕ Another question"), "more", "add")
        button(_("✅ That's all"), "more", "done")
        sizes = (2,)
    elif step == "multiple":
        text = _("May members choose one answer, or several?")
        button(_("One answer"), "multiple", "no")
        button(_("Several answers"), "multiple", "yes")
        sizes = (2,)
    elif step == "anonymous":
        text = _("Should the answers be anonymous? Then nobody, not even you, can see who answered what.")
        button(_("🙈 Anonymous"), "anon", "yes")
        button(_("👤 With names"), "anon", "no")
        sizes = (2,)
    elif step == "audience":
        text = _("Who should receive it?")
        button(_("Everyone"), "aud", "all")
        button(_("Choose…"), "aud", "choose")
        sizes = (2,)
    elif step == "opens":
        text = _("When should it open?")
        button(_("When I publish it"), "opens", "now")
        button(_("Later…"), "opens", "later")
        sizes = (2,)
    elif step == "closes":
        text = _(
            "When does it close? Send the date and time in your time zone ({zone}), for example "
            "2027-03-14 18:30, 14.03.2027 18:30 or tomorrow 18:00."
        ).format(zone=escape(draft.get("zone", "UTC")))
    else:
        text = _("Remind the members who have not answered yet, before it closes?")
        button(_("24 hours before"), "reminder", "24")
        button(_("2 hours before"), "reminder", "2")
        button(_("48 hours before"), "reminder", "48")
        button(_("No reminder"), "reminder", "off")
        sizes = (2,)
    markup = builder.as_markup() if list(builder.buttons) else None
    if markup is not None:
        builder.adjust(*sizes)
        markup = builder.as_markup()
    await bot.send_message(chat_id, text, reply_markup=markup)


def following(step: str, draft: dict[str, Any]) -> str | None:
    """The step after `step` (None: the dialog is complete)."""
    if draft.get("mode") == "poll":
        order = ("question", "options", "multiple", "anonymous", "closes", "audience")
        index = order.index(step) + 1
        return order[index] if index < len(order) else None
    kind = (draft.get("current") or {}).get("kind")
    after = {
        "title": "kind",
        "kind": "text",
        "text": "options"
        if kind and is_choice(kind)
        else {"number": "bounds", "text": "max_length"}.get(kind or "", "optional"),
        "options": "optional",
        "bounds": "optional",
        "max_length": "optional",
        "optional": "more",
        "anonymous": "audience",
        "audience": "opens",
        "opens": "closes",
        "closes": "reminder",
    }
    return after.get(step)


async def ask_closing(
    bot: Bot, chat_id: int, state: FSMContext, mode: str, survey: Survey, zone: str
) -> None:
    """From /results: a new closing time for an open survey ("extend") or for a copy ("copy")."""
    draft = {"mode": mode, "zone": zone, "survey_id": survey.id, "nonce": secrets.token_hex(4)}
    await state.set_state(None)
    await state.update_data(survey_draft=draft, survey_translation=None)
    await ask(bot, chat_id, state, "closes", draft)


async def options_reply(message: Message, options: list[str]) -> None:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Done"), callback_data=SurveyDialog(action="opt_done"))
    await message.answer(options_so_far(options), reply_markup=builder.as_markup())


async def confirm_time(message: Message, step: str, moment: datetime, zone: str, locale: str) -> None:
    when = escape(format_when(moment, locale, zone, "words"))
    text = (
        _("It opens on {when}. Is that right?")
        if step == "opens"
        else _("It closes on {when}. Is that right?")
    ).format(when=when)
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ Correct"), callback_data=SurveyDialog(action=f"{step}_ok", value=token(moment)))
    builder.button(text=_("✏️ Change"), callback_data=SurveyDialog(action=f"{step}_change"))
    builder.adjust(2)
    await message.answer(text, reply_markup=builder.as_markup())
