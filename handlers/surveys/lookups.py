"""How the coordinator's /results buttons find the survey they name: the rights middleware loads it
(`ON_SURVEY`: the right checked in the survey's own organization; nothing for a forged, foreign or
vanished id) and checks that its state allows the button's action, else the button is stale. A
closed survey's Close and Extend get an alert that says so instead (`closed`). The draft card's
buttons load their survey through the composer kit (`composer.SurveyComposer.load`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from aiogram import F, Router

from bot.i18n import _
from bot.policy import Action, Loads, rights
from bot.services.audience import is_wide
from handlers.composer import Turn
from handlers.surveys.buttons import register_button
from handlers.surveys.callbacks import BREAKDOWN_CODES, SurveyManage
from storage.models import Survey, SurveyStatus

Accepts = Callable[[Survey, SurveyManage], bool]
ResultsButton = Callable[[Turn, Survey, SurveyManage], Awaitable[None]]


def any_state(survey: Survey, button: SurveyManage) -> bool:
    return True


def published(survey: Survey, button: SurveyManage) -> bool:
    """Open or closed: results, exports and copies exist only for those."""
    return survey.status != SurveyStatus.DRAFT


def broken_down(survey: Survey, button: SurveyManage) -> bool:
    """Breakdowns exist for published surveys with names (not a native poll), by a known group (by
    organization: of a survey reaching several)."""
    return (
        published(survey, button)
        and not survey.anonymous
        and not survey.native_poll
        and (button.value in BREAKDOWN_CODES)
        and (button.value != "org" or is_wide(survey.audience))
    )


# What each /results button accepts; any other action is a stale (or forged) button.
ACCEPTS: Final[dict[str, Accepts]] = {
    "open": any_state,  # a draft shows its card
    "by": broken_down,
    **dict.fromkeys(("texts", "csv", "xlsx", "duplicate", "close", "close_yes", "keep", "extend"), published),
}
ON_SURVEY: Final = rights(
    Action.RUN_SURVEYS,
    loads=Loads(
        Survey, "survey", accepts=lambda row, data: ACCEPTS.get(data.action, lambda *_: False)(row, data)
    ),
)


def results_button(on: Router, action: str) -> Callable[[ResultsButton], ResultsButton]:
    """Register `handler(turn, survey, button)` for a /results button about one survey (`ON_SURVEY`
    loads it, or answers the button as stale)."""

    def register(handler: ResultsButton) -> ResultsButton:
        async def run(turn: Turn, button: SurveyManage, data: dict[str, Any]) -> None:
            await handler(turn, data["survey"], button)

        register_button(on, SurveyManage.filter(F.action == action), ON_SURVEY, handler, run)
        return handler

    return register


def closed(turn: Turn, survey: Survey) -> bool:
    """A survey no longer open (to close early or extend): an alert says so."""
    if survey.status == SurveyStatus.OPEN:
        return False
    turn.toast(_("This survey is closed."), alert=True)
    return True
