"""A member's rights over their data, across every capability: a copy of everything stored
(/mydata) and erasure (/forget)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.calendar_feed import disable_feed
from bot.services.events import member_answers, withdraw_member
from bot.services.members import export_member_data, forget_member
from bot.services.memberships import cancel_member_requests, leave_everywhere, member_requests
from bot.services.positions.signatures import erase_member_signatures, member_signatures
from bot.services.surveys import erase_member_surveys, member_survey_data
from bot.services.trainings import erase_member, member_signups
from storage.models import Member


async def everything_about(session: AsyncSession, member: Member) -> dict[str, Any]:
    """The profile, event answers, attributed survey answers and poll votes, training sign-ups,
    join requests, names added under joint positions."""
    data = await export_member_data(session, member)
    member_id = member.id or 0
    data["event_answers"] = await member_answers(session, member_id)
    data["surveys"] = await member_survey_data(session, member_id)
    data["training_signups"] = await member_signups(session, member_id)
    data["join_requests"] = await member_requests(session, member_id)
    data["position_signatures"] = await member_signatures(session, member_id)
    return data


async def erase_everything(session: AsyncSession, member: Member, now: datetime, by: str = "self") -> None:
    """Seats go to the next in line; anonymous survey answers stay (they are no one's); the member
    row keeps only what aggregate counts need. `by`: "self" (/forget) or "retention"."""
    member_id = member.id or 0
    await erase_member(session, member_id, now)
    await withdraw_member(session, member_id, now)
    await erase_member_surveys(session, member_id)
    await erase_member_signatures(session, member_id)
    await disable_feed(session, member_id)
    await leave_everywhere(session, member)  # their waiting messages cancelled
    await cancel_member_requests(session, member_id, now)
    await forget_member(session, member, by)
