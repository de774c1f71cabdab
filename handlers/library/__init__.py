"""The resource library (issue 18): `/newresource` for the staff (the composer kit: `composer`,
`compose`; after publishing: `edit`), `/resources` and `/saved` for members (`browse`, `card`),
`/suggest` and the staff's decisions (`suggest`), the digest switch of /profile
(`digest_switch`). Rights: the staff's handlers declare `Action.MANAGE_RESOURCES` (coordinators,
organizers and admins of the organization; super-admins everywhere) and load the draft, the
resource or the suggestion through `ctx.load`; the members' handlers check what a member may see
in the service (`visible_resource`)."""

from __future__ import annotations

from aiogram import Router

from handlers.composer import composer_router
from handlers.library import browse, card, compose, digest_switch, edit, suggest
from handlers.library.card import show_linked_resource
from handlers.library.composer import COMPOSER

__all__ = ["get_staff_routers", "member_routers", "show_linked_resource"]


def get_staff_routers() -> list[Router]:
    """The kit's handlers first (its translation and edit steps), then the dialog's, the changes
    after publishing, then the decisions on suggestions."""
    return [composer_router(COMPOSER), compose.router, edit.router, suggest.router]


member_routers = [browse.router, card.router, digest_switch.router]
