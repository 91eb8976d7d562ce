"""The demo inventory: builds quickly, is consistent, and is identical on every build."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from core import schema
from core.demo import (
    DEMO_PERIOD,
    DemoDataError,
    build_demo,
    demo_file,
    load_definition,
    monthly_usage,
)
from core.errors import InventoryExistsError
from core.inventory import Inventory

USER_TABLES = tuple(schema.TABLES)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.aicl"
    started = time.perf_counter()
    inv = build_demo(path)
    elapsed = time.perf_counter() - started
    yield inv, elapsed
    inv.close()


def _rows(inv: Inventory, table: str) -> list[dict]:
    cur = inv.conn.execute(f"SELECT * FROM {table} ORDER BY id")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur]


def test_builds_within_three_seconds(demo):
    _, elapsed = demo
    assert elapsed < 3.0


@pytest.mark.parametrize(
    ("table", "low", "high"),
    [
        ("models", 25, 40),
        ("training_runs", 35, 50),
        ("deployments", 20, 35),
        ("usage", 300, 700),
        ("sourcing", 6, 20),
    ],
)
def test_row_counts_are_in_the_expected_ranges(demo, table, low, high):
    inv, _ = demo
    assert low <= inv.count(table) <= high


def test_reference_data_and_own_sites_are_there(demo):
    inv, _ = demo
    kinds = {r["kind"] for r in _rows(inv, "sites")}
    assert kinds == {"own", "colocation", "cloud", "api"}
    own = [r for r in _rows(inv, "sites") if r["kind"] in ("own", "colocation")]
    assert 3 <= len(own) <= 5
    assert all(r["pue"] and r["country"] for r in own)
    assert any(r["grid_factor_g_per_kwh"] and r["grid_factor_source"] for r in own)
    assert any(r["grid_region"] == "SE3" for r in own)


def test_foreign_keys_hold(demo):
    inv, _ = demo
    assert inv.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert inv.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.parametrize("table", ["training_runs", "deployments"])
def test_runs_and_deployments_reference_existing_records(demo, table):
    inv, _ = demo
    ids = {t: {r["id"] for r in _rows(inv, t)} for t in ("models", "sites", "hardware")}
    for row in _rows(inv, table):
        assert row["model_id"] in ids["models"], row["name"]
        assert row["site_id"] in ids["sites"], row["name"]
        if row["kind"] != "api":
            assert row["hardware_id"] in ids["hardware"], row["name"]


def test_deployment_kinds_match_their_sites(demo):
    inv, _ = demo
    site_kind = {r["id"]: r["kind"] for r in _rows(inv, "sites")}
    expected = {"self-hosted": {"own", "colocation"}, "cloud": {"cloud"}, "api": {"api"}}
    for row in _rows(inv, "deployments"):
        assert site_kind[row["site_id"]] in expected[row["kind"]], row["name"]


def _is_iso(value: str | None) -> bool:
    if value is None:
        return True
    return dt.date.fromisoformat(value).isoformat() == value


def test_dates_are_iso_and_ordered(demo):
    inv, _ = demo
    for table in ("training_runs", "deployments", "usage", "sourcing"):
        spec = schema.table(table)
        dates = [f.name for f in spec.fields if f.kind == "date"]
        for row in _rows(inv, table):
            assert all(_is_iso(row[d]) for d in dates), (table, row["id"])
            for start, end in spec.date_order:
                if row[start] and row[end]:
                    assert row[start] <= row[end], (table, row["id"])


def test_runs_lie_in_2025_to_2026(demo):
    inv, _ = demo
    for row in _rows(inv, "training_runs"):
        assert "2025-01-01" <= row["start_date"] <= row["end_date"] <= "2026-09-30"


def test_usage_lies_inside_its_deployment_and_the_demo_period(demo):
    inv, _ = demo
    deployments = {r["id"]: r for r in _rows(inv, "deployments")}
    for row in _rows(inv, "usage"):
        dep = deployments[row["deployment_id"]]
        assert DEMO_PERIOD[0] <= row["period_start"] <= row["period_end"] <= DEMO_PERIOD[1]
        assert dep["start_date"] <= row["period_start"]
        if dep["end_date"]:
            assert row["period_end"] <= dep["end_date"]
        start = dt.date.fromisoformat(row["period_start"])
        end = dt.date.fromisoformat(row["period_end"])
        assert (start.year, start.month) == (end.year, end.month)  # one row per month


def test_usage_has_one_row_per_active_month(demo):
    inv, _ = demo
    rows = _rows(inv, "usage")
    keys = [(r["deployment_id"], r["period_start"][:7]) for r in rows]
    assert len(keys) == len(set(keys))
    for dep in _rows(inv, "deployments"):
        start = max(dep["start_date"], DEMO_PERIOD[0])
        end = min(dep["end_date"] or DEMO_PERIOD[1], DEMO_PERIOD[1])
        months = (int(end[:4]) - int(start[:4])) * 12 + int(end[5:7]) - int(start[5:7]) + 1
        assert sum(1 for k in keys if k[0] == dep["id"]) == months, dep["name"]


def test_figures_are_plausible(demo):
    inv, _ = demo
    runs = _rows(inv, "training_runs")
    measured = [r for r in runs if r["energy_kwh"] is not None]
    assert measured and all(r["energy_boundary"] for r in measured)
    codecarbon = [r for r in runs if r["data_source"] == "CodeCarbon"]
    assert codecarbon and all(len(r["external_id"]) == 36 for r in codecarbon)
    assert any(r["energy_kwh"] is None and r["avg_power_w"] for r in runs)
    assert {r["kind"] for r in runs} == {"pre-training", "fine-tuning", "experiments"}
    for r in runs:
        if r["device_hours"] and r["wall_hours"] and r["device_count"]:
            assert r["device_hours"] <= r["device_count"] * r["wall_hours"] + 1e-9, r["name"]
        if r["energy_kwh"] and r["device_hours"]:
            assert 0.05 <= r["energy_kwh"] / r["device_hours"] <= 1.5, r["name"]
    # a support bot sends hundreds of millions of tokens a month
    busiest = inv.conn.execute("SELECT max(input_tokens) FROM usage").fetchone()[0]
    assert busiest > 300_000_000


def test_sourcing_covers_every_instrument_kind_but_onsite(demo):
    inv, _ = demo
    kinds = {r["kind"] for r in _rows(inv, "sourcing")}
    assert kinds == {"ppa", "eac", "green-tariff", "supplier-factor"}


def test_every_insert_is_logged(demo):
    inv, _ = demo
    logged = inv.conn.execute(
        "SELECT count(*) FROM change_log WHERE description = 'Demo inventory'"
    ).fetchone()[0]
    total = sum(inv.count(t) for t in ("models", "training_runs", "deployments", "usage"))
    assert logged >= total


def test_building_twice_gives_identical_content(demo, tmp_path):
    inv, _ = demo
    with build_demo(tmp_path / "again.aicl") as again:
        for table in USER_TABLES:
            assert _rows(again, table) == _rows(inv, table), table


def test_refuses_to_overwrite(tmp_path):
    path = tmp_path / "taken.aicl"
    path.write_text("not empty")
    with pytest.raises(InventoryExistsError):
        build_demo(path)
    assert path.read_text() == "not empty"


def test_a_missing_hardware_name_fails_loudly_and_leaves_no_file(tmp_path):
    data = load_definition()
    data["training_runs"][0]["hardware"] = "NVIDIA Z9000"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data), encoding="utf-8")
    target = tmp_path / "demo.aicl"
    with pytest.raises(DemoDataError, match="hardware 'NVIDIA Z9000'"):
        build_demo(target, broken)
    assert not target.exists()


def test_an_unknown_key_is_refused(tmp_path):
    data = load_definition()
    data["deployments"][0]["gpu"] = "H100"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DemoDataError, match="unknown key"):
        build_demo(tmp_path / "demo.aicl", broken)


def test_monthly_usage_clips_partial_months():
    deployment = {
        "name": "x",
        "start_date": "2025-01-16",
        "end_date": "2025-03-10",
        "device_count": 2,
    }
    profile = {"requests_per_month": 31_000, "device_hours": "always-on"}
    rows = monthly_usage(deployment, profile, 7)
    assert [(r["period_start"], r["period_end"]) for r in rows] == [
        ("2025-01-16", "2025-01-31"),
        ("2025-02-01", "2025-02-28"),
        ("2025-03-01", "2025-03-10"),
    ]
    assert rows[0]["requests"] == 16_000  # 16 of 31 days
    assert rows[1]["device_hours"] == 2 * 24 * 28
    assert all(r["deployment_id"] == 7 for r in rows)


def test_the_definition_is_valid_json_with_all_sections():
    data = json.loads(demo_file().read_text(encoding="utf-8"))
    for key in ("models", "sites", "training_runs", "deployments", "sourcing"):
        assert data[key], key


def test_every_demo_record_passes_the_form_rules(tmp_path):
    """A user editing any demo record must not meet a problem the demo put there."""
    from core import schema
    from core.demo import build_demo
    from core.validation import record_problems

    with build_demo(tmp_path / "demo.aicl") as inv:
        for table in schema.TABLES:
            ids = [int(i) for i in inv.ordered_ids(table)]
            for record in inv.get_many(table, ids):
                assert record_problems(table, record) == {}, (table, record)
