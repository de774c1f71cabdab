"""Trainings on Telegram: courses whose sessions are events, with seats, a waitlist, sign-up
questions, attendance and feedback (rules in `bot.services.trainings`, cards in
`bot.views.trainings`).

Coordinators: /newtraining is `new_training_steps` (the step table: each step's question, buttons
and typed answer), `training_draft` (the draft in the FSM data), `new_training` (the command, the
typed answers), `new_training_sessions` (the sessions' steps), `draft` (the other steps' buttons),
`audience` (last: it answers any other draft button as stale) and `composer` (on the composer kit:
translations, preview, Publish, Discard). /managetrainings is `manage` (the list, a training's page,
CSV files, closing, cancelling, feedback), `roster`, `seats`, `messages` and `attendance`, with
`managed` (what they share) and `views`. Members: `member` (/trainings, cards, deep links), `my_trainings` and
`signup` (the questions, signing up and leaving).

`handlers.get_routers` places the coordinator routers with the other staff dialogs and the member
routers with the other member handlers, where the single modules used to be.
"""

from __future__ import annotations

from aiogram import Router

from handlers.composer import composer_router
from handlers.trainings import (
    attendance,
    audience,
    draft,
    manage,
    member,
    messages,
    my_trainings,
    new_training,
    new_training_sessions,
    roster,
    seats,
    signup,
)
from handlers.trainings.composer import COMPOSER
from handlers.trainings.member import show_linked_training

coordinator_routers: list[Router] = [
    composer_router(COMPOSER),  # first: a continuation of a cut text is not taken as an answer
    new_training.router,
    new_training_sessions.router,
    draft.router,
    audience.router,  # after the other /newtraining routers: it ends with the catch-all
    manage.router,
    roster.router,
    seats.router,
    messages.router,
    attendance.router,
]
member_routers: list[Router] = [member.router, my_trainings.router, signup.router]

__all__ = ["coordinator_routers", "member_routers", "show_linked_training"]
