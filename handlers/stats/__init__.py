"""/stats: statistics for an organization's staff and the confederation's super-admins."""

from handlers.stats.dialog import router

__all__ = ["router"]
