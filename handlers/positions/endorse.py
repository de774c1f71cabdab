"""An organization admin's answer to a joint position: "✅ Endorse on behalf of ‹organization›" or
"❌ Decline" under the request (sent through the outbox, or opened from /mypositions).

The button names the organization's `PositionEndorsement` row, which the rights middleware loads
through the policy in the organization asked: only its admins (and the confederation's staff)
get this far; anyone else's press is refused or stale and changes nothing. The answer can be
changed until the deadline (the message then shows it and offers the other); after the deadline,
or on a closed or withdrawn position, a clear message and nothing changes."""

from __future__ import annotations

from typing import Final

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.context import Context
from bot.delivery import DeliveryEngine
from bot.i18n import _
from bot.policy import Action, Loads, rights
from bot.services.positions.endorsements import Answer, answer, is_open, request_of
from bot.views.positions import closed_text, name_of, request_keyboard, request_text
from handlers.fallback import toast
from handlers.positions.callbacks import Endorsement
from storage.models import EndorsementDecision, PositionEndorsement
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
ON_ENDORSEMENT: Final = rights(Action.ADVOCACY, loads=Loads(PositionEndorsement, "endorsement"))
DECISIONS: Final = {"endorse": EndorsementDecision.ENDORSED, "decline": EndorsementDecision.DECLINED}


async def show_request(
    query: CallbackQuery, ctx: Context, endorsement: PositionEndorsement, edit: bool
) -> bool:
    """The request with its current answer: the pressed message edited (`edit`) or a new one.
    False when the position no longer takes answers."""
    request = await request_of(ctx.session, endorsement)
    if request is None or not is_open(request.position, utcnow()):
        return False
    text = request_text(request, ctx.locale, ctx.zone)
    keyboard = request_keyboard(request, ctx.locale)
    if edit and isinstance(query.message, Message) and query.message.text is not None:
        await query.message.edit_text(text, reply_markup=keyboard)
    elif query.bot is not None:
        await query.bot.send_message(query.from_user.id, text, reply_markup=keyboard)
    return True


@router.callback_query(Endorsement.filter(F.action.in_(set(DECISIONS))), flags=ON_ENDORSEMENT)
async def answered(
    query: CallbackQuery,
    callback_data: Endorsement,
    endorsement: PositionEndorsement,
    ctx: Context,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
) -> None:
    decision = DECISIONS[callback_data.action]
    outcome = await answer(ctx.session, endorsement, decision, ctx.member_id, ctx.user_id, utcnow())
    if outcome is Answer.CLOSED:
        toast(callback_answer, closed_text(), alert=True)
        if isinstance(query.message, Message) and query.message.reply_markup is not None:
            await query.message.edit_reply_markup(reply_markup=None)
        return
    if outcome is Answer.SAME:
        toast(callback_answer, _("That is already your organization's answer."))
        return
    delivery.wake()
    organization = name_of(ctx.organization, ctx.locale)
    if decision == EndorsementDecision.ENDORSED:
        toast(
            callback_answer, _("✅ Endorsed on behalf of {organization}.").format(organization=organization)
        )
    else:
        toast(
            callback_answer, _("❌ Declined on behalf of {organization}.").format(organization=organization)
        )
    await show_request(query, ctx, endorsement, edit=True)


@router.callback_query(Endorsement.filter(F.action == "view"), flags=ON_ENDORSEMENT)
async def view_request(
    query: CallbackQuery, endorsement: PositionEndorsement, ctx: Context, callback_answer: CallbackAnswer
) -> None:
    """A request listed in /mypositions, opened with its buttons."""
    if not await show_request(query, ctx, endorsement, edit=False):
        toast(callback_answer, closed_text(), alert=True)
