"""Claims: Withdrawn (a later payer's claim whose earlier payer's decision was reversed), and a denial worked by
billing the next payer

Revision ID: a7d3c9e15f20
Revises: b7d41c9e3a52
Create Date: 2026-12-03 21:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a7d3c9e15f20'
down_revision = 'b7d41c9e3a52'
branch_labels = None
depends_on = None

STATUSES = "'queued', 'sent', 'received', 'in_process', 'paid', 'needs_review', 'denied'"
ACTIONS = "'resubmitted', 'voided', 'appealed', 'billed_client', 'written_off'"


def upgrade():
    # The denial_action check the model has had since denials were worked reaches the database only now.
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_constraint('status', type_='check')
        batch_op.create_check_constraint('status', f"status IN ({STATUSES}, 'withdrawn')")
        batch_op.create_check_constraint('denial_action', "denial_action IS NULL OR denial_action IN "
                                                          f"({ACTIONS}, 'billed_next_payer')")


def downgrade():
    op.execute("UPDATE claims SET denial_action = NULL, denial_worked_at = NULL "
               "WHERE denial_action = 'billed_next_payer'")
    # Withdrawn claims wait in Needs Review for a person, and the tab counts are counted again.
    op.execute("DELETE FROM claim_counts WHERE status IN ('withdrawn', 'needs_review')")
    op.execute("UPDATE claims SET status = 'needs_review' WHERE status = 'withdrawn'")
    op.execute("INSERT INTO claim_counts (practice_id, status, count) SELECT practice_id, 'needs_review', count(*) "
               "FROM claims WHERE status = 'needs_review' GROUP BY practice_id")
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_constraint('denial_action', type_='check')
        batch_op.drop_constraint('status', type_='check')
        batch_op.create_check_constraint('status', f"status IN ({STATUSES})")
