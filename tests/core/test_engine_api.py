"""The engine's API for other parts of the app: entry filters and what-if engines."""

from __future__ import annotations

import numpy as np
import pytest

from core.demo import build_demo
from core.estimate import Engine


@pytest.fixture(scope="module")
def demo_engine(tmp_path_factory):
    inv = build_demo(tmp_path_factory.mktemp("demo") / "demo.aicl")
    yield Engine(inv)
    inv.close()


def test_entries_filter_sums_to_the_rows_of_those_entries(demo_engine):
    by_entry = demo_engine.estimate("2026", by="entry", samples=0)
    chosen = by_entry.rows[1:4]
    entries = set()
    for row in chosen:
        table, rid = row.id.split(":")
        entries.add((0 if table == "training_runs" else 1, int(rid)))
    filtered = demo_engine.estimate("2026", by="entry", samples=0, entries=entries)
    expected = sum(r.location_kgco2e for r in by_entry.rows if r.id in {c.id for c in chosen})
    assert filtered.totals["location_kgco2e"] == pytest.approx(expected)
    assert 0 < filtered.totals["location_kgco2e"] < by_entry.totals["location_kgco2e"]
    assert demo_engine.estimate("2026", entries=set(), samples=0).totals["energy_kwh"] == 0


def test_derived_engine_changes_a_copy_and_leaves_the_original(demo_engine):
    before = demo_engine.estimate("2026", by="phase", samples=0).totals

    def double_usage(act):
        for name in ("device_hours", "energy_kwh", "requests", "output_tokens", "input_tokens"):
            if name in act.usage.columns:
                act.usage.columns[name] = act.usage.columns[name] * 2

    what_if = demo_engine.derive(double_usage)
    after = demo_engine.estimate("2026", by="phase", samples=0)
    assert after.totals == before
    inference = {r.id: r for r in what_if.estimate("2026", by="phase", samples=0).rows}
    base = {r.id: r for r in after.rows}
    for kind in ("inference", "api"):
        if kind in base:
            assert inference[kind].energy_kwh == pytest.approx(2 * base[kind].energy_kwh)
    assert inference["training"].energy_kwh == pytest.approx(base["training"].energy_kwh)
    assert np.isfinite(what_if.estimate("2026", samples=100).totals["high_kgco2e"])
