"""Joint positions (advocacy, issue 18). The staff's side: `/newposition` (the composer kit:
`composer`, `compose`), `/mypositions` (`staff`), the organization admins' answers under each
request (`endorse`) and the submission on demand (`submission`). The members' side: `/positions`,
cards, share links `?start=pos_<id>` and names added with consent (`member`).

Rights: every staff handler declares `Action.ADVOCACY` (the organization's admins; super-admins
everywhere); a position or an organization's endorsement named by a button is loaded by the rights
middleware in its own organization (`Loads`). Members' handlers check what a member may see in the
service (`bot.services.positions.visibility`)."""

from __future__ import annotations

from aiogram import Router

from handlers.composer import composer_router
from handlers.positions import compose, endorse, member, staff, submission
from handlers.positions.composer import COMPOSER
from handlers.positions.member import show_linked_position

__all__ = ["get_staff_routers", "member_routers", "show_linked_position"]


def get_staff_routers() -> list[Router]:
    """The kit's handlers first (its translation and edit steps), then the dialog's, the list and
    cards, the submission on demand, and the admins' answers."""
    return [composer_router(COMPOSER), compose.router, staff.router, submission.router, endorse.router]


member_routers: list[Router] = [member.router]
