"""A session keeps the clinician's reason for billing a code lower than its minutes support
(sessions.lower_code_reason). Nullable: earlier sessions have none to give.

Revision ID: 5e1a7c0d2b94
Revises: e8279b8b1f30
Create Date: 2026-12-03 16:55:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1a7c0d2b94'
down_revision = 'e8279b8b1f30'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lower_code_reason', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('lower_code_reason')
