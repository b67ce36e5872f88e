"""Members: a password reset required after too many failed sign-ins from anywhere

Revision ID: 9ba1f220d2c6
Revises: 8fc205eea15f
Create Date: 2026-12-03 14:35:18.843482

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '9ba1f220d2c6'
down_revision = '8fc205eea15f'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_reset_required', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('password_reset_required')
