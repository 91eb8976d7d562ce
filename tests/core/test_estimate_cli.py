"""The estimate and explain commands: zero figures, P50, bad input, output and row ids.

Most tests call ``core.cli.main`` in this process (a subprocess per case would take a
second each); a traceback then fails the test as it would fail the command.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from core import cli, engine, uncertainty
from core.estimate import MIXED, PARTS, SCOPES, Engine, EstimateRow
from core.inventory import Inventory

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def main(capsys, *args) -> str:
    """What ``main.py ARGS``, run in this process, prints; it must succeed."""
    out = io.StringIO()
    code = cli.main([str(a) for a in args], out=out)
    assert code == 0, capsys.readouterr().err
    return out.getvalue()


def usage_error(capsys, *args) -> str:
    """What ``main.py ARGS`` prints on stderr; it must exit 2, with nothing on stdout."""
    out = io.StringIO()
    code = cli.main([str(a) for a in args], out=out)
    err = capsys.readouterr().err
    assert (code, out.getvalue()) == (2, ""), err
    return err


@pytest.fixture
def idle_runs(tmp_path) -> Path:
    """An inventory with one training run estimated from its hardware and two that have
    nothing to estimate from: no hardware, no site, no energy (wall-clock hours only),
    and zero hours."""
    path = tmp_path / "idle.aicl"
    with Inventory.create(path) as inv:
        model = inv.insert_logged("models", [{"name": "M"}], "t")[0]
        site = inv.insert_logged("sites", [{"name": "DC", "kind": "own", "country": "DE"}], "t")[0]
        hw = int(inv.ordered_ids("hardware", search="A100 SXM4")[0])
        common = {
            "model_id": model,
            "kind": "fine-tuning",
            "device_count": 8,
            "start_date": "2026-01-05",
            "end_date": "2026-01-06",
        }
        inv.insert_logged(
            "training_runs",
            [
                {**common, "name": "real", "site_id": site, "hardware_id": hw, "device_hours": 80},
                {**common, "name": "no site no hw", "wall_hours": 10.0},
                {
                    **common,
                    "name": "zero hours",
                    "site_id": site,
                    "hardware_id": hw,
                    "device_hours": 0.0,
                    "wall_hours": 0.0,
                },
            ],
            "t",
        )
    return path


@pytest.fixture
def only_idle(tmp_path) -> Path:
    """A new inventory whose only entry is a run with no hardware and no energy."""
    path = tmp_path / "zero.aicl"
    with Inventory.create(path) as inv:
        model = inv.insert_logged("models", [{"name": "M"}], "t")[0]
        inv.insert_logged(
            "training_runs",
            [
                {
                    "name": "only run",
                    "model_id": model,
                    "kind": "fine-tuning",
                    "device_count": 8,
                    "start_date": "2026-01-05",
                    "end_date": "2026-01-06",
                    "wall_hours": 10.0,
                }
            ],
            "t",
        )
    return path


# -- 1. every figure zero -----------------------------------------------------------------


def test_monte_carlo_of_nothing_but_zeros_is_zero():
    r = uncertainty.monte_carlo(
        _units(),
        np.zeros(3, dtype=np.int64),
        np.zeros(3),  # kgCO2e of three pieces in two groups: all zero
        np.array([0, 1, 1]),
        2,
        engine.load_assumptions(),
        100,
        0,
    )
    assert r.low.tolist() == r.p50.tolist() == r.high.tolist() == [0.0, 0.0]
    assert (r.total_low, r.total_p50, r.total_high, r.drivers) == (0.0, 0.0, 0.0, [])


def _units() -> uncertainty.Units:
    return uncertainty.Units(
        of_line=np.zeros(3, dtype=np.int64),
        pair=np.zeros(1, dtype=np.int64),
        combo=np.zeros(1, dtype=np.int64),
        pair_lo=np.array([0.9]),
        pair_hi=np.array([1.1]),
        combo_shared=np.zeros(1, dtype=np.int64),
        combo_pue=np.array([[1.0, 1.0]]),
        entry=np.array([engine.entry_key(0, 1)], dtype=np.int64),
        kind=np.zeros(1, dtype=np.int64),
    )


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_estimate_of_an_inventory_whose_only_entry_has_no_figures(only_idle, fmt, capsys):
    out = main(capsys, "estimate", only_idle, "--format", fmt)
    if fmt == "json":
        t = json.loads(out)["totals"]
        assert t["location_kgco2e"] == t["low_kgco2e"] == t["p50_kgco2e"] == t["high_kgco2e"] == 0
    out = main(capsys, "report", only_idle, "--quarter", "2026-Q1")


def test_range_of_an_entry_that_is_not_estimated(idle_runs, capsys):
    """What ``explain`` computes for its Range section: the entry's estimate alone."""
    with Inventory.open(idle_runs) as inv:
        ids = {name: rid for rid, name in inv.ref_options("training_runs")}
        e = Engine(inv)
        for name in ("no site no hw", "zero hours"):
            est = e.estimate(None, by="entry", samples=1000, entry=(0, ids[name]))
            assert est.totals["high_kgco2e"] == 0 and est.rows
            assert {r.p50_kgco2e for r in est.rows} == {0.0}
    assert "Total" in main(capsys, "estimate", idle_runs, "--period", "2026-Q1")


def test_explain_of_an_entry_that_is_not_estimated(idle_runs, capsys):
    with Inventory.open(idle_runs) as inv:
        ids = {name: rid for rid, name in inv.ref_options("training_runs")}
    for name in ("no site no hw", "zero hours"):
        assert name in main(capsys, "explain", idle_runs, f"training_runs:{ids[name]}")


# -- 2. P50 and the central figure ----------------------------------------------------------


def test_p50_in_json_totals_and_rows_between_p5_and_p95(demo_path, capsys):
    out = main(
        capsys, "estimate", demo_path, "--period", "2026", "--format", "json", "--samples", 300
    )
    doc = json.loads(out)
    keys = list(doc["totals"])
    assert keys.index("low_kgco2e") + 1 == keys.index("p50_kgco2e") == keys.index("high_kgco2e") - 1
    for figures in [doc["totals"], *doc["rows"]]:
        lo, mid, hi = figures["low_kgco2e"], figures["p50_kgco2e"], figures["high_kgco2e"]
        assert lo <= mid * (1 + 1e-6) and mid <= hi * (1 + 1e-6)
    row_keys = list(doc["rows"][0])
    assert row_keys.index("low_kgco2e") + 1 == row_keys.index("p50_kgco2e")


def test_without_samples_every_percentile_is_the_central_figure(demo_path):
    with Inventory.open(demo_path) as inv:
        est = Engine(inv).estimate("2026", by="phase", samples=0)
    for r in est.rows:
        assert r.low_kgco2e == r.p50_kgco2e == r.high_kgco2e == r.location_kgco2e
    assert est.totals["p50_kgco2e"] == est.totals["location_kgco2e"]


def test_total_p50_is_the_median_of_the_draws_whatever_the_grouping(demo_path):
    with Inventory.open(demo_path) as inv:
        e = Engine(inv)
        totals = [
            e.estimate("2026", by=by, samples=2000, seed=3).totals for by in ("entry", "site")
        ]
    assert totals[0]["p50_kgco2e"] == pytest.approx(totals[1]["p50_kgco2e"], rel=0.02)


def test_table_and_csv_show_p50_and_say_which_figure_is_central(demo_path, capsys):
    table = main(capsys, "estimate", demo_path, "--period", "2025", "--by", "phase")
    assert "P5 (kgCO2e)" in table and "P50 (kgCO2e)" in table and "P95 (kgCO2e)" in table
    assert "Location is the central figure" in table
    text = main(capsys, "estimate", demo_path, "--period", "2025", "--format", "csv")
    assert "p50_kgco2e" in next(csv.reader(io.StringIO(text)))


def test_a_central_figure_outside_its_range_is_said(demo_path):
    """Many entries whose defaults are skewed the same way (an unknown model size spans
    8-405 billion parameters around 70) sum to draws whose P5 can exceed the sum of their
    central figures: honest, and said in a note naming the row."""
    with Inventory.open(demo_path) as inv:
        est = Engine(inv).estimate("2025", by="phase", samples=1000)
    outside = [r for r in est.rows if r.low_kgco2e > r.location_kgco2e * 1.001]
    for r in outside:
        assert any(n.startswith(f"{r.name}: the central figure") for n in est.notes), est.notes
    said = [n for n in est.notes if "the central figure" in n]
    assert len(said) == len(outside) + (est.totals["low_kgco2e"] > est.totals["location_kgco2e"])


def test_the_note_on_a_central_figure_outside_its_range():
    from core.estimate import _central_outside_range_notes

    def row(name, c, lo, mid, hi):
        return EstimateRow(name, name, "api", "operational", "", "", 0, c, c, 0, 0, lo, mid, hi)

    rows = [row("API usage", 280.6, 322.9, 672.0, 1700.0), row("Training", 100, 90, 100, 110)]
    rows.append(row("Flat", 939.114, 939.1141, 939.1141, 939.1141))  # float32 noise: no note
    totals = {"location_kgco2e": 50, "low_kgco2e": 10, "p50_kgco2e": 20, "high_kgco2e": 40}
    notes = _central_outside_range_notes(rows, totals)
    assert len(notes) == 2
    assert notes[0].startswith("API usage: the central figure 281 kgCO2e")
    assert "is below its P5-P95 range" in notes[0] and "P50 672" in notes[0]
    assert notes[1].startswith("Total:") and "is above its P5-P95 range" in notes[1]


def test_readme_documents_p50_part_and_mixed():
    section = README.split("`estimate` gives", 1)[1].split("\n`import`", 1)[0]
    for word in ("p50_kgco2e", '"part"', "operational", '"mixed"', "central"):
        assert word in section, word


def test_drivers_are_entries_in_json_and_table_whatever_the_grouping(demo_path, capsys):
    out = main(
        capsys, "estimate", demo_path, "--period", "2026", "--by", "quarter", "--format", "json"
    )
    drivers = json.loads(out)["uncertainty"]["drivers"]
    assert drivers and all(d["id"].split(":")[0] in engine.ENTRY_TABLES for d in drivers)
    for d in drivers:
        assert set(d) == {"id", "name", "kind", "share_of_variance", "location_kgco2e"}
        assert d["kind"] in engine.KINDS and 0.001 < d["share_of_variance"] <= 1
    table = main(capsys, "estimate", demo_path, "--period", "2026", "--by", "phase")
    listed = table.split("Entries driving the uncertainty", 1)[1].split("\n\n", 1)[0]
    first = drivers[0]
    assert f"{first['name']}  ({first['id']}, {first['kind']})" in listed
    assert f"{first['share_of_variance'] * 100:.1f} %" in listed
    none = main(capsys, "estimate", demo_path, "--samples", "0", "--format", "json")
    assert json.loads(none)["uncertainty"]["drivers"] == []
    assert "Entries driving" not in main(capsys, "estimate", demo_path, "--samples", "0")
    section = README.split("`estimate` gives", 1)[1].split("\n`import`", 1)[0]
    for word in ('"drivers"', '"share_of_variance"', '"location_kgco2e"', "whatever `--by`"):
        assert word in section, word


# -- 3. bad input: one line, exit 2 ---------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["estimate", "--period", "0000"], "years run from 0001 to 9999"),
        (["estimate", "--period", "2026-02-30..2026-03-01"], "2026-02-30 does not exist"),
        (["explain", "training_runs:99999999999999999999"], "no training run with id"),
        (["estimate", "--seed", "-5"], "--seed"),
        (["estimate", "--samples", "50000000"], "between 0 and 100,000"),
        (["estimate", "--samples", "-1"], "--samples"),
        (["report", "--quarter", "2026-Q1", "--samples", "-1"], "--samples"),
        (["report", "--quarter", "0001-Q1"], "no period before it"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(demo_path, args, message, capsys):
    command, *rest = args
    err = usage_error(capsys, command, demo_path, *rest)
    assert message in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("period", ["9999-Q4", "9999-12", "9999", "0001-01-01..0001-01-09"])
def test_periods_at_the_ends_of_the_calendar_are_estimated(demo_path, period, capsys):
    out = main(capsys, "estimate", demo_path, "--period", period, "--samples", "0")
    assert "Total" in out


@pytest.mark.parametrize("entry", ["training_runs:1 ", " training_runs:1", "training_runs:1\n"])
def test_an_entry_id_with_spaces_around_it_is_accepted(demo_path, entry, capsys):
    out = main(capsys, "explain", demo_path, entry)
    assert "[training_runs:1]" in out


# -- 4. output polish -----------------------------------------------------------------------


@pytest.mark.parametrize("by", ["quarter", "month"])
def test_period_rows_come_in_date_order(demo_path, by):
    with Inventory.open(demo_path) as inv:
        rows = Engine(inv).estimate(None, by=by, samples=0).rows
    ids = [r.id for r in rows]
    assert len(ids) > 3 and ids == sorted(ids)
    assert [r.location_kgco2e for r in rows] != sorted(
        (r.location_kgco2e for r in rows), reverse=True
    )  # the demo's months are not in emissions order: the order above is the dates'


def test_rounding_noise_shows_as_zero_not_minus_zero(demo_path, capsys):
    from core.report_cli import _clean, _fmt

    assert _fmt(-1.1368683772161603e-13) == "0.00"
    assert _fmt(-0.004) == "0.00" and _fmt(-0.5) == "-0.50" and _fmt(-1234.0) == "-1,234"
    assert _clean(-1.1e-13, 939.1) == 0.0 and _clean(-0.5, 939.1) == -0.5
    table = main(capsys, "estimate", demo_path, "--by", "site", "--samples", "0")
    assert "-0.00" not in table and " -0 " not in table
    text = main(capsys, "estimate", demo_path, "--by", "site", "--samples", "0", "--format", "csv")
    savings = [row["savings_kgco2e"] for row in csv.DictReader(io.StringIO(text))]
    assert not [s for s in savings if "e-1" in s or s.startswith("-0")], savings


def test_table_lists_every_equivalence(demo_path, capsys):
    out = main(capsys, "estimate", demo_path, "--format", "json", "--samples", "0")
    whats = [q["what"] for q in json.loads(out)["equivalences"]]
    assert len(whats) == 6
    table = main(capsys, "estimate", demo_path, "--samples", "0")
    for what in whats:
        assert what in table, what


def test_csv_columns_are_the_json_row_fields(demo_path, capsys):
    out = main(capsys, "estimate", demo_path, "--format", "json", "--samples", "50")
    doc = json.loads(out)
    text = main(capsys, "estimate", demo_path, "--format", "csv", "--samples", "50")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(doc["rows"][0])
    assert "renewable_kwh" in rows[0] and len(rows) == len(doc["rows"]) + 2  # header, total
    total = dict(zip(rows[0], rows[-1], strict=True))
    assert total["id"] == "total"
    for key, value in doc["totals"].items():
        assert float(total[key]) == pytest.approx(value, rel=1e-5, abs=1e-9), key


# -- 5. row ids and mixed groups --------------------------------------------------------------


def test_entry_rows_are_unique_by_id_and_part(demo_path, capsys):
    out = main(capsys, "estimate", demo_path, "--format", "json", "--samples", "0")
    rows = json.loads(out)["rows"]
    keys = [(r["id"], r["part"]) for r in rows]
    assert len(set(keys)) == len(keys)
    assert len({r["id"] for r in rows}) < len(rows)  # entries with both parts: one id, two rows
    for r in rows:
        assert r["part"] in PARTS
        assert (r["part"] == "embodied") == (r["kind"] == "embodied")
        assert r["id"].split(":")[0] in engine.ENTRY_TABLES  # an ENTRY_ID for explain


@pytest.mark.parametrize("by", ["model", "phase", "scope", "site", "quarter", "month"])
def test_aggregate_rows_say_mixed_instead_of_a_dominant_value(demo_path, by):
    with Inventory.open(demo_path) as inv:
        e = Engine(inv)
        rows = e.estimate("2026", by=by, samples=0).rows
        entry_rows = e.estimate("2026", by="entry", samples=0).rows
    for r in rows:
        assert r.kind in (*engine.KINDS, MIXED)
        assert r.part in (*PARTS, MIXED)
        assert r.scope in (*SCOPES, MIXED)
        assert r.method_tier in (*engine.TIERS, MIXED)
    if by == "phase":
        assert not [r for r in rows if r.kind == MIXED]
        assert {r.part for r in rows if r.kind == "embodied"} == {"embodied"}
    elif by == "scope":
        assert not [r for r in rows if r.scope == MIXED]
    else:  # the demo's sites, models and quarters have operational and embodied lines
        assert [r for r in rows if r.kind == MIXED and r.part == MIXED]
    assert {r.method_tier for r in entry_rows} <= set(engine.TIERS)  # an entry's part: one
