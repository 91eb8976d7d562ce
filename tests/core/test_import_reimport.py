"""Re-importing a file: the fast path classifies the rows that match stored records
(unchanged or changed) exactly as the row-by-row path does.

Each test imports a first file into an inventory, then re-imports a second version of it
(most rows the same, some changed in one field of each kind, some repeated, some new,
some invalid) through both paths (``plan.FAST_PATH`` switched) into two copies of that
inventory, and compares every scanned row (status, values, problems, raw cells, the
record it updates and its stored values), the plan (counts, preview, problems), the
commit (every table, the changes recorded for undo) and the inventory after the undo.
Chunks are tiny so that repeats and changed rows straddle chunk boundaries.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from test_import_fast import _write_csv

from core.importing import commit_import, open_source, plan_import, propose_mapping, undo_import
from core.importing import plan as plan_module
from core.importing.plan import RowScanner
from core.importing.scanned import MatchedRow
from core.inventory import Inventory

TABLES = ("models", "hardware", "sites", "deployments", "training_runs", "usage")
#: what a commit records for its undo (the ids and the old values of changed rows)
LOG_TABLES = ("import_changes",)


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(plan_module, "CHUNK_ROWS", 7)


def _dump(path: Path, tables: tuple[str, ...]) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in tables}
    finally:
        conn.close()


def _base_inventory(path: Path) -> Inventory:
    inv = Inventory.create(path)
    model = inv.insert_logged("models", [{"name": "Bot", "version": "1"}], "test")[0]
    inv.insert_logged(
        "deployments",
        [{"name": n, "model_id": model, "kind": "cloud"} for n in ("dep-a", "dep-b")],
        "test",
    )
    return inv


def _mapping(sheet, table: str, **mapping_kw):
    mapping = propose_mapping(sheet, table)
    for k, v in mapping_kw.items():
        setattr(mapping, k, v)
    return mapping


def _reimport_both_ways(
    tmp_path: Path,
    table: str,
    header: list[str],
    first: list[list[str]],
    second: list[list[str]],
    monkeypatch,
    stored: list[dict] | None = None,
    **mapping_kw,
):
    """Import ``first`` (and insert ``stored`` records), then re-import ``second``
    through both paths; assert identical results and return the fast path's."""
    template = tmp_path / "template.aicl"
    with _base_inventory(template) as inv:
        data = _write_csv(tmp_path / "first.csv", header, first)
        sheet = open_source(data)[0]
        plan = plan_import(inv, sheet, _mapping(sheet, table, **mapping_kw))
        commit_import(inv, [plan], skip_invalid=True)
        if stored:
            inv.insert_logged(table, stored, "test")
    data = _write_csv(tmp_path / "second.csv", header, second)
    results = {}
    for fast in (True, False):
        target = tmp_path / f"inv-{fast}.aicl"
        shutil.copy(template, target)
        with Inventory.open(target) as inv:
            sheet = open_source(data)[0]
            mapping = _mapping(sheet, table, **mapping_kw)
            scanner = RowScanner(inv, sheet, mapping, fast=fast)
            scanned = list(scanner.scan())
            rows = [
                (r.number, r.status, r.values, r.problems, r.raw, r.existing_id, r.old)
                for r in scanned
            ]
            kinds = {type(r).__name__ for r in scanned}
            monkeypatch.setattr(plan_module, "FAST_PATH", fast)
            plan = plan_import(inv, sheet, mapping)
            counts = (plan.new, plan.changed, plan.unchanged, plan.invalid)
            planned = (counts, [p.text() for p in plan.problems], plan.preview)
            result = commit_import(inv, [plan], skip_invalid=True)
            committed = (result.counts, [p.text() for p in result.problems])
            after = _dump(target, TABLES + LOG_TABLES)
            undo_import(inv, result.import_id)
        undone = _dump(target, TABLES)
        results[fast] = (rows, planned, committed, after, undone, kinds)
    fast_rows, slow_rows = results[True][0], results[False][0]
    assert len(fast_rows) == len(slow_rows)
    for got, want in zip(fast_rows, slow_rows, strict=True):
        assert got == want, f"row {want[0]}"
    assert results[True][1] == results[False][1]  # counts, problems, preview
    assert results[True][2] == results[False][2]  # what the commit says
    assert results[True][3] == results[False][3]  # the inventories and the undo records
    assert results[True][4] == results[False][4]  # the inventories after the undo
    assert "MatchedRow" in results[True][5]  # the fast path did classify matches
    return results[True]


def _statuses(rows) -> dict[int, str]:
    return {number: status for number, status, *_ in rows}


# -- usage ----------------------------------------------------------------------------

USAGE_HEADER = ["Deployment", "Period start", "Period end", "Requests", "Energy (kWh)",
                "Device-hours", "Energy boundary", "Notes"]  # fmt: skip


def _usage_rows(n: int) -> list[list[str]]:
    rows = []
    for i in range(n):
        day = f"2026-{1 + i // 28:02d}-{1 + i % 28:02d}"
        rows.append(
            [
                "dep-a" if i % 3 else "dep-b",
                day,
                day,
                str(100 + i),
                ["1.5", "0.30000000000000004", "", "0.1"][i % 4],
                ["", "24", "0.5"][i % 3],
                ["IT equipment", "device", "", "facility"][i % 4],
                ["", "plain", "padded  ", "x"][i % 4],
            ]
        )
    return rows


def test_reimport_usage_same_through_both_paths(tmp_path, small_chunks, monkeypatch):
    first = _usage_rows(60)
    second = [list(r) for r in first]
    # changes, one field kind each (rows across several chunks of 7)
    second[3][3] = "999"  # a whole number
    # floats: the stored 0.30000000000000004 needs 17 digits
    second[5][4] = "0.3000000000001"  # not ==, but within _same's tolerance: unchanged
    second[9][4] = "0.3"  # likewise
    second[13][4] = "3.0000000000000004e-1"  # the same float written otherwise
    second[17][4] = "0.30000000001"  # beyond the tolerance: changed
    second[15][6] = "it" if second[15][6] != "IT equipment" else "device"  # a choice
    second[20][0] = "dep-b" if second[20][0] == "dep-a" else "dep-a"  # a reference: new key
    second[22][7] = "padded"  # text without its trailing spaces
    second[23][7] = "  "  # blank where text was
    second[27][5] = "24.0"  # the same number written otherwise
    second[28][3] = "1e2"  # a number written with an exponent, changed
    second[34][5] = ""  # blank where a number was
    second[41][3] = "12 W"  # invalid: a unit that does not fit
    second.insert(30, list(second[29]))  # a repeat right after its first row
    second.append(list(second[2]))  # a repeat chunks later
    changed = list(second[5])
    changed[3] = "5"
    second.append(changed)  # a repeat with another value
    second.extend(_usage_rows(70)[60:])  # new rows
    # stored records with blanks of both sorts ("" and NULL)
    stored = [
        {"deployment_id": 1, "period_start": "2027-01-01", "period_end": "2027-01-01",
         "requests": 7, "notes": "", "energy_boundary": None},
        {"deployment_id": 1, "period_start": "2027-01-02", "period_end": "2027-01-02",
         "requests": 7, "notes": None, "energy_boundary": None},
    ]  # fmt: skip
    second.append(["dep-a", "2027-01-01", "2027-01-01", "7", "", "", "", ""])
    second.append(["dep-a", "2027-01-02", "2027-01-02", "7", "", "", "", ""])
    rows, (counts, problems, _preview), *_ = _reimport_both_ways(
        tmp_path, "usage", USAGE_HEADER, first, second, monkeypatch, stored=stored
    )
    new, n_changed, unchanged, invalid = counts
    assert unchanged > 40 and n_changed >= 6 and new >= 10 and invalid >= 4
    status = _statuses(rows)
    assert status[2 + 3] == "changed"  # row numbers: the header is row 1
    assert [status[2 + i] for i in (5, 9, 13, 17)] == ["unchanged"] * 3 + ["changed"]
    assert any("repeats row" in p for p in problems)


def test_reimport_of_the_same_file_is_all_unchanged(tmp_path, small_chunks, monkeypatch):
    rows = _usage_rows(40)
    result, (counts, *_), (commit_counts, _), after, *_ = _reimport_both_ways(
        tmp_path, "usage", USAGE_HEADER, rows, rows, monkeypatch
    )
    assert counts == (0, 0, 40, 0)
    assert commit_counts["usage"] == {"new": 0, "changed": 0, "unchanged": 40, "skipped": 0}
    assert all(status == "unchanged" for _, status, *_ in result)
    assert not [c for c in after["import_changes"] if c[3] == "update"]


# -- models ---------------------------------------------------------------------------

MODELS_HEADER = ["Name", "Version", "Owner / team", "Task", "Total parameters (billion)",
                 "Provider", "Notes"]  # fmt: skip


def _model_rows(n: int) -> list[list[str]]:
    return [
        [
            f"model-{i}",
            ["", "1", "2.0"][i % 3],
            ["team a", "", "team b "][i % 3],
            ["", "text generation", "chat"][i % 3],
            ["7", "0.1", "70.00000000000001", ""][i % 4],
            ["", "OpenAI", "us"][i % 3],
            ["", "n"][i % 2],
        ]
        for i in range(n)
    ]


def test_reimport_models_same_through_both_paths(tmp_path, small_chunks, monkeypatch):
    first = _model_rows(40)
    second = [list(r) for r in first]
    second[4][4] = "7.000000000000001"  # a float in 16 digits
    second[7][4] = "7"  # a number the same as stored
    second[10][2] = "team a "  # trailing space
    second[11][3] = "chat" if second[11][3] != "chat" else ""  # a choice
    second[14][5] = ""  # blank where text was
    second[17][6] = "changed note"
    second[19][1] = "9"  # another version: a new model
    second[22][0] = ""  # invalid: no name
    second.insert(25, list(second[24]))  # a repeat
    second.extend(_model_rows(48)[40:])
    stored = [
        {"name": "stored-blank", "version": "", "owner": "", "notes": None},
        {"name": "stored-none", "version": "", "owner": None, "notes": ""},
    ]
    second.append(["stored-blank", "", "", "", "", "", ""])
    second.append(["stored-none", "", "", "", "", "", ""])
    rows, (counts, problems, _), *_ = _reimport_both_ways(
        tmp_path, "models", MODELS_HEADER, first, second, monkeypatch, stored=stored
    )
    new, n_changed, unchanged, invalid = counts
    assert unchanged > 20 and n_changed >= 4 and new >= 8 and invalid >= 2
    # "" stored where the file's blank gives None, and the other way round: changed
    assert [status for _, status, *_ in rows[-2:]] == ["changed", "changed"]
    assert any("repeats row" in p for p in problems)


# -- training runs --------------------------------------------------------------------

RUNS_HEADER = ["Run", "External run id", "Model", "Kind", "GPU type", "No. of GPUs", "Start",
               "End", "Measured energy (kWh)", "Energy boundary", "Notes"]  # fmt: skip


def _run_rows(n: int) -> list[list[str]]:
    return [
        [
            f"run-{i}",
            f"ext-{i}" if i % 3 == 0 else "",
            "Bot 1",
            ["fine-tuning", "Pre-training", "experiments"][i % 3],
            ["NVIDIA A100 SXM4 40 GB", "NVIDIA H100 SXM", ""][i % 3],
            ["8", "1", ""][i % 3],
            f"2026-02-{1 + i % 20:02d}",
            f"2026-03-{1 + i % 20:02d}",
            ["12.5", "0.30000000000000004", ""][i % 3],
            ["IT equipment", "device", "facility"][i % 3],
            ["", "note ", "n"][i % 3],
        ]
        for i in range(n)
    ]


def test_reimport_training_runs_same_through_both_paths(tmp_path, small_chunks, monkeypatch):
    first = _run_rows(45)
    second = [list(r) for r in first]
    second[1][6] = "2026-01-15"  # a date
    second[2][6] = "03/02/2026"  # the same date written otherwise (day first)
    second[4][4] = "NVIDIA A100 SXM4 40 GB"  # a reference (the stored one is an H100)
    second[5][5] = "4"  # an int
    second[7][8] = "0.3000000000000001"  # a float in 16 digits
    second[8][8] = "0.30000000000000004"
    second[10][3] = "experiments" if second[10][3] != "experiments" else "fine-tuning"
    second[11][10] = "note"  # text without its trailing space
    second[14][9] = ""  # blank where a choice was (no energy in that row)
    second[15][0] = "renamed-15"  # a run with an external id renamed: same run, changed
    second[3][1] = ""  # a stored run with an external id, found by its name: changed
    second[17][1] = "ext-new-17"  # a run named as a stored one, with a new external id
    second[19][7] = "2026-01-01"  # invalid: ends before it starts
    second.insert(21, list(second[20]))  # a repeat by name
    second.insert(26, list(second[24]))  # a repeat by external id
    renamed = list(first[30])
    renamed[0] = "run-30-again"
    second.append(renamed)  # the same external id under another name, chunks later
    second.extend(_run_rows(52)[45:])
    rows, (counts, problems, _), *_ = _reimport_both_ways(
        tmp_path, "training_runs", RUNS_HEADER, first, second, monkeypatch, date_order="dmy"
    )
    new, n_changed, unchanged, invalid = counts
    assert unchanged > 20 and n_changed >= 8 and new >= 5 and invalid >= 3
    status = _statuses(rows)
    assert status[2 + 2] == "unchanged" and status[2 + 1] == "changed"
    assert any("repeats row" in p for p in problems)


# -- the fast path's rows themselves ------------------------------------------------------


def test_matched_rows_equal_rows_of_the_row_path(tmp_path, small_chunks):
    """A matched row's fields are made on demand; it still equals the row path's."""
    template = tmp_path / "inv.aicl"
    rows = _usage_rows(10)
    data = _write_csv(tmp_path / "u.csv", USAGE_HEADER, rows)
    with _base_inventory(template) as inv:
        sheet = open_source(data)[0]
        mapping = propose_mapping(sheet, "usage")
        commit_import(inv, [plan_import(inv, sheet, mapping)])
        fast = list(RowScanner(inv, sheet, mapping, fast=True).scan())
        slow = list(RowScanner(inv, sheet, mapping, fast=False).scan())
    assert all(isinstance(r, MatchedRow) for r in fast)
    assert fast == slow and slow == fast
    fast[0].values["requests"] = -1  # values are made once and kept
    assert fast[0].values["requests"] == -1
    assert fast[0] != slow[0]
