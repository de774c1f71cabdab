"""The drafter's submission buttons on a joint position's card (the card is `handlers.positions.staff`'s):

- "📄 Submission" (`PositionStaff` action `submission`): the PDF, the CSV and the XLSX now, as a reply
  (before the deadline too); with translations, the PDF's language is asked first (`lang`, which also
  becomes the language of the submission sent at the deadline);
- "📊 Attach consultation" (`consult`): the organization's surveys and the confederation-wide ones,
  one button each (`attach`, `value` the survey id, "0" to detach).

Only the drafting organization's admins: the rights middleware loads the position through the policy
in its own organization, so another organization's admin pressing a forged button gets "no longer
active" and nothing is sent."""

from __future__ import annotations

from html import escape
from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.callback_answer import CallbackAnswer

from bot.config import Settings
from bot.context import Context
from bot.i18n import _, language_name
from bot.policy import Action, Loads, rights
from bot.press_answers import answer_press_now
from bot.services.positions import submission as service
from bot.views.position_submission import caption
from handlers.fallback import stale_button
from handlers.positions.callbacks import PositionStaff
from storage.models import Position, PositionStatus
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)


def _published(position: Position, callback_data: Any) -> bool:
    return position.status in (PositionStatus.OPEN, PositionStatus.CLOSED)


def _changeable(position: Position, callback_data: Any) -> bool:
    return position.status in (PositionStatus.DRAFT, PositionStatus.OPEN)


PUBLISHED: Final = rights(Action.ADVOCACY, loads=Loads(Position, "position", accepts=_published))
CHANGEABLE: Final = rights(Action.ADVOCACY, loads=Loads(Position, "position", accepts=_changeable))


@router.callback_query(PositionStaff.filter(F.action == "submission"), flags=PUBLISHED)
async def submission(
    query: CallbackQuery, position: Position, ctx: Context, bot: Bot, settings: Settings
) -> None:
    choices = service.languages(position)
    if len(choices) == 1:
        await _send(query, position, ctx, bot, settings, choices[0])
        return
    rows = [
        [
            InlineKeyboardButton(
                text=language_name(code),
                callback_data=PositionStaff(action="lang", id=position.id or 0, value=code).pack(),
            )
        ]
        for code in choices
    ]
    await bot.send_message(
        query.from_user.id,
        _("In which language should the PDF be? (The deadline's submission will be in it too.)"),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
    )


@router.callback_query(PositionStaff.filter(F.action == "lang"), flags=PUBLISHED)
async def in_language(
    query: CallbackQuery,
    callback_data: PositionStaff,
    position: Position,
    ctx: Context,
    bot: Bot,
    settings: Settings,
    callback_answer: CallbackAnswer,
) -> None:
    if not await service.set_language(ctx.session, position, callback_data.value, utcnow()):
        stale_button(callback_answer)
        return
    await _send(query, position, ctx, bot, settings, callback_data.value)


async def _send(
    query: CallbackQuery, position: Position, ctx: Context, bot: Bot, settings: Settings, language: str
) -> None:
    """The three files as a reply, the export in the audit trail."""
    now = utcnow()
    found = await service.gather(
        ctx.session, position, language, min_group=settings.survey_min_group, timezone=ctx.zone, now=now
    )
    await answer_press_now()  # rendering takes seconds: the button stops spinning first
    files = await service.render_files(found, position.id or 0)
    service.exported(ctx.session, position, ctx.user_id, language, now)
    text = caption(found, closed=False)
    for number, (name, data) in enumerate(files):
        await bot.send_document(
            query.from_user.id, BufferedInputFile(data, filename=name), caption=None if number else text
        )


@router.callback_query(PositionStaff.filter(F.action == "consult"), flags=CHANGEABLE)
async def consultations(query: CallbackQuery, position: Position, ctx: Context, bot: Bot) -> None:
    surveys = await service.attachable_surveys(ctx.session, position)
    rows = [
        [
            InlineKeyboardButton(
                text=("✅ " if survey.id == position.survey_id else "") + survey.title[:60],
                callback_data=PositionStaff(
                    action="attach", id=position.id or 0, value=str(survey.id)
                ).pack(),
            )
        ]
        for survey in surveys
    ]
    if position.survey_id is not None:
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("✖ No consultation"),
                    callback_data=PositionStaff(action="attach", id=position.id or 0, value="0").pack(),
                )
            ]
        )
    text = (
        _("📊 Which consultation's results go into the submission? (Small groups are never shown.)")
        if surveys
        else _("📊 There is no survey to attach yet: run one with /newsurvey, then come back.")
    )
    await bot.send_message(query.from_user.id, text, reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


@router.callback_query(PositionStaff.filter(F.action == "attach"), flags=CHANGEABLE)
async def attach(
    query: CallbackQuery,
    callback_data: PositionStaff,
    position: Position,
    ctx: Context,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    value = callback_data.value
    survey_id = int(value) if value.isdigit() and len(value) <= 9 else -1
    if survey_id < 0 or not await service.attach_survey(ctx.session, position, survey_id or None, utcnow()):
        stale_button(callback_answer)
        return
    title = escape(position.title)
    await bot.send_message(
        query.from_user.id,
        _("📊 The consultation's results will be in the submission of “{title}”.").format(title=title)
        if survey_id
        else _("No consultation in the submission of “{title}” any more.").format(title=title),
    )
