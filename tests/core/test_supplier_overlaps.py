"""Supplier-specific factors of one site that cover the same days: the earlier one (by
period start, then listed first) is used for those days and the later one's factor goes
unused there. The figures stay as they are; the estimate's notes and the explanation's
market-based section say which factor was used, naming both records and the shared days.

Each case is a real inventory file on disk: an own data centre in France (or two) with a
training run of measured facility energy from 1 February to 30 April 2026 (100 kWh a
day)."""

from __future__ import annotations

import io
import json

import pytest

from core import cli
from core.estimate import Engine
from core.explain import explain
from core.inventory import Inventory

RUN = {
    "device_count": 8,
    "start_date": "2026-02-01",
    "end_date": "2026-04-30",
    "energy_kwh": 8900.0,  # 89 days x 100 kWh
    "energy_boundary": "facility",
}


def factor(start: str, end: str, g_per_kwh: float, name: str, site: str = "Paris DC") -> dict:
    """A supplier-specific factor of ``site`` (by name) over ``start``..``end``."""
    return {
        "name": name,
        "kind": "supplier-factor",
        "site": site,
        "period_start": start,
        "period_end": end,
        "factor_g_per_kwh": g_per_kwh,
    }


def build(path, sourcing, sites=("Paris DC",)) -> Inventory:
    """One model, the own sites ``sites`` (France, PUE 1.2) with one run each, and the
    sourcing records in the order given (their ids: 1, 2, ...)."""
    inv = Inventory.create(path, reference_data=False)
    model = inv.insert_logged("models", [{"name": "M", "params_active_b": 8}], "t")[0]
    site_ids = {
        name: inv.insert_logged(
            "sites", [{"name": name, "kind": "own", "country": "FR", "pue": 1.2}], "t"
        )[0]
        for name in sites
    }
    inv.insert_logged(
        "training_runs",
        [
            {"name": f"run at {name}", "kind": "pre-training", "model_id": model, "site_id": sid}
            | RUN
            for name, sid in site_ids.items()
        ],
        "t",
    )
    for s in sourcing:
        row = {k: v for k, v in s.items() if k != "site"}
        inv.insert_logged("sourcing", [{**row, "site_id": site_ids[s["site"]]}], "t")
    return inv


def figures(engine: Engine) -> dict:
    """Market- and location-based figures all time, by month and by entry."""
    out = {}
    for by in ("month", "entry", "site"):
        est = engine.estimate(None, by=by, samples=0)
        out[by] = [(r.id, r.market_kgco2e, r.location_kgco2e, r.renewable_kwh) for r in est.rows]
        out["totals"] = est.totals
    for period in ("2026-03", "2026-Q1", "2026-03-10..2026-03-20"):
        out[period] = engine.estimate(period, samples=0).totals
    return out


def overlap_notes(notes: list[str]) -> list[str]:
    return [n for n in notes if n.startswith("Supplier-specific factors")]


def market_section(engine: Engine, entry: str, period: str | None = None) -> list[str]:
    text = explain(engine, entry, period, samples=0).text()
    section = text.split("\nMarket-based emissions\n", 1)[1].split("\n\n", 1)[0]
    return [line.strip() for line in section.splitlines()]


# record #1 starts later than record #2: "the earlier" is by period start, not by id
LATER = factor("2026-03-01", "2026-04-30", 100.0, "Mar-Apr contract")
EARLIER = factor("2026-02-01", "2026-03-31", 50.0, "Feb-Mar contract")
NOTE = (
    "Supplier-specific factors #2 'Feb-Mar contract' and #1 'Mar-Apr contract' of site "
    "'Paris DC' both cover 2026-03-01..2026-03-31: #2 (the earlier) was used for those "
    "days and #1's factor was not applied to them."
)


def test_overlapping_factors_are_noted_and_the_figures_do_not_change(tmp_path):
    """March is covered by both: #2 (from February) keeps it. The estimate and the
    explanation say so; every figure equals that of the same inventory whose later
    record does not cover March at all."""
    with build(tmp_path / "overlap.aicl", [LATER, EARLIER]) as inv:
        engine = Engine(inv)
        got = figures(engine)
        notes = engine.estimate("2026", samples=0).notes
        march = engine.estimate("2026-03", samples=0).notes
        market = market_section(engine, "training_runs:1", "2026")
    trimmed = factor("2026-04-01", "2026-04-30", 100.0, "Mar-Apr contract")
    with build(tmp_path / "trimmed.aicl", [trimmed, EARLIER]) as inv:
        engine = Engine(inv)
        want = figures(engine)
        assert overlap_notes(engine.estimate("2026", samples=0).notes) == []
        assert not overlap_notes(market_section(engine, "training_runs:1", "2026"))
    assert got == want
    assert overlap_notes(notes) == [NOTE]
    assert overlap_notes(march) == [NOTE]
    assert NOTE in market
    # February and March at 50 g/kWh, April at 100 g/kWh (facility kWh as given)
    assert got["totals"]["market_kgco2e"] == pytest.approx((5900 * 50 + 3000 * 100) / 1000)


def test_a_period_without_the_shared_days_has_no_note(tmp_path):
    with build(tmp_path / "overlap.aicl", [LATER, EARLIER]) as inv:
        engine = Engine(inv)
        assert overlap_notes(engine.estimate("2026-04", samples=0).notes) == []
        assert overlap_notes(engine.estimate("2026-02", samples=0).notes) == []
        assert not overlap_notes(market_section(engine, "training_runs:1", "2026-04"))


def test_factors_sharing_part_of_a_month(tmp_path):
    """#1 covers 1-20 March, #2 10-31 March: #1 keeps 10-20 March, #2 takes the rest."""
    first = factor("2026-03-01", "2026-03-20", 50.0, "early")
    second = factor("2026-03-10", "2026-03-31", 100.0, "late")
    with build(tmp_path / "overlap.aicl", [first, second]) as inv:
        engine = Engine(inv)
        got = figures(engine)
        notes = overlap_notes(engine.estimate(None, samples=0).notes)
    trimmed = factor("2026-03-21", "2026-03-31", 100.0, "late")
    with build(tmp_path / "trimmed.aicl", [first, trimmed]) as inv:
        want = figures(Engine(inv))
    assert got == want
    assert notes == [
        "Supplier-specific factors #1 'early' and #2 'late' of site 'Paris DC' both cover "
        "2026-03-10..2026-03-20: #1 (the earlier) was used for those days and #2's factor "
        "was not applied to them."
    ]


def test_the_same_start_goes_to_the_record_listed_first(tmp_path):
    a = factor("2026-03-01", "2026-03-31", 50.0, "a")
    b = factor("2026-03-01", "2026-04-30", 100.0, "b")
    with build(tmp_path / "same.aicl", [a, b]) as inv:
        notes = overlap_notes(Engine(inv).estimate(None, samples=0).notes)
    assert notes == [
        "Supplier-specific factors #1 'a' and #2 'b' of site 'Paris DC' both cover "
        "2026-03-01..2026-03-31: #1 (the same start, listed first) was used for those days "
        "and #2's factor was not applied to them."
    ]


@pytest.mark.parametrize(
    "sourcing",
    [
        # whole months apart
        [factor("2026-02-01", "2026-03-31", 50.0, "a"), factor("2026-04-01", "2026-04-30", 9, "b")],
        # meeting inside a month: both take their days of March, none is left over
        [factor("2026-02-01", "2026-03-15", 50.0, "a"), factor("2026-03-16", "2026-04-30", 9, "b")],
        # one day each, side by side
        [factor("2026-03-07", "2026-03-07", 50.0, "a"), factor("2026-03-08", "2026-03-08", 9, "b")],
    ],
    ids=["months-apart", "same-month", "single-days"],
)
def test_factors_that_do_not_overlap_give_no_note(tmp_path, sourcing):
    with build(tmp_path / "apart.aicl", sourcing) as inv:
        engine = Engine(inv)
        assert overlap_notes(engine.estimate(None, samples=0).notes) == []
        assert overlap_notes(engine.estimate("2026-03", samples=0).notes) == []
        assert not overlap_notes(market_section(engine, "training_runs:1"))


def test_overlapping_days_at_different_sites_give_no_note(tmp_path):
    sourcing = [
        factor("2026-02-01", "2026-03-31", 50.0, "Paris", site="Paris DC"),
        factor("2026-03-01", "2026-04-30", 100.0, "Lyon", site="Lyon DC"),
    ]
    with build(tmp_path / "sites.aicl", sourcing, sites=("Paris DC", "Lyon DC")) as inv:
        engine = Engine(inv)
        assert overlap_notes(engine.estimate(None, by="site", samples=0).notes) == []
        for entry in ("training_runs:1", "training_runs:2"):
            assert not overlap_notes(market_section(engine, entry))


def test_only_the_entries_at_the_site_get_the_note(tmp_path):
    """Two sites, the overlap at Paris only: the estimate of the Lyon run says nothing,
    that of the Paris run (and of both) names Paris."""
    with build(tmp_path / "two.aicl", [LATER, EARLIER], sites=("Paris DC", "Lyon DC")) as inv:
        engine = Engine(inv)
        assert overlap_notes(engine.estimate(None, samples=0).notes) == [NOTE]
        assert overlap_notes(engine.estimate(None, samples=0, entry=(0, 1)).notes) == [NOTE]
        assert overlap_notes(engine.estimate(None, samples=0, entry=(0, 2)).notes) == []
        assert not overlap_notes(market_section(engine, "training_runs:2"))


def test_the_note_stays_after_an_edit(tmp_path):
    """An edit of the run updates the market-based figures incrementally: the note is
    still there, and the figures equal a fresh engine's."""
    with build(tmp_path / "edit.aicl", [LATER, EARLIER]) as inv:
        engine = Engine(inv)
        inv.update_row("training_runs", 1, {"energy_kwh": 17800.0})
        engine.apply_changes({"training_runs": [1]})
        assert overlap_notes(engine.estimate(None, samples=0).notes) == [NOTE]
        fresh = Engine(inv).estimate(None, samples=0).totals
        assert engine.estimate(None, samples=0).totals == pytest.approx(fresh)


def test_the_estimate_command_lists_the_note_in_its_json_and_table(tmp_path):
    path = tmp_path / "cli.aicl"
    build(path, [LATER, EARLIER]).close()
    out = io.StringIO()
    assert cli.main(["estimate", str(path), "--format", "json", "--samples", "0"], out=out) == 0
    doc = json.loads(out.getvalue())
    assert NOTE in doc["notes"]
    out = io.StringIO()
    assert cli.main(["estimate", str(path), "--samples", "0"], out=out) == 0
    assert f"Note: {NOTE}" in out.getvalue()
    out = io.StringIO()
    assert cli.main(["explain", str(path), "training_runs:1"], out=out) == 0
    assert NOTE in out.getvalue()


def test_partial_overlap_inside_a_month_is_split_by_the_days_each_factor_covers(tmp_path):
    """A covers 5-10 March, B 8-31 March, 100 kWh a day in March: A takes its 6 days, B
    the 21 days it covers that A does not (11-31), and 1-4 March take the location factor
    (read back from the estimate's location-based figure: one factor for the month).
    Before, B took 24 days' worth (as many days as it covers, whichever A had taken)."""
    a = factor("2026-03-05", "2026-03-10", 20.0, "A")
    b = factor("2026-03-08", "2026-03-31", 100.0, "B")
    with build(tmp_path / "partial.aicl", [a, b]) as inv:
        engine = Engine(inv)
        march = engine.estimate("2026-03", samples=0)
        notes = overlap_notes(march.notes)
    day_kwh = 100.0
    location_g = march.totals["location_kgco2e"] * 1000.0 / (31 * day_kwh)  # one factor
    want = (6 * day_kwh * 20.0 + 21 * day_kwh * 100.0 + 4 * day_kwh * location_g) / 1000.0
    assert march.totals["market_kgco2e"] == pytest.approx(want, rel=1e-9)
    # B lost 8-10 March to A: said, naming both
    assert len(notes) == 1 and "#1 'A'" in notes[0] and "#2 'B'" in notes[0]
