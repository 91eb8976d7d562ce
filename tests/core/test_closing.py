"""Closing a quarter (core.closing): the snapshot, reprints that never change, edits that
restate a closed quarter only with a reason, and deliberate, logged reopening."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from core import closing
from core.commands import InsertRecord, UpdateRecord
from core.estimate import Engine
from core.inventory import Inventory
from core.periods import parse_period
from core.report import ReportOptions, build_for_closing, build_report, matching_entries
from core.report_model import format_number

Q3 = parse_period("2026-Q3")


def close_q3(inv: Inventory) -> closing.Closing:
    report, factors = build_for_closing(inv, ReportOptions(Q3, "Acme"))
    return closing.close_period(inv, Q3, report, factors)


def q3_usage(inv: Inventory) -> tuple[int, float]:
    return inv.conn.execute(
        "SELECT id, energy_kwh FROM usage WHERE period_start >= '2026-07-01' "
        "AND period_end <= '2026-09-30' AND energy_kwh > 0 ORDER BY energy_kwh DESC LIMIT 1"
    ).fetchone()


def test_a_new_inventory_has_the_closing_tables(tmp_path):
    with Inventory.create(tmp_path / "n.aicl") as inv:
        names = {r[0] for r in inv.conn.execute("SELECT name FROM sqlite_master")}
        assert {"closed_periods", "restatements"} <= names
        assert closing.closed_periods(inv) == []


def test_close_keeps_figures_factors_and_report(demo):
    est = Engine(demo).estimate(Q3)
    c = close_q3(demo)
    assert c.label == "2026-Q3" and c.start == "2026-07-01" and c.end == "2026-09-30"
    assert c.totals["market_kgco2e"] == pytest.approx(est.totals["market_kgco2e"])
    assert any(f["factor"] == "Grid factor DE 2023" and f["licence"] for f in c.factors)
    assert c.report["meta"]["period"] == "2026-Q3"
    log = demo.change_log(1)[0]
    assert log["table_name"] == "closed_periods" and log["description"] == "Close 2026-Q3"
    with pytest.raises(closing.PeriodClosedError, match="already closed"):
        close_q3(demo)


def test_reprint_gives_the_closed_figures_after_reference_data_changes(demo):
    close_q3(demo)
    before = build_report(demo, ReportOptions(Q3))
    # a newer grid factor for Germany arrives (here as an override written directly)
    demo.insert_logged(
        "factor_overrides",
        [{"key": "grid:DE:2026", "value": 900.0, "reason": "new national data"}],
        "reference update",
    )
    now = Engine(demo).estimate(Q3, samples=0).totals
    assert now["location_kgco2e"] > before.totals["location_kgco2e"] + 1
    again = build_report(demo, ReportOptions(Q3))
    assert again.totals == before.totals
    assert again.section("summary").blocks[0].value == before.section("summary").blocks[0].value
    assert "reprinted, figures as closed" in again.meta["status"]
    # the change is not hidden: the reprint lists it as an unrecorded difference
    changes = again.section("changes")
    table = next(b for b in changes.blocks if getattr(b, "key", "") == "restatements")
    loc = next(r for r in table.rows if r[1].startswith("Location-based"))
    assert loc[2] == pytest.approx(before.totals["location_kgco2e"])
    assert loc[3] == pytest.approx(now["location_kgco2e"])
    assert loc[5].startswith("Not recorded")
    fresh = build_report(demo, ReportOptions(Q3), reprint_closed=False)
    assert fresh.totals["location_kgco2e"] == pytest.approx(now["location_kgco2e"])


def test_an_edit_that_restates_asks_and_is_undone_when_declined(demo):
    close_q3(demo)
    usage_id, kwh = q3_usage(demo)
    asked = []

    def decline(changes):
        asked.append(changes)
        return None

    cmd = closing.GuardedCommand(UpdateRecord("usage", usage_id, {"energy_kwh": kwh * 2}), decline)
    with pytest.raises(closing.EditDeclinedError, match="2026-Q3"):
        cmd.apply(demo)
    assert demo.get("usage", usage_id)["energy_kwh"] == kwh
    assert {c.figure for c in asked[0]} >= {"energy_kwh", "location_kgco2e"}
    assert closing.restatements(demo) == []


def test_an_accepted_restatement_is_recorded_and_listed_in_the_next_report(demo):
    close_q3(demo)
    reported = closing.in_force(demo, "2026-Q3").totals
    usage_id, kwh = q3_usage(demo)
    cmd = closing.GuardedCommand(
        UpdateRecord("usage", usage_id, {"energy_kwh": kwh * 2}), lambda _c: "meter re-read"
    )
    inverse = cmd.apply(demo)
    assert demo.get("usage", usage_id)["energy_kwh"] == kwh * 2
    rows = closing.restatements(demo)
    energy = next(r for r in rows if r.figure == "energy_kwh")
    assert energy.old_value == pytest.approx(reported["energy_kwh"])
    now = Engine(demo).estimate(Q3, samples=0).totals
    assert energy.new_value == pytest.approx(now["energy_kwh"])
    assert energy.new_value >= energy.old_value + kwh  # facility energy: x PUE
    assert energy.reason == "meter re-read" and energy.change.startswith("Edit usage")
    assert closing.differences(demo) == []  # recorded: nothing pending any more
    # the next quarter's report lists the restatement
    q4 = build_report(demo, ReportOptions(parse_period("2026-Q4")))
    table = next(b for b in q4.section("changes").blocks if getattr(b, "key", "") == "restatements")
    assert any(r[0] == "2026-Q3" and r[5] == "meter re-read" for r in table.rows)
    # undoing the edit restates back, and asks again
    inverse.apply(demo)
    assert demo.get("usage", usage_id)["energy_kwh"] == kwh
    assert closing.reported_totals(demo, closing.in_force(demo, "2026-Q3")) == pytest.approx(
        reported
    )


def test_edits_that_leave_closed_figures_alone_do_not_ask(demo):
    close_q3(demo)

    def fail(_changes):
        raise AssertionError("should not ask")

    model = demo.conn.execute("SELECT id FROM models LIMIT 1").fetchone()[0]
    closing.GuardedCommand(UpdateRecord("models", model, {"notes": "reviewed"}), fail).apply(demo)
    closing.GuardedCommand(
        InsertRecord("models", {"name": "Future model", "version": "1"}), fail
    ).apply(demo)
    assert closing.restatements(demo) == []


def test_reopen_is_deliberate_and_logged(demo):
    with pytest.raises(closing.PeriodNotClosedError):
        closing.reopen_period(demo, Q3, "why")
    first = close_q3(demo)
    with pytest.raises(closing.ValidationError, match="reason"):
        closing.reopen_period(demo, Q3, "  ")
    assert closing.in_force(demo, "2026-Q3") is not None
    closing.reopen_period(demo, Q3, "late invoices")
    assert closing.in_force(demo, "2026-Q3") is None
    log = demo.change_log(1)[0]
    assert log["description"] == "Reopen 2026-Q3: late invoices"
    # once reopened, the report is a draft of the current figures; it can be closed again
    assert build_report(demo, ReportOptions(Q3)).meta["status"].startswith("Draft")
    second = close_q3(demo)
    assert [c.id for c in closing.history(demo)] == [first.id, second.id]
    assert closing.history(demo)[0].reopen_reason == "late invoices"


# -- a filtered report of a closed quarter ----------------------------------------------------


def _support_usage(inv: Inventory) -> tuple[int, float]:
    return inv.conn.execute(
        "SELECT u.id, u.energy_kwh FROM usage u JOIN deployments d ON d.id = u.deployment_id "
        "WHERE d.name LIKE '%support%' AND u.period_start >= '2026-07-01' "
        "AND u.period_end <= '2026-09-30' AND u.energy_kwh > 0 ORDER BY u.energy_kwh DESC"
    ).fetchone()


def _reconciliation(report) -> dict[str, list]:
    table = next(t for t in report.tables() if t.key == "reconciliation")
    assert [c.header for c in table.columns] == [
        "Figure",
        "Closed snapshot",
        "Current data",
        "Difference",
        "Change",
    ]
    return {row[0]: row for row in table.rows}


def test_a_filtered_report_of_a_closed_quarter_says_it_is_current_data(demo):
    entries = matching_entries(demo, "support")
    assert entries
    at_closing = Engine(demo).estimate(Q3, entries=entries, samples=0).totals
    whole_at_closing = Engine(demo).estimate(Q3, samples=0).totals
    c = close_q3(demo)
    assert len(c.report["entry_figures"]) > len(entries)  # every entry's figures are kept
    same = build_report(demo, ReportOptions(Q3, filter_text="support"))
    assert (
        "computed from the current data, not taken from the closed snapshot"
        in (same.meta["status"])
    )
    assert same.meta["snapshot"].endswith("the current data give the same figures.")
    rows = _reconciliation(same)
    market = rows["Market-based emissions (kgCO2e)"]
    assert market[1] == pytest.approx(at_closing["market_kgco2e"])
    assert market[2] == pytest.approx(at_closing["market_kgco2e"])
    assert market[3] == pytest.approx(0.0, abs=1e-6)
    # the data of a matching entry change after closing (e.g. an unguarded import)
    usage_id, kwh = _support_usage(demo)
    UpdateRecord("usage", usage_id, {"energy_kwh": kwh * 2}).apply(demo)
    now = Engine(demo).estimate(Q3, entries=entries, samples=0).totals
    assert now["market_kgco2e"] > at_closing["market_kgco2e"]
    changed = build_report(demo, ReportOptions(Q3, filter_text="support"))
    assert changed.totals["market_kgco2e"] == pytest.approx(now["market_kgco2e"])
    rows = _reconciliation(changed)
    for key, label, unit in closing.FIGURES:
        row = rows[f"{label} ({unit})"]
        assert row[1] == pytest.approx(at_closing[key]), key
        assert row[2] == pytest.approx(now[key]), key
        assert row[3] == pytest.approx(now[key] - at_closing[key]), key
    diff = now["market_kgco2e"] - at_closing["market_kgco2e"]
    sentence = changed.meta["snapshot"]
    assert f"For these {len(entries)} entries the closed snapshot has" in sentence
    assert format_number(at_closing["market_kgco2e"]) in sentence
    assert f"({'+' + format_number(diff)} kgCO2e, " in sentence
    # the reconciliation leads the summary; the whole quarter still reprints as closed
    assert changed.section("summary").blocks[1].key == "reconciliation"
    whole = build_report(demo, ReportOptions(Q3))
    assert whole.totals["market_kgco2e"] == pytest.approx(whole_at_closing["market_kgco2e"])
    assert "snapshot" not in whole.meta


def test_a_snapshot_without_entry_figures_is_reconciled_for_the_whole_inventory(demo):
    close_q3(demo)
    row_id, data = demo.conn.execute("SELECT id, report FROM closed_periods").fetchone()
    old = json.loads(data)
    del old["entry_figures"]  # as closed by an earlier version
    with demo.transaction() as conn:
        conn.execute("UPDATE closed_periods SET report = ? WHERE id = ?", (json.dumps(old), row_id))
    usage_id, kwh = _support_usage(demo)
    UpdateRecord("usage", usage_id, {"energy_kwh": kwh * 2}).apply(demo)
    report = build_report(demo, ReportOptions(Q3, filter_text="support"))
    assert report.meta["snapshot"].startswith("The closed snapshot keeps no per-entry figures")
    now = Engine(demo).estimate(Q3, samples=0).totals
    reported = closing.reported_totals(demo, closing.in_force(demo, "2026-Q3"))
    market = _reconciliation(report)["Market-based emissions (kgCO2e)"]
    assert market[1] == pytest.approx(reported["market_kgco2e"])
    assert market[2] == pytest.approx(now["market_kgco2e"])


# -- the quarters of an inventory --------------------------------------------------------------


def test_inventory_quarters_with_status_and_restatements(demo):
    today = dt.date(2026, 11, 28)
    quarters = closing.inventory_quarters(demo, today)
    labels = [q.label for q in quarters]
    assert labels[0] == "2026-Q4" and labels[-1] == "2025-Q1" and len(labels) == 8
    assert all(q.status == "Open" and q.closing is None for q in quarters)
    c = close_q3(demo)
    q3 = next(q for q in closing.inventory_quarters(demo, today) if q.label == "2026-Q3")
    assert q3.status == f"Closed on {c.closed_at[:10]} by {c.closed_by}"
    assert q3.reported == pytest.approx(c.totals) and q3.restatements == 0
    usage_id, kwh = q3_usage(demo)
    closing.GuardedCommand(
        UpdateRecord("usage", usage_id, {"energy_kwh": kwh * 2}), lambda _c: "meter re-read"
    ).apply(demo)
    q3 = next(q for q in closing.inventory_quarters(demo, today) if q.label == "2026-Q3")
    recorded = closing.restatements_of(demo, c.id)
    assert q3.restatements == len(recorded) >= 2  # energy and emissions at least
    assert q3.reported["energy_kwh"] == pytest.approx(
        next(r.new_value for r in recorded if r.figure == "energy_kwh")
    )
    closing.reopen_period(demo, Q3, "supplier data corrected")
    q3 = next(q for q in closing.inventory_quarters(demo, today) if q.label == "2026-Q3")
    assert q3.closing is None and q3.status.startswith("Open (reopened on ")
    assert q3.history[0].reopen_reason == "supplier data corrected"


def test_an_empty_inventory_lists_the_last_complete_and_current_quarter(tmp_path):
    with Inventory.create(tmp_path / "e.aicl") as inv:
        quarters = closing.inventory_quarters(inv, dt.date(2026, 2, 10))
    assert [q.label for q in quarters] == ["2026-Q1", "2025-Q4"]


def test_reconciliation_sums_the_snapshot_in_its_own_order(demo):
    """The same snapshot and entries give the same sums bit for bit in every run (a
    set's order, which changes between runs, would move the last digits)."""
    import itertools
    from types import SimpleNamespace

    from core.report import snapshot_reconciliation

    figures = {"training_runs:1": 1e16, "training_runs:2": 1.0, "training_runs:3": -1e16}
    entries = [(0, 1), (0, 2), (0, 3)]
    for order in itertools.permutations(figures):
        kept = {e: dict.fromkeys(closing.FIGURE_KEYS, figures[e]) for e in order}
        closed = SimpleNamespace(
            report={"entry_figures": kept}, label="2026-Q3", closed_at="", closed_by=""
        )
        current = dict.fromkeys(closing.FIGURE_KEYS, 0.0)
        rec = snapshot_reconciliation(demo, closed, entries, current, Engine(demo))
        expected = 0.0
        for e in order:  # float addition is not associative: 1e16 + 1.0 == 1e16
            expected += figures[e]
        assert rec.closed[closing.FIGURE_KEYS[0]] == expected, order
