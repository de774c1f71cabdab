"""How members find a survey: /surveys lists the open ones they have not submitted (▶️ Start or
↪️ Continue), and a `?start=survey_<id>` link shows one invitation, or says why not."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import Context
from bot.i18n import _, ngettext
from bot.policy import Action, rights
from bot.services.origins import origin_name, origin_names
from bot.services.surveys.building import questions_of
from bot.services.surveys.languages import reading_version, version_for
from bot.services.surveys.lists import member_survey, open_surveys_for, started_survey_ids
from bot.services.surveys.rules import SurveyError
from bot.views import surveys as view
from bot.views.origin import origin_line
from handlers.surveys.member_screens import answer_error_text, registered
from handlers.ui import member_zone
from storage.models import Member, Organization, SurveyStatus
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
LIST_MAX = 20


@router.message(Command("surveys"), F.chat.type == "private", flags=rights(Action.PUBLIC))
async def list_surveys(message: Message, ctx: Context) -> None:
    member = ctx.member
    if member is None or not registered(member):
        await message.answer(_("Hello! I don't know you yet. Send /start to join the community."))
        return
    surveys = (await open_surveys_for(ctx.session, member, utcnow()))[:LIST_MAX]
    if not surveys:
        await message.answer(_("No open surveys for you right now. You'll hear from me when there is one!"))
        return
    started = await started_survey_ids(ctx.session, member.id or 0)
    lines = [
        ngettext("📋 <b>{count} open survey</b>", "📋 <b>{count} open surveys</b>", len(surveys)).format(
            count=len(surveys)
        ),
        "",
    ]
    builder = InlineKeyboardBuilder()
    origins = await origin_names(ctx.session, ctx.locale)
    for number, survey in enumerate(surveys, start=1):
        version = version_for(survey, member.language, ctx.organization.default_language)
        title = view.survey_title(survey, version)
        closing = view.closes_text(survey, ctx.locale, ctx.zone)
        lines.append(f"{number}. <b>{escape(title)}</b>" + (f"\n    {closing}" if closing else ""))
        if origin := origins.get(survey.organization_id):
            lines.append(f"    {origin_line(origin)}")
        label = _("↪️ Continue: {title}") if survey.id in started else _("▶️ Start: {title}")
        builder.button(
            text=label.format(title=title)[:64],
            callback_data=view.SurveyAction(action="start", survey=survey.id or 0),
        )
    builder.adjust(1)
    await message.answer(view.fit(lines), reply_markup=builder.as_markup())


async def show_linked_survey(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    survey_id: int,
    member: Member | None,
    organization: Organization,
    locale: str,
) -> None:
    """A `?start=survey_<id>` deep link: the invitation with its Start button, or why not. (Called
    by /start and at the end of registration, as every deep link's opener is.)"""
    survey = await member_survey(session, member.id if member else None, survey_id)
    if survey is None or member is None or not registered(member) or survey.status == SurveyStatus.DRAFT:
        await bot.send_message(chat_id, answer_error_text(SurveyError("not_found")))
        return
    now = utcnow()
    if survey.id not in {open_one.id for open_one in await open_surveys_for(session, member, now)}:
        if survey.status == SurveyStatus.CLOSED or (survey.closes_at is not None and survey.closes_at <= now):
            reason = "closed"
        elif survey.opens_at is not None and survey.opens_at > now:
            reason = "not_open"
        else:
            reason = "submitted"  # open, in their organization, yet not listed: they submitted it
        await bot.send_message(chat_id, answer_error_text(SurveyError(reason)))
        return
    questions = await questions_of(session, survey.id or 0)
    version = reading_version(survey, questions, member.language, organization.default_language)
    origin = await origin_name(session, survey.organization_id, locale)
    zone = member_zone(member, organization)
    text, keyboard = view.invitation(survey, version, len(questions), locale, zone, origin=origin)
    await bot.send_message(chat_id, text, reply_markup=keyboard)
