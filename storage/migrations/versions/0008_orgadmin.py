"""orgadmin: the organization each outbox row speaks for, so that nothing goes out on behalf of a
suspended or archived organization (revision 0008, after 0007; 2026-12-06).

Rows written before this revision belong to the deployment's one organization (0007 kept a
single one): they are given its id."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision, down_revision = "0008", "0007"


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_outbox_org_status", ["organization_id", "status"], unique=False)
    outbox = sa.table("outbox", sa.column("organization_id", sa.Integer))
    organizations = sa.table("organizations", sa.column("id", sa.Integer))
    op.get_bind().execute(
        outbox.update().values(organization_id=sa.select(sa.func.min(organizations.c.id)).scalar_subquery())
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_org_status")
        batch_op.drop_column("organization_id")
