"""Search indexes: policies by member ID, claims by the payer's claim number (the header's search)

Revision ID: fe61b76c141e
Revises: 5e1a7c0d2b94
Create Date: 2026-12-03 17:24:03.100664

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'fe61b76c141e'
down_revision = '5e1a7c0d2b94'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.create_index('ix_claims_practice_id_payer_claim_number', ['practice_id', 'payer_claim_number'],
                              unique=False)
    with op.batch_alter_table('insurance_policies', schema=None) as batch_op:
        batch_op.create_index('ix_insurance_policies_practice_id_member_id', ['practice_id', 'member_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('insurance_policies', schema=None) as batch_op:
        batch_op.drop_index('ix_insurance_policies_practice_id_member_id')
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_index('ix_claims_practice_id_payer_claim_number')
