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
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import SHIPPED_LANGUAGES
from bot.context import Context
from bot.i18n import _, format_list
from bot.policy import Action
from bot.services.confederation.organizations import OrganizationError, change
from bot.services.geo import country_codes, country_name, find_countries, is_valid_zone, zone_choices
from handlers.admin.quiet_hours import quiet_hours_question, save_quiet_hours
from handlers.composer import TextRule, echo_choice, read_text
from handlers.composer.router import button_turn
from handlers.fallback import stale_button, toast
from handlers.orgs_admin.buttons import OrgAdmin
from handlers.orgs_admin.card import error_text, send_card
from handlers.orgs_admin.manage import EDIT, MANAGE
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


async def _wait(state: FSMContext, step: object, organization: Organization) -> None:
    await state.set_state(step)  # type: ignore[arg-type]
    await state.update_data({ORG_KEY: organization.id})


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


async def _saved(bot: Bot, chat_id: int, ctx: Context, state: FSMContext, organization: Organization) -> None:
    await state.set_state(None)
    await send_card(bot, chat_id, ctx, organization)


@router.callback_query(OrgAdmin.filter(F.action == "done"), flags=EDIT)
async def done(
    query: CallbackQuery,
    organization: Organization,
    ctx: Context,
    state: FSMContext,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """Done under the languages or countries: the card again."""
    await echo_choice(button_turn(query, ctx, state, bot, callback_answer))
    await _saved(bot, query.from_user.id, ctx, state, organization)


# -- languages ------------------------------------------------------------------------------------


@router.callback_query(OrgAdmin.filter(F.action == "langs"), flags=EDIT)
async def ask_languages(query: CallbackQuery, organization: Organization, bot: Bot) -> None:
    await bot.send_message(
        query.from_user.id,
        _("Which languages does {name} work in? Tap to choose or remove, then press Done.").format(
            name=escape(organization.name)
        ),
        reply_markup=languages_keyboard(organization),
    )


@router.callback_query(OrgAdmin.filter(F.action == "langs_t"), flags=EDIT)
async def language_toggled(
    query: CallbackQuery,
    callback_data: OrgAdmin,
    organization: Organization,
    ctx: Context,
    callback_answer: CallbackAnswer,
) -> None:
    assert ctx.actor is not None
    if callback_data.value not in SHIPPED_LANGUAGES:
        stale_button(callback_answer)
        return
    chosen = set(organization.languages) ^ {callback_data.value}
    await change(
        ctx.session, ctx.actor, organization, languages=[code for code in SHIPPED_LANGUAGES if code in chosen]
    )
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=languages_keyboard(organization))


@router.callback_query(OrgAdmin.filter(F.action == "lang"), flags=EDIT)
async def ask_default_language(query: CallbackQuery, organization: Organization, bot: Bot) -> None:
    await bot.send_message(
        query.from_user.id,
        _(
            "Which language is {name}'s default? Members whose language has no translation read it, "
            "and its name and description are written in it."
        ).format(name=escape(organization.name)),
        reply_markup=default_language_keyboard(organization),
    )


@router.callback_query(OrgAdmin.filter(F.action == "lang_set"), flags=EDIT)
async def default_language_chosen(
    query: CallbackQuery,
    callback_data: OrgAdmin,
    organization: Organization,
    ctx: Context,
    state: FSMContext,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    assert ctx.actor is not None
    code = callback_data.value
    if code not in SHIPPED_LANGUAGES:
        stale_button(callback_answer)
        return
    languages = (
        list(organization.languages) if code in organization.languages else [*organization.languages, code]
    )
    await change(ctx.session, ctx.actor, organization, default_language=code, languages=languages)
    await echo_choice(button_turn(query, ctx, state, bot, callback_answer))
    await _saved(bot, query.from_user.id, ctx, state, organization)


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


async def _show_countries(bot: Bot, chat_id: int, ctx: Context, organization: Organization) -> None:
    await bot.send_message(
        chat_id,
        _countries_text(organization, ctx.locale),
        reply_markup=countries_keyboard(organization, ctx.locale),
    )


@router.callback_query(OrgAdmin.filter(F.action == "ctry"), flags=EDIT)
async def ask_countries(
    query: CallbackQuery, organization: Organization, ctx: Context, state: FSMContext, bot: Bot
) -> None:
    await _wait(state, OrgAdminStates.countries, organization)
    await _show_countries(bot, query.from_user.id, ctx, organization)


async def _add_country(ctx: Context, organization: Organization, code: str) -> str | None:
    """The country added; an error text when the list is full."""
    assert ctx.actor is not None
    if code in organization.countries:
        return None
    try:
        await change(ctx.session, ctx.actor, organization, countries=[*organization.countries, code])
    except OrganizationError as error:
        return error_text(error)
    return None


async def _no_such_country(message: Message, typed: str) -> None:
    await message.answer(
        _(
            "I couldn't find a country called “{text}”. Please check the spelling, or try its name in "
            "English."
        ).format(text=escape(typed))
    )


@router.message(OrgAdminStates.countries, F.text, flags=MANAGE)
async def country_typed(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    typed = await read_text(message, state, COUNTRY_RULE)
    organization = await _step_organization(message, ctx, state) if typed is not None else None
    if typed is None or organization is None:
        return
    matches = find_countries(typed)
    if not matches:
        await _no_such_country(message, typed)
    elif len(matches) > 1:
        markup = matches_keyboard(organization, matches, "ctry_add", ctx.locale)
        await message.answer(_("Which one do you mean?"), reply_markup=markup)
    elif error := await _add_country(ctx, organization, matches[0]):
        await message.answer(error)
    else:
        await _show_countries(bot, message.chat.id, ctx, organization)


@router.callback_query(OrgAdmin.filter(F.action.in_({"ctry_add", "ctry_t"})), flags=EDIT)
async def country_pressed(
    query: CallbackQuery,
    callback_data: OrgAdmin,
    organization: Organization,
    ctx: Context,
    state: FSMContext,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """ "ctry_add": one of several matches chosen; "ctry_t": a country removed."""
    assert ctx.actor is not None
    code = callback_data.value
    if code not in country_codes():
        stale_button(callback_answer)
        return
    if callback_data.action == "ctry_add":
        await echo_choice(button_turn(query, ctx, state, bot, callback_answer))
        if error := await _add_country(ctx, organization, code):
            toast(callback_answer, error, alert=True)
            return
        await _show_countries(bot, query.from_user.id, ctx, organization)
        return
    remaining = [item for item in organization.countries if item != code]
    await change(ctx.session, ctx.actor, organization, countries=remaining)
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _countries_text(organization, ctx.locale),
            reply_markup=countries_keyboard(organization, ctx.locale),
        )


# -- the time zone: a country, then its zones --------------------------------------------------------


@router.callback_query(OrgAdmin.filter(F.action == "tz"), flags=EDIT)
async def ask_zone_country(
    query: CallbackQuery, organization: Organization, ctx: Context, state: FSMContext, bot: Bot
) -> None:
    await _wait(state, OrgAdminStates.zone_country, organization)
    markup = matches_keyboard(organization, list(organization.countries), "tz_c", ctx.locale)
    await bot.send_message(
        query.from_user.id,
        _("Which country's time does {name} keep? Type the country's name, or choose it below.").format(
            name=escape(organization.name)
        ),
        reply_markup=markup if organization.countries else None,
    )


def _zones(organization: Organization, code: str, every: bool, locale: str) -> InlineKeyboardMarkup:
    shown, others = zone_choices(code)
    if every:
        return zones_keyboard(organization, (*shown, *others), None, locale)
    return zones_keyboard(organization, shown, code if others else None, locale)


@router.message(OrgAdminStates.zone_country, F.text, flags=MANAGE)
async def zone_country_typed(message: Message, ctx: Context, state: FSMContext) -> None:
    typed = await read_text(message, state, COUNTRY_RULE)
    organization = await _step_organization(message, ctx, state) if typed is not None else None
    if typed is None or organization is None:
        return
    matches = [code for code in find_countries(typed) if zone_choices(code)[0]]
    if not matches:
        await _no_such_country(message, typed)
    elif len(matches) > 1:
        await message.answer(
            _("Which one do you mean?"),
            reply_markup=matches_keyboard(organization, matches, "tz_c", ctx.locale),
        )
    else:
        await message.answer(
            _("Which time zone?"), reply_markup=_zones(organization, matches[0], False, ctx.locale)
        )


@router.callback_query(OrgAdmin.filter(F.action.in_({"tz_c", "tz_more"})), flags=EDIT)
async def zone_country_chosen(
    query: CallbackQuery,
    callback_data: OrgAdmin,
    organization: Organization,
    ctx: Context,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """A country chosen ("tz_c": its main zones) or "Other…" ("tz_more": every zone of it)."""
    code = callback_data.value
    if code not in country_codes() or not zone_choices(code)[0]:
        stale_button(callback_answer)
        return
    markup = _zones(organization, code, callback_data.action == "tz_more", ctx.locale)
    if callback_data.action == "tz_more" and isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=markup)
    else:
        await bot.send_message(query.from_user.id, _("Which time zone?"), reply_markup=markup)


@router.callback_query(OrgAdmin.filter(F.action == "tz_set"), flags=EDIT)
async def zone_chosen(
    query: CallbackQuery,
    callback_data: OrgAdmin,
    organization: Organization,
    ctx: Context,
    state: FSMContext,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    assert ctx.actor is not None
    if not is_valid_zone(callback_data.value):
        stale_button(callback_answer)
        return
    await change(ctx.session, ctx.actor, organization, timezone=callback_data.value)
    await echo_choice(button_turn(query, ctx, state, bot, callback_answer))
    await _saved(bot, query.from_user.id, ctx, state, organization)


# -- quiet hours --------------------------------------------------------------------------------------


@router.callback_query(OrgAdmin.filter(F.action == "quiet"), flags=EDIT)
async def ask_quiet_hours(
    query: CallbackQuery, organization: Organization, state: FSMContext, bot: Bot
) -> None:
    await _wait(state, OrgAdminStates.quiet_hours, organization)
    await bot.send_message(query.from_user.id, quiet_hours_question(organization))


@router.message(OrgAdminStates.quiet_hours, F.text, flags=MANAGE)
async def quiet_hours_typed(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    organization = await _step_organization(message, ctx, state)
    if organization is not None and await save_quiet_hours(message, ctx, organization.id or 0):
        await _saved(bot, message.chat.id, ctx, state, organization)


# -- the logo -----------------------------------------------------------------------------------------


@router.callback_query(OrgAdmin.filter(F.action == "logo"), flags=EDIT)
async def ask_logo(query: CallbackQuery, organization: Organization, state: FSMContext, bot: Bot) -> None:
    await _wait(state, OrgAdminStates.logo, organization)
    markup = None
    if organization.logo_file_id:
        builder = InlineKeyboardBuilder()
        builder.button(
            text=_("🗑 Remove the logo"), callback_data=OrgAdmin(action="logo_rm", org=organization.id or 0)
        )
        markup = builder.as_markup()
    await bot.send_message(
        query.from_user.id,
        _("Send the logo as a photo, or /cancel to keep it as it is."),
        reply_markup=markup,
    )


@router.message(OrgAdminStates.logo, F.photo, flags=MANAGE)
async def logo_sent(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    assert ctx.actor is not None and message.photo
    organization = await _step_organization(message, ctx, state)
    if organization is None:
        return
    await change(ctx.session, ctx.actor, organization, logo_file_id=message.photo[-1].file_id)
    await message.answer(_("✅ Saved."))
    await _saved(bot, message.chat.id, ctx, state, organization)


@router.callback_query(StateFilter(OrgAdminStates.logo), OrgAdmin.filter(F.action == "logo_rm"), flags=EDIT)
async def logo_removed(
    query: CallbackQuery,
    organization: Organization,
    ctx: Context,
    state: FSMContext,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    assert ctx.actor is not None
    await change(ctx.session, ctx.actor, organization, logo_file_id=None)
    await echo_choice(button_turn(query, ctx, state, bot, callback_answer))
    await _saved(bot, query.from_user.id, ctx, state, organization)


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
