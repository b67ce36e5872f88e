"""Practices' Claim.MD AccountKeys are stored encrypted (app/secrets_at_rest.py)

The keys already stored in plain text are encrypted with the key material the app uses (ENCRYPTION_KEY,
else SECRET_KEY: the environment's, or the one generated into instance/secret_key), read from the app's
configuration as `flask db upgrade` runs; the column widens to hold the tokens.

Revision ID: 01f7fb87126e
Revises: 9ba1f220d2c6
Create Date: 2026-12-03 14:50:00

"""
from alembic import op
import sqlalchemy as sa
from flask import current_app

from app import secrets_at_rest
from app.config import encryption_key

# revision identifiers, used by Alembic.
revision = '01f7fb87126e'
down_revision = '9ba1f220d2c6'
branch_labels = None
depends_on = None

practices = sa.table("practices", sa.column("id", sa.Integer), sa.column("claimmd_account_key", sa.String))


def _rewrite_keys(change) -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(practices.c.id, practices.c.claimmd_account_key)
                              .where(practices.c.claimmd_account_key.is_not(None))).all()
    for practice_id, stored in rows:
        connection.execute(practices.update().where(practices.c.id == practice_id)
                           .values(claimmd_account_key=change(stored)))


def upgrade():
    with op.batch_alter_table('practices', schema=None) as batch_op:
        batch_op.alter_column('claimmd_account_key', existing_type=sa.VARCHAR(length=100),
                              type_=sa.String(length=255), existing_nullable=True)
    key = encryption_key(current_app.config)
    _rewrite_keys(lambda plain: secrets_at_rest.encrypt(plain, key))


def downgrade():
    key = encryption_key(current_app.config)
    _rewrite_keys(lambda token: secrets_at_rest.decrypt(token, key))
    with op.batch_alter_table('practices', schema=None) as batch_op:
        batch_op.alter_column('claimmd_account_key', existing_type=sa.String(length=255),
                              type_=sa.VARCHAR(length=100), existing_nullable=True)
