"""Paper claims and Good Faith Estimates: the practice's CMS-1500 alignment offset (tenths of a millimetre,
0 by default) and the good_faith_estimates table (each issued estimate with what it printed and its PDF).
New columns with server defaults and a new table, so nothing to backfill.

Revision ID: ad2de18b6c85
Revises: ee85197ac270
Create Date: 2026-12-03 16:42:07.975498

"""
from alembic import op
import sqlalchemy as sa

import app.models.types


# revision identifiers, used by Alembic.
revision = 'ad2de18b6c85'
down_revision = 'ee85197ac270'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('good_faith_estimates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('clinician_id', sa.Integer(), nullable=True),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('issued_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('total_cents', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.CheckConstraint('period_end >= period_start', name=op.f('ck_good_faith_estimates_period_in_order')),
    sa.CheckConstraint('total_cents >= 0', name=op.f('ck_good_faith_estimates_total_not_negative')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_good_faith_estimates_client_id_clients')),
    sa.ForeignKeyConstraint(['clinician_id'], ['members.id'], name=op.f('fk_good_faith_estimates_clinician_id_members')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['members.id'], name=op.f('fk_good_faith_estimates_issued_by_id_members')),
    sa.ForeignKeyConstraint(['practice_id'], ['practices.id'], name=op.f('fk_good_faith_estimates_practice_id_practices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_good_faith_estimates'))
    )
    with op.batch_alter_table('good_faith_estimates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_good_faith_estimates_client_id'), ['client_id'], unique=False)
        batch_op.create_index('ix_good_faith_estimates_practice_id_period_end', ['practice_id', 'period_end'], unique=False)

    with op.batch_alter_table('practices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cms1500_offset_x', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('cms1500_offset_y', sa.Integer(), server_default='0', nullable=False))



def downgrade():
    with op.batch_alter_table('practices', schema=None) as batch_op:
        batch_op.drop_column('cms1500_offset_y')
        batch_op.drop_column('cms1500_offset_x')

    with op.batch_alter_table('good_faith_estimates', schema=None) as batch_op:
        batch_op.drop_index('ix_good_faith_estimates_practice_id_period_end')
        batch_op.drop_index(batch_op.f('ix_good_faith_estimates_client_id'))

    op.drop_table('good_faith_estimates')
