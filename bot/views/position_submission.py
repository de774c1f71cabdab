"""The words that go with a joint position's submission files: the PDF's caption (in the reader's
language; the files themselves are in the submission's)."""

from __future__ import annotations

from html import escape

from bot.i18n import _, language_name, ngettext
from bot.services.positions.document import Submission

CAPTION_MAX = 1024  # Bot API: a document's caption
TITLE_MAX = 300  # the title is cut before escaping, so that no entity is cut in the middle


def caption(submission: Submission, closed: bool) -> str:
    """ "📄 Submission: ‹title›", who endorsed and signed it, and the files' language."""
    title = (
        submission.title if len(submission.title) <= TITLE_MAX else submission.title[: TITLE_MAX - 1] + "…"
    )
    organizations = len(submission.organizations)
    signed = len(submission.signatures)
    lines = [
        (_("📄 <b>The deadline has passed: the submission</b>") if closed else _("📄 <b>The submission</b>")),
        f"<b>{escape(title)}</b>",
        ngettext("✅ Endorsed by {n} organization", "✅ Endorsed by {n} organizations", organizations).format(
            n=organizations
        ),
        ngettext("✍️ {n} signature", "✍️ {n} signatures", signed).format(n=signed),
        _("The PDF is in {language}; the CSV and the Excel file (XLSX) follow.").format(
            language=language_name(submission.language)
        ),
    ]
    return "\n".join(lines)[:CAPTION_MAX]
