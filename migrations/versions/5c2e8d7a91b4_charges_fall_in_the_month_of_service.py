"""Charges fall in the month of service: a bill's charges are dated by its date of service, not its issue

The charges facts move from the day a bill was issued to its date of service, so every practice's summaries are
built again (by `flask reports build`, which `make run` calls, a worker's start, or the first report opened).

Revision ID: 5c2e8d7a91b4
Revises: fe61b76c141e
Create Date: 2026-12-03 18:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5c2e8d7a91b4'
down_revision = 'fe61b76c141e'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("UPDATE practices SET reports_built_at = NULL")


def downgrade():
    op.execute("UPDATE practices SET reports_built_at = NULL")
