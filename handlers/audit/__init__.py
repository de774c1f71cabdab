"""/audit: the audit trail for an organization's admins and the confederation's super-admins."""

from handlers.audit.dialog import router

__all__ = ["router"]
