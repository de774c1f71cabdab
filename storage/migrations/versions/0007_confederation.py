"""confederation: organizations described for the directory, join policies and requests, the
organization a person acts for, events open to the whole confederation (revision 0007, after 0006;
2026-12-05).

The existing organizations stay as they are (listed, open) and get a random invite code."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

import storage.types

revision, down_revision = "0007", "0006"


def upgrade() -> None:
    op.create_table(
        "join_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by_telegram_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organization_id", "member_id"),
    )
    with op.batch_alter_table("join_requests", schema=None) as batch_op:
        batch_op.create_index("ix_join_requests_org_status", ["organization_id", "status"], unique=False)

    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_org_at", ["organization_id", "at"], unique=False)

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("open_to_all", sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acting_organization_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_members_acting_organization_id",
            "organizations",
            ["acting_organization_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="organization", nullable=False)
        )
        batch_op.add_column(sa.Column("description", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("translations", sa.JSON(), server_default="{}", nullable=False))
        batch_op.add_column(sa.Column("countries", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("cities", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("languages", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("topics", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("contact", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("logo_file_id", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column("visibility", sa.String(length=16), server_default="listed", nullable=False)
        )
        batch_op.add_column(
            sa.Column("join_policy", sa.String(length=16), server_default="open", nullable=False)
        )
        batch_op.add_column(sa.Column("invite_code", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default="active", nullable=False)
        )
        batch_op.add_column(sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_organizations_invite_code"), ["invite_code"], unique=True)

    organizations = sa.table(
        "organizations", sa.column("id", sa.Integer), sa.column("invite_code", sa.String)
    )
    connection = op.get_bind()
    for (organization_id,) in connection.execute(sa.select(organizations.c.id)).all():
        connection.execute(
            organizations.update()
            .where(organizations.c.id == organization_id)
            .values(invite_code=secrets.token_urlsafe(9))
        )


def downgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organizations_invite_code"))
        batch_op.drop_column("updated_at")
        batch_op.drop_column("status")
        batch_op.drop_column("invite_code")
        batch_op.drop_column("join_policy")
        batch_op.drop_column("visibility")
        batch_op.drop_column("logo_file_id")
        batch_op.drop_column("contact")
        batch_op.drop_column("topics")
        batch_op.drop_column("languages")
        batch_op.drop_column("cities")
        batch_op.drop_column("countries")
        batch_op.drop_column("translations")
        batch_op.drop_column("description")
        batch_op.drop_column("kind")

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_constraint("fk_members_acting_organization_id", type_="foreignkey")
        batch_op.drop_column("acting_organization_id")

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("open_to_all")

    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_org_at")

    with op.batch_alter_table("join_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_join_requests_org_status")

    op.drop_table("join_requests")
