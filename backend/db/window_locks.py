"""Provides `lock_batch_windows`: a batch's `windows` rows locked up front, in one global order.

On PostgreSQL each instance's group commit runs many writes in one transaction. Call next
updates its window's row (the priority interleave count); logging in and out, pausing,
resuming, closing and opening a window update it too. Run in arrival order, two instances whose
batches hold the same windows in opposite orders deadlock: PostgreSQL breaks the cycle after
`deadlock_timeout` (a second) and the batch, re-run write by write, meets it again. So a write
that will update a window's row says so, and its batch locks all such rows in one statement
before the first write, sorted by id: every instance takes them in the same order, so they wait
for each other, never in a circle. A write says so with a `window_lock` attribute, on itself
(`LocksWindow`) or on the object it is a method of (`IdempotentRequest.window_lock`): the
window's id, or its hall's id and its code. `FOR NO KEY UPDATE` is the lock an UPDATE of the
row takes: it does not hold up the foreign-key checks of rows that point at the window.
A deadlock the database still reports (other rows, other writes) is run again by
`Database.write`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ARRAY, Connection, Integer, String, and_, any_, bindparam, or_, select

from backend.db.prepared import Prepared
from backend.db.schema import windows

# a window by its id, or by its hall's id and its code
WindowRef = int | tuple[int, str]

# halls x codes: with windows of several halls in one batch this may also lock another hall's
# window of the same code, which costs at most a wait, never a deadlock (the order holds)
_LOCK_WINDOWS = Prepared(
    select(windows.c.id)
    .where(
        or_(
            windows.c.id == any_(bindparam("ids", type_=ARRAY(Integer))),
            and_(
                windows.c.hall_id == any_(bindparam("hall_ids", type_=ARRAY(Integer))),
                windows.c.code == any_(bindparam("codes", type_=ARRAY(String))),
            ),
        )
    )
    .order_by(windows.c.id)
    .with_for_update(key_share=True)
)


@dataclass(frozen=True)
class LocksWindow:
    """A write function that updates `window_lock`'s row (see the module's docstring)."""

    fn: Callable[..., Any]
    window_lock: WindowRef

    def __call__(self, conn: Connection, *args: Any) -> Any:
        return self.fn(conn, *args)


def declared_window(write: Callable[..., Any]) -> WindowRef | None:
    """The window whose row `write` says it updates, if it says so."""
    declared = getattr(write, "window_lock", None)
    if declared is None:
        declared = getattr(getattr(write, "__self__", None), "window_lock", None)
    return declared


def lock_batch_windows(conn: Connection, writes: list[Callable[..., Any]]) -> None:
    """A batch preparer (see `Database.batch_preparers`); PostgreSQL only (SQLite has one
    writer at a time)."""
    if conn.dialect.name != "postgresql":
        return
    declared = [window for window in map(declared_window, writes) if window is not None]
    if not declared:
        return
    ids = sorted({window for window in declared if isinstance(window, int)})
    by_code = {window for window in declared if isinstance(window, tuple)}
    hall_ids = sorted({hall_id for hall_id, _ in by_code})
    codes = sorted({code for _, code in by_code})
    _LOCK_WINDOWS.all(conn, {"ids": ids, "hall_ids": hall_ids, "codes": codes})
