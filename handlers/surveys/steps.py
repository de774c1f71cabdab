"""The steps of the /poll and /newsurvey dialogs, as a table: the state each waits in, whether it
takes typed text, what it asks, its buttons (and so which values each button may carry), and which
step comes next.

The dialog keeps its answers as plain JSON in the FSM data ("survey_draft"), so a restart loses
nothing; the survey is written as a draft only at the end (`dialog.create_draft`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any, Final

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.support import LazyProxy

from bot.i18n import _, __, format_when, ngettext, zone_city
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
from handlers.composer import REACH_CODES, Turn
from handlers.surveys.callbacks import SurveyDialog
from handlers.surveys.states import SurveyDialogStates as States
from handlers.surveys.texts import kind_label
from storage.models import Survey

KIND_BUTTONS: Final = ("single", "multiple", "rating5", "rating10", "number", "text", "yes_no")
REMINDERS: Final = {"24": 1440, "2": 120, "48": 2880, "off": None}
Button = tuple[Any, str, str]  # a label (lazy text), the action, the value


def lazy(make: Callable[..., str], *args: Any) -> Any:
    """A button label computed in the coordinator's language when the question is sent."""
    return LazyProxy(make, *args, enable_cache=False)


def default_length() -> str:
    return ngettext("{count} character", "{count} characters", TEXT_DEFAULT).format(count=TEXT_DEFAULT)


def choices(action: str, *labels: tuple[Any, str]) -> tuple[Button, ...]:
    """A choice's buttons: (label, value) each, all with `action`."""
    return tuple((label, action, value) for label, value in labels)


@dataclass(frozen=True)
class Step:
    """One step: its question (lazy text: "{number}", "{limit}", "{low}", "{high}" and "{zone}"
    are filled in when it is asked) and its buttons, `width` a row. A `typed` step takes text (and
    may offer a button too); the others take only their buttons. `added`: "{number}" is the
    question just added, not the one being written."""

    question: Any
    buttons: tuple[Button, ...] = ()
    width: int = 2
    typed: bool = False
    limit: int = 0
    added: bool = False
    poll_question: Any = None  # what /poll asks instead, when it differs


def question_of(step: str, draft: dict[str, Any]) -> str:
    """The question of `step` in the coordinator's language, for a poll or a survey."""
    found = STEPS[step]
    return str(found.poll_question if draft.get("mode") == "poll" and found.poll_question else found.question)


STEPS: Final[dict[str, Step]] = {  # by the name of the state each waits in
    "question": Step(
        __(
            "📊 <b>New quick poll</b>\n\nSend the question (at most {limit} characters). "
            "Send /cancel to stop."
        ),
        typed=True,
        limit=QUESTION_MAX,
    ),
    "title": Step(
        __(
            "📋 <b>New survey</b>\n\nWhat is the survey called? Send its title (at most {limit} "
            "characters). Send /cancel to stop."
        ),
        typed=True,
        limit=TITLE_MAX,
    ),
    "kind": Step(
        __("<b>Question {number}</b>: what kind of answer?"),
        choices("kind", *((lazy(kind_label, kind), kind) for kind in KIND_BUTTONS)),
    ),
    "text": Step(
        __("Send the text of question {number} (at most {limit} characters)."), typed=True, limit=QUESTION_MAX
    ),
    "options": Step(
        __(
            "Send the answer options, one per line or one per message: from {low} to {high} options, "
            "each at most {limit} characters. Press Done when they are all there."
        ),
        choices("opt_done", (__("Done"), "")),
        typed=True,
        limit=OPTION_MAX,
    ),
    "bounds": Step(
        __(
            "Should the number have limits? Send the lowest and the highest allowed, for example "
            "0 100, or press Skip."
        ),
        choices("skip_bounds", (__("Skip"), "")),
        typed=True,
    ),
    "max_length": Step(
        __("How long may an answer be? Send the maximum number of characters (1 to {limit})."),
        choices("maxlen_default", (lazy(default_length), "")),
        typed=True,
        limit=TEXT_MAX,
    ),
    "optional": Step(
        __("Must members answer this question?"),
        choices("optional", (__("Required"), "no"), (__("Optional (can be skipped)"), "yes")),
    ),
    "more": Step(
        __("✅ Question {number} is added. Add another one?"),
        choices("more", (__("➕ Another question"), "add"), (__("✅ That's all"), "done")),
        added=True,
    ),
    "multiple": Step(
        __("May members choose one answer, or several?"),
        choices("multiple", (__("One answer"), "no"), (__("Several answers"), "yes")),
    ),
    "anonymous": Step(
        __("Should the answers be anonymous? Then nobody, not even you, can see who answered what."),
        choices("anon", (__("🙈 Anonymous"), "yes"), (__("👤 With names"), "no")),
    ),
    "audience": Step(
        __("Who should receive this survey?"),
        choices("aud", (__("Everyone"), "all"), (__("Choose…"), "choose")),
        poll_question=__("Who should receive this poll?"),
    ),
    "opens": Step(  # typed once "Later…" was chosen
        __("When should it open?"),
        choices("opens", (__("When I publish it"), "now"), (__("Later…"), "later")),
        typed=True,
    ),
    "closes": Step(
        __(
            "When does it close? Send the date and time in your time zone ({zone}), for example "
            "2027-03-14 18:30, 14.03.2027 18:30 or tomorrow 18:00."
        ),
        typed=True,
    ),
    "reminder": Step(
        __("Remind the members who have not answered yet, before it closes?"),
        choices(
            "reminder",
            (__("24 hours before"), "24"),
            (__("2 hours before"), "2"),
            (__("48 hours before"), "48"),
            (__("No reminder"), "off"),
        ),
    ),
}
STATES: Final[dict[str, State]] = {name: getattr(States, name) for name in STEPS}
STEP_OF_STATE: Final = {state.state: name for name, state in STATES.items()}
BUTTON_STATES: Final = tuple(STATES[name] for name, step in STEPS.items() if not step.typed)
# Which step each dialog button belongs to (pressed in any other, it is stale): the table's, the
# audience picker's ticks, and the confirmation under an echoed time.
BUTTON_STEPS: Final = {
    **{action: name for name, step in STEPS.items() for _label, action, _value in step.buttons},
    "aud_i": "audience",
    "aud_l": "audience",
    **dict.fromkeys(REACH_CODES, "audience"),
    **{f"{name}_{answer}": name for name in ("opens", "closes") for answer in ("ok", "change")},
}
# The values each choice button may carry (the audience picker checks its own).
BUTTON_VALUES: Final = {
    action: tuple(value for _label, code, value in step.buttons if code == action)
    for step in STEPS.values()
    for _label, action, value in step.buttons
    if value and action != "aud"
}


def following(step: str, draft: dict[str, Any]) -> str | None:
    """The step after `step` (None: the dialog is complete)."""
    if draft.get("mode") == "poll":
        order = ("question", "options", "multiple", "anonymous", "closes", "audience")
        index = order.index(step) + 1
        return order[index] if index < len(order) else None
    kind = (draft.get("current") or {}).get("kind") or ""
    after_text = (
        "options" if is_choice(kind) else {"number": "bounds", "text": "max_length"}.get(kind, "optional")
    )
    after = {
        "title": "kind",
        "kind": "text",
        "text": after_text,
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


async def current_step(state: FSMContext) -> tuple[str | None, dict[str, Any] | None]:
    """The step the dialog is at, and the draft so far (kept in the FSM data)."""
    draft = (await state.get_data()).get("survey_draft")
    draft = dict(draft) if isinstance(draft, dict) and draft.get("zone") else None
    return STEP_OF_STATE.get(await state.get_state() or ""), draft


def offers(step: str, button: SurveyDialog) -> bool:
    """Does `step` offer this button, with this value?"""
    values = BUTTON_VALUES.get(button.action)
    return BUTTON_STEPS.get(button.action) == step and (values is None or button.value in values)


async def ask(turn: Turn, step: str, draft: dict[str, Any]) -> None:
    """Send the question of a step (with its buttons) and wait for the answer in its state."""
    found = STEPS[step]
    await turn.state.set_state(STATES[step])
    builder = InlineKeyboardBuilder()
    for label, action, value in found.buttons:
        builder.button(text=str(label), callback_data=SurveyDialog(action=action, value=value))
    builder.adjust(found.width)
    written = len(draft.get("questions") or [])
    question = question_of(step, draft).format(
        number=written if found.added else written + 1,
        limit=found.limit,
        low=OPTIONS_MIN,
        high=OPTIONS_MAX,
        zone=escape(zone_city(draft.get("zone", "UTC"), turn.ctx.locale)),
    )
    await turn.say(question, builder.as_markup() if found.buttons else None)


async def go_to(turn: Turn, step: str, draft: dict[str, Any]) -> None:
    """Keep the draft and ask `step`."""
    await turn.state.update_data(survey_draft=draft)
    await ask(turn, step, draft)


async def ask_closing(turn: Turn, mode: str, survey: Survey) -> None:
    """From /results or a draft's card: a new closing time for an open survey ("extend") or for
    a draft ("copy"), asked and confirmed by the dialog's closing step."""
    draft = {"mode": mode, "zone": turn.ctx.zone, "survey_id": survey.id, "nonce": secrets.token_hex(4)}
    await turn.state.set_state(None)
    await go_to(turn, "closes", draft)


def token(moment: datetime) -> str:
    """A typed time rides on its Confirm button: an older echo cannot confirm a newer time."""
    return str(int(moment.timestamp()) // 60)


def options_so_far(options: list[str]) -> str:
    lines = [f"{number}. {escape(option)}" for number, option in enumerate(options, start=1)]
    count = ngettext("{count} answer option so far:", "{count} answer options so far:", len(options))
    return "\n".join([count.format(count=len(options)), *lines, "", _("Send more, or press Done.")])


async def options_reply(turn: Turn, options: list[str]) -> None:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Done"), callback_data=SurveyDialog(action="opt_done"))
    await turn.say(options_so_far(options), builder.as_markup())


async def confirm_time(turn: Turn, step: str, moment: datetime, zone: str) -> None:
    """A typed time, echoed in words, with ✅ Correct (carrying it) and ✏️ Change."""
    when = escape(format_when(moment, turn.ctx.locale, zone, "words"))
    text = (
        _("It opens on {when}. Is that right?")
        if step == "opens"
        else _("It closes on {when}. Is that right?")
    )
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ Correct"), callback_data=SurveyDialog(action=f"{step}_ok", value=token(moment)))
    builder.button(text=_("✏️ Change"), callback_data=SurveyDialog(action=f"{step}_change"))
    builder.adjust(2)
    await turn.say(text.format(when=when), builder.as_markup())
