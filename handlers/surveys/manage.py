"""Managing a published survey from its results: ⏹ close it early (after a confirmation), 🕒 extend
it (a new closing time, asked like the dialog's), 📑 duplicate it into a new draft. Close and Extend
of a survey closed meanwhile get an alert that says so (`lookups.closed`)."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import Router
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import _
from bot.services.surveys.building import duplicate
from bot.services.surveys.closing import close_survey
from bot.services.surveys.rules import SurveyError
from handlers.composer import Turn
from handlers.surveys.callbacks import SurveyManage
from handlers.surveys.lookups import closed, results_button
from handlers.surveys.steps import ask_closing
from handlers.surveys.texts import survey_title
from handlers.surveys.views import replace_text, show_results
from storage.models import Survey
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)


@results_button(router, "close")
async def close_asked(turn: Turn, survey: Survey, button: SurveyManage) -> None:
    """Close now? (Yes / No)"""
    if closed(turn, survey):
        return
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("⏹ Yes, close it"), callback_data=SurveyManage(action="close_yes", id=survey.id or 0)
    )
    builder.button(text=_("← No, keep it open"), callback_data=SurveyManage(action="keep", id=survey.id or 0))
    builder.adjust(1)
    title = escape(survey_title(survey, turn.ctx.locale, turn.ctx.organization))
    text = _("Close “{title}” now? Members can no longer answer; the results stay.").format(title=title)
    await turn.say(text, builder.as_markup())


@results_button(router, "keep")
async def kept_open(turn: Turn, survey: Survey, button: SurveyManage) -> None:
    if not closed(turn, survey) and turn.message is not None:
        await replace_text(turn.message, _("Nothing was changed."))


@results_button(router, "close_yes")
async def close_confirmed(turn: Turn, survey: Survey, button: SurveyManage) -> None:
    """Closed: members can no longer answer; the final results follow."""
    if closed(turn, survey):
        return
    try:
        await close_survey(turn.ctx.session, survey, utcnow())
    except SurveyError:
        await turn.ctx.session.rollback()
        await turn.say(_("This survey is closed."))
        return
    await turn.replace(_("🔒 Survey #{id} is closed. The final results:").format(id=survey.id))
    await show_results(turn, survey)
    if turn.delivery is not None:
        turn.delivery.wake()  # a native poll's copies are stopped through the outbox ("poll_stop")


@results_button(router, "extend")
async def extend_asked(turn: Turn, survey: Survey, button: SurveyManage) -> None:
    """The new closing time is asked (and confirmed) by the dialog's closing step."""
    if not closed(turn, survey):
        await ask_closing(turn, "extend", survey)


@results_button(router, "duplicate")
async def duplicate_survey(turn: Turn, survey: Survey, button: SurveyManage) -> None:
    """A new draft with the same settings and questions; its closing time is asked next."""
    member_id = turn.ctx.member.id if turn.ctx.member else None
    copy = await duplicate(turn.ctx.session, survey, utcnow(), member_id)
    await turn.say(_("📑 A copy is ready as draft #{id}.").format(id=copy.id))
    await ask_closing(turn, "copy", copy)
