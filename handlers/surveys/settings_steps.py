"""The steps about the survey as a whole in the creation dialogs: its title, anonymity, audience,
opening and closing times and reminder. A typed time is echoed in words and confirmed with a button
that carries it (`steps.token`), so an older echo cannot confirm a newer time.

The closing-time step also serves /results and the draft's card: a new closing time for an open
survey ("extend") or for a draft ("copy"), asked with `steps.ask_closing`.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Final

from aiogram import F, Router

from bot.i18n import _, format_when, zone_city
from bot.policy import Action
from bot.services.dates import DateError, parse_local_datetime
from bot.services.surveys.closing import extend
from bot.services.surveys.drafts import set_copy_closing
from bot.services.surveys.rules import SurveyError
from handlers.composer import REACH_CODES, Turn, date_error_text, dialog_reach, offers_reach
from handlers.composer.audience import audience_choice, audience_summary, show_picker
from handlers.surveys.callbacks import SurveyDialog
from handlers.surveys.composer import show_card
from handlers.surveys.dialog import Draft, advance, answered, hide_buttons, refused, step_button, typed_step
from handlers.surveys.states import SurveyDialogStates as States
from handlers.surveys.steps import REMINDERS, ask, confirm_time, go_to, question_of, token
from handlers.surveys.texts import ANY_TEXT, TITLE_TEXT, error_text, gone
from storage.models import Survey
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")


# -- typed ----------------------------------------------------------------------------------------


@typed_step(router, TITLE_TEXT, States.title)
async def title_typed(turn: Turn, step: str, draft: Draft, text: str) -> None:
    draft["title"] = text
    await advance(turn, step, draft)


@typed_step(router, ANY_TEXT, States.opens, States.closes)
async def time_typed(turn: Turn, step: str, draft: Draft, text: str) -> None:
    """A time, read in the coordinator's zone, then echoed in words to be confirmed (the opening
    time only once "Later…" was chosen: before that, the step offers buttons)."""
    if step == "opens" and not draft.get("opens_later"):
        await turn.say(_("Please choose with the buttons above, or send /cancel to stop."))
        return
    try:
        moment = parse_local_datetime(text, draft["zone"], utcnow(), language=turn.ctx.locale).utc
    except DateError as error:
        await turn.say(date_error_text(error))
        return
    draft["pending"] = moment.isoformat()
    await turn.state.update_data(survey_draft=draft)
    await confirm_time(turn, step, moment, draft["zone"])


# -- buttons --------------------------------------------------------------------------------------


@step_button(router, "anon")
async def anonymity_chosen(turn: Turn, step: str, draft: Draft, button: SurveyDialog) -> None:
    draft["anonymous"] = button.value == "yes"
    await answered(turn, step, draft)


@step_button(router, "reminder")
async def reminder_chosen(turn: Turn, step: str, draft: Draft, button: SurveyDialog) -> None:
    draft["reminder"] = REMINDERS[button.value]
    await answered(turn, step, draft)


@step_button(router, "aud", "aud_i", "aud_l", *REACH_CODES)
async def audience_button(turn: Turn, step: str, draft: Draft, button: SurveyDialog) -> None:
    """Everyone, or ticking interests and languages (the picker shared with the other dialogs; for
    super-admins, the organizations reached too), then Done."""
    if button.action in REACH_CODES:
        widened = await dialog_reach(
            turn, dict(draft.get("audience") or {}), button.action, button.value, SurveyDialog
        )
        if widened is None:
            turn.stale()
            return
        draft["audience"] = widened
        await turn.state.update_data(survey_draft=draft)
        return
    choice = audience_choice(dict(draft.get("audience") or {}), button.action, button.value)
    if choice is None:
        turn.stale()
        return
    outcome, draft["audience"] = choice
    if outcome == "done":
        await answered(turn, step, draft, audience_summary(draft["audience"]))
        return
    await turn.state.update_data(survey_draft=draft)
    if turn.message is not None:
        question = question_of(step, draft)
        hint = _("Tick the interests and languages of the members to ask, then press Done.")
        reach = await offers_reach(turn.ctx)
        await show_picker(turn.message, outcome, draft["audience"], question, hint, SurveyDialog, reach)


@step_button(router, "opens")
async def opening_chosen(turn: Turn, step: str, draft: Draft, button: SurveyDialog) -> None:
    """When it is published, or later (a time typed next)."""
    if button.value != "later":
        draft["opens_at"] = None
        await answered(turn, step, draft)
        return
    await hide_buttons(turn)
    draft["opens_later"] = True
    await turn.state.update_data(survey_draft=draft)
    await turn.say(
        _("When should it open? Send the date and time in your time zone ({zone}).").format(
            zone=escape(zone_city(draft["zone"]))
        )
    )


@step_button(router, "opens_change", "closes_change")
async def time_change(turn: Turn, step: str, draft: Draft, button: SurveyDialog) -> None:
    """✏️ Change under an echoed time (opening or closing): the question again."""
    await hide_buttons(turn)
    draft.pop("pending", None)
    await go_to(turn, step, draft)


@step_button(router, "opens_ok", "closes_ok")
async def time_confirmed(turn: Turn, step: str, draft: Draft, button: SurveyDialog) -> None:
    """✅ Correct under an echoed time, if it confirms the time typed last (an older echo is a
    stale button). A closing time is for the dialog, for extending an open survey, or for a copy."""
    pending = draft.pop("pending", None)
    if not pending or token(datetime.fromisoformat(pending)) != button.value:
        turn.stale()
        return
    await hide_buttons(turn)
    moment, now = datetime.fromisoformat(pending), utcnow()
    if moment <= now and step == "opens":
        await turn.say(date_error_text(DateError("past")))
        await ask(turn, step, draft)
        return
    opens_at = draft.get("opens_at")
    if step == "closes" and (moment <= now or (opens_at and moment <= datetime.fromisoformat(opens_at))):
        await turn.say(error_text(SurveyError("bad_times")))
        await ask(turn, step, draft)
        return
    if draft.get("mode") not in ("poll", "survey"):
        await _new_closing(turn, draft, moment, now)
        return
    draft[f"{step}_at"] = moment.isoformat()
    await advance(turn, step, draft)


async def _new_closing(turn: Turn, draft: Draft, moment: datetime, now: datetime) -> None:
    """/results: an open survey now closes later ("extend"), or a copy gets its closing time."""
    ctx = turn.ctx
    survey = await ctx.load(Action.RUN_SURVEYS, Survey, int(draft.get("survey_id") or 0))
    if survey is None:
        await turn.state.clear()
        await turn.say(gone())
        return
    mode, zone = draft.get("mode"), draft["zone"]
    try:
        await (extend if mode == "extend" else set_copy_closing)(ctx.session, survey, moment, now)
    except SurveyError as error:
        await refused(turn, draft, error)
        return
    await turn.state.clear()
    if mode != "extend":
        await show_card(turn, survey, zone)
        return
    when = escape(format_when(moment, ctx.locale, zone, "words"))
    await turn.say(_("🕒 Survey #{id} now closes on {when}.").format(id=survey.id, when=when))
