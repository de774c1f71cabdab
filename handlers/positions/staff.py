"""/mypositions: the acting organization's joint positions page by page (drafts, open, closed),
and the requests awaiting an answer from the organizations the admin administers; each
position's card: status, deadline, the organizations asked and their answers (names in the
reader's language), how many members signed (a count only), and its buttons — continue a draft,
close now (the deadline's own closing: `submission.close_now`) or withdraw, each confirmed; the
submission and the consultation attached (`handlers.positions.submission`).

A position named by a button is loaded by the rights middleware, through the policy, in its own
organization (`ON_POSITION`: only its admins and the confederation's staff), and only in a status
that allows the button's action: a forged or stale press changes nothing."""

from __future__ import annotations

from html import escape
from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.context import Context
from bot.delivery import DeliveryEngine
from bot.i18n import _, format_when, ngettext
from bot.policy import Action, Loads, rights
from bot.services.positions import drafts, submission
from bot.services.positions.endorsements import answers_of, awaiting, signature_count, without_admin
from bot.services.positions.submission import texts_in
from bot.views.positions import DECISION_LABELS, STATUS_LABELS, head_lines, name_of, names
from handlers.composer import button_turn, staff_dialog
from handlers.fallback import stale_button, toast
from handlers.positions.callbacks import Endorsement, PositionStaff
from handlers.positions.composer import COMPOSER
from handlers.ui import page_turns
from storage.models import EndorsementDecision, Position, PositionStatus
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")
ADVOCACY: Final = rights(Action.ADVOCACY)
ENDED: Final = (PositionStatus.CLOSED, PositionStatus.WITHDRAWN)

# Which statuses each action accepts; anything else is a stale or forged button.
ACTIONS: Final[dict[str, tuple[PositionStatus, ...]]] = {
    "open": tuple(PositionStatus),
    "back": tuple(PositionStatus),
    "draft": (PositionStatus.DRAFT,),
    "close": (PositionStatus.OPEN,),
    "close_yes": (PositionStatus.OPEN,),
    "withdraw": (PositionStatus.OPEN,),
    "withdraw_yes": (PositionStatus.OPEN,),
}


def _accepts(position: Position, data: Any) -> bool:
    return position.status in ACTIONS.get(data.action, ())


ON_POSITION: Final = rights(Action.ADVOCACY, loads=Loads(Position, "position", accepts=_accepts))


def _button(text: str, action: str, ident: int = 0, page: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=PositionStaff(action=action, id=ident, page=page).pack()
    )


async def list_screen(ctx: Context, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """A page of the organization's positions, then the requests awaiting the admin's answer."""
    listed = await drafts.organization_positions(ctx.session, ctx.organization_id, page * drafts.PAGE_SIZE)
    if not listed.items and page > 0:  # the list got shorter since that button was sent
        page, listed = 0, await drafts.organization_positions(ctx.session, ctx.organization_id)
    rows: list[list[InlineKeyboardButton]] = []
    if listed.items:
        lines = [
            _("📢 <b>Joint positions</b> of {organization}").format(
                organization=escape(name_of(ctx.organization, ctx.locale))
            )
        ]
        for number, position in enumerate(listed.items, start=listed.offset + 1):
            title, _statement = texts_in(position, ctx.locale)
            lines.append(f"{number}. {STATUS_LABELS[position.status]} — {escape(title)}")
            rows.append([_button(f"{number}. {title}"[:60], "open", position.id or 0)])
        turns = page_turns(page, drafts.PAGE_SIZE, listed.total)
        if turns:
            rows.append([_button(arrow, "list", page=to) for arrow, to in turns])
    else:
        lines = [_("Your organization has no joint positions yet. /newposition drafts one.")]
    waiting = await awaiting(ctx.session, ctx.member, utcnow())
    if waiting:
        lines += ["", _("📩 <b>Awaiting your organization's answer</b>")]
        for number, (endorsement, position) in enumerate(waiting, start=1):
            title, _statement = texts_in(position, ctx.locale)
            when = format_when(position.deadline, ctx.locale, ctx.zone) if position.deadline else ""
            lines.append(f"📩 {number}. {escape(title)} — {escape(when)}")
            data = Endorsement(action="view", id=endorsement.id or 0).pack()
            rows.append([InlineKeyboardButton(text=f"📩 {number}. {title}"[:60], callback_data=data)])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


@staff_dialog(router, "mypositions", Action.ADVOCACY)
async def my_positions(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    text, keyboard = await list_screen(ctx, 0)
    await message.answer(text, reply_markup=keyboard)


@router.callback_query(PositionStaff.filter(F.action == "list"), flags=ADVOCACY)
async def positions_page(query: CallbackQuery, callback_data: PositionStaff, ctx: Context) -> None:
    if isinstance(query.message, Message):
        text, keyboard = await list_screen(ctx, callback_data.page)
        await query.message.edit_text(text, reply_markup=keyboard)


async def card(ctx: Context, position: Position) -> tuple[str, InlineKeyboardMarkup]:
    ident = position.id or 0
    lines = [str(STATUS_LABELS[position.status]), *head_lines(position, ctx.locale, ctx.zone)]
    if position.status == PositionStatus.DRAFT:
        buttons = [
            [_button(_("✏️ Continue the draft"), "draft", ident)],
            [_button(_("📊 Attach consultation"), "consult", ident)],
        ]
        return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=buttons)
    answers = await answers_of(ctx.session, ident)
    asked = ngettext("🏢 {count} organization asked", "🏢 {count} organizations asked", len(answers))
    lines += ["", asked.format(count=len(answers))]
    for decision in (EndorsementDecision.ENDORSED, EndorsementDecision.DECLINED, EndorsementDecision.PENDING):
        chosen = [asked.organization for asked in answers if asked.endorsement.decision == decision]
        lines.append(f"{DECISION_LABELS[decision]} ({len(chosen)}): {names(chosen, ctx.locale)}")
    unasked = await without_admin(ctx.session, answers) if position.status == PositionStatus.OPEN else []
    if unasked:
        lines.append(
            _("⚠️ No admin to ask (nobody got the request): {names}").format(names=names(unasked, ctx.locale))
        )
    if position.signatures_open:
        count = await signature_count(ctx.session, ident)
        lines.append(
            ngettext("✍️ {count} member signed", "✍️ {count} members signed", count).format(count=count)
        )
    rows = [[_button(_("📄 Submission"), "submission", ident)]]
    if position.status == PositionStatus.OPEN:
        rows.append([_button(_("📊 Attach consultation"), "consult", ident)])
        rows.append([_button(_("🔒 Close now"), "close", ident), _button(_("↩️ Withdraw"), "withdraw", ident)])
    return "\n".join(lines), InlineKeyboardMarkup(
        inline_keyboard=rows if position.status != PositionStatus.WITHDRAWN else []
    )


async def show_card(query: CallbackQuery, ctx: Context, position: Position, edit: bool = False) -> None:
    text, keyboard = await card(ctx, position)
    if edit and isinstance(query.message, Message) and query.message.text is not None:
        await query.message.edit_text(text, reply_markup=keyboard)
    elif query.bot is not None:
        await query.bot.send_message(query.from_user.id, text, reply_markup=keyboard)


@router.callback_query(PositionStaff.filter(F.action.in_({"open", "back"})), flags=ON_POSITION)
async def open_position(
    query: CallbackQuery, position: Position, callback_data: PositionStaff, ctx: Context
) -> None:
    """ "open": the card from the list (a new message); "back": the card again, instead of the
    question about closing or withdrawing."""
    await show_card(query, ctx, position, edit=callback_data.action == "back")


@router.callback_query(PositionStaff.filter(F.action == "draft"), flags=ON_POSITION)
async def continue_draft(
    query: CallbackQuery,
    position: Position,
    ctx: Context,
    state: FSMContext,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """A draft from the list: its preview, with the composer's buttons."""
    await COMPOSER.show_preview(button_turn(query, ctx, state, bot, callback_answer), position)


@router.callback_query(PositionStaff.filter(F.action.in_({"close", "withdraw"})), flags=ON_POSITION)
async def ask_to_end(
    query: CallbackQuery, position: Position, callback_data: PositionStaff, ctx: Context
) -> None:
    title = escape(texts_in(position, ctx.locale)[0])
    if callback_data.action == "close":
        question = _("Close “{title}” now? No more answers or names are taken; the submission is prepared.")
        yes = _("🔒 Yes, close it now")
    else:
        question = _("Withdraw “{title}”? No more answers or names are taken, and nothing is submitted.")
        yes = _("↩️ Yes, withdraw it")
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [_button(yes, f"{callback_data.action}_yes", position.id or 0)],
            [_button(_("No, keep it open"), "back", position.id or 0)],
        ]
    )
    if isinstance(query.message, Message):
        await query.message.edit_text(question.format(title=title), reply_markup=keyboard)


@router.callback_query(PositionStaff.filter(F.action.in_({"close_yes", "withdraw_yes"})), flags=ON_POSITION)
async def end_position(
    query: CallbackQuery,
    position: Position,
    callback_data: PositionStaff,
    ctx: Context,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
) -> None:
    """Closing is the deadline's own closing (the submission goes to the drafter now); withdrawing
    ends it with nothing submitted."""
    if callback_data.action == "close_yes":
        ended = await submission.close_now(ctx.session, position, utcnow(), ctx.user_id)
    else:
        ended = await drafts.withdraw(ctx.session, position, ctx.actor, utcnow())
    if not ended:
        stale_button(callback_answer)
        return
    delivery.wake()
    toast(callback_answer, str(STATUS_LABELS[position.status]))
    await show_card(query, ctx, position, edit=True)
