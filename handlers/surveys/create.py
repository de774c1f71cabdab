"""/poll (a one-question Telegram poll) and /newsurvey (a survey, question after question): each
starts the creation dialog, whose steps live in `question_steps` and `settings_steps`.

The draft is written only at the end of the dialog, and members are invited only when the
coordinator presses Publish on its card (`draft`).
"""

from __future__ import annotations

from typing import Final

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.context import Context
from bot.policy import Action
from handlers.composer import staff_dialog
from handlers.surveys.dialog import start_dialog

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")


@staff_dialog(router, "poll", Action.RUN_SURVEYS, publishes=True)
async def new_poll(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    await start_dialog(message, ctx, state, bot, "poll")


@staff_dialog(router, "newsurvey", Action.RUN_SURVEYS, publishes=True)
async def new_survey(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    await start_dialog(message, ctx, state, bot, "survey")
