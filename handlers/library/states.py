"""The library's dialogs' FSM states."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class NewResource(StatesGroup):
    kind = State()
    title = State()
    summary = State()
    category = State()
    problem = State()
    what_we_did = State()
    result = State()
    contact = State()
    content = State()  # a link, a document or photo, or a text body (several, then Next)
    languages = State()
    tags = State()
    scope = State()
    preview = State()
    translation = State()  # the composer kit's translation items
    edit = State()  # the composer kit's ✏️ Edit value


class Browse(StatesGroup):
    search = State()  # after /resources: typed words search


class Suggest(StatesGroup):
    content = State()
    title = State()
    note = State()


class Reject(StatesGroup):
    reason = State()
