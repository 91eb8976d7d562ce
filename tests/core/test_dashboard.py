"""Dashboard figures and series against the engine's own estimates, on the demo inventory."""

from __future__ import annotations

import datetime as dt
import sqlite3

import numpy as np
import pytest

from core import dashboard as dash
from core.dashboard_session import DashboardSession
from core.estimate import Engine
from core.periods import parse_period

PERIOD = "2026-Q3"


@pytest.fixture(scope="module")
def session(demo_path):
    s = DashboardSession(demo_path)
    yield s
    s.close()


@pytest.fixture(scope="module")
def data(session):
    return session.compute(dash.DashboardRequest(PERIOD, samples=200)).baseline


def _entries(rows_ids):
    out = set()
    for rid in rows_ids:
        table, _, i = rid.partition(":")
        out.add((0 if table == "training_runs" else 1, int(i)))
    return out


def test_key_figures_are_the_engines_totals_for_the_period_and_the_one_before(session, data):
    e = session.engine
    now = e.estimate(PERIOD, by="entry", samples=0)
    spread = e.estimate(PERIOD, by="phase", samples=200).totals
    before = e.estimate("2026-Q2", by="entry", samples=0)
    f = data.figures
    assert data.previous.label == "2026-Q2"
    assert f["market"].value == pytest.approx(now.totals["market_kgco2e"])
    assert f["location"].value == pytest.approx(now.totals["location_kgco2e"])
    assert f["location"].previous == pytest.approx(before.totals["location_kgco2e"])
    assert (
        f["savings"].value == pytest.approx(now.totals["savings_kgco2e"]) and f["savings"].value > 0
    )
    assert f["energy"].value == pytest.approx(now.totals["energy_kwh"])
    assert f["water"].value == pytest.approx(now.totals["water_l"])
    assert (f["range"].low, f["range"].high) == pytest.approx(
        (spread["low_kgco2e"], spread["high_kgco2e"])
    )
    assert f["range"].low < f["location"].value < f["range"].high
    change = (f["market"].value - f["market"].previous) / f["market"].previous
    assert f["market"].change == pytest.approx(change)
    assert 0 < f["renewable"].value < 1


def test_intensity_is_location_emissions_of_request_counting_deployments_per_1000(
    session, data, demo_path
):
    # demo usage rows are whole months, so the quarter holds exactly its rows' requests
    conn = sqlite3.connect(demo_path)
    rows = conn.execute(
        "SELECT deployment_id, sum(requests) FROM usage WHERE requests > 0 "
        "AND period_start >= '2026-07-01' AND period_end <= '2026-09-30' GROUP BY deployment_id"
    ).fetchall()
    conn.close()
    total = sum(r[1] for r in rows)
    est = session.engine.estimate(PERIOD, samples=0, entries={(1, r[0]) for r in rows})
    expected = est.totals["location_kgco2e"] / total * 1000
    assert data.figures["intensity"].value == pytest.approx(expected)
    assert f"{total:,}" in data.figures["intensity"].note


def test_trend_stacks_each_buckets_phase_estimates_with_its_range(session, data):
    t = data.trend
    assert t.labels[-1] == PERIOD and t.selected == (len(t.labels) - 1, len(t.labels) - 1)
    assert t.labels[0] == "2025-Q1"  # empty quarters before the first activity are dropped
    # one Monte Carlo over the trend's quarters gives every quarter's range ...
    span = f"{t.periods[0].start}..{t.periods[-1].end}"
    ranges = {r.name: r for r in session.engine.estimate(span, by="quarter", samples=200).rows}
    for i, label in enumerate(t.labels):
        e = session.engine.estimate(label, by="phase", samples=0)
        by_phase = {r.id: r.location_kgco2e for r in e.rows}
        for kind in dash.PHASES:
            assert t.phases[kind][i] == pytest.approx(by_phase.get(kind, 0.0))
        assert t.location[i] == pytest.approx(e.totals["location_kgco2e"])
        assert t.market[i] == pytest.approx(e.totals["market_kgco2e"])
        if label != PERIOD:
            r = ranges[label]
            assert (t.low[i], t.high[i]) == pytest.approx((r.low_kgco2e, r.high_kgco2e))
            assert t.low[i] < t.location[i] < t.high[i]
    # ... and the selected quarter shows the period's own range, as the key figure does
    assert (t.low[-1], t.high[-1]) == (data.figures["range"].low, data.figures["range"].high)
    assert sum(t.phases[k] for k in dash.PHASES) == pytest.approx(t.location)
    assert any("PPA" in " ".join(names) for names in t.instruments)


def test_the_central_pass_has_every_figure_but_no_range(session, data):
    central = session.central(dash.DashboardRequest(PERIOD, samples=200)).baseline
    assert not central.ranges_ready and data.ranges_ready
    for key, figure in central.figures.items():
        if key != "range":
            assert figure.value == pytest.approx(data.figures[key].value, nan_ok=True)
    assert np.isnan(central.figures["range"].value) and central.figures["location"].low is None
    assert np.isnan(central.trend.low).all() and not np.isnan(data.trend.low).any()
    assert central.trend.location == pytest.approx(data.trend.location)
    assert [b.id for b in central.top] == [b.id for b in data.top]


def test_a_monthly_trend_has_each_months_range_from_one_run(session):
    d = session.compute(dash.DashboardRequest("2026-Q3", granularity="month", samples=100))
    t = d.baseline.trend
    assert d.baseline.ranges_ready and not d.baseline.range_note
    months = {
        r.name: r
        for r in session.engine.estimate(
            dash.Period(t.periods[0].start, t.periods[-1].end, "trend"),
            by="month",
            samples=100,
        ).rows
    }
    for i, label in enumerate(t.labels[: t.selected[0]]):
        if label in months:
            assert (t.low[i], t.high[i]) == pytest.approx(
                (months[label].low_kgco2e, months[label].high_kgco2e)
            )
        else:
            assert t.low[i] == 0
    assert d.baseline.figures["range"].low > 0


def test_monthly_trend_covers_twelve_months_up_to_the_period_end(session):
    d = session.compute(dash.DashboardRequest("2026", granularity="month", samples=0)).baseline
    assert d.trend.labels[-1] == "2026-12"
    assert d.trend.labels[0] == "2026-01"
    assert d.trend.selected == (0, 11)
    year = session.engine.estimate("2026", samples=0).totals["location_kgco2e"]
    assert d.trend.location.sum() == pytest.approx(year)


def test_top_emitters_sum_the_engines_rows_per_group(session, data):
    e = session.engine
    rows = e.estimate(PERIOD, by="entry", samples=0).rows
    per_entry: dict[str, float] = {}
    for r in rows:
        per_entry[r.id] = per_entry.get(r.id, 0.0) + r.location_kgco2e
    expected = sorted(per_entry.items(), key=lambda kv: -kv[1])[:15]
    assert [(b.id, b.location) for b in data.top] == [(k, pytest.approx(v)) for k, v in expected]
    assert data.top[0].target == ("deployments", int(expected[0][0].split(":")[1]))
    assert data.top_total == len(per_entry)
    period = parse_period(PERIOD)
    model_total = e.estimate(PERIOD, by="model", samples=0).totals["location_kgco2e"]
    for by in ("team", "provider", "model", "site"):
        bars = dash.top_emitters(e, period, by, None)
        assert sum(b.location for b in bars) == pytest.approx(model_total)
        assert [b.location for b in bars] == sorted((b.location for b in bars), reverse=True)
    teams = {b.name: b.location for b in dash.top_emitters(e, period, "team", None)}
    legal = e.estimate(
        PERIOD, samples=0, entries=dash.entries_for(e, dash.Filters(owners=("Legal",)))
    )
    assert teams["Legal"] == pytest.approx(legal.totals["location_kgco2e"])


def test_scope_site_and_quality_breakdowns_are_engine_rows(session, data):
    e = session.engine
    scopes = e.estimate(PERIOD, by="scope", samples=0).rows
    assert [(b.name, b.location, b.market) for b in data.scopes] == [
        (r.name, pytest.approx(r.location_kgco2e), pytest.approx(r.market_kgco2e)) for r in scopes
    ]
    sites = e.estimate(PERIOD, by="site", samples=0).rows
    assert [b.id for b in data.sites] == [r.id for r in sites]
    stockholm = next(b for b in data.sites if b.name == "Stockholm DC")
    assert "SE3" in stockholm.detail and "gCO2e/kWh" in stockholm.detail
    assert stockholm.target == ("sites", int(stockholm.id.split(":")[1]))
    entry_rows = e.estimate(PERIOD, by="entry", samples=0).rows
    measured = sum(r.location_kgco2e for r in entry_rows if r.method_tier == "measured")
    assert data.quality["measured"] == pytest.approx(measured)
    assert sum(data.quality.values()) == pytest.approx(data.figures["location"].value)


def test_a_filter_restricts_every_figure_to_its_entries(session, demo_path):
    e = session.engine
    filters = dash.Filters(owners=("Legal",))
    entries = dash.entries_for(e, filters)
    conn = sqlite3.connect(demo_path)
    legal_models = {r[0] for r in conn.execute("SELECT id FROM models WHERE owner = 'Legal'")}
    deps = {
        r[0]
        for r in conn.execute(
            "SELECT id FROM deployments "
            "WHERE model_id IN (SELECT id FROM models WHERE owner='Legal')"
        )
    }
    conn.close()
    assert legal_models and deps
    assert {i for t, i in entries if t == 1} == deps
    d = session.compute(dash.DashboardRequest(PERIOD, filters=filters, samples=100)).baseline
    est = e.estimate(PERIOD, by="entry", samples=100, entries=set(entries))
    full = e.estimate(PERIOD, samples=0).totals["location_kgco2e"]
    assert d.figures["location"].value == pytest.approx(est.totals["location_kgco2e"])
    assert 0 < d.figures["location"].value < full
    q3 = e.estimate(PERIOD, by="phase", samples=100, entries=set(entries))
    assert d.trend.location[-1] == pytest.approx(q3.totals["location_kgco2e"])
    assert {b.id for b in d.top} <= {f"deployments:{i}" for i in deps} | {
        f"training_runs:{i}" for t, i in entries if t == 0
    }
    # filters combine: Legal AND a site no Legal entry uses leaves nothing
    none = dash.entries_for(e, dash.Filters(owners=("Legal",), site_ids=(1,)))
    assert none == frozenset()
    assert dash.entries_for(e, dash.Filters()) is None


def test_filter_options_list_owners_models_used_sites_and_tags(session):
    options = dash.filter_options(session._inv)
    assert ("Legal", "Legal") in options["owners"]
    assert any(t == "classifier" for t, _ in options["tags"])
    used = {label for _, label in options["sites"]}
    assert "Stockholm DC" in used and "AWS af-south-1 (Cape Town)" not in used


def test_session_rereads_the_inventory_after_invalidate(demo_path, tmp_path):
    path = tmp_path / "copy.aicl"
    src = sqlite3.connect(demo_path)
    dst = sqlite3.connect(path)
    src.backup(dst)
    src.close()
    s = DashboardSession(path)
    try:
        before = (
            s.compute(dash.DashboardRequest(PERIOD, samples=0)).baseline.figures["location"].value
        )
        dst.execute("PRAGMA foreign_keys = ON")  # its usage goes with it
        dst.execute("DELETE FROM deployments WHERE name = 'Code assistant'")
        dst.commit()
        same = (
            s.compute(dash.DashboardRequest(PERIOD, samples=0)).baseline.figures["location"].value
        )
        assert same == before  # cached until told
        s.invalidate()
        after = (
            s.compute(dash.DashboardRequest(PERIOD, samples=0)).baseline.figures["location"].value
        )
        assert after < before
    finally:
        s.close()
        dst.close()


def test_periods_units_and_numbers():
    assert dash.default_period(dt.date(2026, 11, 28)) == "2026-Q3"
    assert dash.default_period(dt.date(2026, 2, 1)) == "2025-Q4"
    labels = [p.label for p in dash.buckets(parse_period("2026-Q3"), "quarter")]
    assert labels == [
        "2024-Q4",
        "2025-Q1",
        "2025-Q2",
        "2025-Q3",
        "2025-Q4",
        "2026-Q1",
        "2026-Q2",
        "2026-Q3",
    ]
    long = dash.buckets(parse_period("2020-01-01..2026-06-30"), "quarter")
    assert long[0].label == "2020-Q1" and long[-1].label == "2026-Q2"
    assert dash.mass_unit(999) == (1.0, "kgCO2e") and dash.mass_unit(1000) == (1000.0, "tCO2e")
    assert dash.format_quantity(1_234_567, "kg") == "1,235 tCO2e"
    assert dash.format_quantity(12.345, "kg") == "12.3 kgCO2e"
    assert dash.format_quantity(20_100, "kWh") == "20.1 MWh"
    assert dash.format_quantity(0.68, "share") == "68 %"
    assert dash.format_quantity(0.0239, "kg/1000") == "23.9 gCO2e"
    assert dash.number(float("nan")) == "–"
    assert np.isnan(dash.Figure("x", "x", 1.0, "kg", None).change or np.nan)


def test_engine_built_for_the_dashboard_matches_a_plain_engine(session, demo_path):
    from core.inventory import Inventory

    with Inventory.open(demo_path) as inv:
        plain = Engine(inv).estimate(PERIOD, samples=0).totals
    assert session.engine.estimate(PERIOD, samples=0).totals == pytest.approx(plain)


def test_logged_edits_reach_the_session_without_a_reread(demo_path, tmp_path):
    from core import scenarios as scen
    from core.commands import DeleteRecords
    from core.inventory import Inventory

    path = tmp_path / "edited.aicl"
    path.write_bytes(demo_path.read_bytes())
    s = DashboardSession(path)
    inv = Inventory.open(path)
    try:
        request = dash.DashboardRequest(PERIOD, samples=0)
        first = s.central(request)
        engine = s.engine
        scen.save_scenario(inv, scen.Scenario("PUE", [{"kind": "set_pue", "pue": 1.1}]))
        same = s.central(request)
        assert same.version == first.version  # a saved scenario changes no figure
        top = first.baseline.top[0]
        DeleteRecords(top.target[0], [top.target[1]]).apply(inv)
        after = s.central(request)
        assert s.engine is engine  # caught up, not rebuilt
        assert after.version > first.version
        location = after.baseline.figures["location"].value
        assert location == pytest.approx(
            first.baseline.figures["location"].value - top.location, rel=1e-9
        )
        assert Engine(inv).estimate(PERIOD, samples=0).totals["location_kgco2e"] == (
            pytest.approx(location)
        )
        # ranges computed for an older engine state are refused, not shown
        assert s.with_ranges(dash.DashboardRequest(PERIOD, samples=50), first) is None
    finally:
        s.close()
        inv.close()


def test_several_values_of_one_filter_kind_add_up(session):
    e = session.engine
    legal = dash.entries_for(e, dash.Filters(owners=("Legal",)))
    options = [o for o, _ in dash.filter_options(session._inv)["owners"] if o != "Legal"]
    other = dash.entries_for(e, dash.Filters(owners=(options[0],)))
    both = dash.entries_for(e, dash.Filters(owners=("Legal", options[0])))
    assert legal and other and both == legal | other
    totals = [
        e.estimate(PERIOD, samples=0, entries=set(x)).totals["location_kgco2e"]
        for x in (legal, other, both)
    ]
    assert totals[2] == pytest.approx(totals[0] + totals[1])
