"""The column-wise fast path of the import gives exactly what the row-by-row path gives.

Each test reads the same messy file through both paths (``plan.FAST_PATH`` switched)
and compares every scanned row (status, converted values, problems, raw cells, the
record it updates), the unmatched references, and, after committing into two copies
of the same inventory, every table of the result. Chunks are made tiny so that
duplicates, references and problems straddle chunk boundaries.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import LedgerError
from core.importing import commit_import, open_source, plan_import, propose_mapping
from core.importing import plan as plan_module
from core.importing.plan import NewRows, RowScanner
from core.inventory import Inventory

TABLES = ("models", "hardware", "sites", "deployments", "training_runs", "usage")

#: cells a person or a program could put in a number column
NUMBER_CELLS = [
    "12", " 7 ", "0", "-3", "1.5", "1e3", "+4", ".5", "5.", "5.e3", "1_000", "1,234",
    "1,234.5", "1 234", "0,75", "350 W", "1.2 MWh", "2 kWh", "nan", "inf", "-inf", "",
    "  ", "lots", "12%", "1e400", "00012", "3.0", "2.5", "1e19", "٣",
]  # fmt: skip
DATE_CELLS = [
    "2026-01-01", "2026-01-02", "2026-01-31", "2026-02-30", "01/02/2026", "13/02/2026",
    "2026-01-01T10:00:00Z", "2 Jan 2026", "45300", "", "soon",
]  # fmt: skip
DEPLOYMENT_CELLS = ["dep-a", "dep-b", "DEP-A", " dep-b ", "dep-z", "", "dep a"]
BOUNDARY_CELLS = ["IT equipment", "it", "device", "Devices only", "", "sky", "facility"]
NOTE_CELLS = ["", "'=SUM(A1)", "plain", "  padded  ", "=1+1", "''quoted"]


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(plan_module, "CHUNK_ROWS", 7)


def _inventory(path: Path) -> Inventory:
    inv = Inventory.create(path)
    model = inv.insert_logged("models", [{"name": "Bot", "version": "1"}], "test")[0]
    deps = inv.insert_logged(
        "deployments",
        [{"name": n, "model_id": model, "kind": "cloud"} for n in ("dep-a", "dep-b")],
        "test",
    )
    inv.insert_logged(
        "usage",
        [
            {"deployment_id": deps[0], "period_start": "2026-01-01", "period_end": "2026-01-01",
             "requests": 12, "energy_kwh": 1.5, "energy_boundary": "it"},
            {"deployment_id": deps[1], "period_start": "2026-01-02", "period_end": "2026-01-02",
             "requests": 99},
        ],
        "test",
    )  # fmt: skip
    return inv


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def _scan(inv: Inventory, sheet, mapping, fast: bool, **kw):
    scanner = RowScanner(inv, sheet, mapping, fast=fast, **kw)
    rows = [
        (r.number, r.status, r.values, r.problems, r.raw, r.existing_id) for r in scanner.scan()
    ]
    unresolved = [(u.field, u.value, u.count, u.will_create) for u in scanner.unresolved()]
    return rows, unresolved, scanner


def _dump(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in TABLES}
    finally:
        conn.close()


def _compare_both_ways(tmp_path: Path, data: Path, table: str, monkeypatch, **mapping_kw):
    """Scan and commit ``data`` through both paths; assert identical results."""
    template = tmp_path / "template.aicl"
    if not template.exists():
        _inventory(template).close()
    results = {}
    for fast in (True, False):
        target = tmp_path / f"inv-{fast}.aicl"
        shutil.copy(template, target)
        with Inventory.open(target) as inv:
            sheet = open_source(data)[0]
            mapping = propose_mapping(sheet, table)
            for k, v in mapping_kw.items():
                setattr(mapping, k, v)
            rows, unresolved, _ = _scan(inv, sheet, mapping, fast)
            monkeypatch.setattr(plan_module, "FAST_PATH", fast)
            plan = plan_import(inv, sheet, mapping)
            plan.resolutions = {
                (u.field, u.value): "create"
                for u in plan.unresolved
                if u.field in ("hardware_id", "site_id", "model_id")
            }
            if table != "usage":
                plan.mapping.create_missing = ["hardware_id", "site_id"]
            result = commit_import(inv, [plan], skip_invalid=True)
            counts = result.counts
            problems = [p.text() for p in result.problems]
            preview = plan.preview
        results[fast] = (rows, unresolved, counts, problems, preview, _dump(target))
    assert results[True][0] == results[False][0]  # every row, value, problem, raw cell
    assert results[True][1:5] == results[False][1:5]
    assert results[True][5] == results[False][5]  # the inventories after the commit
    return results[True]


def test_messy_usage_csv_same_through_both_paths(tmp_path, small_chunks, monkeypatch):
    rows = []
    for i in range(120):
        rows.append(
            [
                DEPLOYMENT_CELLS[i % len(DEPLOYMENT_CELLS)],
                DATE_CELLS[i % len(DATE_CELLS)],
                DATE_CELLS[(i * 7 + 3) % len(DATE_CELLS)],
                NUMBER_CELLS[i % len(NUMBER_CELLS)],
                NUMBER_CELLS[(i * 5 + 1) % len(NUMBER_CELLS)],
                NUMBER_CELLS[(i * 3 + 2) % len(NUMBER_CELLS)],
                BOUNDARY_CELLS[i % len(BOUNDARY_CELLS)],
                NOTE_CELLS[i % len(NOTE_CELLS)],
            ]
        )
    # clean rows, a repeat of one of them in a later chunk, and the stored records again
    for day in range(1, 40):
        rows.append(["dep-a", f"2026-03-{day % 28 + 1:02d}", f"2026-03-{day % 28 + 1:02d}",
                     str(day), "10", "0.5", "IT equipment", ""])  # fmt: skip
    rows.insert(0, ["dep-a", "2026-01-01", "2026-01-01", "12", "", "0.0015", "it", ""])
    rows.insert(1, ["dep-b", "2026-01-02", "2026-01-02", "100", "", "", "", ""])
    rows.append(["", "", "", "", "", "", "", "", ""])  # blank row: skipped
    data = _write_csv(
        tmp_path / "usage.csv",
        ["Deployment", "Period start", "Period end", "Requests", "Input tokens",
         "Energy (MWh)", "Energy boundary", "Notes"],
        rows,
    )  # fmt: skip
    scanned, unresolved, counts, problems, preview, _ = _compare_both_ways(
        tmp_path, data, "usage", monkeypatch, date_order="dmy"
    )
    statuses = {s for _, s, *_ in scanned}
    assert statuses == {"new", "changed", "unchanged", "invalid"}  # the test covers them all
    assert counts["usage"]["new"] > 30 and counts["usage"]["skipped"] > 30
    assert any("repeats row" in p for p in problems)
    assert any(field == "deployment_id" for field, *_ in unresolved)
    assert all("raw" in row for row in preview)


def test_fast_path_really_takes_the_clean_rows(tmp_path, small_chunks):
    inv = _inventory(tmp_path / "inv.aicl")
    rows = [["dep-a", f"2026-05-{d:02d}", f"2026-05-{d:02d}", str(d), "1.5"] for d in range(1, 29)]
    rows[10][3] = "lots"
    data = _write_csv(
        tmp_path / "u.csv", ["Deployment", "Period start", "Period end", "Requests", "Energy"], rows
    )
    sheet = open_source(data)[0]
    mapping = propose_mapping(sheet, "usage")
    mapping.defaults["energy_boundary"] = "it"
    items = list(RowScanner(inv, sheet, mapping).scan_items())
    batched = sum(len(i) for i in items if isinstance(i, NewRows))
    assert batched == 27  # all but the bad row, in runs of new rows
    assert [i.number for i in items if not isinstance(i, NewRows)] == [12]
    inv.close()


def test_training_runs_with_hardware_names_units_and_created_references(
    tmp_path, small_chunks, monkeypatch
):
    hw = ["NVIDIA A100 SXM4 40 GB", "A100-80GB", "2x A100", "Google TPU v4", "Quantum X9",
          "", "H100", "a100, h100"]  # fmt: skip
    sites = ["us-central1", "Iowa", "Korea (Republic of)", "Atlantis", "", "FR"]
    rows = []
    for i in range(60):
        rows.append(
            [
                f"run-{i % 45}",
                "Bot 1" if i % 9 else "Unknown model",
                ["fine-tuning", "Pre-training", "experiments", "nap"][i % 4],
                hw[i % len(hw)],
                sites[i % len(sites)],
                ["8", "1", "", "0", "2.5"][i % 5],
                ["0.4", "350 W", "", "9", "120"][i % 5],
                ["2026-01-05", "2026-01-01", "", "05/01/2026"][i % 4],
                ["2026-01-09", "2026-01-04", "2026-13-01"][i % 3],
                ["3", "", "2 days", "-1"][i % 4],
            ]
        )
    data = _write_csv(
        tmp_path / "runs.csv",
        ["Run", "Model", "Kind", "GPU type", "Region", "No. of GPUs",
         "Average power per device (kW)", "Start", "End", "Duration (days)"],
        rows,
    )  # fmt: skip
    *_, counts, _problems, _preview, tables = _compare_both_ways(
        tmp_path, data, "training_runs", monkeypatch, date_order="dmy"
    )
    assert counts["training_runs"]["new"] > 0 and counts["training_runs"]["skipped"] > 0
    assert any(name == "Quantum X9" for _, name, *_ in tables["hardware"])


def test_workbook_cells_same_through_both_paths(tmp_path, small_chunks, monkeypatch):
    xlsxwriter = pytest.importorskip("xlsxwriter")
    path = tmp_path / "usage.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Usage")
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, ["Deployment", "Period start", "Period end", "Requests", "Energy (kWh)",
                        "Energy boundary"])  # fmt: skip
    cells = [12, 12.5, "7", True, None, "3 kWh", -1, 1e16, 0]
    for r in range(1, 50):
        ws.write_string(r, 0, ["dep-a", "dep-b", "dep-c"][r % 3])
        if r % 5:
            ws.write_datetime(r, 1, dt.datetime(2026, 2, 1) + dt.timedelta(days=r // 2), date_fmt)
        else:
            ws.write_number(r, 1, 46054 + r)  # an Excel serial without a date format
        ws.write_datetime(r, 2, dt.datetime(2026, 2, 1) + dt.timedelta(days=r // 2), date_fmt)
        for c, value in ((3, cells[r % len(cells)]), (4, cells[(r * 2) % len(cells)])):
            if isinstance(value, bool):
                ws.write_boolean(r, c, value)
            elif isinstance(value, (int, float)):
                ws.write_number(r, c, value)
            elif value is not None:
                ws.write_string(r, c, value)
        ws.write_string(r, 5, ["IT equipment", "device", ""][r % 3] or " ")
    wb.close()
    scanned, *_ = _compare_both_ways(tmp_path, path, "usage", monkeypatch)
    assert {s for _, s, *_ in scanned} >= {"new", "invalid"}


#: cells carrying their own unit, under headers naming another: (cell, kWh / device-hours)
ENERGY_CELLS = [
    ("800 kWh", 800.0), ("1.2 MWh", 1200.0), ("0.5", 500.0), ("2 GWh", 2e6),
    ("3600000 J", 1.0), ("1500 Wh", 1.5), ("0,25 MWh", 250.0), ("1 MWh", 1000.0),
]  # fmt: skip
HOURS_CELLS = [
    ("36 h", 36.0), ("2", 48.0), ("1.5 days", 36.0), ("90 min", 1.5),
    ("48 GPU-hours", 48.0), ("1 device-day", 24.0), ("7200 s", 2.0), ("1 d", 24.0),
]  # fmt: skip


def test_units_in_cells_win_over_the_header_through_both_paths(tmp_path, small_chunks, monkeypatch):
    """ "800 kWh" under "Energy [MWh]" is 800 kWh in both paths (and a plain number there
    is in MWh); the rows around it are plain, so the fast path hands only these on."""
    rows, want = [], {}
    for i in range(40):
        day = (dt.date(2026, 6, 1) + dt.timedelta(days=i)).isoformat()
        energy, kwh = ENERGY_CELLS[i % len(ENERGY_CELLS)] if i % 3 == 0 else ("0.002", 2.0)
        hours, h = HOURS_CELLS[i % len(HOURS_CELLS)] if i % 4 == 0 else ("1", 24.0)
        rows.append(["dep-a", day, day, str(i), energy, hours, "it"])
        want[day] = (kwh, h)
    data = _write_csv(
        tmp_path / "units.csv",
        ["Deployment", "Period start", "Period end", "Requests", "Energy [MWh]",
         "Device-days", "Energy boundary"],
        rows,
    )  # fmt: skip
    scanned, *_ = _compare_both_ways(tmp_path, data, "usage", monkeypatch)
    got = {
        values["period_start"]: (values["energy_kwh"], values["device_hours"])
        for _, status, values, *_ in scanned
        if status == "new"
    }
    assert got.keys() == want.keys()
    for day, (kwh, h) in want.items():
        assert got[day] == (pytest.approx(kwh), pytest.approx(h)), day


_cell = st.one_of(
    st.sampled_from(NUMBER_CELLS + DATE_CELLS + DEPLOYMENT_CELLS + BOUNDARY_CELLS),
    st.text(alphabet="0123456789.,-+eE %_ kWh", max_size=8),
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(st.lists(_cell, min_size=7, max_size=7), min_size=1, max_size=25))
def test_any_cells_same_through_both_paths(tmp_path_factory, small_chunks, rows):
    tmp = tmp_path_factory.mktemp("any")
    inv = _inventory(tmp / "inv.aicl")
    data = _write_csv(
        tmp / "u.csv",
        ["Deployment", "Period start", "Period end", "Requests", "Output tokens",
         "Energy (kWh)", "Energy boundary"],
        [["dep-a", *r[1:]] if i % 2 else r for i, r in enumerate(rows)],
    )  # fmt: skip
    try:
        sheet = open_source(data)[0]
    except LedgerError:  # e.g. no row below the header: not this test's subject
        inv.close()
        return
    mapping = propose_mapping(sheet, "usage")
    fast = _scan(inv, sheet, mapping, True)
    slow = _scan(inv, sheet, mapping, False)
    assert fast[:2] == slow[:2]
    inv.close()


def test_each_unusual_number_among_plain_ones(tmp_path, small_chunks, monkeypatch):
    """A chunk whose number column is plain but for one cell ("5.", "1_000", "nan"...):
    the whole-column conversion must leave exactly what the row path would refuse or
    read differently."""
    rows = []
    for k, cell in enumerate(NUMBER_CELLS):
        for j in range(7):
            day = (dt.date(2026, 4, 1) + dt.timedelta(days=k * 7 + j)).isoformat()
            rows.append(["dep-a", day, day, cell if j == 3 else str(j), "it"])
    data = _write_csv(
        tmp_path / "n.csv", ["Deployment", "Period start", "Period end", "Requests",
                             "Energy boundary"], rows
    )  # fmt: skip
    _compare_both_ways(tmp_path, data, "usage", monkeypatch)
