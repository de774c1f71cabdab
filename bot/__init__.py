"""The bot. Importing the package first of all makes aiogram build each of its types' pydantic
schemas on first use instead of all ~300 at import (bot/lazy_schemas.py)."""

from bot.lazy_schemas import install as _install_lazy_schemas

_install_lazy_schemas()
