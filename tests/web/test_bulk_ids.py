"""app/bulk.py reserves ids up front: two writers reserving at the same moment on the same database never get
the same id, and both inserts succeed (on SQLite the second waits for the first's write lock)."""
from sqlalchemy import select

from app import audit, bulk
from app.extensions import db
from app.models import AuditEvent
from tests.support.concurrency import run_together

#: More than one reservation block per writer, so the second block is reserved after the writer's own rows.
ROWS_PER_WRITER = bulk._BLOCK + 100


def test_two_writers_reserving_ids_at_once_never_share_one(app, make):
    practice = make.practice()

    def write_in_bulk(writer: int) -> list[int]:
        with bulk.rows_in_bulk():
            rows = [audit.record("bulk.reserved", practice_id=practice.id, writer=writer, row=number)
                    for number in range(ROWS_PER_WRITER)]
        return [row.id for row in rows]

    first, second = run_together(app, 2, write_in_bulk)
    assert isinstance(first, list) and isinstance(second, list), (first, second)
    assert not set(first) & set(second)
    with app.app_context():
        saved = db.session.scalars(select(AuditEvent.id).where(AuditEvent.action == "bulk.reserved")).all()
    assert sorted(saved) == sorted(first + second)
    assert len(saved) == 2 * ROWS_PER_WRITER
