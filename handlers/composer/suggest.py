"""💡 Suggest translations: with a translation server configured (`TRANSLATE_URL`, see
`bot.services.translate`), the language list offers to fill every language the draft lacks with
the server's drafts, saved through the capability's own `save_translation`, so every composer gets
it at once.

Honest about what they are: the languages saved this way are *machine suggestions* (listed in the
FSM data, `MARKS_KEY`, per composer and draft) until the organizer types that language through the
usual flow (the typed text replaces the suggestion) or presses "✅ I checked them"; the language
list shows them with 💡, and the kit names them again after each typed translation. A translation
the organizer typed is never overwritten (only languages without one are asked for).

Each suggestion is checked like a typed text: not empty, within the item's Telegram limit (for a
text with formatting, the length once Telegram's HTML is parsed, by `bot.telegram_html`, a port
of Telegram's own that the emulator uses too; unreadable HTML is refused), then the capability's own
checks (`translation_answer`, `save_translation`). A required item refused leaves its language
out, an optional one (a description) is left to the original; the organizer is told which and why.
When the server is unreachable, answers an error or takes too long: a clear message, and the draft
keeps what it had (languages saved before the failure stay, marked as suggestions).
"""

from __future__ import annotations

from typing import Any, Final

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import _, language_name, language_names, languages_first
from bot.services.events import telegram_length
from bot.services.translate import TranslateError, Translator, server_code
from bot.telegram_html import EntityParseError, parse_html
from handlers.composer.spec import Composer, Item, Turn
from handlers.composer.text import is_blank

SUGGEST: Final = "suggest"  # the button's action code (every composer's callback data)
CHECKED: Final = "sg_ok"  # "✅ I checked them": the suggestions are the organizer's now
MARKS_KEY: Final = "composer_suggested"  # FSM data: {"<composer>:<id>": [machine suggestions]}


class Unusable(ValueError):
    """A suggestion that cannot be kept; `text` says why, in the organizer's language."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def suggest_button(spec: Composer[Any], ident: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=_("💡 Suggest translations"), callback_data=spec.button(SUGGEST, ident).pack()
    )


def missing_languages(spec: Composer[Any], turn: Turn, draft: Any) -> list[str]:
    """The shipped languages the draft has no translation in (the organization's own first)."""
    done, source = set(spec.translated(draft)), spec.source_language(draft)
    first = languages_first(turn.ctx.organization.default_language)
    return [code for code in first if code != source and code not in done]


def offers_suggestions(spec: Composer[Any], turn: Turn, draft: Any) -> bool:
    """Whether the button belongs under the language list: a server is set, a language is missing."""
    return turn.ctx.translator is not None and bool(missing_languages(spec, turn, draft))


# -- the marks: which languages are still machine suggestions -------------------------------------


def _mark_key(spec: Composer[Any], draft: Any) -> str:
    return f"{spec.name}:{spec.ident(draft)}"


async def suggested(spec: Composer[Any], turn: Turn, draft: Any) -> list[str]:
    """The draft's languages that are machine suggestions nobody checked yet."""
    marks = (await turn.state.get_data()).get(MARKS_KEY)
    languages = marks.get(_mark_key(spec, draft)) if isinstance(marks, dict) else None
    translated = set(spec.translated(draft))
    return [code for code in languages or [] if code in translated]


async def _keep_marks(spec: Composer[Any], turn: Turn, draft: Any, languages: list[str]) -> None:
    marks = (await turn.state.get_data()).get(MARKS_KEY)
    marks = dict(marks) if isinstance(marks, dict) else {}
    key = _mark_key(spec, draft)
    if languages:
        marks[key] = languages
    else:
        marks.pop(key, None)
    await turn.state.update_data({MARKS_KEY: marks})


async def translation_typed(spec: Composer[Any], turn: Turn, draft: Any, language: str) -> None:
    """A translation the organizer typed replaced a suggestion: it is no longer one. The languages
    still suggested are named again."""
    before = await suggested(spec, turn, draft)
    if language not in before:
        return
    left = [code for code in before if code != language]
    await _keep_marks(spec, turn, draft, left)
    if left:
        still = _("💡 Still machine suggestions, not checked: {languages}.")
        await turn.say(still.format(languages=language_names(left)))


async def checked(spec: Composer[Any], turn: Turn, draft: Any, value: str = "") -> bool:
    """ "✅ I checked them": the suggestions count as the organizer's translations."""
    if not await suggested(spec, turn, draft):
        return False
    await _keep_marks(spec, turn, draft, [])
    if turn.message is not None and turn.message.reply_markup is not None:
        await turn.message.edit_reply_markup(reply_markup=None)
    turn.toast(_("✅ The suggestions are now your translations."))
    return True


# -- asking the server ---------------------------------------------------------------------------


def _usable(suggestion: str, item: Item) -> str:
    """The suggestion as it will be kept, or `Unusable`: checked like a typed text."""
    plain = suggestion
    if item.rule.keep_formatting:
        try:
            plain, _entities = parse_html(suggestion)
        except EntityParseError:
            raise Unusable(_("The server's formatting is not valid for Telegram.")) from None
    if is_blank(plain):
        raise Unusable(_("The server's answer is empty."))
    length = telegram_length(plain.strip())
    if length > item.rule.limit:
        raise Unusable(
            _("It is too long for Telegram ({length} characters, at most {limit}).").format(
                length=length, limit=item.rule.limit
            )
        )
    return suggestion.strip()


async def _ask_server(
    translator: Translator, items: list[Item], originals: dict[str, str | None], codes: tuple[str, str]
) -> dict[str, str]:
    """The server's suggestion of each item that has an original (HTML items as HTML)."""
    found: dict[str, str] = {}
    for html in (True, False):
        group = [
            item
            for item in items
            if item.rule.keep_formatting == html and not is_blank(originals.get(item.key))
        ]
        texts = [str(originals[item.key]) for item in group]
        translated = await translator.translate(texts, *codes, html=html)
        found.update((item.key, text) for item, text in zip(group, translated, strict=True))
    return found


async def _suggest_one(
    spec: Composer[Any], turn: Turn, draft: Any, language: str, codes: tuple[str, str], notes: list[str]
) -> bool:
    """One language: asked, checked and saved (True), or left out with a note saying why."""
    translator = turn.ctx.translator
    assert translator is not None  # checked by `suggest`
    items, originals = spec.items(draft, language), spec.originals(draft)
    found = await _ask_server(translator, items, originals, codes)
    answers: dict[str, str | None] = {}
    name = language_name(language)
    for item in items:
        try:
            if item.key not in found:
                raise Unusable(_("There is nothing to translate."))
            text = _usable(found[item.key], item)
        except Unusable as refused:
            if not item.rule.optional:
                notes.append(not_suggested(name, refused.text))
                return False
            notes.append(
                _("{language}: one optional text stays in the original. {reason}").format(
                    language=name, reason=refused.text
                )
            )
            answers[item.key] = None
            continue
        added = spec.translation_answer(draft, language, answers, item, text)
        if isinstance(added, str):
            notes.append(not_suggested(name, added))
            return False
        answers[item.key] = added.get(item.key, text)
    error = await spec.save_translation(turn, draft, language, answers)
    if error is not None:
        notes.append(not_suggested(name, error))
        return False
    return True


def not_suggested(language: str, reason: str) -> str:
    return _("{language}: not suggested. {reason}").format(language=language, reason=reason)


def unreachable_text() -> str:
    return _(
        "⚠️ The translation server did not answer (or answered with an error). Nothing was changed: "
        "try again later, or add the translations yourself."
    )


async def suggest(spec: Composer[Any], turn: Turn, draft: Any, value: str = "") -> bool:
    """ "💡 Suggest translations": every missing language the server offers, saved as a
    suggestion. False when the feature is off (a forged button)."""
    translator = turn.ctx.translator
    if translator is None:
        return False
    missing = missing_languages(spec, turn, draft)
    if not missing:
        turn.toast(_("Every language already has a translation."))
        return True
    try:
        offered = await translator.languages()
    except TranslateError:
        await turn.say(unreachable_text())
        return True
    source = server_code(spec.source_language(draft), offered)
    if source is None:
        await turn.say(
            _("The translation server cannot translate from {language}.").format(
                language=language_name(spec.source_language(draft))
            )
        )
        return True
    saved, notes, unknown = [], [], []
    for language in missing:
        target = server_code(language, offered[source])
        if target is None:
            unknown.append(language)
            continue
        try:
            kept = await _suggest_one(spec, turn, draft, language, (source, target), notes)
        except TranslateError:
            await turn.say(unreachable_text() if not saved else stopped_text())
            break
        if kept:
            saved.append(language)
            await turn.ctx.session.commit()  # kept for good: a later refusal's rollback cannot undo it
            continue
        # A refusal may have rolled the unit of work back (its rows expired): the draft afresh.
        draft = await spec.load(turn, spec.ident(draft), SUGGEST)
        if draft is None:
            await turn.say(spec.gone())
            return True
    await _report(spec, turn, draft, saved, notes, unknown)
    return True


def stopped_text() -> str:
    return _(
        "⚠️ The translation server stopped answering. The languages it had suggested are kept "
        "(below); the others are unchanged."
    )


async def _report(
    spec: Composer[Any], turn: Turn, draft: Any, saved: list[str], notes: list[str], unknown: list[str]
) -> None:
    if unknown:
        notes.append(
            _("The translation server does not offer: {languages}.").format(languages=language_names(unknown))
        )
    if saved:
        await _keep_marks(spec, turn, draft, [*await suggested(spec, turn, draft), *saved])
        marks = await suggested(spec, turn, draft)
        lines = [
            _("💡 Machine suggestions saved: {languages}.").format(languages=language_names(marks)),
            _(
                "They are drafts: read them before publishing, members get them as they are. To "
                "correct one, choose its language under 🌐 Add a translation: your text replaces it."
            ),
            *notes,
        ]
        button = InlineKeyboardButton(
            text=_("✅ I checked them"), callback_data=spec.button(CHECKED, spec.ident(draft)).pack()
        )
        await turn.say("\n".join(lines), InlineKeyboardMarkup(inline_keyboard=[[button]]))
        await spec.suggestions_saved(turn, draft)
    elif notes:
        await turn.say("\n".join([_("No suggestion could be saved."), *notes]))
