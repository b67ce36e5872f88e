"""Rows written in bulk when one operation makes thousands of them, such as posting a 5,000-claim 835:
building and flushing an ORM object per row costs many times more than the row itself.

Inside `rows_in_bulk()`, `add` collects plain rows, each with an id reserved up front (so rows can point at
each other before anything is written), and inserts them at the end of the block, one statement per table.
The returned row is a namespace over the very values that will be inserted, so setting an attribute on it
before the block ends changes what is written. Outside the block, `add` adds an ORM object to the session.
"""
import functools
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import bindparam, func, inspect, select, text, update

from app.billing import summaries
from app.executemany import insert_rows
from app.extensions import db

_KEY = "parity_bulk"
_BLOCK = 500


class _Batch:
    def __init__(self) -> None:
        self.rows: dict[type, list[dict]] = {}
        self.free_ids: dict[type, list[int]] = {}

    def reserve_id(self, model: type) -> int:
        free = self.free_ids.setdefault(model, [])
        if not free:
            free.extend(_reserve(model, _BLOCK, self))
        return free.pop()


def _reserve(model: type, count: int, batch: _Batch) -> list[int]:
    """`count` ids nobody else will use: from the table's sequence on PostgreSQL; on SQLite, past the
    largest id, read while holding SQLite's write lock, so no other writer can take the same ids before this
    transaction ends."""
    table = model.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        ids = db.session.execute(text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                                      "FROM generate_series(1, :count)"),
                                 {"table": table.name, "count": count}).scalars().all()
        return sorted(ids, reverse=True)
    # A write, even of no row, takes the database's write lock, waiting up to the busy timeout for another
    # writer to finish. Holding it, no id can be added until this transaction ends, and the largest id read is
    # the latest (SQLite refuses the lock to a transaction reading an older snapshot rather than letting it on).
    db.session.execute(text(f'UPDATE "{table.name}" SET id = id WHERE 0'))
    used = [row["id"] for row in batch.rows.get(model, [])]
    start = max(db.session.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0, max(used, default=0)) + 1
    return list(range(start + count - 1, start - 1, -1))


@contextmanager
def rows_in_bulk() -> Iterator[None]:
    """Collect what `add` is given and insert it when the block ends without an error (on an error the
    caller's transaction rolls back anyway)."""
    if _KEY in db.session.info:  # already collecting: the outer block writes
        yield
        return
    db.session.flush()  # so the largest ids read when reserving count every row added so far
    batch = _Batch()
    db.session.info[_KEY] = batch
    try:
        yield
    finally:
        db.session.info.pop(_KEY, None)
    db.session.flush()  # ORM changes first: bulk rows may point at them
    order = {table: position for position, table in enumerate(db.metadata.sorted_tables)}
    for model in sorted(batch.rows, key=lambda model: order[model.__table__]):  # parents before children
        shapes: dict[tuple, list[dict]] = {}
        for row in batch.rows[model]:
            shapes.setdefault(tuple(row), []).append(row)
        for rows in shapes.values():
            insert_many(model.__table__, rows)


def insert_many(table, rows: list[dict]) -> None:
    """Insert the rows through the driver in one statement, and note them for the reports' summaries."""
    insert_rows(db.session.connection(), table, rows)
    if table.name in summaries.SOURCE_TABLES:  # the reports' summaries follow every write
        for row in rows:
            summaries.note_row(db.session, table.name, row)


@functools.cache
def _shape(model: type) -> tuple[dict, tuple]:
    """Per table: the nullable columns that start empty, and the Python-side defaults to apply, so that every
    row of one table has the same keys (one INSERT … executemany)."""
    columns = [column for column in model.__table__.columns if column.key != "id"]
    empty = {column.key: None for column in columns if column.default is None and column.server_default is None
             and column.nullable}
    defaults = tuple((column.key, column.default.arg) for column in columns if column.default is not None)
    return empty, defaults


def save_changes(records) -> None:
    """Write the column changes of many loaded ORM objects as one UPDATE … executemany per table and shape,
    then mark them saved, so the session's flush has nothing left to do for them (the unit of work spends far
    longer per object than the database does)."""
    groups: dict[tuple, list[tuple[object, dict]]] = {}
    for record in records:
        state = inspect(record)
        columns = state.mapper.column_attrs
        # committed_state holds exactly the attributes changed since the object was loaded.
        changed = {key: state.dict[key] for key in state.committed_state if key in columns
                   and state.dict.get(key) != state.committed_state[key]}
        if changed:
            summaries.note_object(db.session, record, changed={key: state.committed_state[key] for key in changed})
            groups.setdefault((state.mapper, tuple(sorted(changed))), []).append((record, changed))
    for (mapper, keys), items in groups.items():
        table = mapper.local_table
        statement = (update(table).where(table.c.id == bindparam("id_"))
                     .values({key: bindparam(key) for key in keys}))
        db.session.execute(statement, [{"id_": record.id, **changed} for record, changed in items])
        for record, changed in items:
            # The row has these values now: mark the object clean, so the next flush need not look at it.
            state = inspect(record)
            state._commit_all(state.dict, db.session.identity_map)


def collecting() -> bool:
    return _KEY in db.session.info


def add(model: type, *, need_id: bool = False, **values):
    """Record a row and return it: collected (with a reserved id) while `rows_in_bulk()` is active, else added
    to the session as an ORM object, flushed at once when the caller needs its id."""
    batch = db.session.info.get(_KEY)
    if batch is None:
        record = model(**values)
        db.session.add(record)
        if need_id:
            db.session.flush()
        return record
    empty, defaults = _shape(model)
    row = dict(empty)
    for key, default in defaults:
        if key not in values:
            row[key] = default(None) if callable(default) else default
    row.update(values)
    row["id"] = batch.reserve_id(model)
    batch.rows.setdefault(model, []).append(row)
    return Row(row)


class Row:
    """A collected row: attribute access reads and writes the values that will be inserted."""

    __slots__ = ("_values",)

    def __init__(self, values: dict) -> None:
        object.__setattr__(self, "_values", values)

    def __getattr__(self, name: str):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value) -> None:
        self._values[name] = value
