"""835 posting reads what it needs for the whole file, not once per claim payment (app/billing/era.py): on
PostgreSQL every query is a round trip, so a query per claim is what slows a large 835 down."""
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from app.billing import era
from app.extensions import db
from app.models import Claim, Practice
from tests.support.insurance import claim_payment, insured, remittance_text


@pytest.fixture
def world(make, app):
    return insured(make, app)


@contextmanager
def _statements(app):
    """The SQL statements run inside the block."""
    seen: list[str] = []

    def note(conn, cursor, statement, *rest):
        seen.append(" ".join(statement.split()))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", note)
        try:
            yield seen
        finally:
            event.remove(db.engine, "before_cursor_execute", note)


def _post_counting(app, world, claim_ids: list[int]) -> list[str]:
    with app.app_context():
        text = remittance_text([claim_payment(db.session.get(Claim, claim_id), copay_cents=2000)
                                for claim_id in claim_ids])
    with _statements(app) as seen, app.app_context():
        result = era.import_835(db.session.get(Practice, world.practice.id), text, source="upload")
        assert result.claims_posted == len(claim_ids)
        db.session.commit()
    return seen


def _reads(statements: list[str], table: str) -> int:
    return sum(1 for statement in statements if statement.startswith("SELECT") and f"FROM {table} " in statement)


def test_the_next_payer_is_looked_up_once_per_835_however_many_claims_it_pays(app, make, world):
    supplement = make.payer(world.practice, name="Medigap Supplement", clearinghouse_payer_id="SUPP1")

    def claims(count: int) -> list[int]:
        """`count` claims of clients with only a primary policy, and `count` of clients with a secondary too."""
        made = [world.claim() for _ in range(count)]
        for _ in range(count):
            client = make.client(world.practice, primary_clinician_id=world.clinician.id)
            make.policy(client, supplement, member_id="S555", priority=2)
            made.append(world.claim(client=client))
        return made

    small, large = _post_counting(app, world, claims(1)), _post_counting(app, world, claims(3))
    assert _reads(small, "insurance_policies") == _reads(large, "insurance_policies") == 1
    # The clients the secondary claims are built for are read with their bills, once per 835.
    assert _reads(small, "clients") == _reads(large, "clients")
