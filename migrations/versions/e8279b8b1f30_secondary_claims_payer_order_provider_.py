"""Secondary and tertiary claims (claims.payer_order, prior_payer_claim_id, crossover), a line's own place of
service (claim_lines.place_of_service), billing under an SSN (practices.tax_id_is_ssn), and provider-level
adjustments (PLB) as rows of their own (provider_adjustments), moved out of remittances.provider_adjustments.

Existing claims are primary (payer_order 1); existing PLB entries move into provider_adjustments with the claim
their reference names, when it is one of the practice's claims.

Revision ID: e8279b8b1f30
Revises: ad2de18b6c85
Create Date: 2026-12-03 16:38:53.250950

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e8279b8b1f30'
down_revision = 'ad2de18b6c85'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('provider_adjustments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('remittance_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.String(length=50), nullable=False),
    sa.Column('fiscal_period_date', sa.Date(), nullable=True),
    sa.Column('reason', sa.String(length=2), nullable=False),
    sa.Column('reference', sa.String(length=50), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_provider_adjustments_claim_id_claims')),
    sa.ForeignKeyConstraint(['practice_id'], ['practices.id'], name=op.f('fk_provider_adjustments_practice_id_practices')),
    sa.ForeignKeyConstraint(['remittance_id'], ['remittances.id'], name=op.f('fk_provider_adjustments_remittance_id_remittances')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_adjustments'))
    )
    with op.batch_alter_table('provider_adjustments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provider_adjustments_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_provider_adjustments_remittance_id'), ['remittance_id'], unique=False)

    with op.batch_alter_table('claim_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('place_of_service', sa.String(length=2), nullable=True))

    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payer_order', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('prior_payer_claim_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('crossover', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(batch_op.f('ix_claims_prior_payer_claim_id'), ['prior_payer_claim_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_claims_prior_payer_claim_id_claims'), 'claims', ['prior_payer_claim_id'], ['id'])
        batch_op.create_check_constraint('payer_order', 'payer_order IN (1, 2, 3)')

    with op.batch_alter_table('practices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tax_id_is_ssn', sa.Boolean(), server_default=sa.false(), nullable=False))

    connection = op.get_bind()
    remittances = sa.table('remittances', sa.column('id', sa.Integer()), sa.column('practice_id', sa.Integer()),
                           sa.column('provider_adjustments', sa.JSON()))
    claims = sa.table('claims', sa.column('id', sa.Integer()), sa.column('practice_id', sa.Integer()),
                      sa.column('patient_control_number', sa.String()), sa.column('payer_claim_number', sa.String()))
    adjustments = sa.table('provider_adjustments', sa.column('practice_id', sa.Integer()),
                           sa.column('remittance_id', sa.Integer()), sa.column('provider_id', sa.String()),
                           sa.column('reason', sa.String()), sa.column('reference', sa.String()),
                           sa.column('amount_cents', sa.Integer()), sa.column('claim_id', sa.Integer()))
    for remittance_id, practice_id, entries in connection.execute(
            sa.select(remittances.c.id, remittances.c.practice_id, remittances.c.provider_adjustments)
            .order_by(remittances.c.id)):
        for entry in entries or []:
            reference = (entry.get('reference') or '')[:50]
            claim_id = connection.execute(sa.select(claims.c.id).where(
                claims.c.practice_id == practice_id,
                sa.or_(claims.c.patient_control_number == reference, claims.c.payer_claim_number == reference))
                .order_by(claims.c.id).limit(1)).scalar() if reference else None
            connection.execute(adjustments.insert().values(
                practice_id=practice_id, remittance_id=remittance_id, provider_id='', reason=entry['reason'][:2],
                reference=reference, amount_cents=entry['amount_cents'], claim_id=claim_id))
    with op.batch_alter_table('remittances', schema=None) as batch_op:
        batch_op.drop_column('provider_adjustments')


def downgrade():
    with op.batch_alter_table('remittances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider_adjustments', sa.JSON(), nullable=True))
    connection = op.get_bind()
    remittances = sa.table('remittances', sa.column('id', sa.Integer()), sa.column('provider_adjustments', sa.JSON()))
    adjustments = sa.table('provider_adjustments', sa.column('id', sa.Integer()), sa.column('remittance_id', sa.Integer()),
                           sa.column('reason', sa.String()), sa.column('reference', sa.String()),
                           sa.column('amount_cents', sa.Integer()))
    entries: dict[int, list] = {}
    for remittance_id, reason, reference, amount in connection.execute(
            sa.select(adjustments.c.remittance_id, adjustments.c.reason, adjustments.c.reference,
                      adjustments.c.amount_cents).order_by(adjustments.c.id)):
        entries.setdefault(remittance_id, []).append({'reason': reason, 'reason_text': '', 'reference': reference,
                                                      'amount_cents': amount})
    connection.execute(remittances.update().values(provider_adjustments=[]))
    for remittance_id, rows in entries.items():
        connection.execute(remittances.update().where(remittances.c.id == remittance_id)
                           .values(provider_adjustments=rows))
    with op.batch_alter_table('remittances', schema=None) as batch_op:
        batch_op.alter_column('provider_adjustments', existing_type=sa.JSON(), nullable=False)

    with op.batch_alter_table('practices', schema=None) as batch_op:
        batch_op.drop_column('tax_id_is_ssn')

    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_constraint('payer_order', type_='check')
        batch_op.drop_constraint(batch_op.f('fk_claims_prior_payer_claim_id_claims'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_claims_prior_payer_claim_id'))
        batch_op.drop_column('crossover')
        batch_op.drop_column('prior_payer_claim_id')
        batch_op.drop_column('payer_order')

    with op.batch_alter_table('claim_lines', schema=None) as batch_op:
        batch_op.drop_column('place_of_service')

    with op.batch_alter_table('provider_adjustments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provider_adjustments_remittance_id'))
        batch_op.drop_index(batch_op.f('ix_provider_adjustments_claim_id'))

    op.drop_table('provider_adjustments')
