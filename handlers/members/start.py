"""First contact: /start with or without a deep link, language choice and consent.

A newcomer who came through an organization's invite link is welcomed by that organization, reads
its name in the privacy notice and, once registered, joins it instead of the deployment's own."""

from __future__ import annotations

import time
from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n

from bot.commands import refresh_member_menu
from bot.config import Settings
from bot.context import Context
from bot.i18n import _, ngettext
from bot.policy import Action, rights
from bot.services import memberships
from bot.services.deep_links import parse_deep_link
from bot.services.members import TelegramIdentity, record_consent, record_decline
from bot.services.memberships import organization_text
from handlers.members.callbacks import ConsentAnswer, LanguageChoice
from handlers.members.links import open_linked
from handlers.members.org_views import invalid_invite, refusal
from handlers.members.profile import prepare_profile, resume_profile, start_profile
from handlers.members.states import ProfileStates
from handlers.members.views import consent_keyboard, language_keyboard, privacy_notice
from storage.models import Organization, OrgStatus

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")


@router.message(CommandStart(), flags=rights(Action.PUBLIC))
async def start(
    message: Message, command: CommandObject, state: FSMContext, ctx: Context, bot: Bot, settings: Settings
) -> None:
    link = parse_deep_link(command.args)
    invited: Organization | None = None
    refused = False
    if link is not None and link.kind == "org":
        invited, problem = await _check_invite(state, ctx, link.value)
        if invited is None:
            await message.answer(problem)
            link, refused = None, True
    elif command.args and link is None:
        await message.answer(_("I don't recognise that link, so let's simply start from the beginning."))
    if link is not None:
        await state.update_data(pending_link=link.payload())

    member = ctx.member
    if member is not None and member.is_registered:
        if member.profile_completed_at is None or (await state.get_state() or "").startswith(
            ProfileStates.__name__
        ):  # an unfinished profile (even one whose dialog a crash cut) goes on at its next question
            await resume_profile(bot, message.chat.id, member, state)
            return
        if link is not None and await open_linked(bot, message.chat.id, ctx, link, settings.admin_ids):
            await state.update_data(pending_link=None)
            return
        if refused:  # the refusal was the answer
            return
        name = member.display_name or (message.from_user.first_name if message.from_user else "")
        await message.answer(
            _(
                "👋 Welcome back, {name}! Send /help to see what I can do, or /profile to see your profile."
            ).format(name=escape(name))
        )
        return

    await state.set_state(None)
    welcoming = invited or ctx.organization
    await message.answer(
        _(
            "👋 Welcome to <b>{organization}</b>!\n\n"
            "I help our community stay connected: events, trainings and quick surveys, in your language.\n\n"
            "Which language would you like to use?"
        ).format(organization=escape(organization_text(welcoming, "name", ctx.locale))),
        reply_markup=language_keyboard(True, message.from_user.language_code if message.from_user else None),
    )


async def _check_invite(state: FSMContext, ctx: Context, code: str) -> tuple[Organization | None, str]:
    """The organization an invite code names, or why not (unknown or rotated, suspended). Someone
    who tried several wrong codes waits a while before the next one is even looked at."""
    now = time.time()
    failures = memberships.recent_failures((await state.get_data()).get("wrong_invites") or [], now)
    wait = memberships.wait_seconds(failures, now)
    if wait:
        minutes = max(1, -(-wait // 60))
        return None, ngettext(
            "Too many links that don't work. Please try again in {minutes} minute.",
            "Too many links that don't work. Please try again in {minutes} minutes.",
            minutes,
        ).format(minutes=minutes)
    organization = await memberships.by_invite_code(ctx.session, code)
    if organization is None:
        await state.update_data(wrong_invites=[*failures, now])
        return None, invalid_invite()
    if organization.status == OrgStatus.SUSPENDED and not (ctx.member and ctx.member.is_registered):
        return None, refusal("suspended")
    return organization, ""


async def _onboarding_organization(state: FSMContext, ctx: Context) -> Organization | None:
    """The organization whose invite link brought the newcomer, if it still takes members by it
    (the newcomer joins it instead of the deployment's own)."""
    link = parse_deep_link((await state.get_data()).get("pending_link"))
    if link is None or link.kind != "org":
        return None
    organization = await memberships.by_invite_code(ctx.session, link.value)
    return organization if organization is not None and organization.status == OrgStatus.ACTIVE else None


@router.callback_query(LanguageChoice.filter(F.onboarding), flags=rights(Action.PUBLIC))
async def choose_onboarding_language(
    query: CallbackQuery, callback_data: LanguageChoice, state: FSMContext, ctx: Context, i18n: I18n
) -> None:
    if callback_data.code not in i18n.available_locales:
        return
    if ctx.member is not None and ctx.member.is_registered:
        await _edit(query, _("You are already registered. Use /language to change the language."))
        return
    await state.update_data(language=callback_data.code)
    organization = await _onboarding_organization(state, ctx) or ctx.organization
    with i18n.use_locale(callback_data.code):
        await _edit(query, privacy_notice(organization, callback_data.code), consent_keyboard())


@router.callback_query(ConsentAnswer.filter(), flags=rights(Action.PUBLIC))
async def answer_consent(
    query: CallbackQuery,
    callback_data: ConsentAnswer,
    state: FSMContext,
    ctx: Context,
    settings: Settings,
    i18n: I18n,
    bot: Bot,
) -> None:
    if ctx.member is not None and ctx.member.is_registered:
        await _edit(query, _("You are already registered. Send /profile to see your profile."))
        return
    data = await state.get_data()
    language = data.get("language") or i18n.current_locale
    user = query.from_user
    with i18n.use_locale(language):
        if not callback_data.accept:
            await record_decline(ctx.session, user.id, language)
            await state.set_state(None)
            await _edit(
                query,
                _(
                    "Understood. I keep nothing about you except this answer, so that I don't ask again.\n\n"
                    "If you change your mind, just send /start."
                ),
            )
            return
        invited = await _onboarding_organization(state, ctx)  # joined at the end of the profile
        member = await record_consent(
            ctx.session,
            TelegramIdentity(user.id, user.username, user.full_name),
            language,
            settings.default_timezone,
            None if invited is not None else ctx.organization_id,
        )
        await prepare_profile(state, user.full_name)  # saved with the consent, before any reply
        await _edit(query, _("✅ Thank you! Your consent is saved."))
        if ctx.actor is not None:
            await refresh_member_menu(bot, i18n, ctx.session, ctx.actor, member)
        await start_profile(bot, user.id, member, state)


async def _edit(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace the pressed message (a one-shot question) with its outcome."""
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)
    elif query.message is not None:
        await query.bot.send_message(query.message.chat.id, text, reply_markup=markup)  # type: ignore[union-attr]
