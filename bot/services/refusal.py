"""`Refusal`, what every service raises when it will not do something (`EventError`,
`TrainingError`, `SurveyError`, `AnnouncementError`, `RoleError`, `DateError`): a stable `reason`
code the handlers translate and, for the "…_too_long" and "…_range" reasons, the `limit` to show.
Nothing was written when one is raised."""

from __future__ import annotations

from typing import Any

from bot.services.text import TextRejected, limited_line


class Refusal(Exception):
    def __init__(self, reason: str, limit: Any = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.limit = limit

    @classmethod
    def checked_line(cls, text: str | None, limit: int, empty: str, too_long: str) -> str:
        """One line of typed text (see `limited_line`), or this refusal with the field's reason,
        `empty` or `too_long`, and `limit`."""
        try:
            return limited_line(text, limit)
        except TextRejected as error:
            raise cls(empty if error.reason == "empty" else too_long, limit) from None
