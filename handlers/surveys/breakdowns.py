"""👥 The results of an attributed survey per group of members (language, country of residence,
country of origin; the organization, for a survey reaching several). Groups under the threshold
(`SURVEY_MIN_GROUP`), and as many of the smallest others as it takes, are shown together as "Other"
when they reach the threshold together, else only counted: nobody's answers can be worked out."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import SHIPPED_LANGUAGES, Settings
from bot.context import Context
from bot.i18n import _, language_name, ngettext
from bot.services.geo import country_name
from bot.services.reach import organization_names
from bot.services.surveys.results import results
from bot.services.surveys.rules import MIN_GROUP
from handlers.surveys.callbacks import BREAKDOWN_CODES, SurveyManage
from handlers.surveys.lookups import ON_SURVEY
from handlers.surveys.texts import chunks
from handlers.surveys.views import question_block
from storage.models import QuestionKind, Survey

router: Final[Router] = Router(name=__name__)


@router.callback_query(SurveyManage.filter(F.action == "by"), flags=ON_SURVEY)
async def breakdown(
    query: CallbackQuery,
    survey: Survey,
    callback_data: SurveyManage,
    ctx: Context,
    bot: Bot,
    settings: Settings,
) -> None:
    """`value` names the groups (`lookups` accepts only known ones, of surveys with names)."""
    breakdown = BREAKDOWN_CODES[callback_data.value]
    lines = await breakdown_lines(ctx.session, survey, breakdown, ctx.locale, settings.survey_min_group)
    for text in chunks(lines):
        await bot.send_message(query.from_user.id, text)


def _group_name(breakdown: str, group: str, locale: str, organizations: dict[str, str]) -> str:
    if group == "?":
        return _("not given")
    if breakdown == "organization":
        return organizations.get(group, group)
    if breakdown == "language":
        return language_name(group) if group in SHIPPED_LANGUAGES else group
    return country_name(group, locale) or group


async def breakdown_lines(
    session: AsyncSession, survey: Survey, breakdown: str, locale: str, min_group: int = MIN_GROUP
) -> list[str]:
    """The results per group of members; groups under the threshold are not shown, only counted."""
    outcome = await results(session, survey, language=locale, breakdown=breakdown, min_group=min_group)
    titles = {
        "language": _("👥 <b>By language</b>"),
        "residence_country": _("👥 <b>By country of residence</b>"),
        "origin_country": _("👥 <b>By country of origin</b>"),
        "organization": _("🏛 <b>By organization</b>"),
    }
    lines = [titles[breakdown]]
    names = (
        {str(ident): name for ident, name in await organization_names(session)}
        if breakdown == "organization"
        else {}
    )
    parts = [
        (_group_name(breakdown, group, locale, names), part) for group, part in sorted(outcome.groups.items())
    ]
    if outcome.other is not None:
        other = ngettext(
            "Other ({count} smaller group)", "Other ({count} smaller groups)", outcome.suppressed_groups
        )
        parts.append((other.format(count=outcome.suppressed_groups), outcome.other))
    for name, part in parts:
        lines += [
            "",
            f"<b>{escape(name)}</b> — "
            + ngettext("{count} response", "{count} responses", part.respondents).format(
                count=part.respondents
            ),
        ]
        for result in part.questions:
            if result.kind != QuestionKind.TEXT:
                lines += question_block(result, locale, texts=False)
    if outcome.other is not None:
        lines += [
            "",
            _(
                "🔒 Groups with fewer than {min} responses are shown together as “Other”, so that "
                "nobody's answers can be worked out."
            ).format(min=min_group),
        ]
    elif outcome.suppressed_groups:
        lines += [
            "",
            ngettext(
                "🔒 {count} group is hidden to protect small groups (fewer than {min} responses): "
                "{people} responses.",
                "🔒 {count} groups are hidden to protect small groups (fewer than {min} responses): "
                "{people} responses in all.",
                outcome.suppressed_groups,
            ).format(count=outcome.suppressed_groups, min=min_group, people=outcome.suppressed_respondents),
        ]
    if not outcome.groups and not outcome.suppressed_groups:
        lines += ["", _("No responses yet.")]
    return lines
