"""An organization's card: the changes chosen with buttons or typed one at a time — working and
default languages, countries (typed in any language, as in the profile), the time zone (the
profile's picker: a country, then its zones), quiet hours (as /admin sets them) and the logo (a
photo, kept by its file_id).

A typed step remembers which organization it is about (FSM data) and loads it again, through the
policy, at every answer: an admin who lost the role meanwhile is refused."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import SHIPPED_LANGUAGES
from bot.context import Context
from bot.i18n import _, format_list
from bot.policy import Action
from bot.services.confederation.organizations import OrganizationError, change
from bot.services.geo import country_codes, country_name, find_countries, is_valid_zone, zone_choices
from handlers.admin.quiet_hours import quiet_hours_question, save_quiet_hours
from handlers.composer import TextRule, Turn, echo_choice, message_turn, read_text
from handlers.orgs_admin.buttons import OrgAdmin
from handlers.orgs_admin.card import EDIT, MANAGE, error_text, org_button, show_card
from handlers.orgs_admin.states import OrgAdminStates
from handlers.orgs_admin.views import (
    countries_keyboard,
    default_language_keyboard,
    languages_keyboard,
    matches_keyboard,
    zones_keyboard,
)
from handlers.ui import not_set
from storage.models import Organization, OrgStatus

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")

ORG_KEY: Final = "org_admin"  # FSM data: the organization a typed step is about
COUNTRY_RULE: Final = TextRule(80)


async def _wait(turn: Turn, step: State, organization: Organization) -> None:
    await turn.state.set_state(step)
    await turn.state.update_data({ORG_KEY: organization.id})


async def _step_organization(message: Message, ctx: Context, state: FSMContext) -> Organization | None:
    """The organization the typed step is about, checked again; None after ending the step."""
    ident = (await state.get_data()).get(ORG_KEY)
    organization = (
        await ctx.load(Action.MANAGE_ORGANIZATION, Organization, int(ident))
        if isinstance(ident, int)
        else None
    )
    if organization is None or organization.status == OrgStatus.ARCHIVED:
        await state.set_state(None)
        await message.answer(_("This organization can no longer be changed."))
        return None
    return organization


async def _saved(turn: Turn, organization: Organization) -> None:
    await turn.state.set_state(None)
    await show_card(turn, organization)


async def _chosen(turn: Turn, organization: Organization, **fields: object) -> None:
    """A choice that ends its question: saved, echoed under the question, and the card again."""
    assert turn.ctx.actor is not None
    await change(turn.ctx.session, turn.ctx.actor, organization, **fields)
    await echo_choice(turn)
    await _saved(turn, organization)


@org_button(router, EDIT, "done")
async def done(turn: Turn, organization: Organization, data: OrgAdmin) -> None:
    """Done under the languages or countries: the card again."""
    await echo_choice(turn)
    await _saved(turn, organization)


# -- languages ------------------------------------------------------------------------------------


@org_button(router, EDIT, "langs")
async def ask_languages(turn: Turn, organization: Organization, data: OrgAdmin) -> None:
    question = _("Which languages does {name} work in? Tap to choose or remove, then press Done.")
    await turn.say(question.format(name=escape(organization.name)), languages_keyboard(organization))


@org_button(router, EDIT, "langs_t")
async def language_toggled(turn: Turn, organization: Organization, data: OrgAdmin) -> None:
    assert turn.ctx.actor is not None
    if data.value not in SHIPPED_LANGUAGES:
        turn.stale()
        return
    chosen = set(organization.languages) ^ {data.value}
    languages = [code for code in SHIPPED_LANGUAGES if code in chosen]
    await change(turn.ctx.session, turn.ctx.actor, organization, languages=languages)
    if turn.message is not None:
        await turn.message.edit_reply_markup(reply_markup=languages_keyboard(organization))


@org_button(router, EDIT, "lang")
async def ask_default_language(turn: Turn, organization: Organization, data: OrgAdmin) -> None:
    question = _(
        "Which language is {name}'s default? Members whose language has no translation read it, "
        "and its name and description are written in it."
    )
    await turn.say(question.format(name=escape(organization.name)), default_language_keyboard(organization))


@org_button(router, EDIT, "lang_set")
async def default_language_chosen(turn: Turn, organization: Organization, data: OrgAdmin) -> None:
    code = data.value
    if code not in SHIPPED_LANGUAGES:
        turn.stale()
        return
    languages = (
        list(organization.languages) if code in organization.languages else [*organization.languages, code]
    )
    await _chosen(turn, organization, default_language=code, languages=languages)


# -- countries --------------------------------------------------------------------------------------


def _countries_text(organization: Organization, locale: str) -> str:
    names = format_list([country_name(code, locale) for code in organization.countries], locale) or not_set()
    return (
        _("🌍 Countries where {name} is active: {countries}.").format(
            name=escape(organization.name), countries=escape(names)
        )
        + "\n\n"
        + _("Type a country's name in any language to add it; tap one below to remove it. Then press Done.")
    )


async def _show_countries(turn: Turn, organization: Organization) -> None:
    locale = turn.ctx.locale
    await turn.say(_countries_text(organization, locale), countries_keyboard(organization, locale))


@org_button(router, EDIT, "ctry")
async def ask_countries(turn: Turn, organization: Organization, data: OrgAdmin) -> None:
    await _wait(turn, OrgAdminStates.countries, organization)
    await _show_countries(turn, organization)


async def _add_country(turn: Turn, organization: Organization, code: str) -> str | None:
    """The country added; an error text when the list is full."""
    assert turn.ctx.actor is not None
    if code in organization.countries:
        return None
    try:
        await change(
            turn.ctx.session, turn.ctx.actor, organization, countries=[*organization.countries, code]
        )
    except OrganizationError as error:
        return error_text(error)
    return None


async def _typed_country(
    message: Message, ctx: Context, state: FSMContext, with_zones: bool
) -> tuple[Organization, list[str]] | None:
    """The step's organization and the countries the typed name matches (None after saying why not)."""
    typed = await read_text(message, state, COUNTRY_RULE)
    organization = await _step_organization(message, ctx, state) if typed is not None else None
    if typed is None or organization is None:
        return None
    matches = [code for code in find_countries(typed) if not with_zones or zone_choices(code)[0]]
    if not matches:
        await message.answer(
            _(
                "I couldn't find a country called “{text}”. Please check the spelling, or try its name in "
                "English."
            ).format(text=escape(typed))
        )
        return None
    return organization, matches


@router.message(OrgAdminStates.countries, F.text, flags=MANAGE)
async def country_typed(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    found = await _typed_country(message, ctx, state, with_zones=False)
    if found is None:
        return
    (organization, matches), turn = found, message_turn(message, ctx, state, bot)
    if len(matches) > 1:
        await turn.say(
            _("Which one do you mean?"), matches_keyboard(organization, matches, "ctry_add", ctx.locale)
        )
    elif error := await _add_country(turn, organization, matches[0]):
        await turn.say(error)
    else:
        await _show_countries(turn, organization)


@org_button(router, EDIT, "ctry_add", "ctry_t")
async def country_pressed(turn: Turn, organization: Organization, data: OrgAdmin) -> None:
    """ "ctry_add": one of several matches chosen; "ctry_t": a country removed."""
    assert turn.ctx.actor is not None
    if data.value not in country_codes():
        turn.stale()
        return
    if data.action == "ctry_add":
        await echo_choice(turn)
        if error := await _add_country(turn, organization, data.value):
            turn.toast(error, alert=True)
            return
        await _show_countries(turn, organization)
        return
    remaining = [code for code in organization.countries if code != data.value]
    await change(turn.ctx.session, turn.ctx.actor, organization, countries=remaining)
    locale = turn.ctx.locale
    await turn.replace(_countries_text(organization, locale), countries_keyboard(organization, locale))


# -- the time zone: a country, then its zones --------------------------------------------------------


@org_button(router, EDIT, "tz")
async def ask_zone_country(turn: Turn, organization: Organization, data: OrgAdmin) -> None:
    await _wait(turn, OrgAdminStates.zone_country, organization)
    markup = matches_keyboard(organization, list(organization.countries), "tz_c", turn.ctx.locale)
    question = _("Which country's time does {name} keep? Type the country's name, or choose it below.")
    await turn.say(
        question.format(name=escape(organization.name)), markup if organization.countries else None
    )


def _zones(organization: Organization, code: str, every: bool, locale: str) -> InlineKeyboardMarkup:
    shown, others = zone_choices(code)
    if every:
        return zones_keyboard(organization, (*shown, *others), None, locale)
    return zones_keyboard(organization, shown, code if others else None, locale)


@router.message(OrgAdminStates.zone_country, F.text, flags=MANAGE)
async def zone_country_typed(message: Message, ctx: Context, state: FSMContext) -> None:
    found = await _typed_country(message, ctx, state, with_zones=True)
    if found is None:
        return
    organization, matches = found
    if len(matches) > 1:
        markup = matches_keyboard(organization, matches, "tz_c", ctx.locale)
        await message.answer(_("Which one do you mean?"), reply_markup=markup)
    else:
        await message.answer(
            _("Which time zone?"), reply_markup=_zones(organization, matches[0], False, ctx.locale)
        )


@org_button(router, EDIT, "tz_c", "tz_more")
async def zone_country_chosen(turn: Turn, organization: Organization, data: OrgAdmin) -> None:
    """A country chosen ("tz_c": its main zones) or "Other…" ("tz_more": every zone of it)."""
    if data.value not in country_codes() or not zone_choices(data.value)[0]:
        turn.stale()
        return
    markup = _zones(organization, data.value, data.action == "tz_more", turn.ctx.locale)
    if data.action == "tz_more" and turn.message is not None:
        await turn.message.edit_reply_markup(reply_markup=markup)
    else:
        await turn.say(_("Which time zone?"), markup)


@org_button(router, EDIT, "tz_set")
async def zone_chosen(turn: Turn, organization: Organization, data: OrgAdmin) -> None:
    if not is_valid_zone(data.value):
        turn.stale()
        return
    await _chosen(turn, organization, timezone=data.value)


# -- quiet hours --------------------------------------------------------------------------------------


@org_button(router, EDIT, "quiet")
async def ask_quiet_hours(turn: Turn, organization: Organization, data: OrgAdmin) -> None:
    await _wait(turn, OrgAdminStates.quiet_hours, organization)
    await turn.say(quiet_hours_question(organization))


@router.message(OrgAdminStates.quiet_hours, F.text, flags=MANAGE)
async def quiet_hours_typed(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    organization = await _step_organization(message, ctx, state)
    if organization is not None and await save_quiet_hours(message, ctx, organization.id or 0):
        await _saved(message_turn(message, ctx, state, bot), organization)


# -- the logo -----------------------------------------------------------------------------------------


@org_button(router, EDIT, "logo")
async def ask_logo(turn: Turn, organization: Organization, data: OrgAdmin) -> None:
    await _wait(turn, OrgAdminStates.logo, organization)
    markup = None
    if organization.logo_file_id:
        builder = InlineKeyboardBuilder()
        remove = OrgAdmin(action="logo_rm", org=organization.id or 0)
        builder.button(text=_("🗑 Remove the logo"), callback_data=remove)
        markup = builder.as_markup()
    await turn.say(_("Send the logo as a photo, or /cancel to keep it as it is."), markup)


@router.message(OrgAdminStates.logo, F.photo, flags=MANAGE)
async def logo_sent(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    assert ctx.actor is not None and message.photo
    organization = await _step_organization(message, ctx, state)
    if organization is None:
        return
    await change(ctx.session, ctx.actor, organization, logo_file_id=message.photo[-1].file_id)
    await message.answer(_("✅ Saved."))
    await _saved(message_turn(message, ctx, state, bot), organization)


@org_button(router, EDIT, "logo_rm")
async def logo_removed(turn: Turn, organization: Organization, data: OrgAdmin) -> None:
    if await turn.state.get_state() != OrgAdminStates.logo.state:
        turn.stale()
        return
    await _chosen(turn, organization, logo_file_id=None)


@router.message(
    StateFilter(OrgAdminStates.countries, OrgAdminStates.zone_country, OrgAdminStates.quiet_hours),
    flags=MANAGE,
)
async def not_text(message: Message) -> None:
    await message.answer(
        _("Please answer with a text message, or use the buttons above. Send /cancel to stop.")
    )


@router.message(OrgAdminStates.logo, flags=MANAGE)
async def not_a_photo(message: Message) -> None:
    await message.answer(_("Please send a photo, or /cancel to stop."))
