"""orgadmin: the organization each outbox row speaks for, so that nothing goes out on behalf of a
suspended or archived organization (revision 0009, after 0008; 2026-12-06).

Rows written before this revision are given the organization their subject belongs to (by kind:
the announcement, the event of a notice or reminder, the survey, the training of a notice, the
audit entry of a join request or decision, the resource of a suggestion); the weekly digest of
resources speaks for no one organization and stays without."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision, down_revision = "0009", "0008"

# outbox kind -> the SQL that finds the organization of its subject (the row's ref_id)
_SUBJECTS = {
    "announcement": "SELECT organization_id FROM announcements WHERE id = outbox.ref_id",
    "event_notice": (
        "SELECT e.organization_id FROM event_notices n JOIN events e ON e.id = n.event_id "
        "WHERE n.id = outbox.ref_id"
    ),
    "reminder": (
        "SELECT e.organization_id FROM reminders r JOIN events e ON e.id = r.event_id WHERE r.id = outbox.ref_id"
    ),
    "survey": "SELECT organization_id FROM surveys WHERE id = outbox.ref_id",
    "survey_reminder": "SELECT organization_id FROM surveys WHERE id = outbox.ref_id",
    "poll_stop": "SELECT organization_id FROM surveys WHERE id = outbox.ref_id",
    "training_notice": (
        "SELECT t.organization_id FROM training_notices n JOIN trainings t ON t.id = n.training_id "
        "WHERE n.id = outbox.ref_id"
    ),
    "join_request": "SELECT organization_id FROM audit_log WHERE id = outbox.ref_id",
    "join_decision": "SELECT organization_id FROM audit_log WHERE id = outbox.ref_id",
    "library_suggestion": "SELECT organization_id FROM resources WHERE id = outbox.ref_id",
    "library_decision": "SELECT organization_id FROM resources WHERE id = outbox.ref_id",
}


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_outbox_org_status", ["organization_id", "status"], unique=False)
    connection = op.get_bind()
    for kind, subject in _SUBJECTS.items():
        connection.execute(
            sa.text(f"UPDATE outbox SET organization_id = ({subject}) WHERE kind = :kind"), {"kind": kind}
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_org_status")
        batch_op.drop_column("organization_id")
