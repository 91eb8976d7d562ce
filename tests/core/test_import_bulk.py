"""core.importing.bulk: many rows per statement and blank columns left out store exactly
what a plain one-row-per-statement executemany stores."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.importing import bulk

DDL = (
    "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b TEXT DEFAULT 'x', "
    "c REAL, d TEXT, e BLOB DEFAULT NULL)"
)
COLUMNS = ("a", "b", "c", "d", "e")


def _stored(rows: list[tuple], *, variable_limit: int | None = None, plain: bool) -> list:
    conn = sqlite3.connect(":memory:")
    conn.execute(DDL)
    if variable_limit:
        conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, variable_limit)
    if plain:
        marks = ", ".join("?" * len(COLUMNS))
        conn.executemany(f"INSERT INTO t ({', '.join(COLUMNS)}) VALUES ({marks})", rows)
    else:
        bulk.insert_rows(conn, "t", COLUMNS, rows)
    cells = ", ".join(f"{c}, typeof({c})" for c in ("id", *COLUMNS))
    return conn.execute(f"SELECT {cells} FROM t ORDER BY id").fetchall()


def _rows(n: int, *, sparse: bool = False) -> list[tuple]:
    out = []
    for i in range(n):
        last = i == n - 1
        out.append(
            (
                i * 7,
                None if (sparse and not last) else f"b{i}",
                None if sparse else i / 3,
                None,
                b"\x00" if (sparse and last) else None,
            )
        )
    return out


@pytest.mark.parametrize("n", [1, 2, 99, 100, 101, 250, 20_000])
def test_same_rows_as_one_row_per_statement(n: int) -> None:
    rows = _rows(n)
    assert _stored(rows, plain=False) == _stored(rows, plain=True)


@pytest.mark.parametrize("n", [1, 100, 301])
def test_sparse_columns_and_a_default_that_is_not_null(n: int) -> None:
    """A column blank in every row but one is written; ``b`` has a default ('x'), so a
    None in it stays NULL (it is bound, not left out); ``d`` is NULL everywhere."""
    rows = _rows(n, sparse=True)
    stored = _stored(rows, plain=False)
    assert stored == _stored(rows, plain=True)
    assert all(r[4] is None or r[4] == f"b{n - 1}" for r in stored)  # never 'x'


def test_rows_that_are_blank_everywhere() -> None:
    rows = [(None, None, None, None, None)] * 5
    stored = _stored(rows, plain=False)
    assert stored == _stored(rows, plain=True)
    assert [r[0] for r in stored] == [1, 2, 3, 4, 5]


def test_a_low_limit_on_bound_values() -> None:
    """SQLite builds before 3.32 allow 999 values per statement; any limit works."""
    rows = _rows(250)
    assert _stored(rows, variable_limit=7, plain=False) == _stored(rows, plain=True)
    assert _stored(rows, variable_limit=3, plain=False) == _stored(rows, plain=True)


def test_nothing_to_insert() -> None:
    assert _stored([], plain=False) == []


def test_a_failing_row_stops_the_insert_like_executemany() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE u (id INTEGER PRIMARY KEY, a INTEGER NOT NULL)")
    rows = [(1,)] * 150 + [(None,)]
    with pytest.raises(sqlite3.IntegrityError):
        bulk.insert_rows(conn, "u", ("a",), rows)


cell = st.one_of(
    st.none(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.binary(max_size=3),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(cell, cell, cell, cell, cell), max_size=260))
def test_any_rows(rows: list[tuple]) -> None:
    try:
        expected = _stored(rows, plain=True)
    except sqlite3.Error:
        return
    assert _stored(rows, plain=False) == expected
