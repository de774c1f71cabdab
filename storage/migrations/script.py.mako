"""${message} (revision ${up_revision}, ${"after " + down_revision if down_revision else "the first"}; ${create_date.date() if hasattr(create_date, "date") else create_date})."""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op
${imports if imports else ""}
import storage.types

revision, down_revision = ${repr(up_revision)}, ${repr(down_revision)}
% if branch_labels:
branch_labels = ${repr(branch_labels)}
% endif
% if depends_on:
depends_on = ${repr(depends_on)}
% endif


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
