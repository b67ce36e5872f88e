"""Indexes for 100,000 claims: the denials waiting for work, counted on every biller's page, from a partial index
(claims that are denied and not yet worked) rather than each denied claim's row

Revision ID: b7d41c9e3a52
Revises: 21820b02a63c
Create Date: 2026-12-03 21:05:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'b7d41c9e3a52'
down_revision = '21820b02a63c'
branch_labels = None
depends_on = None

_TO_WORK = "status = 'denied' AND denial_action IS NULL"


def upgrade():
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.create_index('ix_claims_practice_id_denials_to_work', ['practice_id', 'id'], unique=False,
                              postgresql_where=sa.text(_TO_WORK), sqlite_where=sa.text(_TO_WORK))


def downgrade():
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_index('ix_claims_practice_id_denials_to_work')
