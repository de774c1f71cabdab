"""/stats: an organization's statistics for its coordinators, organizers and admins (the
organization they act for), and for super-admins any organization or every one.

Every button carries the organization and the days it shows; both are checked again on each press
(callback data can be forged): staff see only the organization they act for, super-admins any.
A typed range of days is read as other staff dialogs read dates (`bot.services.dates`)."""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.config import Settings
from bot.context import Context
from bot.i18n import _
from bot.policy import Action, rights
from bot.services import audit
from bot.services.dates import RANGE_DAYS_MAX
from bot.services.organizations import get_organization
from bot.services.stats import PRESET_DAYS, Period, Scope, Stats, collect, organization_rows
from bot.services.stats.exports import export_csv, export_xlsx
from handlers.fallback import stale_button
from handlers.stats.callbacks import StatsButton, StatsStates
from handlers.stats.charts import send_charts
from handlers.stats.labels import export_words
from handlers.stats.pickers import ask_range, organizations_keyboard, typed_range
from handlers.stats.views import keyboard, summary_lines
from handlers.surveys.texts import chunks
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")
STATS: Final = rights(Action.VIEW_STATS)
DEFAULT_DAYS = 30


def _is_super_admin(ctx: Context) -> bool:
    return ctx.actor is not None and ctx.actor.is_super_admin


async def _scope(ctx: Context, org: int) -> tuple[Scope, str] | None:
    """The organization a button names, if the presser may see it: staff only the one they act for,
    super-admins any (0: every organization). None: a stale or forged button."""
    if org == 0:
        return (Scope(None), _("all organizations")) if _is_super_admin(ctx) else None
    if org == ctx.organization_id:
        return Scope(org), ctx.organization.name
    organization = await get_organization(ctx.session, org) if _is_super_admin(ctx) else None
    return (Scope(org), organization.name) if organization is not None else None


def _period(ctx: Context, button: StatsButton) -> Period | None:
    """The days a button names (the last `days` days, or `first` to `last`); None when forged."""
    if button.days:
        return Period.last_days(button.days, utcnow(), ctx.zone) if button.days in PRESET_DAYS else None
    if not 0 < button.first <= button.last or button.last - button.first >= RANGE_DAYS_MAX:
        return None
    return Period(date.fromordinal(button.first), date.fromordinal(button.last), ctx.zone)


async def _gather(ctx: Context, settings: Settings, scope: Scope, period: Period) -> Stats:
    return await collect(ctx.session, scope, period, settings.stats_min_group, utcnow())


async def _show(
    bot: Bot, ctx: Context, settings: Settings, org: int, period: Period, message: Message | None = None
) -> None:
    """The summary (replacing `message` when it fits in one), the buttons under its last part."""
    found = await _scope(ctx, org)
    if found is None:
        return
    scope, title = found
    stats = await _gather(ctx, settings, scope, period)
    table = (
        await organization_rows(ctx.session, period, settings.stats_min_group)
        if scope.organization_id is None
        else None
    )
    shown = StatsButton(action="show", org=org, first=period.first.toordinal(), last=period.last.toordinal())
    parts = chunks(summary_lines(stats, title, ctx.locale, table))
    markup = keyboard(shown, _is_super_admin(ctx))
    if message is not None and len(parts) == 1:
        await message.edit_text(parts[0], reply_markup=markup)
        return
    for index, text in enumerate(parts):
        await bot.send_message(
            ctx.user_id or 0, text, reply_markup=markup if index == len(parts) - 1 else None
        )


@router.message(Command("stats"), flags=STATS)
async def stats_command(
    message: Message, ctx: Context, settings: Settings, bot: Bot, state: FSMContext
) -> None:
    if await state.get_state() in (StatsStates.dates.state,):
        await state.clear()
    period = Period.last_days(DEFAULT_DAYS, utcnow(), ctx.zone)
    await _show(bot, ctx, settings, ctx.organization_id, period)


@router.callback_query(StatsButton.filter(F.action == "orgs"), flags=STATS)
async def choose_organization(
    query: CallbackQuery, callback_data: StatsButton, ctx: Context, callback_answer: CallbackAnswer
) -> None:
    """Super-admins: every organization (a page of them), or all together."""
    if not _is_super_admin(ctx) or _period(ctx, callback_data) is None:
        stale_button(callback_answer)
        return
    text, markup = await organizations_keyboard(ctx.session, callback_data)
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)


@router.callback_query(StatsButton.filter(F.action == "dates"), flags=STATS)
async def ask_dates(
    query: CallbackQuery,
    callback_data: StatsButton,
    ctx: Context,
    state: FSMContext,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    if await _scope(ctx, callback_data.org) is None:
        stale_button(callback_answer)
        return
    await ask_range(bot, query.from_user.id, state, StatsStates.dates, stats_org=callback_data.org)


@router.message(StatsStates.dates, F.text, flags=STATS)
async def dates_typed(
    message: Message, ctx: Context, settings: Settings, bot: Bot, state: FSMContext
) -> None:
    if (days := await typed_range(message, ctx)) is None:
        return
    first, last = days
    org = int((await state.get_data()).get("stats_org", ctx.organization_id))
    await state.clear()
    if await _scope(ctx, org) is None:  # no longer theirs to see (they act for another one now)
        org = ctx.organization_id
    await _show(bot, ctx, settings, org, Period(first, last, ctx.zone))


@router.callback_query(
    StatsButton.filter(F.action.in_({"days", "show", "charts", "csv", "xlsx"})), flags=STATS
)
async def on_button(
    query: CallbackQuery,
    callback_data: StatsButton,
    ctx: Context,
    settings: Settings,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """Another period or organization (the same message, replaced), the charts as photos, or the
    figures as a CSV or XLSX file (an export: audited)."""
    found, period = await _scope(ctx, callback_data.org), _period(ctx, callback_data)
    if found is None or period is None:
        stale_button(callback_answer)
        return
    (scope, title), kind = found, callback_data.action
    if kind in ("days", "show"):
        message = query.message if isinstance(query.message, Message) else None
        await _show(bot, ctx, settings, callback_data.org, period, message)
        return
    stats = await _gather(ctx, settings, scope, period)
    if kind == "charts":
        await send_charts(bot, query.from_user.id, stats, title, ctx.locale)
        return
    table = None
    if scope.organization_id is None:
        table = await organization_rows(ctx.session, period, settings.stats_min_group)
    data = export_csv(stats, table) if kind == "csv" else export_xlsx(stats, export_words(ctx.locale), table)
    first, last = period.first.isoformat(), period.last.isoformat()
    audit.exported(
        ctx.session, "stats", ctx.user_id, scope.organization_id, format=kind, first=first, last=last
    )
    name = f"stats-{scope.organization_id or 'all'}-{period.first:%Y%m%d}-{period.last:%Y%m%d}.{kind}"
    await bot.send_document(
        query.from_user.id,
        BufferedInputFile(data, filename=name),
        caption=_("📊 Statistics: {name}").format(name=escape(title)),
    )
