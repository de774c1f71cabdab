"""What the /managetrainings handlers share: the right they declare, which training statuses each
button accepts, loading the training a button or a typed step is about (through the policy, then
its state). How trainings and participants are named is in `views`."""

from __future__ import annotations

from typing import Any, Final

from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.context import Context
from bot.i18n import _
from bot.policy import Action, Loads, rights
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
# A coordinator button about one training: the rights middleware loads it through the policy and
# checks that its status allows the button's action (else the button is stale).
ON_TRAINING: Final = rights(
    Action.MANAGE_TRAININGS,
    loads=Loads(Training, "training", accepts=lambda row, data: row.status in ACTIONS.get(data.action, ())),
)


async def typed_training(
    message: Message, ctx: Context, state: FSMContext
) -> tuple[Training, dict[str, Any]] | None:
    """For a typed answer (seats, a message): the training it is about and the step's data, if it
    can still change; None after telling the sender why not."""
    if (message.text or "").startswith("/"):
        await message.answer(_("Please answer the question above, or send /cancel to stop."))
        return None
    info = (await state.get_data()).get("manage_training")
    training_id = info.get("training_id") if isinstance(info, dict) else None
    training = await ctx.load(Action.MANAGE_TRAININGS, Training, int(training_id or 0))
    if training is None or training.status not in RUNNING:
        await state.clear()
        await message.answer(gone())
        return None
    return training, dict(info)  # type: ignore[arg-type]
