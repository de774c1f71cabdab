"""/newposition: an organization admin's dialog (the confederation's staff too), one question per
message — title, statement, addressee (the institution or consultation), deadline (typed, read in
the admin's language and time zone, to come), whom to ask (ticks; "🌍 All organizations" for the
confederation's staff only), whether members may sign — then the preview. The draft is a row from
the title on; the preview, translations, ✏️ Edit, Publish and Discard are the composer kit's
(`handlers.positions.composer`). A refused answer keeps the step."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import Message

from bot.context import Context
from bot.i18n import _, format_when
from bot.policy import Action, rights
from bot.services.positions import drafts
from bot.services.positions.drafts import PositionError
from bot.services.positions.submission import change
from bot.views.positions import refusal
from handlers.composer import (
    TextRule,
    Turn,
    draft_button,
    echo_choice,
    message_turn,
    read_text,
    staff_dialog,
)
from handlers.positions.callbacks import PositionDraft
from handlers.positions.composer import (
    COMPOSER,
    RETURN_KEY,
    TEXT_FIELDS,
    ask_signatures,
    ask_targets,
    asked_names,
    checked_deadline,
    field_prompt,
    is_super,
    load_draft,
    targets_keyboard,
    zone_line,
)
from handlers.positions.states import NewPosition as S
from storage.models import Position, PositionTarget
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")
FLAGS: Final = rights(Action.ADVOCACY)
TYPED: Final = {S.title: "title", S.statement: "statement", S.addressee: "addressee"}
NEXT: Final = {S.title: S.statement, S.statement: S.addressee, S.addressee: S.deadline}


@staff_dialog(router, "newposition", Action.ADVOCACY, publishes=True)
async def new_position(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    await state.set_state(S.title)
    await state.update_data(position_id=None, **{RETURN_KEY: False})
    intro = _(
        "📢 <b>New joint position</b>\n\nA statement addressed to an institution or a consultation, "
        "that the organizations you ask endorse. Send /cancel to stop."
    )
    await message.answer(f"{intro}\n\n{field_prompt('title')}")


async def _dialog_draft(turn: Turn) -> Position | None:
    """The draft of the dialog in progress, or None after ending it and saying why."""
    draft = await load_draft(turn, int((await turn.state.get_data()).get("position_id") or 0))
    if draft is None:
        await turn.state.clear()
        await turn.say(COMPOSER.gone())
    return draft


async def ask(turn: Turn, step: State) -> None:
    await turn.state.set_state(step)
    if step == S.deadline:
        await turn.say(f"{field_prompt('deadline')}\n{zone_line(turn)}")
    else:
        await turn.say(field_prompt(TYPED[step]))


@router.message(StateFilter(*TYPED), F.text, flags=FLAGS)
async def text_typed(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    turn, current = message_turn(message, ctx, state, bot), await state.get_state()
    step = next(step for step in TYPED if step.state == current)
    key = TYPED[step]
    text = await read_text(message, state, TextRule(TEXT_FIELDS[key]))
    if text is None:
        return
    try:
        if step == S.title:
            member_id = ctx.member.id if ctx.member else None
            draft = await drafts.create_draft(ctx.session, ctx.organization_id, text, ctx.locale, member_id)
            await state.update_data(position_id=draft.id)
        else:
            found = await _dialog_draft(turn)
            if found is None:
                return
            await change(ctx.session, found, **{key: drafts.checked_text(key, text)})
    except PositionError as error:
        await message.answer(refusal(error))
        return
    await ask(turn, NEXT[step])


@router.message(S.deadline, F.text, flags=FLAGS)
async def deadline_typed(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    turn = message_turn(message, ctx, state, bot)
    text = await read_text(message, state, TextRule(200))
    if text is None:
        return
    moment = checked_deadline(turn, text)
    if isinstance(moment, str):
        await message.answer(moment)
        return
    draft = await _dialog_draft(turn)
    if draft is None:
        return
    await drafts.set_deadline(ctx.session, draft, moment, utcnow())
    when = format_when(moment, ctx.locale, ctx.zone, "words")
    await message.answer(_("📅 Deadline: {when}").format(when=escape(when)))
    await ask_targets(turn, draft)


async def _after_choice(turn: Turn, draft: Position, then: State) -> None:
    """The next step, or back to the preview when the choice was made from ✏️ Edit."""
    if (await turn.state.get_data()).get(RETURN_KEY):
        await COMPOSER.show_preview(turn, draft)
    elif then == S.signatures:
        await ask_signatures(turn, draft)
    else:
        await COMPOSER.show_preview(turn, draft)


async def _refresh_targets(turn: Turn, draft: Position, page: int = 0) -> None:
    if turn.message is not None:
        await turn.message.edit_reply_markup(reply_markup=await targets_keyboard(turn, draft, page))


@draft_button(COMPOSER, router, "org")
async def organization_ticked(turn: Turn, draft: Position, data: PositionDraft) -> None:
    if await turn.state.get_state() != S.targets.state or not data.value.isdigit():
        turn.stale()
        return
    if not await drafts.toggle_asked(turn.ctx.session, draft, int(data.value)):
        turn.stale()
        return
    await _refresh_targets(turn, draft)


@draft_button(COMPOSER, router, "orgs")
async def organizations_page(turn: Turn, draft: Position, data: PositionDraft) -> None:
    if await turn.state.get_state() != S.targets.state or not data.value.isdigit():
        turn.stale()
        return
    await _refresh_targets(turn, draft, int(data.value))


@draft_button(COMPOSER, router, "all")
async def everyone_ticked(turn: Turn, draft: Position, data: PositionDraft) -> None:
    """ "🌍 All organizations": the confederation's staff only (anyone else: a stale button, and
    the service refuses it too)."""
    if await turn.state.get_state() != S.targets.state or not is_super(turn):
        turn.stale()
        return
    chosen = PositionTarget.CHOSEN if draft.target == PositionTarget.ALL else PositionTarget.ALL
    await drafts.set_target(turn.ctx.session, draft, chosen, turn.ctx.actor)
    await _refresh_targets(turn, draft)


@draft_button(COMPOSER, router, "targets")
async def targets_done(turn: Turn, draft: Position, data: PositionDraft) -> None:
    if await turn.state.get_state() != S.targets.state:
        turn.stale()
        return
    await echo_choice(turn, await asked_names(turn, draft))
    await _after_choice(turn, draft, S.signatures)


@draft_button(COMPOSER, router, "sign")
async def signatures_chosen(turn: Turn, draft: Position, data: PositionDraft) -> None:
    if await turn.state.get_state() != S.signatures.state or data.value not in ("yes", "no"):
        turn.stale()
        return
    await echo_choice(turn)
    await change(turn.ctx.session, draft, signatures_open=data.value == "yes")
    await _after_choice(turn, draft, S.preview)


@router.message(StateFilter(S.targets, S.signatures, S.preview), flags=FLAGS)
async def buttons_awaited(message: Message) -> None:
    await message.answer(_("Please choose with the buttons above, or send /cancel to stop."))


@router.message(StateFilter(*TYPED, S.deadline), flags=FLAGS)
async def not_text(message: Message) -> None:
    await message.answer(
        _("Please answer with a text message, or use the buttons above. Send /cancel to stop.")
    )
