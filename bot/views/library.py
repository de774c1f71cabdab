"""The library's texts, shared by the handlers and the delivery engine: category labels, a
resource's card in the reader's language, one line of a result list, the usage line the staff see,
and the refusals of `LibraryError`. User-written text is always escaped."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram.utils.i18n import lazy_gettext as __

from bot.i18n import _, language_name, language_names, ngettext
from bot.services.library import CATEGORIES, LibraryError, Usage, shown_count
from bot.services.text import telegram_length
from storage.models import Resource, ResourceKind, ResourceScope

CATEGORY_LABELS: Final = {
    "funding_grants": __("💶 Funding & grants"),
    "legal_documents": __("⚖️ Legal & documents"),
    "jobs_business": __("💼 Jobs & business"),
    "training_material": __("🎓 Training material"),
    "policy_advocacy": __("📢 Policy & advocacy"),
    "health": __("🩺 Health"),
    "culture_language": __("🎭 Culture & language"),
    "running_association": __("🏛 Running an association"),
}
assert set(CATEGORY_LABELS) == set(CATEGORIES)
SNIPPET: Final = 90
LINK_SHOWN: Final = 80  # a long link is shown cut (the whole address stays behind it)
MESSAGE_MAX: Final = 4096


def card_messages(
    resource: Resource, language: str, publisher: str, share_link: str | None, tail: str = "", head: str = ""
) -> list[str]:
    """The card (between `head` and `tail`) as one message, or, when a long text would take it
    over Telegram's limit (counted on the HTML: a little more than Telegram counts), the card
    without the text, then the text on its own with `tail`, so the buttons stay on the last one."""
    whole = head + card_text(resource, language, publisher, share_link) + tail
    if telegram_length(whole) <= MESSAGE_MAX or not resource.body:
        return [whole]
    short = head + card_text(resource, language, publisher, share_link, with_body=False)
    return [short, escape(resource.body) + tail]


def category_label(category: str | None) -> str:
    return str(CATEGORY_LABELS[category]) if category in CATEGORY_LABELS else _("Other")


def title_in(resource: Resource, language: str) -> str:
    entry = (resource.translations or {}).get(language) or {}
    return str(entry.get("title") or resource.title)


def summary_in(resource: Resource, language: str) -> str:
    entry = (resource.translations or {}).get(language) or {}
    return str(entry.get("summary") or resource.summary or "")


def readable_in(resource: Resource, language: str) -> bool:
    return f" {language} " in (resource.search_langs or "")


def list_line(number: int, resource: Resource, language: str) -> str:
    """ "3. <b>Title</b> — the summary's beginning (🌐 Русский)": the language marked when the
    member cannot read it in theirs."""
    icon = "💡" if resource.kind == ResourceKind.BEST_PRACTICE else "📄"
    line = f"{number}. {icon} <b>{escape(title_in(resource, language))}</b>"
    summary = summary_in(resource, language)
    if summary:
        short = summary if len(summary) <= SNIPPET else summary[: SNIPPET - 1].rstrip() + "…"
        line += " — " + escape(short.replace("\n", " "))
    if not readable_in(resource, language):
        line += f" (🌐 {escape(language_name(resource.language))})"
    return line


def _count(value: int, min_group: int) -> str:
    shown = shown_count(value, min_group)
    return str(shown) if shown is not None else _("fewer than {count}").format(count=min_group)


def usage_line(usage: Usage, min_group: int) -> str:
    return _("📊 Opened by {views} · saved by {saves} · 👍 {useful} · 👎 {not_useful}").format(
        views=_count(usage.views, min_group),
        saves=_count(usage.saves, min_group),
        useful=_count(usage.useful, min_group),
        not_useful=_count(usage.not_useful, min_group),
    )


def card_text(
    resource: Resource,
    language: str,
    publisher: str,
    share_link: str | None = None,
    *,
    with_body: bool = True,
) -> str:
    """The whole card in `language` (the translation of title and summary where there is one)."""
    kind = _("💡 Best practice") if resource.kind == ResourceKind.BEST_PRACTICE else _("📄 Resource")
    where = (
        _("🌍 The whole confederation")
        if resource.scope == ResourceScope.CONFEDERATION
        else escape(publisher)
    )
    lines = [
        f"<b>{escape(title_in(resource, language))}</b>",
        f"{kind} · {category_label(resource.category)} · {where}",
    ]
    summary = summary_in(resource, language)
    if summary:
        lines += ["", escape(summary)]
    if resource.kind == ResourceKind.BEST_PRACTICE:
        for label, value in (
            (_("The problem"), resource.problem),
            (_("What we did"), resource.what_we_did),
            (_("The result"), resource.result),
            (_("Contact"), resource.contact),
        ):
            if value:
                lines += ["", f"<b>{label}</b>", escape(value)]
    if resource.body and with_body:
        lines += ["", escape(resource.body)]
    if resource.url:
        shown = resource.url if len(resource.url) <= LINK_SHOWN else resource.url[: LINK_SHOWN - 1] + "…"
        lines += ["", f'🔗 <a href="{escape(resource.url, quote=True)}">{escape(shown)}</a>']
    lines += [
        "",
        _("Available in: {languages}").format(
            languages=escape(language_names(resource.languages or [resource.language]))
        ),
    ]
    if resource.tags:
        lines.append(_("Tags: {tags}").format(tags=escape(", ".join(resource.tags))))
    if not readable_in(resource, language):
        lines.append(_("🌐 Written in {language}").format(language=escape(language_name(resource.language))))
    if share_link:
        lines.append(_("Share: {link}").format(link=escape(share_link)))
    return "\n".join(lines)


def results_header(total: int, offset: int, shown: int) -> str:
    if total == 0:
        return _("Nothing found.")
    return ngettext(
        "{first}–{last} of {total} resource", "{first}–{last} of {total} resources", total
    ).format(first=offset + 1, last=offset + shown, total=total)


def refusal(error: LibraryError) -> str:
    """A `LibraryError` in the reader's language."""
    texts = {
        "empty": _("That looks empty. Please type your answer."),
        "too_long": _("That is too long: {limit} characters at most.").format(limit=error.limit),
        "bad_link": _(
            "That link does not look right. Please send a full address, like https://example.org/guide."
        ),
        "not_http": _("Only web links (http:// or https://) can be shared. Please send another link."),
        "bad_file": _(
            "Only documents (PDF, Word…) and photos can be shared, not videos, stickers or voice messages."
        ),
        "file_too_big": _("That file is too big: {limit} MB at most.").format(limit=error.limit),
        "bad_category": _("Please choose a category with the buttons."),
        "bad_tag": _(
            "Tags are short words separated by commas: at most 10, each up to {limit} characters."
        ).format(limit=error.limit),
    }
    return texts.get(error.reason, _("This button is no longer active."))
