"""Provides `Prepared`: a hot Core statement compiled once per dialect and run on the DB-API
cursor of the caller's connection, inside the caller's transaction.

Why: on the claim path (call next, claim next case) SQLAlchemy's execution machinery (execution
context, result wrapper, event dispatch) costs about 60 µs a statement, while SQLite itself runs
the statement in 5-10 µs; a claim runs a dozen statements. `Prepared` keeps what matters of
SQLAlchemy — the statement is still Core, compiled by the connection's own dialect, with the
column types' bind and result processors applied (UTC datetimes, JSON) — and skips the rest.
DB-API errors come back as SQLAlchemy's own exception classes (`OperationalError`,
`IntegrityError`), so callers handle them exactly as before.

Use it only for statements without expanding (`IN (...)` list) parameters; it refuses them.
"""

from __future__ import annotations

import copy
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import RawCursor
from sqlalchemy import ARRAY, Connection, Table, bindparam, func, insert, select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.dml import UpdateBase

Processor = Callable[[Any], Any]
_ABSENT = object()


@dataclass(frozen=True)
class _Compiled:
    sql: str
    raw: bool  # run on a psycopg RawCursor (`$1` placeholders)
    names: tuple[str, ...]
    positional: bool
    # per parameter, in order: its name, its type's processor, its value when not given
    plan: tuple[tuple[str, Processor | None, Any], ...]
    row_type: type[tuple[Any, ...]] | None
    result_processors: tuple[Processor | None, ...]


class Prepared:
    """One statement, compiled on first use by each dialect that runs it."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, tuple[str, ...]], _Compiled] = {}

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """Run with one set of parameters; the DB-API cursor (rowcount, fetchone) is returned."""
        compiled = self._compile(conn.dialect, tuple(params))
        return _run(conn, compiled, "execute", _bind(compiled, params))

    def execute_many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        compiled = self._compile(conn.dialect, tuple(rows[0]))
        _run(conn, compiled, "executemany", [_bind(compiled, row) for row in rows])

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """The first row as a named tuple (attribute access like a Row), or None."""
        compiled = self._compile(conn.dialect, tuple(params))
        cursor = _run(conn, compiled, "execute", _bind(compiled, params))
        try:
            raw = cursor.fetchone()
        finally:
            cursor.close()
        return None if raw is None else _row(compiled, raw)

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        """Every row, each as `first` gives it."""
        compiled = self._compile(conn.dialect, tuple(params))
        cursor = _run(conn, compiled, "execute", _bind(compiled, params))
        try:
            raws = cursor.fetchall()
        finally:
            cursor.close()
        return [_row(compiled, raw) for raw in raws]

    def rowcount(self, conn: Connection, params: Mapping[str, Any]) -> int:
        cursor = self.execute(conn, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def _compile(self, dialect: Dialect, keys: tuple[str, ...]) -> _Compiled:
        cache_key = (dialect.name, keys)
        found = self._compiled.get(cache_key)
        if found is None:
            found = self._compiled[cache_key] = _compile(self.statement, dialect, keys)
        return found


class PreparedInsert:
    """Many rows into one table, as one statement: on PostgreSQL each column travels as one
    array and `unnest` turns them back into rows (one Bind and one Execute for the lot, where
    `executemany` pays both, and psycopg's Python side, per row); elsewhere `executemany`."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self._row_by_row = Prepared(insert(table))
        self._unnest: dict[tuple[str, ...], Prepared] = {}

    def insert_all(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert `rows`, which all name the same columns."""
        if conn.dialect.name != "postgresql":
            self._row_by_row.execute_many(conn, rows)
            return
        names = tuple(rows[0])
        statement = self._unnest.get(names)
        if statement is None:
            statement = self._unnest[names] = Prepared(self._unnest_insert(names))
        statement.rowcount(conn, {name: [row.get(name) for row in rows] for name in names})

    def _unnest_insert(self, names: tuple[str, ...]) -> ClauseElement:
        columns = [self.table.c[name] for name in names]
        arrays = [
            func.unnest(bindparam(name, type_=ARRAY(column.type)))
            for name, column in zip(names, columns, strict=True)
        ]
        return insert(self.table).from_select(columns, select(*arrays))


def _uses_raw_cursor(dialect: Dialect) -> bool:
    return dialect.name == "postgresql" and dialect.driver == "psycopg"


def _native_placeholders(dialect: Dialect) -> Dialect:
    """psycopg: the same dialect rendering PostgreSQL's own `$1` placeholders, which a
    `RawCursor` sends as they are. With `%(name)s` psycopg rewrites the query on every
    execution, and queries over 4 KiB (the single-statement claim) are not even cached."""
    native = copy.copy(dialect)
    native.paramstyle = "numeric_dollar"
    native.positional = True
    return native


def _compile(statement: ClauseElement, dialect: Dialect, keys: tuple[str, ...]) -> _Compiled:
    raw = _uses_raw_cursor(dialect)
    if raw:
        dialect = _native_placeholders(dialect)
    # column_keys make an INSERT or UPDATE set the columns named by the parameters; a SELECT
    # with UPDATE ... RETURNING CTEs must not have its parameters turned into SET clauses
    is_dml = isinstance(statement, UpdateBase)
    compiled: Any = statement.compile(dialect=dialect, column_keys=list(keys) if is_dml else None)
    if any(bind.expanding for bind in compiled.binds.values()):
        raise ValueError("Prepared statements cannot take expanding (IN list) parameters")
    if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
        raise ValueError("Prepared statements cannot compute Python-side column defaults")
    positional = bool(compiled.positional)
    names = tuple(compiled.positiontup) if positional else tuple(compiled.binds)
    plan = []
    for name in names:
        bind = compiled.binds[name]
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        # values written into the statement itself (`status == "waiting"`) travel as binds too
        fixed = name not in keys and not bind.required
        plan.append((name, process, bind.effective_value if fixed else _ABSENT))
    row_type: Any = None
    result_processors: tuple[Processor | None, ...] = ()
    columns = list(getattr(statement, "selected_columns", ()))
    if columns and compiled.returning is None:
        labels = [str(column.key) for column in columns]
        row_type = _row_type(labels)
        result_processors = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        )
    return _Compiled(
        sql=compiled.string,
        raw=raw,
        names=names,
        positional=positional,
        plan=tuple(plan),
        row_type=row_type,
        result_processors=result_processors,
    )


def _row_type(labels: list[str]) -> Any:
    """A named tuple class: rows read like SQLAlchemy's (`row.state`), at a tuple's cost."""
    return namedtuple("PreparedRow", labels, rename=True)


def _row(compiled: _Compiled, raw: Sequence[Any]) -> Any:
    assert compiled.row_type is not None, "rows asked of a statement that returns none"
    values = [
        value if process is None else process(value)
        for value, process in zip(raw, compiled.result_processors, strict=True)
    ]
    return compiled.row_type(*values)


def _bind(compiled: _Compiled, params: Mapping[str, Any]) -> Any:
    values = []
    for name, process, default in compiled.plan:
        value = params.get(name, default)
        if value is _ABSENT:
            value = None
        elif process is not None:
            value = process(value)
        values.append(value)
    if compiled.positional:
        return tuple(values)
    return dict(zip(compiled.names, values, strict=True))


def _run(conn: Connection, compiled: _Compiled, method: str, params: Any) -> Any:
    dbapi_connection: Any = conn.connection.dbapi_connection
    cursor = RawCursor(dbapi_connection) if compiled.raw else dbapi_connection.cursor()
    try:
        getattr(cursor, method)(compiled.sql, params)
    except conn.dialect.loaded_dbapi.Error as exc:
        cursor.close()
        raise DBAPIError.instance(
            compiled.sql,
            None,
            exc,
            conn.dialect.loaded_dbapi.Error,
            hide_parameters=True,
            dialect=conn.dialect,
        ) from exc
    return cursor
