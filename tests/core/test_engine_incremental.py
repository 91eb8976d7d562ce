"""After an edit, updating the engine incrementally gives what a full rebuild gives."""

from __future__ import annotations

import pytest

from core.demo import build_demo
from core.estimate import Engine


@pytest.fixture
def demo(tmp_path):
    inv = build_demo(tmp_path / "demo.aicl")
    yield inv
    inv.close()


def figures(engine: Engine, period: str | None = "2026") -> dict:
    out = {}
    for by in ("entry", "phase", "site", "quarter"):
        est = engine.estimate(period, by=by, samples=0)
        out[by] = {
            (r.id, r.kind): (r.energy_kwh, r.location_kgco2e, r.market_kgco2e, r.water_l)
            for r in est.rows
        }
        out[by + " totals"] = est.totals
    return out


def assert_same(incremental: Engine, fresh: Engine) -> None:
    for period in ("2026", "2026-Q2", None):
        got, want = figures(incremental, period), figures(fresh, period)
        for key in want:
            if key.endswith("totals"):
                assert got[key] == pytest.approx(want[key], rel=1e-9, abs=1e-9), key
                continue
            assert set(got[key]) == set(want[key]), key
            for row, values in want[key].items():
                assert got[key][row] == pytest.approx(values, rel=1e-9, abs=1e-9), (key, row)
    assert {k: sorted(v) for k, v in incremental.notes.items() if v} == {
        k: sorted(v) for k, v in fresh.notes.items() if v
    }
    assert incremental.estimate("2026", samples=300, seed=2).totals == pytest.approx(
        fresh.estimate("2026", samples=300, seed=2).totals, rel=0.02
    )


def some_ids(inv, table, n=3):
    return [r[0] for r in inv.conn.execute(f"SELECT id FROM {table} ORDER BY id LIMIT {n}")]


def test_usage_updates_inserts_and_deletes(demo):
    engine = Engine(demo)
    u1, u2, u3 = some_ids(demo, "usage")
    row = demo.get("usage", u1)
    demo.update_row("usage", u1, {"energy_kwh": 1234.5, "device_hours": None})
    demo.update_row("usage", u2, {"requests": 5_000_000, "energy_kwh": None, "device_hours": None})
    new = demo.insert_row(
        "usage",
        {
            "deployment_id": row["deployment_id"],
            "period_start": "2026-04-10",
            "period_end": "2026-06-20",
            "device_hours": 900.0,
        },
    )
    demo.delete_ids("usage", [u3])
    engine.apply_changes({"usage": [u1, u2, new, u3]})
    assert_same(engine, Engine(demo))


def test_a_usage_row_moved_to_another_deployment(demo):
    engine = Engine(demo)
    (u1,) = some_ids(demo, "usage", 1)
    before = demo.get("usage", u1)["deployment_id"]
    other = demo.conn.execute(
        "SELECT id FROM deployments WHERE id != ? ORDER BY id DESC LIMIT 1", (before,)
    ).fetchone()[0]
    demo.update_row("usage", u1, {"deployment_id": other})
    engine.apply_changes({"usage": [u1]})
    assert_same(engine, Engine(demo))


def test_deployment_training_run_and_model_edits(demo):
    engine = Engine(demo)
    d1, d2 = some_ids(demo, "deployments", 2)
    sites = some_ids(demo, "sites", 5)
    demo.update_row("deployments", d1, {"site_id": sites[-1]})
    demo.update_row("deployments", d2, {"device_count": 17})
    (r1,) = some_ids(demo, "training_runs", 1)
    demo.update_row("training_runs", r1, {"energy_kwh": None, "device_hours": 5000.0})
    (m1,) = some_ids(demo, "models", 1)
    demo.update_row("models", m1, {"params_active_b": 3.0})
    engine.apply_changes({"deployments": [d1, d2], "training_runs": [r1], "models": [m1]})
    assert_same(engine, Engine(demo))
    # a new training run, then its deletion
    new = demo.insert_row(
        "training_runs",
        {
            "name": "late run",
            "model_id": m1,
            "kind": "fine-tuning",
            "device_count": 8,
            "start_date": "2026-05-01",
            "end_date": "2026-05-03",
        },
    )
    engine.apply_changes({"training_runs": [new]})
    assert_same(engine, Engine(demo))
    demo.delete_ids("training_runs", [new])
    engine.apply_changes({"training_runs": [new]})
    assert_same(engine, Engine(demo))


def test_site_edits_and_many_edits_rebuild_everything(demo):
    engine = Engine(demo)
    (s1,) = some_ids(demo, "sites", 1)
    demo.update_row("sites", s1, {"pue": 1.9})
    engine.apply_changes({"sites": [s1]})
    assert_same(engine, Engine(demo))
    ids = [r[0] for r in demo.conn.execute("SELECT id FROM usage")]
    demo.conn.execute("UPDATE usage SET requests = coalesce(requests, 0) + 10")
    engine.apply_changes({"usage": ids})
    assert_same(engine, Engine(demo))


def test_repeated_edits_compact_and_stay_exact(demo, monkeypatch):
    from core import estimate

    monkeypatch.setattr(estimate, "COMPACT_AFTER_LINES", 30)
    engine = Engine(demo)
    compactions = []
    real = engine._compute
    monkeypatch.setattr(engine, "_compute", lambda act: (compactions.append(1), real(act)))
    ids = some_ids(demo, "usage", 40)
    for k, uid in enumerate(ids):
        demo.update_row("usage", uid, {"energy_kwh": 10.0 + k})
        engine.apply_changes({"usage": [uid]})
    assert compactions
    assert_same(engine, Engine(demo))


def test_catch_up_follows_the_change_log_of_logged_edits(demo):
    from core.commands import UpdateRecord

    engine = Engine(demo)
    assert engine.catch_up() is False
    (u1,) = some_ids(demo, "usage", 1)
    UpdateRecord("usage", u1, {"energy_kwh": 4321.0}).apply(demo)
    assert engine.catch_up() is True
    assert_same(engine, Engine(demo))
    assert engine.catch_up() is False


def test_appending_to_a_column_reuses_its_room_and_keeps_earlier_views():
    import numpy as np

    from core import columns

    a = columns.append(np.arange(3.0), np.array([3.0]))
    b = columns.append(a, np.array([4.0, 5.0]))
    assert b.base is a.base  # no copy: the room behind ``a`` was used
    assert a.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert b.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    big = columns.append(b, np.ones(5000))
    assert big.base is not b.base and len(big) == 5006 and big[:6].tolist() == b.tolist()
    days = columns.append(
        np.array(["2026-01-01"], "datetime64[D]"), np.array(["2026-02-01"], "datetime64[D]")
    )
    assert days.astype(str).tolist() == ["2026-01-01", "2026-02-01"]


def test_period_selection_matches_the_weights_of_every_piece(demo):
    import numpy as np

    from core.periods import parse_period

    engine = Engine(demo)
    (u1,) = some_ids(demo, "usage", 1)
    demo.update_row("usage", u1, {"period_start": "2025-12-20", "period_end": "2026-02-10"})
    engine.apply_changes({"usage": [u1]})  # appended pieces, outside the day index
    p = engine.pieces
    for text in ("2026-Q1", "2026-01-15..2026-02-03", "2025", "2026-12-31..2026-12-31"):
        period = parse_period(text)
        idx, w = p.select(period)
        full = p.weights(period)
        assert np.flatnonzero(full > 0).tolist() == sorted(idx.tolist())
        assert np.allclose(full[np.sort(idx)], w[np.argsort(idx)])


def test_large_tables_read_in_chunks_give_the_same_columns(demo, monkeypatch):
    import numpy as np

    from core import activity

    whole = activity.load(demo)
    monkeypatch.setattr(activity, "CHUNK_ROWS", 7)  # many queries per table
    chunked = activity.load(demo)
    for name in ("training_runs", "deployments", "usage", "sites", "hardware", "models"):
        a, b = getattr(whole, name), getattr(chunked, name)
        assert a.ids.tolist() == b.ids.tolist()
        for col in a.columns:
            assert np.array_equal(a[col], b[col], equal_nan=a[col].dtype.kind in "fM"), col
    assert len(chunked.usage) > 7


def test_market_figures_after_edits_equal_a_full_market_pass_bit_for_bit(demo, monkeypatch):
    """An edit recomputes market-based figures only for the cells it touched and the
    cells whose rate changed; the result is exactly what a pass over every piece gives,
    also where renewable instruments share their volume among many cells."""
    import numpy as np

    from core import emissions

    taken = []
    real = emissions._update_market
    monkeypatch.setattr(
        emissions, "_update_market", lambda *a: (taken.append(real(*a)), taken[-1])[1]
    )
    engine = Engine(demo)
    covered = {
        int(i)
        for cells in engine.pieces.instrument_cells
        for i in np.flatnonzero(np.isin(engine.pieces.cell, cells))
    }
    assert covered  # the demo's instruments cover pieces
    # usage rows of deployments whose pieces instruments cover, and others
    lines = engine.pieces.line[sorted(covered)]
    deps = set(engine.lines.entry_id[lines][engine.lines.entry_table[lines] == 1].tolist())
    rows = demo.conn.execute("SELECT id, deployment_id FROM usage ORDER BY id").fetchall()
    edited = [r for r, d in rows if d in deps][:6] + [r for r, d in rows if d not in deps][:4]
    for k, uid in enumerate(edited):
        demo.update_row("usage", uid, {"energy_kwh": 500.0 + 37 * k, "device_hours": None})
        engine.apply_changes({"usage": [uid]})
    assert taken and all(taken)  # the incremental path, every time
    p = engine.pieces
    got = (p.market_kg.copy(), p.renewable_kwh.copy(), p.residual_fallback.copy())
    emissions.apply_market(p, engine.sites, engine.activity.sourcing, engine._site_ids)
    assert np.array_equal(got[0], p.market_kg)
    assert np.array_equal(got[1], p.renewable_kwh)
    assert np.array_equal(got[2], p.residual_fallback)
    assert_same(engine, Engine(demo))
