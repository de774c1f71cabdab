"""What the /managetrainings handlers share: the right they declare, which training statuses each
button accepts (the rights middleware loads the training a button names, `ON_TRAINING`), loading
the training a typed step is about, asking for a typed value, and showing a screen (a new message,
or the pressed one edited). How trainings and participants are named is in `views`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.context import Context
from bot.policy import Action, Loads, rights
from bot.services.trainings.queries import sessions_of
from bot.services.trainings.roster import roster
from handlers.composer.text import answered_a_command
from handlers.trainings.texts import gone
from storage.models import Training, TrainingStatus

COORDINATOR: Final = rights(Action.MANAGE_TRAININGS)
RUNNING: Final = (TrainingStatus.OPEN, TrainingStatus.CLOSED)
SHOWN: Final = (*RUNNING, TrainingStatus.COMPLETED)

# Which statuses each action accepts; anything else is a stale or forged button.
ACTIONS: Final[dict[str, tuple[TrainingStatus, ...]]] = {
    "open": SHOWN,
    "roster": (*SHOWN, TrainingStatus.CANCELLED),
    "rm": RUNNING,
    "rm_yes": RUNNING,
    "seats": RUNNING,
    "msg": RUNNING,
    "msg_send": RUNNING,
    "msg_drop": (*SHOWN, TrainingStatus.CANCELLED),
    "att": SHOWN,
    "att_s": SHOWN,
    "mark": SHOWN,
    "csv_r": (*SHOWN, TrainingStatus.CANCELLED),
    "csv_a": (*SHOWN, TrainingStatus.CANCELLED),
    "close": (TrainingStatus.OPEN,),
    "close_yes": (TrainingStatus.OPEN,),
    "cancel": RUNNING,
    "cancel_yes": RUNNING,
    "keep": (*SHOWN, TrainingStatus.CANCELLED),
    "fb": SHOWN,
}
KNOWN: Final = frozenset({*ACTIONS, "page"})  # every TrainingAdmin action a handler takes


async def _participant(ctx: Context, training: Training, data: Any) -> dict[str, Any] | None:
    """A removal button's person (`entry`), if they still hold or await a seat."""
    people = await roster(ctx.session, training.id or 0)
    holding = [*people.confirmed, *people.waitlisted]
    entry = next((item for item in holding if item.member.id == data.member), None)
    return {"entry": entry} if entry is not None else None


async def _session(ctx: Context, training: Training, data: Any) -> dict[str, Any] | None:
    """An attendance button's session (`event`, one of `sessions`); a toggle ("mark") only for a
    confirmed participant."""
    sessions = await sessions_of(ctx.session, training.id or 0)
    event = next((item for item in sessions if item.id == data.event), None)
    if event is None:
        return None
    if data.action == "mark":
        confirmed = (await roster(ctx.session, training.id or 0)).confirmed
        if not any(entry.member.id == data.member for entry in confirmed):
            return None
    return {"sessions": sessions, "event": event}


Extra = Callable[[Any, Any, Any], Awaitable[dict[str, Any] | None]]


def _accepts(training: Training, data: Any) -> bool:
    return training.status in ACTIONS.get(data.action, ())


def on_training(extra: Extra | None = None) -> dict[str, Any]:
    """The flags of a coordinator button about one training: the rights middleware loads it through
    the policy, checks that its status allows the button's action, and loads its `extra` (else
    the button is stale)."""
    return rights(Action.MANAGE_TRAININGS, loads=Loads(Training, "training", accepts=_accepts, extra=extra))


ON_TRAINING: Final = on_training()
ON_PARTICIPANT: Final = on_training(_participant)  # and `entry`, the person a removal names
ON_SESSION: Final = on_training(_session)  # and `event`, one of its `sessions`


async def typed_training(
    message: Message, ctx: Context, state: FSMContext
) -> tuple[Training, dict[str, Any]] | None:
    """For a typed answer (seats, a message): the training it is about and the step's data, if it
    can still change; None after telling the sender why not."""
    if await answered_a_command(message):
        return None
    info = (await state.get_data()).get("manage_training")
    training_id = info.get("training_id") if isinstance(info, dict) else None
    training = await ctx.load(Action.MANAGE_TRAININGS, Training, int(training_id or 0))
    if training is None or training.status not in RUNNING:
        await state.clear()
        await message.answer(gone())
        return None
    return training, dict(info)  # type: ignore[arg-type]


async def show(
    query: CallbackQuery, text: str, keyboard: InlineKeyboardMarkup | None = None, *, edit: bool = False
) -> None:
    """The screen a button asked for: the pressed message edited into it (`edit`, when the message
    can still be edited), else a new message."""
    if edit and isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=keyboard)
    elif query.bot is not None:
        await query.bot.send_message(query.from_user.id, text, reply_markup=keyboard)


async def ask_typed(
    query: CallbackQuery, state: FSMContext, step: State, training: Training, text: str
) -> None:
    """Ask for a typed value about `training` (`typed_training` finds it again)."""
    await state.set_state(step)
    await state.update_data(manage_training={"training_id": training.id or 0})
    await show(query, text)
