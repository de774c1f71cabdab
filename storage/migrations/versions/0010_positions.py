"""positions: joint positions (advocacy), the organizations asked to endorse them, and members'
signatures given with consent (revision 0010, after 0009; 2026-12-05)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision, down_revision = "0010", "0009"


def upgrade() -> None:
    op.create_table(
        "positions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("translations", sa.JSON(), server_default="{}", nullable=False),
        sa.Column("addressee", sa.String(length=255), nullable=False),
        sa.Column("deadline", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("target_organizations", sa.JSON(), server_default="[]", nullable=False),
        sa.Column("signatures_open", sa.Boolean(), nullable=False),
        sa.Column("keep_until", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("survey_id", sa.Integer(), nullable=True),
        sa.Column("submission_language", sa.String(length=8), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["members.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
        ),
        sa.ForeignKeyConstraint(["survey_id"], ["surveys.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("positions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_positions_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index("ix_positions_status_deadline", ["status", "deadline"], unique=False)

    op.create_table(
        "position_endorsements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["decided_by"], ["members.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
        ),
        sa.ForeignKeyConstraint(["position_id"], ["positions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("position_id", "organization_id"),
    )
    with op.batch_alter_table("position_endorsements", schema=None) as batch_op:
        batch_op.create_index("ix_position_endorsements_org", ["organization_id", "decision"], unique=False)

    op.create_table(
        "position_signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(length=64), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("consented_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["position_id"], ["positions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("position_id", "member_id"),
    )
    with op.batch_alter_table("position_signatures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_position_signatures_member_id"), ["member_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("position_signatures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_position_signatures_member_id"))

    op.drop_table("position_signatures")
    with op.batch_alter_table("position_endorsements", schema=None) as batch_op:
        batch_op.drop_index("ix_position_endorsements_org")

    op.drop_table("position_endorsements")
    with op.batch_alter_table("positions", schema=None) as batch_op:
        batch_op.drop_index("ix_positions_status_deadline")
        batch_op.drop_index(batch_op.f("ix_positions_organization_id"))

    op.drop_table("positions")
