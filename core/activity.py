"""The inventory's activity as numpy columns, read once and kept for the engine.

Large tables (usage) are read in one scan per table with the numbers joined into one
string in SQLite and parsed in C, which is several times faster than building a Python
tuple per row. Missing numbers are NaN; dates are ``datetime64[D]`` (NaT when missing);
choice columns are small integer codes (index into the field's choices, -1 when blank).
"""

from __future__ import annotations

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

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def index_of(self, record_ids: np.ndarray) -> np.ndarray:
        """Row positions of ``record_ids`` (-1 for ids not in the table)."""
        if len(self.ids) == 0:
            return np.full(len(record_ids), -1, dtype=np.int64)
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


def _expr(table: str, f: schema.FieldSpec) -> str:
    if f.kind == "date":
        return f"julianday({f.name}) - {_EPOCH_JULIAN}"
    if f.kind == "choice":
        cases = " ".join(f"WHEN '{v}' THEN {i}" for i, (v, _) in enumerate(f.choices))
        return f"CASE {f.name} {cases} ELSE -1 END"
    return f.name


def read_table(conn: sqlite3.Connection, table: str) -> Table:
    """All numeric, date, choice and reference columns of ``table`` in id order."""
    spec = schema.table(table)
    fields = [f for f in spec.fields if f.kind not in ("text", "longtext")]
    exprs = ["id", *(_expr(table, f) for f in fields)]
    joined = " || ',' || ".join(f"ifnull({e}, 'nan')" for e in exprs)
    text = conn.execute(
        f"SELECT group_concat(x, ',') FROM (SELECT {joined} AS x FROM {table} ORDER BY id)"
    ).fetchone()[0]
    width = len(exprs)
    # np.fromstring's text mode (sep=",") parses in C; it is not the deprecated binary mode
    data = np.fromstring(text, sep=",").reshape(-1, width) if text else np.empty((0, width))
    table_data = Table(table, data[:, 0].astype(np.int64))
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


def _rows(conn: sqlite3.Connection, table: str) -> list[dict[str, Any]]:
    spec = schema.table(table)
    names = ("id", *spec.field_names)
    cur = conn.execute(f"SELECT {', '.join(names)} FROM {table} ORDER BY id")
    return [dict(zip(names, row, strict=True)) for row in cur]


def load(inv: Inventory) -> Activity:
    """Read everything the engine needs from ``inv`` in one read transaction."""
    conn = inv.conn
    with inv.transaction():  # one consistent snapshot across tables
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
        **tables,
    )
