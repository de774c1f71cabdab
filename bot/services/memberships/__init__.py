"""Memberships: joining organizations (open, on approval, by invitation), join requests and their
decisions, leaving, invite codes, and the directory. Nothing here sends and nothing imports
aiogram: the notices are outbox rows written in the caller's transaction.

The modules, by what they hold:
- `rules`: the refusal, outcomes, outbox kinds, audit codes, an organization's translated texts;
- `joining`: join (or request), memberships and requests, withdrawing a request;
- `requests`: telling the admins, their decision, telling the member;
- `leaving`: leaving (the organization's waiting messages cancelled), leaving everywhere at /forget;
- `invites`: the organization of an invite code, slowing down wrong codes;
- `directory`: listing, filters and search, a card's facts, the member's own organizations.
"""

from __future__ import annotations

from bot.services.memberships.directory import (
    PAGE_SIZE,
    QUERY_MAX,
    DirectoryFilter,
    Facts,
    Listing,
    Standing,
    administers_any,
    directory_page,
    facets,
    facts,
    listed_by_slug,
    memberships_of,
    rounded_members,
    standing,
)
from bot.services.memberships.invites import by_invite_code, recent_failures, wait_seconds
from bot.services.memberships.joining import (
    cancel_member_requests,
    cancel_request,
    join,
    member_requests,
    membership_in,
)
from bot.services.memberships.leaving import (
    is_last_admin,
    leave,
    leave_everywhere,
    membership_count,
    organization_rows,
)
from bot.services.memberships.requests import Decision, admin_addressees, decide, join_or_ask, notify_admins
from bot.services.memberships.rules import (
    APPROVED,
    DECIDED_KIND,
    DECLINED,
    JOINED,
    LEFT,
    REQUEST_KIND,
    REQUESTED,
    JoinOutcome,
    MembershipError,
    Via,
)
from bot.services.organizations import organization_text

__all__ = [
    "APPROVED",
    "DECIDED_KIND",
    "DECLINED",
    "JOINED",
    "LEFT",
    "PAGE_SIZE",
    "QUERY_MAX",
    "REQUESTED",
    "REQUEST_KIND",
    "Decision",
    "DirectoryFilter",
    "Facts",
    "JoinOutcome",
    "Listing",
    "MembershipError",
    "Standing",
    "Via",
    "admin_addressees",
    "administers_any",
    "by_invite_code",
    "cancel_member_requests",
    "cancel_request",
    "decide",
    "directory_page",
    "facets",
    "facts",
    "is_last_admin",
    "join",
    "join_or_ask",
    "leave",
    "leave_everywhere",
    "listed_by_slug",
    "member_requests",
    "membership_count",
    "membership_in",
    "memberships_of",
    "notify_admins",
    "organization_rows",
    "organization_text",
    "recent_failures",
    "rounded_members",
    "standing",
    "wait_seconds",
]
