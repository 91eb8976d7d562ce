"""Grid factor errors in the Monte Carlo: one draw per published factor and sample, shared
by every entry that uses it (two entries on one grid are wrong the same way), none for a
site's own factor; seeded, and the total's range independent of the grouping."""

from __future__ import annotations

import numpy as np
import pytest

from core import engine, uncertainty
from core.engine_grid import GridErrors
from core.estimate import Engine
from core.inventory import Inventory

SAMPLES, SEED = 4000, 7


# -- the Monte Carlo itself: two pieces with nothing but a grid error ---------------------


def _known_units(n: int) -> uncertainty.Units:
    """``n`` units (one per entry) whose own inputs are known exactly (range 1, 1) and
    that use no shared assumption: only a grid error can move them."""
    return uncertainty.Units(
        of_line=np.arange(n, dtype=np.int64),
        pair=np.zeros(n, dtype=np.int64),
        combo=np.zeros(n, dtype=np.int64),
        pair_lo=np.array([1.0]),
        pair_hi=np.array([1.0]),
        combo_shared=np.zeros(1, dtype=np.int64),
        combo_pue=np.array([[1.0, 1.0]]),
        entry=engine.entry_key(0, np.arange(1, n + 1)),
        kind=np.full(n, engine.TRAINING, dtype=np.int64),
    )


#: two published factors with the same range (0.7x to 1.5x)
TWO_FACTORS = GridErrors(
    factor=np.array([0, 1]),
    low=np.array([0.7, 0.7]),
    high=np.array([1.5, 1.5]),
    n_factors=2,
)


def _grid_only(grid_key: list[int], group: list[int], seed: int = SEED) -> uncertainty.Ranges:
    """Two pieces of 100 kg, one per entry, in ``group``s, with grid keys ``grid_key``."""
    n_groups = max(group) + 1
    return uncertainty.monte_carlo(
        _known_units(2),
        np.array([0, 1]),
        np.array([100.0, 100.0]),
        np.array(group),
        n_groups,
        engine.load_assumptions(),
        SAMPLES,
        seed,
        TWO_FACTORS,
        np.array(grid_key),
    )


def _relative_width(low: float, high: float, central: float) -> float:
    return (high - low) / central


def test_two_entries_on_one_grid_are_wrong_the_same_way():
    """Same grid factor: the total is twice one entry, draw by draw, so its relative
    P5-P95 width is one entry's (fully correlated)."""
    r = _grid_only([0, 0], [0, 1])
    one = _relative_width(r.low[0], r.high[0], 100.0)
    assert r.low[0] == pytest.approx(r.low[1], rel=1e-6)  # the same draws
    assert one > 0.4  # the grid range is drawn: 0.7x-1.5x
    assert _relative_width(r.total_low, r.total_high, 200.0) == pytest.approx(one, rel=1e-4)


def test_two_entries_on_different_grids_are_independent():
    """Different grid factors: their errors partly cancel, the total's relative range is
    clearly narrower than one entry's (about 1/sqrt(2) for equal halves)."""
    r = _grid_only([0, 1], [0, 1])
    one = _relative_width(r.low[0], r.high[0], 100.0)
    total = _relative_width(r.total_low, r.total_high, 200.0)
    assert _relative_width(r.low[1], r.high[1], 100.0) == pytest.approx(one, rel=0.05)
    assert total < 0.85 * one
    assert total == pytest.approx(one / np.sqrt(2), rel=0.1)


def test_a_piece_without_a_grid_key_gets_no_grid_error():
    """Key -1 (a site's own factor, embodied emissions): nothing moves it."""
    r = _grid_only([-1, 0], [0, 1])
    assert (r.low[0], r.p50[0], r.high[0]) == pytest.approx((100.0, 100.0, 100.0), rel=1e-6)
    assert r.high[1] > 110.0 and r.low[1] < 90.0


def test_keys_of_one_factor_take_the_same_quantile_of_their_ranges():
    """A factor standing in for a later year (a wider range) moves with the same factor
    used for its own year: the same quantile of each range, never the opposite way."""
    grid = GridErrors(
        factor=np.array([0, 0]), low=np.array([0.9, 0.6]), high=np.array([1.1, 1.8]), n_factors=1
    )
    m = uncertainty._grid_multipliers(grid, 2000, SEED)
    assert np.array_equal(np.argsort(m[0], kind="stable"), np.argsort(m[1], kind="stable"))
    assert m[0].min() >= 0.9 - 1e-12 and m[1].max() > 1.6


def test_grid_draws_are_seeded():
    first = _grid_only([0, 1], [0, 1], seed=3)
    again = _grid_only([0, 1], [0, 1], seed=3)
    other = _grid_only([0, 1], [0, 1], seed=4)
    assert (first.total_low, first.total_high) == (again.total_low, again.total_high)
    assert first.low.tolist() == again.low.tolist()
    assert (first.total_low, first.total_high) != (other.total_low, other.total_high)


# -- through the engine: inventories with a grid factor range of their own ------------------

#: the overridden factors' range (g/kWh): 100, from 50 to 200
GRID_RANGE = {"value": 100.0, "low": 50.0, "high": 200.0, "reason": "test range"}


def _inventory(path, zones: list[str], own_factor: float | None = None) -> Inventory:
    """One measured training run per zone in ``zones`` (1,000 kWh of facility energy in
    June 2025: an own input error of +-5 %, no shared assumption), each at a site of its
    own; FR and DE 2025 grid factors overridden with the same wide range."""
    inv = Inventory.create(path, reference_data=False)
    model = inv.insert_logged("models", [{"name": "M"}], "t")[0]
    for key in ("grid:FR:2025", "grid:DE:2025"):
        inv.insert_logged("factor_overrides", [{"key": key, **GRID_RANGE}], "t")
    for i, zone in enumerate(zones):
        site = {"name": f"site {i}", "kind": "own", "country": zone, "pue": 1.1}
        if own_factor is not None:
            site["grid_factor_g_per_kwh"] = own_factor
        sid = inv.insert_logged("sites", [site], "t")[0]
        run = {
            "name": f"run {i}",
            "kind": "pre-training",
            "model_id": model,
            "site_id": sid,
            "energy_kwh": 1000.0,
            "energy_boundary": "facility",
            "start_date": "2025-06-01",
            "end_date": "2025-06-30",
        }
        inv.insert_logged("training_runs", [run], "t")
    return inv


def _widths(path, zones: list[str], own_factor: float | None = None) -> tuple[float, float]:
    """(relative P5-P95 width of the first run, of the total) by entry."""
    with _inventory(path, zones, own_factor) as inv:
        est = Engine(inv).estimate(None, by="entry", samples=SAMPLES, seed=SEED)
    first = next(r for r in est.rows if r.name == "run 0")
    t = est.totals
    return (
        _relative_width(first.low_kgco2e, first.high_kgco2e, first.location_kgco2e),
        _relative_width(t["low_kgco2e"], t["high_kgco2e"], t["location_kgco2e"]),
    )


def test_entries_at_two_sites_on_one_grid_share_its_error(tmp_path):
    """Two sites in France, 2025: one grid factor, so the total's relative range is about
    one run's (only the runs' own +-5 % is independent)."""
    one, total = _widths(tmp_path / "a.aicl", ["FR", "FR"])
    assert one > 0.8  # the overridden range, 0.5x-2x, is drawn
    assert total == pytest.approx(one, rel=0.03)


def test_entries_on_two_grids_have_independent_errors(tmp_path):
    """France and Germany, the same figures and ranges: two published factors, drawn
    apart, so the total's relative range is clearly narrower than one run's."""
    one, total = _widths(tmp_path / "a.aicl", ["FR", "DE"])
    assert one > 0.8
    assert total < 0.85 * one


def test_a_site_with_its_own_factor_gets_no_grid_error(tmp_path):
    """A site's own published factor is taken as known: only the measured +-5 %."""
    one, total = _widths(tmp_path / "a.aicl", ["FR"], own_factor=50.0)
    assert one < 0.11 and total == pytest.approx(one)
    grid_factor, _ = _widths(tmp_path / "c.aicl", ["FR"])  # the same run on the grid
    assert grid_factor > 0.8
    with _inventory(tmp_path / "b.aicl", ["FR"], own_factor=50.0) as inv:
        eng = Engine(inv)
        _, key = eng.grid_keys()
        assert (key == -1).all()


def test_lines_keep_only_their_own_range(tmp_path):
    """The grid factor's range is no longer folded into a line's own range."""
    with _inventory(tmp_path / "a.aicl", ["FR"]) as inv:
        eng = Engine(inv)
        lines = eng.lines
        run = lines.kind == engine.TRAINING
        assert lines.rel_low[run].tolist() == [0.95]
        assert lines.rel_high[run].tolist() == [1.05]
        grid, key = eng.grid_keys()
        assert len(grid) == 1 and (key[~eng.pieces.is_embodied] == 0).all()
        assert (grid.low[0], grid.high[0]) == pytest.approx((0.5, 2.0))


def test_estimates_are_seeded_with_grid_errors(tmp_path):
    with _inventory(tmp_path / "a.aicl", ["FR", "FR", "DE"]) as inv:
        eng = Engine(inv)
        first = eng.estimate(None, by="entry", samples=500, seed=11)
        again = Engine(inv).estimate(None, by="entry", samples=500, seed=11)
        other = eng.estimate(None, by="entry", samples=500, seed=12)
    assert first.totals == again.totals
    assert [(r.id, r.low_kgco2e, r.high_kgco2e) for r in first.rows] == [
        (r.id, r.low_kgco2e, r.high_kgco2e) for r in again.rows
    ]
    assert first.drivers == again.drivers
    assert first.totals["high_kgco2e"] != other.totals["high_kgco2e"]


def test_total_range_does_not_depend_on_the_grouping(tmp_path):
    """Grid errors are drawn per factor, never per group: by entry, phase and scope give
    the same total range (up to the own errors' sampling noise)."""
    with _inventory(tmp_path / "a.aicl", ["FR", "FR", "DE"]) as inv:
        eng = Engine(inv)
        totals = {
            by: eng.estimate(None, by=by, samples=SAMPLES, seed=SEED).totals
            for by in ("entry", "phase", "scope")
        }
    for by in ("phase", "scope"):
        for end in ("low_kgco2e", "p50_kgco2e", "high_kgco2e"):
            assert totals[by][end] == pytest.approx(totals["entry"][end], rel=0.01), (by, end)


def test_drivers_count_the_shared_grid_error(tmp_path):
    """The two French runs share a factor whose error dominates: each carries the same
    share, about twice the German run's (which shares nothing); shares add up to 1."""
    with _inventory(tmp_path / "a.aicl", ["FR", "FR", "DE"]) as inv:
        drivers = Engine(inv).estimate(None, by="entry", samples=SAMPLES, seed=SEED).drivers
    share = {d["name"]: d["share_of_variance"] for d in drivers}
    assert sum(share.values()) == pytest.approx(1.0, abs=1e-6)
    assert share["run 0"] == pytest.approx(share["run 1"], rel=0.02)
    assert share["run 0"] == pytest.approx(2 * share["run 2"], rel=0.1)


def test_grid_keys_are_one_factor_per_zone_and_figure_used():
    """The same zone's figure for three activity years (2023 exactly; 2026 and 2027 take
    2023's) is one factor drawn once, with a range per year gap; two unknown zones that
    both fall back to their country's figure are two factors (how far each lies from the
    country's average is its own)."""
    from core.engine_grid import grid_errors

    a = engine.load_assumptions()
    lookups = [
        a.grid.lookup("FR", 2026),
        a.grid.lookup("FR", 2027),
        a.grid.lookup("FR", 2026),
        a.grid.lookup("US-ZZ", 2023, "US"),
        a.grid.lookup("US-YY", 2023, "US"),
        a.grid.lookup("FR", 2023),
    ]
    assert lookups[0].year == lookups[1].year == 2023
    assert lookups[3].value == lookups[4].value
    grid, key = grid_errors(lookups, a.params)
    assert key[0] == key[2] != key[1]  # one key per range
    assert grid.factor[key[0]] == grid.factor[key[1]]  # one draw for both years
    assert grid.high[key[1]] > grid.high[key[0]] > grid.high[key[5]] > 1.0
    assert grid.factor[key[5]] == grid.factor[key[0]]
    assert grid.factor[key[3]] != grid.factor[key[4]]
    assert len({int(grid.factor[k]) for k in key.tolist()}) == grid.n_factors == 3
