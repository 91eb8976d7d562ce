"""The inventory's activity as numpy columns, read once and kept for the engine.

Each table is read in one scan, in id order, as plain tuples converted to a float array
:data:`CHUNK_ROWS` rows at a time (dates and choices are turned into integers by SQLite
on the way). Missing numbers are NaN; dates are ``datetime64[D]`` (NaT when missing);
choice columns are small integer codes (index into the field's choices, -1 when blank).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core import schema
from core.inventory import Inventory

_EPOCH_JULIAN = 2440587.5  # julianday('1970-01-01')


@dataclass
class Table:
    """Columns of one table in id order; ``ids`` maps rows to record ids."""

    name: str
    ids: np.ndarray
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    _lookup: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def take(self, positions: np.ndarray) -> Table:
        """The rows at ``positions`` (in that order) as a new table."""
        return Table(
            self.name, self.ids[positions], {k: v[positions] for k, v in self.columns.items()}
        )

    def patched(self, ids: np.ndarray, fresh: Table) -> Table:
        """This table with the rows ``ids`` replaced by ``fresh`` (their current state,
        read again; an id missing from ``fresh`` was deleted, a new one inserted).

        Updates of existing rows are written in place; inserts and deletes rebuild the
        arrays (still in id order).
        """
        old = self.index_of(ids)
        if (old >= 0).all() and len(fresh) == len(ids):
            pos = self.index_of(fresh.ids)
            for k, v in self.columns.items():
                v[pos] = fresh.columns[k]
            return self
        keep = np.ones(len(self.ids), dtype=bool)
        keep[old[old >= 0]] = False
        merged_ids = np.concatenate([self.ids[keep], fresh.ids])
        order = np.argsort(merged_ids, kind="stable")
        return Table(
            self.name,
            merged_ids[order],
            {
                k: np.concatenate([v[keep], fresh.columns[k]])[order]
                for k, v in self.columns.items()
            },
        )

    def index_of(self, record_ids: np.ndarray) -> np.ndarray:
        """Row positions of ``record_ids`` (-1 for ids not in the table)."""
        if len(self.ids) == 0:
            return np.full(len(record_ids), -1, dtype=np.int64)
        record_ids = np.asarray(record_ids, dtype=np.int64)
        top = int(self.ids[-1])
        if len(record_ids) > 1000 and self.ids[0] >= 0 and top < 4 * len(self.ids) + 100_000:
            # ids are dense (SQLite rowids): one array lookup instead of a binary search
            if self._lookup is None:
                lookup = np.full(top + 2, -1, dtype=np.int64)  # last slot: out of range
                lookup[self.ids] = np.arange(len(self.ids))
                self._lookup = lookup
            return self._lookup[np.clip(record_ids, -1, top + 1)]
        pos = np.searchsorted(self.ids, record_ids)
        pos = np.clip(pos, 0, len(self.ids) - 1)
        found = self.ids[pos] == record_ids
        return np.where(found, pos, -1)


@dataclass
class Activity:
    """Everything the engine reads from an inventory."""

    training_runs: Table
    deployments: Table
    usage: Table
    sites: Table
    hardware: Table
    models: Table
    sourcing: list[dict[str, Any]]
    site_rows: list[dict[str, Any]]
    hardware_rows: list[dict[str, Any]]
    settings: dict[str, str]
    overrides: list[dict[str, Any]] = field(default_factory=list)
    log_mark: int = 0  # the last change-log id this activity includes


def _expr(table: str, f: schema.FieldSpec) -> str:
    if f.kind == "date":  # whole days: SQLite formats integers much faster than reals
        return f"CAST(julianday({f.name}) - {_EPOCH_JULIAN} AS INTEGER)"
    if f.kind == "choice":
        cases = " ".join(f"WHEN '{v}' THEN {i}" for i, (v, _) in enumerate(f.choices))
        return f"CASE {f.name} {cases} ELSE -1 END"
    return f.name


def _fields(table: str) -> list[schema.FieldSpec]:
    return [f for f in schema.table(table).fields if f.kind not in ("text", "longtext")]


#: Rows converted to numpy at a time: a reader thread holds Python's lock for about
#: 20 ms at most (50,000 rows held it 45 ms), so the window stays responsive while the
#: engine loads.
CHUNK_ROWS = 20_000


def _read_rows(conn: sqlite3.Connection, table: str, where: str, params: tuple) -> np.ndarray:
    """The rows as a float array, one column per expression (NULL becomes NaN).

    Fetching plain tuples and converting them :data:`CHUNK_ROWS` at a time is faster
    here than formatting the numbers as text in SQLite and parsing them, and keeps every
    double exact.
    """
    exprs = ["id", *(_expr(table, f) for f in _fields(table))]
    joined = ", ".join(exprs)  # schema names and fixed CASE fragments, no values
    cursor = conn.execute(f"SELECT {joined} FROM {table} {where} ORDER BY id", params)
    parts = []
    while rows := cursor.fetchmany(CHUNK_ROWS):
        parts.append(np.array(rows, dtype=np.float64))  # None -> NaN
    return np.concatenate(parts) if parts else np.empty((0, len(exprs)))


def read_table(conn: sqlite3.Connection, table: str, ids: np.ndarray | None = None) -> Table:
    """All numeric, date, choice and reference columns of ``table`` in id order (only
    the rows ``ids`` when given; ids that no longer exist are left out)."""
    if ids is None:
        return _to_table(table, _read_rows(conn, table, "", ()))
    where = "WHERE id IN (SELECT value FROM json_each(?))"
    return _to_table(table, _read_rows(conn, table, where, (json.dumps([int(i) for i in ids]),)))


def _to_table(table: str, data: np.ndarray) -> Table:
    table_data = Table(table, data[:, 0].astype(np.int64))
    fields = _fields(table)
    for i, f in enumerate(fields, start=1):
        col = data[:, i]
        if f.kind == "date":
            days = np.where(np.isnan(col), np.iinfo(np.int64).min, np.round(col))
            table_data.columns[f.name] = days.astype(np.int64).astype("datetime64[D]")
        elif f.kind in ("choice", "ref"):
            table_data.columns[f.name] = np.where(np.isnan(col), -1, col).astype(np.int64)
        else:
            table_data.columns[f.name] = col
    return table_data


def changes_since(conn: sqlite3.Connection, mark: int) -> tuple[dict[str, list[int]], int]:
    """Records edited since change-log id ``mark`` (table -> ids) and the new mark."""
    changes: dict[str, list[int]] = {}
    last = mark
    for log_id, table, row_id in conn.execute(
        "SELECT id, table_name, row_id FROM change_log WHERE id > ? ORDER BY id", (mark,)
    ):
        changes.setdefault(table, []).append(row_id)
        last = log_id
    return changes, last


def _rows(conn: sqlite3.Connection, table: str) -> list[dict[str, Any]]:
    spec = schema.table(table)
    names = ("id", *spec.field_names)
    cur = conn.execute(f"SELECT {', '.join(names)} FROM {table} ORDER BY id")
    return [dict(zip(names, row, strict=True)) for row in cur]


def load(inv: Inventory) -> Activity:
    """Read everything the engine needs from ``inv`` in one read transaction."""
    conn = inv.conn
    with inv.snapshot():  # one consistent snapshot across tables
        log_mark = conn.execute("SELECT coalesce(max(id), 0) FROM change_log").fetchone()[0]
        tables = {
            name: read_table(conn, name)
            for name in ("training_runs", "deployments", "usage", "sites", "hardware", "models")
        }
        sourcing = _rows(conn, "sourcing")
        site_rows = _rows(conn, "sites")
        hardware_rows = _rows(conn, "hardware")
        settings = dict(conn.execute("SELECT key, value FROM meta"))
        overrides = _rows(conn, "factor_overrides")
    return Activity(
        sourcing=sourcing,
        site_rows=site_rows,
        hardware_rows=hardware_rows,
        settings=settings,
        overrides=overrides,
        log_mark=log_mark,
        **tables,
    )
