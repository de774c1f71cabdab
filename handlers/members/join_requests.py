"""An admin's ✅ Approve / ❌ Decline on a join request (sent by the delivery engine). Who may
decide is checked by the service, against the request's own organization: its admins and the
super-admins. The first decision counts; a later press is told who decided, and changes nothing."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.context import Context
from bot.delivery import DeliveryEngine
from bot.i18n import _
from bot.policy import Action, rights
from bot.services import memberships as service
from bot.services.memberships import Decision, MembershipError
from bot.views.memberships import JoinDecision, applicant_name, request_text
from handlers.fallback import stale_button, toast
from handlers.members.org_views import refusal
from storage.models import JoinRequestStatus
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)


def _outcome(decision: Decision) -> str:
    """The line under the request once it is decided, as the pressing admin reads it."""
    status = decision.request.status
    name = applicant_name(decision.applicant)
    if decision.decided:
        if status == JoinRequestStatus.APPROVED:
            return _("✅ Approved by you: {name} is now a member.").format(name=name)
        return _("❌ Declined by you. {name} has been told.").format(name=name)
    if status == JoinRequestStatus.CANCELLED:
        return _("This request was withdrawn (or the member joined another way).")
    by = decision.decided_by or _("another administrator")
    if status == JoinRequestStatus.APPROVED:
        return _("Already approved by {name}.").format(name=by)
    return _("Already declined by {name}.").format(name=by)


# Public to the rights middleware: it judges rights in the update's organization, while a request
# belongs to its own; the service checks the presser against that one, and refuses everyone else.
@router.callback_query(JoinDecision.filter(), flags=rights(Action.PUBLIC))
async def decide(
    query: CallbackQuery,
    callback_data: JoinDecision,
    ctx: Context,
    delivery: DeliveryEngine,
    callback_answer: CallbackAnswer,
) -> None:
    if ctx.actor is None:
        stale_button(callback_answer)
        return
    try:
        decision = await service.decide(
            ctx.session, ctx.actor, ctx.member, callback_data.request, callback_data.approve, utcnow()
        )
    except MembershipError as error:
        if error.reason in ("no_request", "not_allowed"):  # missing, forged, or not theirs: alike
            stale_button(callback_answer)
        else:
            toast(callback_answer, refusal(error.reason), alert=True)
        return
    outcome = _outcome(decision)
    if decision.decided:
        delivery.wake()  # the member's answer is in the outbox
    else:
        toast(callback_answer, outcome, alert=True)
    if isinstance(query.message, Message):
        text = request_text(decision.organization, decision.applicant, ctx.locale)
        await query.message.edit_text(f"{text}\n\n<i>{escape(outcome)}</i>", reply_markup=None)
