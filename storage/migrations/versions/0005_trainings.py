"""trainings: courses of sessions (events) with seats, sign-ups, a waitlist and notices (revision 0005, after 0004; 2026-11-28)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision, down_revision = "0005", "0004"


def upgrade() -> None:
    op.create_table(
        "trainings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("teaching_languages", sa.JSON(), nullable=False),
        sa.Column("trainer", sa.String(length=200), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("signup_deadline", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("translations", sa.JSON(), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("signup_seq", sa.Integer(), server_default="0", nullable=False),
        sa.Column("feedback_survey_id", sa.Integer(), nullable=True),
        sa.Column("created_by_member_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_member_id"],
            ["members.id"],
        ),
        sa.ForeignKeyConstraint(
            ["feedback_survey_id"],
            ["surveys.id"],
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("trainings", schema=None) as batch_op:
        batch_op.create_index("ix_trainings_org_status", ["organization_id", "status"], unique=False)

    op.create_table(
        "training_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("training_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["training_id"],
            ["trainings.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("training_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_notices_training_id"), ["training_id"], unique=False)

    op.create_table(
        "training_signups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("training_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
        ),
        sa.ForeignKeyConstraint(
            ["training_id"],
            ["trainings.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("training_id", "member_id"),
    )
    with op.batch_alter_table("training_signups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_signups_member_id"), ["member_id"], unique=False)
        batch_op.create_index(
            "ix_training_signups_status_seq", ["training_id", "status", "seq"], unique=False
        )

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("training_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_events_training_id"), ["training_id"], unique=False)
        batch_op.create_foreign_key("fk_events_training_id", "trainings", ["training_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_constraint("fk_events_training_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_events_training_id"))
        batch_op.drop_column("training_id")

    with op.batch_alter_table("training_signups", schema=None) as batch_op:
        batch_op.drop_index("ix_training_signups_status_seq")
        batch_op.drop_index(batch_op.f("ix_training_signups_member_id"))

    op.drop_table("training_signups")
    with op.batch_alter_table("training_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_notices_training_id"))

    op.drop_table("training_notices")
    with op.batch_alter_table("trainings", schema=None) as batch_op:
        batch_op.drop_index("ix_trainings_org_status")

    op.drop_table("trainings")
