"""/audit: the audit trail of the organization an admin acts for, or the whole trail for the
super-admins; filtered by a family of actions, a person (typed @username or Telegram id) and a range
of days, a page at a time, and exported as CSV.

The buttons carry the filters (callback data can be forged): the trail shown is always the presser's
own organization's (super-admins: all of it), and a person the presser's organization does not know
makes the button stale, so no forged button shows another organization's entries or names."""

from __future__ import annotations

from datetime import date
from typing import Final

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.context import Context
from bot.i18n import _
from bot.policy import Action, rights
from bot.services import audit
from bot.services.dates import RANGE_DAYS_MAX
from bot.services.members import get_member, member_by_id
from bot.services.roles import find_member_by_reference
from bot.services.stats import Period
from handlers.audit.callbacks import AuditButton, AuditStates
from handlers.audit.views import PAGE_SIZE, keyboard, page_text
from handlers.fallback import stale_button
from handlers.stats.pickers import ask_range, typed_range
from storage.models import Member
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")
AUDIT: Final = rights(Action.VIEW_AUDIT)
FILTERS_KEY = "audit_filters"
ACTOR_MAX = 2**53  # the largest Telegram id a button carries (Telegram ids stay below it)


def _whole(ctx: Context) -> bool:
    """Super-admins see the whole trail; an organization's admins their organization's."""
    return ctx.actor is not None and ctx.actor.is_super_admin


async def _person(ctx: Context, button: AuditButton) -> tuple[bool, str]:
    """Whether the person a button filters by may be named to the presser, and their name."""
    if not button.member and not button.actor:
        return True, ""
    member: Member | None = None
    if button.member:
        member = await member_by_id(ctx.session, button.member)
        if member is None or (button.actor and member.telegram_id != button.actor):
            return False, ""
    elif button.actor:
        member = await get_member(ctx.session, button.actor)
    if not _whole(ctx) and not await audit.person_visible(
        ctx.session, ctx.organization_id, member, button.actor
    ):
        return False, ""
    name = member.display_name if member is not None and member.display_name else None
    return True, name or (f"id {button.actor}" if button.actor else f"#{button.member}")


def _trail(ctx: Context, button: AuditButton) -> audit.TrailFilter | None:
    """The entries a button shows; None when its filters are forged out of shape."""
    if button.fam and button.fam not in audit.FAMILIES:
        return None
    period = None
    if button.first or button.last:
        if not 0 < button.first <= button.last or button.last - button.first >= RANGE_DAYS_MAX:
            return None
        period = Period(date.fromordinal(button.first), date.fromordinal(button.last), ctx.zone)
    return audit.TrailFilter(
        organization_id=None if _whole(ctx) else ctx.organization_id,
        family=button.fam,
        member_id=button.member,
        actor_telegram_id=button.actor,
        period=period,
    )


async def _render(ctx: Context, button: AuditButton) -> tuple[str, InlineKeyboardMarkup] | None:
    trail = _trail(ctx, button)
    allowed, person = await _person(ctx, button)
    if trail is None or not allowed:
        return None
    page = await audit.trail_page(ctx.session, trail, button.page * PAGE_SIZE, PAGE_SIZE)
    title = _("all organizations") if _whole(ctx) else ctx.organization.name
    text = page_text(page, button, title, person, ctx.locale, ctx.zone, _whole(ctx))
    return text, keyboard(button, page.total)


@router.message(Command("audit"), flags=AUDIT)
async def audit_command(message: Message, ctx: Context, state: FSMContext) -> None:
    if await state.get_state() in (AuditStates.person.state, AuditStates.dates.state):
        await state.clear()
    shown = await _render(ctx, AuditButton(action="page"))
    assert shown is not None
    await message.answer(shown[0], reply_markup=shown[1])


@router.callback_query(AuditButton.filter(F.action == "page"), flags=AUDIT)
async def audit_page(
    query: CallbackQuery, callback_data: AuditButton, ctx: Context, callback_answer: CallbackAnswer
) -> None:
    shown = await _render(ctx, callback_data)
    if shown is None:
        stale_button(callback_answer)
    elif isinstance(query.message, Message):
        await query.message.edit_text(shown[0], reply_markup=shown[1])


@router.callback_query(AuditButton.filter(F.action.in_({"who", "dates"})), flags=AUDIT)
async def ask_filter(
    query: CallbackQuery,
    callback_data: AuditButton,
    ctx: Context,
    state: FSMContext,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """A person or a range of days, typed next; the other filters are kept."""
    if _trail(ctx, callback_data) is None or not (await _person(ctx, callback_data))[0]:
        stale_button(callback_answer)
        return
    kept = {FILTERS_KEY: callback_data.model_copy(update={"page": 0}).pack()}
    if callback_data.action == "dates":
        await ask_range(bot, query.from_user.id, state, AuditStates.dates, **kept)
        return
    await state.set_state(AuditStates.person)
    await state.update_data(kept)
    await bot.send_message(
        query.from_user.id, _("👤 Send the person's @username or Telegram id. Send /cancel to stop.")
    )


async def _kept_filters(state: FSMContext) -> AuditButton:
    packed = (await state.get_data()).get(FILTERS_KEY)
    try:
        return AuditButton.unpack(packed) if isinstance(packed, str) else AuditButton(action="page")
    except (TypeError, ValueError):
        return AuditButton(action="page")


@router.message(AuditStates.person, F.text, flags=AUDIT)
async def person_typed(message: Message, ctx: Context, state: FSMContext) -> None:
    text = (message.text or "").strip()
    member = await find_member_by_reference(ctx.session, text)
    actor = member.telegram_id if member is not None else int(text) if text.isdigit() else 0
    actor = actor if actor and actor <= ACTOR_MAX else 0
    button = (await _kept_filters(state)).model_copy(
        update={"action": "page", "page": 0, "member": member.id if member else 0, "actor": actor or 0}
    )
    shown = await _render(ctx, button) if member is not None or actor else None
    if shown is None:
        await message.answer(
            _(
                "I don't know anyone by that name in this trail. Send their @username or Telegram id, "
                "or /cancel."
            )
        )
        return
    await state.clear()
    await message.answer(shown[0], reply_markup=shown[1])


@router.message(AuditStates.dates, F.text, flags=AUDIT)
async def dates_typed(message: Message, ctx: Context, state: FSMContext) -> None:
    if (days := await typed_range(message, ctx)) is None:
        return
    first, last = days
    button = (await _kept_filters(state)).model_copy(
        update={"action": "page", "page": 0, "first": first.toordinal(), "last": last.toordinal()}
    )
    shown = await _render(ctx, button) or await _render(ctx, AuditButton(action="page"))
    await state.clear()
    assert shown is not None
    await message.answer(shown[0], reply_markup=shown[1])


@router.callback_query(AuditButton.filter(F.action == "csv"), flags=AUDIT)
async def export(
    query: CallbackQuery, callback_data: AuditButton, ctx: Context, bot: Bot, callback_answer: CallbackAnswer
) -> None:
    """Every entry the filters match, as CSV (itself an entry of the trail)."""
    trail = _trail(ctx, callback_data)
    if trail is None or not (await _person(ctx, callback_data))[0]:
        stale_button(callback_answer)
        return
    data = await audit.export_csv(ctx.session, trail)
    filters = {"family": callback_data.fam, "member_id": callback_data.member, "actor": callback_data.actor}
    shown = {key: value for key, value in filters.items() if value}
    audit.exported(ctx.session, "audit", ctx.user_id, trail.organization_id, **shown)
    name = f"audit-{trail.organization_id or 'all'}-{utcnow():%Y%m%d}.csv"
    await bot.send_document(
        query.from_user.id, BufferedInputFile(data, filename=name), caption=_("🧾 The audit trail, as CSV")
    )
