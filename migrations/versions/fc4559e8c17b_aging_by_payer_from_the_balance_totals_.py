"""Aging by payer from the balance totals (owed_insurance, owed_client); clients in name order

The balances become facts of their bills, so every practice's summaries are built again (by `flask reports
build`, which `make run` calls, or by the first report opened).

Revision ID: fc4559e8c17b
Revises: a20b1cc1e66a
Create Date: 2026-11-29 20:58:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fc4559e8c17b'
down_revision = 'a20b1cc1e66a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('receivables', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receivables_practice_id_payer_id'))
    op.create_index('ix_clients_practice_id_name', 'clients',
                    ['practice_id', sa.text('lower(last_name)'), sa.text('lower(first_name)'), 'id'], unique=False)
    op.execute("UPDATE practices SET reports_built_at = NULL")


def downgrade():
    op.drop_index('ix_clients_practice_id_name', table_name='clients')
    with op.batch_alter_table('receivables', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receivables_practice_id_payer_id'),
                              ['practice_id', 'payer_id', 'service_date', 'insurance', 'clinician_id',
                               'balance_cents'], unique=False)
    op.execute("UPDATE practices SET reports_built_at = NULL")
