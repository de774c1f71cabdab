"""How the coordinator's buttons find the survey they name: through the policy (`ctx.load` checks
the right in the survey's own organization, and finds nothing for a forged, foreign or vanished
id), then the survey's state. Each answers the button itself (stale, or closed) when it returns
None."""

from __future__ import annotations

from aiogram.utils.callback_answer import CallbackAnswer

from bot.context import Context
from bot.i18n import _
from bot.policy import Action
from handlers.fallback import stale_button, toast
from storage.models import Survey, SurveyStatus


async def survey_named(ctx: Context, callback_answer: CallbackAnswer, survey_id: int) -> Survey | None:
    """A survey in any state."""
    survey = await ctx.load(Action.RUN_SURVEYS, Survey, survey_id)
    if survey is None:
        stale_button(callback_answer)
    return survey


async def draft_named(ctx: Context, callback_answer: CallbackAnswer, survey_id: int) -> Survey | None:
    """A survey still a draft (its card's buttons are stale once it is published or discarded)."""
    survey = await ctx.load(Action.RUN_SURVEYS, Survey, survey_id)
    if survey is None or survey.status != SurveyStatus.DRAFT:
        stale_button(callback_answer)
        return None
    return survey


async def published_named(ctx: Context, callback_answer: CallbackAnswer, survey_id: int) -> Survey | None:
    """A survey published (open or closed): results, exports and copies exist only for those."""
    survey = await ctx.load(Action.RUN_SURVEYS, Survey, survey_id)
    if survey is None or survey.status == SurveyStatus.DRAFT:
        stale_button(callback_answer)
        return None
    return survey


async def open_named(ctx: Context, callback_answer: CallbackAnswer, survey_id: int) -> Survey | None:
    """A survey open now (to close early or extend); a closed one gets an alert that says so."""
    survey = await published_named(ctx, callback_answer, survey_id)
    if survey is not None and survey.status != SurveyStatus.OPEN:
        toast(callback_answer, _("This survey is closed."), alert=True)
        return None
    return survey
