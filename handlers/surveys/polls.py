"""Native quick polls, member side: Telegram's `poll_answer` updates (a vote, or its withdrawal, on
any copy of a non-anonymous poll) and `poll` updates (a copy's new totals: all that anonymous polls
tell). Nothing is answered: these updates come from no chat."""

from __future__ import annotations

from typing import Final

from aiogram import Router
from aiogram.types import Poll, PollAnswer

from bot.context import Context
from bot.policy import Action, rights
from bot.services.surveys.polls import record_poll_counts, record_poll_vote
from bot.services.surveys.rules import SurveyError
from handlers.surveys.member_screens import registered
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)


@router.poll_answer(flags=rights(Action.PUBLIC))
async def poll_vote(poll_answer: PollAnswer, ctx: Context) -> None:
    """A vote (or its withdrawal: no options) on any copy of a non-anonymous poll."""
    member = ctx.member
    if member is None or not registered(member):
        return
    try:
        await record_poll_vote(
            ctx.session, poll_answer.poll_id, member.id or 0, poll_answer.option_ids, utcnow()
        )
    except SurveyError:
        return  # not one of our polls, or an option the poll never had


@router.poll(flags=rights(Action.PUBLIC))
async def poll_counts(poll: Poll, ctx: Context) -> None:
    """A copy's new totals: all anonymous polls tell us."""
    try:
        await record_poll_counts(
            ctx.session, poll.id, [option.voter_count for option in poll.options], poll.total_voter_count
        )
    except SurveyError:
        return
