"""Joint positions (issue 18): members' `/positions`, cards, share links `?start=pos_<id>` and
their names added with consent (`member`). Members' handlers check what a member may see in the
service (`bot.services.positions.visibility`)."""

from __future__ import annotations

from handlers.positions import member
from handlers.positions.member import show_linked_position

__all__ = ["member_routers", "show_linked_position"]

member_routers = [member.router]
