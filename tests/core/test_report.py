"""The report's content (core.report): figures equal the engine's, tables add up, every
factor has its source, user strings stay plain text, and the XLSX export and the CLI."""

from __future__ import annotations

import io
import json

import pytest
from python_calamine import CalamineWorkbook

from core import cli
from core.commands import UpdateRecord
from core.estimate import Engine
from core.inventory import Inventory
from core.periods import parse_period
from core.report import (
    ReportCancelled,
    ReportOptions,
    build_report,
    matching_entries,
    renewable_share,
    trend_quarters,
    year_before,
)
from core.report_model import SECTIONS, Column, Report, Table, format_number, format_percent
from core.report_xlsx import sheet_name, write_xlsx

Q3 = parse_period("2026-Q3")


@pytest.fixture(scope="module")
def q3(demo_path):
    with Inventory.open(demo_path) as inv:
        report = build_report(inv, ReportOptions(Q3, "Acme", "Jo"))
        est = Engine(inv).estimate(Q3, by="entry")
    return report, est


def _table(report: Report, key: str) -> Table:
    return next(t for t in report.tables() if t.key == key)


def test_number_formats():
    assert format_number(1832.78) == "1,833"
    assert format_number(99.899) == "99.90"
    assert format_number(-0.001) == "0.00"
    assert format_number(-1234.5) == "−1,234"  # a true minus sign
    assert format_number(None) == "–"
    assert format_percent(0.4431, signed=True) == "+44.3 %"
    assert Column("Market", "kgCO2e", "number").title == "Market (kgCO2e)"


def test_totals_and_sections_equal_the_engine(q3):
    report, est = q3
    assert [s.key for s in report.sections] == [k for k, _ in SECTIONS]
    for key, value in est.totals.items():
        if key not in ("low_kgco2e", "high_kgco2e"):
            assert report.totals[key] == pytest.approx(value, rel=1e-12)
    summary = report.section("summary").blocks
    market = next(b for b in summary if getattr(b, "label", "") == "Market-based emissions")
    assert market.text == f"{format_number(est.totals['market_kgco2e'])} kgCO2e"
    assert "vs 2026-Q2" in market.detail and "vs 2025-Q3" in market.detail


@pytest.mark.parametrize(
    "key", ["by_phase", "by_scope", "by_model", "by_site", "by_deployments", "by_training_runs"]
)
def test_breakdown_tables_add_up_to_the_totals(q3, key):
    report, _ = q3
    table = _table(report, key)
    headers = [c.title for c in table.columns]
    for name, total_key in (("Market (kgCO2e)", "market_kgco2e"), ("Energy (kWh)", "energy_kwh")):
        i = headers.index(name)
        column_sum = sum(r[i] for r in table.rows)
        assert column_sum == pytest.approx(table.total[i], rel=1e-9)
        if key not in ("by_deployments", "by_training_runs"):
            assert table.total[i] == pytest.approx(report.totals[total_key], rel=1e-9)
    runs, deps = _table(report, "by_training_runs"), _table(report, "by_deployments")
    m = [c.title for c in deps.columns].index("Market (kgCO2e)")
    assert runs.total[m] + deps.total[m] == pytest.approx(report.totals["market_kgco2e"])


def test_comparisons_use_the_previous_quarter_and_last_year(demo_path, q3):
    report, _ = q3
    with Inventory.open(demo_path) as inv:
        engine = Engine(inv)
        q2 = engine.estimate("2026-Q2", by="phase", samples=0).totals
        ly = engine.estimate("2025-Q3", by="phase", samples=0).totals
    table = _table(report, "comparison")
    assert [c.header for c in table.columns][1:] == [
        "2026-Q3",
        "2026-Q2",
        "Change vs 2026-Q2",
        "2025-Q3",
        "Change vs 2025-Q3",
    ]
    market = table.rows[0]
    assert market[2] == pytest.approx(q2["market_kgco2e"])
    assert market[4] == pytest.approx(ly["market_kgco2e"])
    assert market[3] == pytest.approx((market[1] - market[2]) / market[2])


def test_charts_cover_six_quarters_in_dashboard_colours(q3):
    report, _ = q3
    trend, savings, top = report.section("charts").blocks
    assert trend.categories == ["2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]
    assert [s.color for s in trend.series] == ["training", "inference", "api", "embodied"]
    assert sum(s.values[-1] for s in trend.series) == pytest.approx(
        report.totals["location_kgco2e"]
    )
    assert [s.color for s in savings.series] == ["location", "market", "savings"]
    assert top.series[0].values == sorted(top.series[0].values, reverse=True)


def test_every_factor_has_source_year_and_licence(q3):
    report, _ = q3
    table = _table(report, "factors")
    cols = [c.header for c in table.columns]
    rows = [dict(zip(cols, r, strict=True)) for r in table.rows]
    grid = [r for r in rows if r["Factor"].startswith("Grid factor ") and "own" not in r["Factor"]]
    assert {r["Factor"] for r in grid} >= {"Grid factor DE 2023", "Grid factor FR 2023"}
    for r in grid:
        assert r["Source"] and r["Year"].isdigit() and r["Licence"], r
    assert any(r["Factor"] == "Host overhead" for r in rows)


def test_top_emitters_and_data_quality(q3):
    report, _ = q3
    top = _table(report, "top_emitters")
    loc = [r[4] for r in top.rows]
    assert loc == sorted(loc, reverse=True) and len(top.rows) == 10
    tiers = _table(report, "method_tiers")
    assert sum(r[4] for r in tiers.rows) == pytest.approx(1.0)
    widest = _table(report, "largest_uncertainty")
    assert all(r[4] <= r[3] <= r[5] for r in widest.rows)


def test_json_round_trip_and_section_choice(q3):
    report, _ = q3
    text = json.dumps(report.to_json())
    again = Report.from_json(json.loads(text))
    assert json.dumps(again.to_json()) == text
    only = report.only(["summary", "signoff"])
    assert [s.key for s in only.sections] == ["summary", "signoff"]


def test_user_strings_stay_plain_text(demo):
    model = demo.conn.execute(
        "SELECT model_id FROM deployments WHERE name = 'Code assistant'"
    ).fetchone()[0]
    UpdateRecord("models", model, {"name": "<b>x</b> & 'y'"}).apply(demo)
    report = build_report(demo, ReportOptions(Q3, "<i>Org</i>"))
    names = [r[0] for r in _table(report, "by_model").rows]
    assert any(n.startswith("<b>x</b> & 'y'") for n in names)
    assert report.meta["organisation"] == "<i>Org</i>"


def test_scope_filter_matches_the_engine(demo):
    entries = matching_entries(demo, "support")
    assert entries
    report = build_report(demo, ReportOptions(Q3, filter_text="support"))
    est = Engine(demo).estimate(Q3, entries=entries)
    assert report.totals["market_kgco2e"] == pytest.approx(est.totals["market_kgco2e"])
    whole = build_report(demo, ReportOptions(Q3))
    assert report.totals["market_kgco2e"] < whole.totals["market_kgco2e"]
    assert "support" in report.meta["scope"]


def test_periods():
    assert year_before(Q3).label == "2025-Q3"
    assert year_before(parse_period("2024-02-01..2024-02-29")).end.isoformat() == "2023-02-28"
    assert [q.label for q in trend_quarters(parse_period("2026"))][-4:] == [
        "2026-Q1",
        "2026-Q2",
        "2026-Q3",
        "2026-Q4",
    ]


def test_xlsx_numbers_equal_the_engine(q3, tmp_path):
    report, est = q3
    path = tmp_path / "r.xlsx"
    sheets = write_xlsx(report, path)
    book = CalamineWorkbook.from_path(str(path))
    assert book.sheet_names == sheets
    summary = book.get_sheet_by_name("Report").to_python()
    values = {row[0]: row[1] for row in summary if row and row[0]}
    assert values["Market-based emissions (kgCO2e)"] == pytest.approx(est.totals["market_kgco2e"])
    assert values["Energy (kWh)"] == pytest.approx(est.totals["energy_kwh"])
    phase = book.get_sheet_by_name(sheet_name("By lifecycle phase", set())).to_python()
    header = phase[1]
    total = next(r for r in phase if r[0] == "Total")
    assert total[header.index("Location (kgCO2e)")] == pytest.approx(est.totals["location_kgco2e"])
    assert isinstance(total[header.index("Water (L)")], float)


def test_xlsx_never_writes_formulas(tmp_path):
    table = Table("t", "T", [Column("Name"), Column("kg", "kgCO2e", "number")], [["=1+1", 2.5]])
    report = Report({"title": "x"}, {}, [])
    from core.report_model import Section

    report.sections.append(Section("breakdown", "B", [table]))
    write_xlsx(report, tmp_path / "f.xlsx")
    rows = CalamineWorkbook.from_path(str(tmp_path / "f.xlsx")).get_sheet_by_name("T").to_python()
    assert rows[2] == ["'=1+1", 2.5]  # text, neutralised as the exports are


# -- command line ---------------------------------------------------------------------------


def run(*args):
    out = io.StringIO()
    code = cli.main([str(a) for a in args], out)
    return code, out.getvalue()


def test_cli_report_text_and_xlsx(demo_path, tmp_path, capsys):
    code, out = run("report", demo_path, "--quarter", "2026-Q3", "--org", "Acme")
    assert code == 0
    with Inventory.open(demo_path) as inv:
        total = Engine(inv).estimate(Q3).totals["market_kgco2e"]
    assert f"Market-based emissions: {format_number(total)} kgCO2e" in out
    code, out = run("report", demo_path, "--quarter", "2026-Q3", "--xlsx", tmp_path / "o.xlsx")
    assert code == 0 and (tmp_path / "o.xlsx").exists() and "sheets" in out


def test_cli_report_usage_errors(demo_path, tmp_path, capsys):
    assert run("report", demo_path, "--quarter", "2026-Q9")[0] == 2
    assert "is not a period" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:  # no period: argparse's usage error
        run("report", demo_path)
    assert exit_info.value.code == 2
    capsys.readouterr()
    # PDF output needs the renderer main.py passes in
    assert run("report", demo_path, "--quarter", "2026-Q3", "--pdf", tmp_path / "x.pdf")[0] == 2
    assert "x.pdf" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()


def test_cli_close_and_reopen(demo, capsys):
    path = demo.path
    demo.close()
    code, out = run("close", path, "--quarter", "2026-Q3")
    assert code == 0 and out.startswith("Closed 2026-Q3:")
    assert run("close", path, "--quarter", "2026-Q3")[0] == 1
    assert "already closed" in capsys.readouterr().err
    assert run("reopen", path, "--quarter", "2026-Q2", "--reason", "x")[0] == 1
    with pytest.raises(SystemExit):  # --reason is required
        run("reopen", path, "--quarter", "2026-Q3")
    code, out = run("reopen", path, "--quarter", "2026-Q3", "--reason", "supplier data corrected")
    assert code == 0 and "Reopened 2026-Q3" in out
    with Inventory.open(path) as inv:
        log = inv.change_log(5)
    assert any(r["description"] == "Reopen 2026-Q3: supplier data corrected" for r in log)


# -- renewable share ------------------------------------------------------------------------


def test_renewable_share_is_the_engines_covered_energy(q3, tmp_path):
    report, est = q3
    share = est.totals["renewable_kwh"] / est.totals["energy_kwh"]
    assert 0 < share < 1  # the demo has renewable instruments on some sites only
    assert renewable_share(report.totals) == pytest.approx(share)
    savings = next(b for b in report.section("summary").blocks if "Savings" in b.label)
    assert f"renewable electricity {format_percent(share)} of energy" in savings.detail
    assert f"({format_number(est.totals['renewable_kwh'])} kWh)" in savings.detail
    sites = _table(report, "by_site")
    i = [c.header for c in sites.columns].index("Renewable share")
    assert sites.total[i] == pytest.approx(share)
    # each site's share is its own covered energy over its energy
    renewable = sum(
        r[i] * r[[c.header for c in sites.columns].index("Energy")]
        for r in sites.rows
        if r[i] is not None
    )
    assert renewable == pytest.approx(est.totals["renewable_kwh"])
    path = tmp_path / "r.xlsx"
    write_xlsx(report, path)
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Report").to_python()
    values = {row[0]: row[1] for row in rows if row and row[0]}
    assert values[
        "Renewable electricity: energy covered by renewable instruments (kWh)"
    ] == pytest.approx(est.totals["renewable_kwh"])
    assert values["Renewable share of energy (renewable kWh / energy kWh)"] == pytest.approx(share)


# -- cancelling -----------------------------------------------------------------------------


class CountingEngine(Engine):
    """An engine that counts its estimates."""

    calls = 0

    def estimate(self, *args, **kwargs):
        CountingEngine.calls += 1
        return super().estimate(*args, **kwargs)


def test_cancel_stops_building_before_the_next_estimate(demo_path):
    with Inventory.open(demo_path) as inv:
        engine = CountingEngine(inv)
        CountingEngine.calls = 0
        build_report(inv, ReportOptions(Q3, samples=50), engine)
        full = CountingEngine.calls
        assert full > 10  # the period, comparisons, six trend quarters, the breakdowns
        for stop_after in (0, 1, 3):
            CountingEngine.calls = 0
            seen = []

            def progress(fraction, text, seen=seen):
                seen.append(text)

            def cancelled(stop_after=stop_after):
                return CountingEngine.calls >= stop_after  # the user pressed Cancel

            with pytest.raises(ReportCancelled, match="nothing was written"):
                build_report(
                    inv, ReportOptions(Q3, samples=50), engine, progress, cancelled=cancelled
                )
            # no estimate starts once cancelled: it returns after the one running
            assert CountingEngine.calls == stop_after, seen
            assert "Done" not in seen


def test_closing_build_can_be_cancelled_too(demo_path):
    from core.report import build_for_closing

    with Inventory.open(demo_path) as inv, pytest.raises(ReportCancelled):
        build_for_closing(inv, ReportOptions(Q3), cancelled=lambda: True)


def test_entries_are_merged_once_per_report_without_collections(demo_path, monkeypatch):
    """The top-emitters chart, the top table and the breakdown share one merge of the
    entry rows, made with the cyclic collector paused (on a 10x inventory each merge
    took seconds, and the report made three)."""
    import gc

    from core import report_sections

    calls: list[bool] = []
    real = report_sections._Builder._merge_entries

    def merge(self):
        calls.append(gc.isenabled())
        return real(self)

    monkeypatch.setattr(report_sections._Builder, "_merge_entries", merge)
    with Inventory.open(demo_path) as inv:
        report = build_report(inv, ReportOptions(Q3, "Acme", "Jo"))
    assert calls == [False]
    assert gc.isenabled()
    assert _table(report, "top_emitters").rows
