"""CHECK constraints verified in one query after a bulk insert: the same verdicts as
SQLite's own row-by-row checks, for every CHECK of every table."""

from __future__ import annotations

import sqlite3

import pytest

from core import checks
from core.inventory import Inventory


def test_expressions_are_read_with_nested_parentheses_and_quoted_text():
    sql = """CREATE TABLE t (
        a TEXT CHECK (length(trim(a)) > 0),
        "check b" TEXT CHECK ("check b" IN ('x)', 'CHECK (y', 'it''s')),
        c REAL, checked INTEGER,
        CHECK (c IS NULL OR (c >= 0 AND c < 10))
    )"""
    assert checks.check_expressions(sql) == (
        "length(trim(a)) > 0",
        "\"check b\" IN ('x)', 'CHECK (y', 'it''s')",
        "c IS NULL OR (c >= 0 AND c < 10)",
    )


def test_every_check_of_the_inventory_is_found(tmp_path):
    with Inventory.create(tmp_path / "inv.aicl") as inv:
        tables = [
            r[0]
            for r in inv.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%CHECK%'"
            )
        ]
        assert "usage" in tables
        for table in tables:
            sql = inv.conn.execute(
                "SELECT sql FROM sqlite_master WHERE name = ?", (table,)
            ).fetchone()[0]
            found = checks.table_checks(inv.conn, table)
            assert len(found) == sql.upper().count("CHECK ("), table
            for expression in found:  # each is valid SQL over the table's columns
                inv.conn.execute(f'SELECT count(*) FROM "{table}" WHERE NOT ({expression})')


def _usage_row(rid: int, dep: int, **values) -> tuple:
    row = {
        "period_start": "2026-01-01",
        "period_end": "2026-01-31",
        "requests": 10,
        "input_tokens": None,
        "output_tokens": None,
        "device_hours": 1.5,
        "energy_kwh": None,
        "energy_boundary": None,
        **values,
    }
    return (rid, dep, *row.values(), None)


BAD_USAGE = [
    {"requests": -1},
    {"input_tokens": -5},
    {"output_tokens": -5},
    {"device_hours": -0.5},
    {"energy_kwh": -1.0, "energy_boundary": "it"},
    {"energy_kwh": 3.0, "energy_boundary": "wall socket"},
    {"period_end": "2025-12-31"},
]


@pytest.fixture
def inventory(tmp_path):
    inv = Inventory.create(tmp_path / "inv.aicl")
    inv.insert_logged("sites", [{"name": "DC", "kind": "own", "country": "DE"}], "test")
    inv.insert_logged("models", [{"name": "M"}], "test")
    inv.insert_logged(
        "deployments", [{"name": "D", "model_id": 1, "kind": "self-hosted", "site_id": 1}], "test"
    )
    yield inv
    inv.close()


@pytest.mark.parametrize("bad", BAD_USAGE, ids=lambda b: ",".join(b))
def test_a_row_sqlite_would_refuse_is_refused_after_the_bulk_insert(inventory, bad):
    conn = inventory.conn
    with pytest.raises(sqlite3.IntegrityError), inventory.transaction():  # SQLite's own
        conn.execute("INSERT INTO usage VALUES (?,?,?,?,?,?,?,?,?,?,?)", _usage_row(1, 1, **bad))
    rows = [_usage_row(i, 1) for i in range(1, 50)] + [_usage_row(50, 1, **bad)]
    rows += [_usage_row(i, 1) for i in range(51, 60)]
    with (
        pytest.raises(
            sqlite3.IntegrityError, match=r"CHECK constraint failed: .*row id 50 of usage"
        ),
        inventory.transaction(),
        checks.unchecked_inserts(conn, "usage", 1, 59),
    ):
        conn.executemany("INSERT INTO usage VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    assert conn.execute("SELECT count(*) FROM usage").fetchone()[0] == 0  # rolled back
    assert conn.execute("PRAGMA ignore_check_constraints").fetchone()[0] == 0


def test_good_rows_land_and_null_passes_as_in_sqlite(inventory):
    conn = inventory.conn
    rows = [_usage_row(i, 1, requests=None, device_hours=None) for i in range(1, 20)]
    with inventory.transaction(), checks.unchecked_inserts(conn, "usage", 1, 19):
        conn.executemany("INSERT INTO usage VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    assert conn.execute("SELECT count(*) FROM usage").fetchone()[0] == 19
    assert conn.execute("PRAGMA ignore_check_constraints").fetchone()[0] == 0
    with pytest.raises(sqlite3.IntegrityError):  # the checks are back on for later writes
        conn.execute("UPDATE usage SET requests = -1 WHERE id = 1")


def test_not_null_and_foreign_keys_are_still_enforced_row_by_row(inventory):
    conn = inventory.conn
    for row in (_usage_row(1, 99), _usage_row(1, 1, period_start=None)):
        with (
            pytest.raises(sqlite3.IntegrityError),
            inventory.transaction(),
            checks.unchecked_inserts(conn, "usage", 1, 1),
        ):
            conn.execute("INSERT INTO usage VALUES (?,?,?,?,?,?,?,?,?,?,?)", row)


def test_comments_in_a_hand_made_schema_are_taken_out_of_the_expressions(tmp_path):
    # a ")" or "CHECK (" inside a comment must not end or start an expression, and a
    # "--" comment kept in an expression would comment out the rest of the query
    sql = """CREATE TABLE t (
        id INTEGER PRIMARY KEY,
        a REAL CHECK (a >= 0 -- no negatives )
            AND a < 100), /* CHECK (a = 1) */
        b TEXT CHECK (b <> '--' /* not ) this */ AND b <> '/*')
    )"""
    found = tuple(" ".join(e.split()) for e in checks.check_expressions(sql))
    assert found == ("a >= 0 AND a < 100", "b <> '--' AND b <> '/*'")
    conn = sqlite3.connect(tmp_path / "t.db")
    conn.execute(sql)
    with conn, checks.unchecked_inserts(conn, "t", 1, 3):
        conn.executemany("INSERT INTO t VALUES (?,?,?)", [(1, 5, "x"), (2, 99, "y")])
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 2
    bad = pytest.raises(sqlite3.IntegrityError, match="a >= 0")
    with bad, conn, checks.unchecked_inserts(conn, "t", 3, 3):
        conn.execute("INSERT INTO t VALUES (3, -1, 'z')")
    bad = pytest.raises(sqlite3.IntegrityError, match="b <>")
    with bad, conn, checks.unchecked_inserts(conn, "t", 3, 3):
        conn.execute("INSERT INTO t VALUES (3, 1, '--')")
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 2
