"""events_listed: an index for the member's /events list, its page in start order and its total
read from the index alone (issue 15; revision 0011, after 0010; 2026-12-06)."""

from __future__ import annotations

from alembic import op

revision, down_revision = "0011", "0010"

COLUMNS = ["status", "training_id", "starts_at", "id", "ends_at", "organization_id", "open_to_all"]


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_listed", COLUMNS, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_listed")
