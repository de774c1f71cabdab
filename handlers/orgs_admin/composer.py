"""An organization's texts on the composer kit: its name, description, contact and cities are
edited with the kit's field edit (typed, checked, the step kept after a refused value), and its
name and description are translated with the kit's translation flow (💡 suggestions included),
into every shipped language but its default one."""

from __future__ import annotations

from typing import Final

from bot.i18n import _, language_name
from bot.policy import Action
from bot.services.confederation.organizations import (
    CONTACT_MAX,
    DESCRIPTION_MAX,
    NAME_MAX,
    OrganizationError,
    change,
    set_translation,
)
from handlers.composer import Codes, Composer, Item, TextRule, Turn
from handlers.orgs_admin.buttons import OrgEdit
from handlers.orgs_admin.card import error_text, send_card
from handlers.orgs_admin.states import OrgAdminStates
from storage.models import Organization, OrgStatus

CITIES_TEXT_MAX: Final = 2100  # twenty cities of a hundred characters, and their commas


class OrganizationComposer(Composer[Organization]):
    name = "organization"
    action = Action.MANAGE_ORGANIZATION
    button_class = OrgEdit
    # An organization is never published nor discarded: both codes name a button no card shows,
    # and a forged one is answered as stale (the Publish handler, first, refuses it).
    codes = Codes(publish="none", discard="none")

    async def load(self, turn: Turn, ident: int, use: str) -> Organization | None:
        organization = await turn.ctx.load(Action.MANAGE_ORGANIZATION, Organization, ident)
        return (
            organization if organization is not None and organization.status != OrgStatus.ARCHIVED else None
        )

    def gone(self) -> str:
        return _("This organization can no longer be changed.")

    async def show_preview(self, turn: Turn, draft: Organization) -> None:
        await send_card(turn.bot, turn.chat_id, turn.ctx, draft)

    # -- translations of the name and description ----------------------------------------------

    def source_language(self, draft: Organization) -> str:
        return draft.default_language

    def translated(self, draft: Organization) -> tuple[str, ...]:
        return tuple(draft.translations)

    def items(self, draft: Organization, language: str) -> list[Item]:
        name = language_name(language)
        keep = _("Keep the original")
        items = [
            Item(
                "name",
                _("Send the organization's name in {language}, or keep the original.").format(language=name),
                TextRule(NAME_MAX, optional=True),
                skip_label=keep,
            )
        ]
        if draft.description:
            prompt = _("Now its description in {language}, or keep the original.").format(language=name)
            items.append(
                Item("description", prompt, TextRule(DESCRIPTION_MAX, optional=True), skip_label=keep)
            )
        return items

    def originals(self, draft: Organization) -> dict[str, str | None]:
        return {"name": draft.name, "description": draft.description}

    async def save_translation(
        self, turn: Turn, draft: Organization, language: str, answers: dict[str, str | None]
    ) -> str | None:
        assert turn.ctx.actor is not None
        try:
            await set_translation(turn.ctx.session, turn.ctx.actor, draft, language, answers)
        except OrganizationError as error:
            return error_text(error)
        return None

    # -- the typed fields ------------------------------------------------------------------------

    def fields(self, draft: Organization) -> list[Item]:
        remove = _("Remove it")
        return [
            Item(
                "name",
                _("Send the new name ({limit} characters at most).").format(limit=NAME_MAX),
                TextRule(NAME_MAX),
                label=_("✏️ Name"),
            ),
            Item(
                "description",
                _("Send a short description ({limit} characters at most).").format(limit=DESCRIPTION_MAX),
                TextRule(DESCRIPTION_MAX, optional=True),
                label=_("📝 Description"),
                skip_label=remove,
            ),
            Item(
                "contact",
                _("Send the public contact: an e-mail, a phone number, a website or a @username.")
                + " "
                + _("{limit} characters at most.").format(limit=CONTACT_MAX),
                TextRule(CONTACT_MAX, optional=True),
                label=_("☎️ Contact"),
                skip_label=remove,
            ),
            Item(
                "cities",
                _("Send the cities where it is active, separated by commas (e.g. Berlin, Hamburg)."),
                TextRule(CITIES_TEXT_MAX, optional=True),
                label=_("🏙 Cities"),
                skip_label=remove,
            ),
        ]

    async def save_field(self, turn: Turn, draft: Organization, key: str, value: str | None) -> str | None:
        assert turn.ctx.actor is not None
        try:
            await change(
                turn.ctx.session, turn.ctx.actor, draft, **{key: value or ("" if key == "cities" else None)}
            )
        except OrganizationError as error:
            return error_text(error)
        return None

    async def field_saved(self, turn: Turn, draft: Organization, key: str) -> None:
        await turn.say(_("✅ Saved."))
        await self.show_preview(turn, draft)


COMPOSER: Final = OrganizationComposer(OrgAdminStates.translation, OrgAdminStates.edit_value)
