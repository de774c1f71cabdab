"""Organizer side of events (in progress)."""

from typing import Final

from aiogram import Router

router: Final[Router] = Router(name=__name__)
