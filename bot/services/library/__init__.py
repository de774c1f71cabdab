"""The resource library (issue 18): resources and best practices published by an organization's
staff or for the whole confederation, browsed and searched by members (a real full-text index),
saved, voted useful, suggested by members, and a weekly digest. No Telegram here.

Modules: `rules` (categories, limits, links and files, interests), `search` (folding and the
full-text condition), `resources` (drafts, publishing, what a member may see, pages), `usage`
(views, saves, votes, usage with small counts hidden), `notices` (suggestions and decisions through
the outbox), `digest` (the weekly digest)."""

from bot.services.library.digest import digest_on, set_digest, write_digests
from bot.services.library.notices import (
    DECISION_KIND,
    DIGEST_KIND,
    SUGGESTION_KIND,
    decide,
    suggest,
    tell_staff,
)
from bot.services.library.resources import (
    PAGE_SIZE,
    Page,
    category_counts,
    change,
    create_draft,
    discard,
    edit,
    member_organizations,
    page,
    publish,
    set_translation,
    visible_resource,
    withdraw,
)
from bot.services.library.rules import (
    BODY_MAX,
    CATEGORIES,
    CONTACT_MAX,
    NOTE_MAX,
    STORY_MAX,
    SUMMARY_MAX,
    TITLE_MAX,
    LibraryError,
)
from bot.services.library.usage import Mine, Usage, mine, record_view, set_saved, shown_count, usage, vote

__all__ = [
    "BODY_MAX",
    "CATEGORIES",
    "CONTACT_MAX",
    "DECISION_KIND",
    "DIGEST_KIND",
    "NOTE_MAX",
    "PAGE_SIZE",
    "STORY_MAX",
    "SUGGESTION_KIND",
    "SUMMARY_MAX",
    "TITLE_MAX",
    "LibraryError",
    "Mine",
    "Page",
    "Usage",
    "category_counts",
    "change",
    "create_draft",
    "decide",
    "digest_on",
    "discard",
    "edit",
    "member_organizations",
    "mine",
    "page",
    "publish",
    "record_view",
    "set_digest",
    "set_saved",
    "set_translation",
    "shown_count",
    "suggest",
    "tell_staff",
    "usage",
    "visible_resource",
    "vote",
    "withdraw",
    "write_digests",
]
