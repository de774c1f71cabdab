"""SQLModel tables, one module per capability; each module's `__all__` is re-exported here, so
`from storage.models import Event` works wherever a table is needed. A new capability adds its
module (with its `__all__`), imports it below, and writes a migration
(`storage/migrations/versions/`)."""

from __future__ import annotations

from storage.models.announcements import *  # noqa: F403
from storage.models.dialogs import *  # noqa: F403
from storage.models.events import *  # noqa: F403
from storage.models.library import *  # noqa: F403
from storage.models.members import *  # noqa: F403
from storage.models.outbox import *  # noqa: F403
from storage.models.positions import *  # noqa: F403
from storage.models.production import *  # noqa: F403
from storage.models.surveys import *  # noqa: F403
from storage.models.trainings import *  # noqa: F403
