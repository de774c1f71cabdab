"""What membership rules share: the refusal, the outcomes of a join, the outbox kinds of its
notices, the audit codes, and an organization's texts in a member's language (no I/O)."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from bot.services.refusal import Refusal

# Outbox kinds: the request to each admin (ref_id = its "join.requested" audit entry), the answer to
# the member (ref_id = the "join.approved" or "join.declined" entry); the payload names the request.
REQUEST_KIND: Final = "join_request"
DECIDED_KIND: Final = "join_decision"

# Audit codes (the statistics count joins and leaves from the first two: keep them stable).
JOINED: Final = "membership.joined"  # details {}
LEFT: Final = "membership.left"  # details {"joined_at": <ISO time of the membership's creation>}
REQUESTED: Final = "join.requested"
APPROVED: Final = "join.approved"
DECLINED: Final = "join.declined"


class MembershipError(Refusal):
    """A join, leave or decision that is not allowed. Reasons: "not_found" (no such organization,
    archived, or a forged id), "suspended", "invite_only", "not_registered", "not_member",
    "last_admin", "no_request", "not_allowed"."""


class Via(StrEnum):
    """Where a join comes from: the directory (listed organizations only, never invite-only ones)
    or the organization's invite link."""

    DIRECTORY = "directory"
    INVITE = "invite"


class JoinOutcome(StrEnum):
    JOINED = "joined"
    ALREADY_MEMBER = "already_member"
    REQUESTED = "requested"  # a request for the organization's admins (approval policy)
    ALREADY_REQUESTED = "already_requested"
