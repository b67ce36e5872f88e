"""One INSERT executed by the database driver for many rows, for writes of thousands of rows at a time (an 835
posting, a rebuild of the reports' summaries)."""
from sqlalchemy import Connection, Table, insert


def insert_rows(connection: Connection, table: Table, rows: list[dict]) -> None:
    """One INSERT executed for every row by the driver itself: the statement is compiled once and each value
    goes through its column type's bind processor (JSON, UTC datetimes), which is all SQLAlchemy would do
    per row, minus its per-row bookkeeping (most of the time, at tens of thousands of rows)."""
    dialect = connection.dialect
    keys = list(rows[0])
    compiled = insert(table).compile(dialect=dialect, column_keys=keys)
    processors = {key: table.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in keys}
    names = compiled.positiontup if compiled.positional else keys

    def value(row: dict, key: str):
        processor = processors[key]
        return processor(row[key]) if processor is not None else row[key]

    if compiled.positional:
        parameters = [tuple(value(row, key) for key in names) for row in rows]
    else:
        parameters = [{key: value(row, key) for key in names} for row in rows]
    connection.exec_driver_sql(compiled.string, parameters)
