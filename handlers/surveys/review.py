"""◀ Back (from a question, or from the review before Submit) and ✅ Submit: the answers are final
after that, and a second attempt shows them (attributed surveys) or only says it was done."""

from __future__ import annotations

from typing import Final

from aiogram import Router

from bot.services.surveys.languages import reading_version
from bot.services.surveys.responses import back, submit
from bot.services.surveys.rules import SurveyError
from bot.services.surveys.settled import settled_questions
from bot.views import surveys as view
from handlers.surveys.member_screens import Progress, refused, show, survey_button

router: Final[Router] = Router(name=__name__)


@survey_button(router, "back")
async def went_back(place: Progress, button: view.SurveyAction) -> None:
    """The previous question, with its stored answer shown."""
    questions = await settled_questions(place.turn.ctx.session, place.survey.id or 0)
    expected = place.current.position if place.current is not None else len(questions)
    if expected == 0:
        place.turn.stale()
        return
    try:
        current = await back(place.turn.ctx.session, place.response, place.now, expected)
    except SurveyError as error:
        await refused(place, error)
        return
    await show(place, current)


@survey_button(router, "submit")
async def submitted(place: Progress, button: view.SurveyAction) -> None:
    """Submit under the review (only there: every question answered or skipped)."""
    ctx = place.turn.ctx
    if place.current is not None:
        place.turn.stale()
        return
    try:
        await submit(ctx.session, place.response, place.now)
    except SurveyError as error:
        await refused(place, error)
        return
    await place.turn.state.clear()
    questions = await settled_questions(ctx.session, place.survey.id or 0)
    version = reading_version(
        place.survey, questions, place.member.language, ctx.organization.default_language
    )
    await place.turn.replace(view.thanks(place.survey, version))
