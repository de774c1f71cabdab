"""/newposition on the composer kit: the draft is a `Position` row (status draft) of the
organization the admin acts for, loaded for every button and typed step through `ctx.load` (a
forged id of another organization's draft finds nothing); title and statement to translate;
✏️ Edit of the texts, the deadline, whom to ask and whether members may sign; Publish claims the
draft once and asks the organizations; Discard deletes it. The dialog's own steps are in
`compose`; the keyboards of whom to ask and of signatures are here, as ✏️ Edit shows them too."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Final

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import _, format_when, language_names, ngettext
from bot.policy import Action
from bot.services.dates import DateError, parse_local_datetime
from bot.services.organizations import get_organization
from bot.services.positions import drafts
from bot.services.positions.drafts import STATEMENT_MAX, TITLE_MAX, PositionError
from bot.services.positions.submission import change, texts_in
from bot.views.positions import head_lines, name_of, names, refusal
from handlers.composer import (
    Composer,
    Item,
    Published,
    TextRule,
    Turn,
    date_error_text,
    organization_line,
    preview_keyboard,
)
from handlers.positions.callbacks import PositionDraft
from handlers.positions.states import NewPosition
from handlers.ui import page_turns
from storage.models import Position, PositionStatus, PositionTarget
from storage.types import utcnow

ORGS_PAGE: Final = 10  # organizations per page of the "whom to ask" ticks
RETURN_KEY: Final = "position_back"  # FSM data: a choice made from ✏️ Edit goes back to the preview


def is_super(turn: Turn) -> bool:
    return drafts.is_super(turn.ctx.actor)


async def load_draft(turn: Turn, ident: int) -> Position | None:
    position = await turn.ctx.load(Action.ADVOCACY, Position, ident)
    return position if position is not None and position.status == PositionStatus.DRAFT else None


def _button(action: str, ident: int, value: str = "") -> str:
    return PositionDraft(action=action, id=ident, value=value).pack()


async def targets_keyboard(turn: Turn, draft: Position, page: int) -> InlineKeyboardMarkup:
    """Ticks of the organizations to ask (a page at a time); "🌍 All organizations" for the
    confederation's staff only; Done."""
    ident, rows = draft.id or 0, []
    everyone = draft.target == PositionTarget.ALL
    if is_super(turn):
        label = ("✅ " if everyone else "▫️ ") + _("🌍 All organizations")
        rows.append([InlineKeyboardButton(text=label, callback_data=_button("all", ident))])
    if not everyone:
        organizations = await drafts.askable(turn.ctx.session, draft.organization_id)
        shown = organizations[page * ORGS_PAGE : (page + 1) * ORGS_PAGE]
        for organization in shown:
            mark = "✅" if organization.id in draft.target_organizations else "▫️"
            label = f"{mark} {name_of(organization, turn.ctx.locale)}"[:60]
            rows.append(
                [InlineKeyboardButton(text=label, callback_data=_button("org", ident, str(organization.id)))]
            )
        turns = page_turns(page, ORGS_PAGE, len(organizations))
        if turns:
            rows.append(
                [
                    InlineKeyboardButton(text=arrow, callback_data=_button("orgs", ident, str(to)))
                    for arrow, to in turns
                ]
            )
    rows.append([InlineKeyboardButton(text=_("Done"), callback_data=_button("targets", ident))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def ask_targets(turn: Turn, draft: Position) -> None:
    await turn.state.set_state(NewPosition.targets)
    text = _(
        "🏢 Which organizations do you ask to endorse it? {organization} is always asked. Tap to "
        "choose, then press Done."
    ).format(organization=escape(name_of(turn.ctx.organization, turn.ctx.locale)))
    await turn.say(text, await targets_keyboard(turn, draft, 0))


def keep_line(draft: Position, turn: Turn) -> str:
    if draft.keep_until is None:
        return ""
    return _("Names and countries are kept until {when} (90 days after the deadline).").format(
        when=escape(format_when(draft.keep_until, turn.ctx.locale, turn.ctx.zone))
    )


async def ask_signatures(turn: Turn, draft: Position) -> None:
    await turn.state.set_state(NewPosition.signatures)
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✍️ Yes, members may sign"), callback_data=_button("sign", draft.id or 0, "yes"))
    builder.button(text=_("🏢 No, organizations only"), callback_data=_button("sign", draft.id or 0, "no"))
    builder.adjust(1)
    text = _(
        "✍️ May members of the organizations asked add their names? Their display name and country "
        "of residence are then shared with {addressee} and your organization."
    ).format(addressee=escape(draft.addressee))
    await turn.say(f"{text}\n{keep_line(draft, turn)}", builder.as_markup())


async def asked_names(turn: Turn, draft: Position) -> str:
    """Whom the draft asks, as HTML: the organizations' names, or every active organization."""
    if draft.target == PositionTarget.ALL:
        return _("every active organization")
    ids = set(draft.target_organizations)
    chosen = [
        item for item in await drafts.askable(turn.ctx.session, draft.organization_id) if item.id in ids
    ]
    own = await get_organization(turn.ctx.session, draft.organization_id)
    return names([*([own] if own else []), *chosen], turn.ctx.locale)


async def asked_line(turn: Turn, draft: Position) -> str:
    return _("🏢 <b>Asked:</b> {names}").format(names=await asked_names(turn, draft))


async def show_preview(turn: Turn, draft: Position, spec: PositionComposer) -> None:
    """The statement as the organizations' admins will read it, then what else was chosen, with
    Publish / ✏️ Edit / Add a translation / Discard."""
    await turn.state.set_state(NewPosition.preview)
    await turn.state.update_data({RETURN_KEY: True})
    _title, statement = texts_in(draft, draft.language)
    head = _("👁 <b>Preview</b>: this is what the organizations' admins will read.")
    await turn.say(
        "\n".join([head, "", *head_lines(draft, turn.ctx.locale, turn.ctx.zone), "", escape(statement)])
    )
    lines = [await asked_line(turn, draft)]
    if draft.signatures_open:
        lines += [_("✍️ Members may add their names."), keep_line(draft, turn)]
    else:
        lines.append(_("✍️ Members' names are not collected."))
    if draft.translations:
        lines.append(
            _("Translations: {languages}").format(
                languages=escape(language_names(sorted(draft.translations)))
            )
        )
    if line := await organization_line(turn.ctx.session, draft.organization_id):
        lines.append(line)
    await turn.say("\n".join(lines), preview_keyboard(spec, draft.id or 0, edit_label=_("✏️ Edit")))


def checked_deadline(turn: Turn, text: str) -> datetime | str:
    """A typed deadline, read in the admin's language and zone (to come); else why not."""
    try:
        return parse_local_datetime(text, turn.ctx.zone, utcnow(), language=turn.ctx.locale).utc
    except DateError as error:
        return date_error_text(error)


TEXT_FIELDS: Final = drafts.LIMITS


def field_prompt(key: str) -> str:
    prompts = {
        "title": _("Send the title (at most {limit} characters)."),
        "statement": _("📝 Now the statement itself (at most {limit} characters)."),
        "addressee": _(
            "🏛 To whom is it addressed? The institution or the consultation, e.g. “Ministry of the "
            "Interior — consultation on residence permits” (at most {limit} characters)."
        ),
        "deadline": _(
            "📅 By when must the organizations answer? Type a date and time, e.g. 2027-03-14 18:00."
        ),
    }
    return prompts[key].format(limit=TEXT_FIELDS.get(key, 0))


def zone_line(turn: Turn) -> str:
    return _("Your time zone: {zone}.").format(zone=escape(turn.ctx.zone))


class PositionComposer(Composer[Position]):
    name = "position"
    action = Action.ADVOCACY
    button_class = PositionDraft

    async def load(self, turn: Turn, ident: int, use: str) -> Position | None:
        return await load_draft(turn, ident)

    def gone(self) -> str:
        return _("This draft is no longer there. Send /newposition to start again.")

    async def show_preview(self, turn: Turn, draft: Position) -> None:
        await show_preview(turn, draft, self)

    def items(self, draft: Position, language: str) -> list[Item]:
        return [
            Item("title", _("Send the title in this language."), TextRule(TITLE_MAX)),
            Item("statement", _("Now the statement in this language."), TextRule(STATEMENT_MAX)),
        ]

    def originals(self, draft: Position) -> dict[str, str | None]:
        return {"title": draft.title, "statement": draft.statement}

    async def save_translation(
        self, turn: Turn, draft: Position, language: str, answers: dict[str, str | None]
    ) -> str | None:
        try:
            await drafts.set_translation(turn.ctx.session, draft, language, answers)
        except PositionError as error:
            return refusal(error)
        return None

    def fields(self, draft: Position) -> list[Item]:
        labels = {
            "title": _("✏️ Title"),
            "statement": _("✏️ Statement"),
            "addressee": _("✏️ Addressee"),
            "deadline": _("✏️ Deadline"),
            "targets": _("✏️ Organizations asked"),
            "signatures": _("✏️ Members' names"),
        }
        typed = (*TEXT_FIELDS, "deadline")
        return [
            Item(key, field_prompt(key) if key in typed else "", TextRule(TEXT_FIELDS.get(key, 200)), label)
            for key, label in labels.items()
        ]

    async def pick_field(self, turn: Turn, draft: Position, key: str) -> bool:
        """Whom to ask and signatures are buttons; the deadline is read in the admin's zone."""
        if key == "deadline":
            await turn.say(zone_line(turn))
        if key == "targets":
            await ask_targets(turn, draft)
            return False
        if key == "signatures":
            await ask_signatures(turn, draft)
            return False
        return True

    async def save_field(self, turn: Turn, draft: Position, key: str, value: str | None) -> str | None:
        session = turn.ctx.session
        try:
            if key == "deadline":
                moment = checked_deadline(turn, value or "")
                if isinstance(moment, str):
                    return moment
                await drafts.set_deadline(session, draft, moment, utcnow())
            elif key in TEXT_FIELDS:
                await change(session, draft, **{key: drafts.checked_text(key, value)})
        except PositionError as error:
            return refusal(error)
        return None

    async def publish(self, turn: Turn, draft: Position) -> Published:
        try:
            asked = await drafts.publish(turn.ctx.session, draft, turn.ctx.actor, utcnow())
        except PositionError as error:
            await turn.say(refusal(error))
            return Published.TOLD
        if asked is None:
            return Published.TAKEN
        await turn.state.clear()
        if turn.delivery is not None:
            turn.delivery.wake()
        title, _statement = texts_in(draft, turn.ctx.locale)
        await turn.say(
            ngettext(
                "✅ Published: “{title}”. {count} organization is asked; its admins get the request. "
                "Follow the answers with /mypositions.",
                "✅ Published: “{title}”. {count} organizations are asked; their admins get the "
                "request. Follow the answers with /mypositions.",
                asked,
            ).format(title=escape(title), count=asked)
        )
        return Published.SENT

    async def discard(self, turn: Turn, draft: Position) -> None:
        await drafts.discard(turn.ctx.session, draft)
        await turn.state.clear()


COMPOSER: Final = PositionComposer(NewPosition.translation, NewPosition.edit, NewPosition.preview)
