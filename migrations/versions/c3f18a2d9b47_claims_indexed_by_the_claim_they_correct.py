"""Claims indexed by the claim they correct or void

Revision ID: c3f18a2d9b47
Revises: a7d3c9e15f20
Create Date: 2026-12-04 13:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c3f18a2d9b47'
down_revision = 'a7d3c9e15f20'
branch_labels = None
depends_on = None


def upgrade():
    # Every bill page asks whether its claim was voided, and every claim page for its corrections: without it,
    # each question read every claim (7 ms at 100,000 claims on PostgreSQL).
    op.create_index('ix_claims_original_claim_id', 'claims', ['original_claim_id'])


def downgrade():
    op.drop_index('ix_claims_original_claim_id', table_name='claims')
