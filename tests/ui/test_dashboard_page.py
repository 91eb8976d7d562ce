"""The dashboard page on the demo inventory: plot data equals the engine's, clicks, live updates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from core.estimate import Engine
from ui.main_window import MainWindow
from ui.settings import SettingsStore

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = 1000  # DashboardRequest's default


@pytest.fixture
def window(qtbot, demo_path, tmp_path):
    path = tmp_path / "demo.aicl"
    path.write_bytes(demo_path.read_bytes())
    w = MainWindow(SettingsStore())
    qtbot.addWidget(w)
    w.show()
    assert w.open_inventory(path)
    return w


def open_dashboard(qtbot, window):
    window.show_page("dashboard")
    qtbot.waitUntil(lambda: "dashboard" in window.pages, timeout=20000)  # the first: loads
    page = window.pages["dashboard"]
    qtbot.waitUntil(lambda: page.data is not None and not page.computing, timeout=20000)
    return page


def engine_for(window):
    return Engine(window.inventory)


def bar_heights(item):
    return np.asarray(item.opts["height"], dtype=float)


def test_start_up_does_not_import_pyqtgraph_until_the_dashboard_shows(tmp_path, demo_path):
    code = (
        "import os, sys; os.environ['QT_QPA_PLATFORM']='offscreen'\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from PySide6.QtCore import QSettings\n"
        "QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,"
        f" {str(tmp_path)!r})\n"
        "app = QApplication([])\n"
        "from ui.main_window import MainWindow\n"
        "w = MainWindow(); w.show(); w.open_inventory(sys.argv[1]); w.show_page('models')\n"
        "before = 'pyqtgraph' in sys.modules\n"
        "w.show_page('dashboard')\n"
        "import time; t = time.monotonic()\n"  # pyqtgraph loads on a worker meanwhile
        "while 'dashboard' not in w.pages and time.monotonic() - t < 60:\n"
        "    app.processEvents(); time.sleep(0.01)\n"
        "print(before, 'pyqtgraph' in sys.modules)\n"
        "w.pages['dashboard'].shutdown()\n"
        "from PySide6.QtCore import QThreadPool; QThreadPool.globalInstance().waitForDone()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(demo_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "HOME": str(tmp_path)},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True"]


def test_plot_items_hold_the_engines_figures(qtbot, window):
    page = open_dashboard(qtbot, window)
    engine = engine_for(window)
    period = page.request().period
    trend = page.data.baseline.trend
    chart = page.trend_chart
    assert chart.x_axis.labels == trend.labels
    for kind in ("training", "inference", "api", "embodied"):
        heights = bar_heights(chart.items[kind]) * chart.divisor
        expected = [
            {
                r.id: r.location_kgco2e for r in engine.estimate(label, by="phase", samples=0).rows
            }.get(kind, 0.0)
            for label in trend.labels
        ]
        assert heights == pytest.approx(expected)
    last = engine.estimate(period, by="phase", samples=SAMPLES).totals
    band = chart.items["range"].opts
    span = f"{trend.periods[0].start}..{trend.periods[-1].end}"
    quarters = engine.estimate(span, by="quarter", samples=SAMPLES).rows
    first = next(r for r in quarters if r.name == trend.labels[0])
    assert band["y"][0] * chart.divisor == pytest.approx(first.location_kgco2e)
    assert (band["y"][0] + band["top"][0]) * chart.divisor == pytest.approx(first.high_kgco2e)
    assert band["y"][-1] * chart.divisor == pytest.approx(last["location_kgco2e"])
    assert (band["y"][-1] + band["top"][-1]) * chart.divisor == pytest.approx(last["high_kgco2e"])
    assert (band["y"][-1] - band["bottom"][-1]) * chart.divisor == pytest.approx(last["low_kgco2e"])

    market = page.market_chart
    _, loc = market.items["location"].getData()
    _, mkt = market.items["market"].getData()
    assert loc[-1] * market.divisor == pytest.approx(last["location_kgco2e"])
    assert mkt[-1] * market.divisor == pytest.approx(last["market_kgco2e"])

    entry_rows = engine.estimate(period, by="entry", samples=0).rows
    per_entry: dict[str, float] = {}
    for r in entry_rows:
        per_entry[r.id] = per_entry.get(r.id, 0.0) + r.location_kgco2e
    top = sorted(per_entry.values(), reverse=True)[: len(page.top_chart.bars)]
    widths = np.asarray(page.top_chart.items["location"].opts["width"]) * page.top_chart.divisor
    assert list(widths) == pytest.approx(top)

    scopes = engine.estimate(period, by="scope", samples=0).rows
    scope_widths = (
        np.asarray(page.scope_chart.items["market"].opts["width"]) * page.scope_chart.divisor
    )
    assert list(scope_widths) == pytest.approx([r.market_kgco2e for r in scopes])

    totals = engine.estimate(period, samples=SAMPLES).totals
    from core.dashboard import format_quantity

    assert page.cards["market"].value.text() == format_quantity(totals["market_kgco2e"], "kg")
    assert page.cards["location"].value.text() == format_quantity(totals["location_kgco2e"], "kg")
    assert len(page.equivalence_labels) == len(page.data.baseline.equivalences) > 0
    assert "Source:" in page.equivalence_labels[0].toolTip()


def test_both_time_charts_leave_room_for_their_first_and_last_labels(qtbot, window):
    """The first and last bucket labels are centred on the end points: with less than
    half a bucket beside them the axis hides them (the line chart showed neither)."""
    page = open_dashboard(qtbot, window)
    n = len(page.data.baseline.trend.labels)
    for chart in (page.trend_chart, page.market_chart):
        (left, right), _ = chart.view.viewRange()
        assert left <= -0.55 and right >= n - 1 + 0.55, type(chart).__name__


def test_location_is_drawn_under_a_narrower_market_line(qtbot, window):
    """With no sourcing the two lines coincide: the wider location line stays visible
    as an edge around the market line drawn over it."""
    market = open_dashboard(qtbot, window).market_chart
    loc, mkt = market.items["location"], market.items["market"]
    assert loc.zValue() <= mkt.zValue()
    items = market.plot.listDataItems()
    assert items.index(loc) < items.index(mkt)  # drawn first, so underneath
    assert loc.opts["pen"].widthF() > mkt.opts["pen"].widthF() + 2
    assert loc.opts["symbolSize"] > mkt.opts["symbolSize"] + 3


def test_a_filtered_view_plots_only_the_filtered_entries(qtbot, window):
    page = open_dashboard(qtbot, window)
    with qtbot.waitSignal(page.updated, timeout=20000):
        page.team.set_values(["Legal"])
    assert page.team.text() == "Legal"
    engine = engine_for(window)
    from core.dashboard import Filters, entries_for

    entries = set(entries_for(engine, Filters(owners=("Legal",))))
    period = page.request().period
    phase = engine.estimate(period, by="phase", samples=0, entries=entries)
    chart = page.trend_chart
    total = sum(
        bar_heights(chart.items[k])[-1]
        for k in ("training", "inference", "api", "embodied")
        if k in chart.items
    )
    assert total * chart.divisor == pytest.approx(phase.totals["location_kgco2e"])
    names = {b.name for b in page.top_chart.bars}
    legal = {window.inventory.title("deployments", i) for t, i in entries if t == 1}
    legal |= {window.inventory.title("training_runs", i) for t, i in entries if t == 0}
    assert names and names <= legal
    full = engine.estimate(period, samples=0).totals["location_kgco2e"]
    assert page.data.baseline.figures["location"].value < full


def test_clicking_a_bar_opens_that_entry_in_its_inventory_page(qtbot, window):
    page = open_dashboard(qtbot, window)
    chart = page.top_chart
    bar = chart.bars[0]
    assert bar.target is not None
    table, rid = bar.target
    n = len(chart.bars)
    scene_point = chart.view.mapViewToScene(QPointF(bar.location / chart.divisor / 2, n - 1))
    widget_point = chart.plot.mapFromScene(scene_point)
    QTest.mouseClick(chart.plot.viewport(), Qt.MouseButton.LeftButton, pos=widget_point)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.pages.get(table), timeout=5000)
    assert window.pages[table].current_id() == rid


def test_edits_update_the_dashboard_without_a_refresh(qtbot, window):
    page = open_dashboard(qtbot, window)
    before = page.data.baseline.figures["location"].value
    top = page.top_chart.bars[0]
    from core.commands import DeleteRecords

    with qtbot.waitSignal(page.updated, timeout=20000):
        window.editor.run(DeleteRecords(top.target[0], [top.target[1]]))
    assert page.data.baseline.figures["location"].value < before
    assert top.id not in {b.id for b in page.top_chart.bars}


def test_a_scenario_is_shown_beside_the_baseline(qtbot, window):
    from core import scenarios as scen

    scen.save_scenario(
        window.inventory, scen.Scenario("PUE 1.05", [{"kind": "set_pue", "pue": 1.05}])
    )
    page = open_dashboard(qtbot, window)
    page._fill_scenarios()
    with qtbot.waitSignal(page.updated, timeout=20000):
        page.scenario.setCurrentIndex(page.scenario.findText("PUE 1.05"))
    s = page.data.scenario
    assert s is not None and page.data.scenario_name == "PUE 1.05"
    engine = engine_for(window).derive(scen.Scenario("x", [{"kind": "set_pue", "pue": 1.05}]).apply)
    period = page.request().period
    expected = engine.estimate(period, samples=0).totals["energy_kwh"]
    assert s.figures["energy"].value == pytest.approx(expected)
    _, y = page.trend_chart.items["scenario"].getData()
    assert y[-1] * page.trend_chart.divisor == pytest.approx(s.trend.location[-1])
    assert "Scenario:" in page.cards["energy"].change.text()


def test_export_png_at_double_resolution_and_csv(qtbot, window, tmp_path):
    page = open_dashboard(qtbot, window)
    chart = page.trend_chart
    size = chart.size()
    png = chart.export_png(str(tmp_path / "trend.png"))
    img = QImage(str(png))
    assert (img.width(), img.height()) == (2 * size.width(), 2 * size.height())
    csv_path = page.market_chart.export_csv(str(tmp_path / "market.csv"))
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("period,location_kgco2e,market_kgco2e,savings_kgco2e")
    assert len(lines) == 1 + len(page.data.baseline.trend.labels)
    chart.copy_image()
    assert QApplication.clipboard().image().width() == img.width()


def test_dark_palette_darkens_the_plots_and_lightens_the_phase_colours(qtbot, window):
    from ui import palette

    page = open_dashboard(qtbot, window)
    dark = QPalette()
    for role, color in (
        (QPalette.ColorRole.Window, "#202020"),
        (QPalette.ColorRole.Base, "#181818"),
        (QPalette.ColorRole.Text, "#e0e0e0"),
        (QPalette.ColorRole.WindowText, "#e0e0e0"),
    ):
        dark.setColor(role, color)
    page.trend_chart.setPalette(dark)
    assert page.trend_chart.dark
    assert page.trend_chart.plot.backgroundBrush().color().lightness() < 60
    brush = page.trend_chart.items["inference"].opts["brush"]
    assert brush.name() == palette.phase_colors(dark=True)["inference"]


def test_hover_text_names_values_and_instruments(qtbot, window):
    page = open_dashboard(qtbot, window)
    t = page.data.baseline.trend
    i = next(i for i, names in enumerate(t.instruments) if names)
    text = page.market_chart.tooltip_at(i, 0)
    assert "Savings" in text and t.instruments[i][0] in text
    assert "P5–P95" in page.trend_chart.tooltip_at(len(t.labels) - 1, 0)


def test_central_figures_show_before_the_ranges(qtbot, window):
    page = open_dashboard(qtbot, window)
    seen = []
    page.figures_shown.connect(
        lambda: seen.append((page.cards["range"].value.text(), "range" in page.trend_chart.items))
    )
    with qtbot.waitSignal(page.updated, timeout=20000):
        page.period.setCurrentIndex(page.period.findData("2026-Q2"))
    assert seen == [("computing…", False)]
    assert "–" in page.cards["range"].value.text() and "range" in page.trend_chart.items
    assert page.data.baseline.period.label == "2026-Q2" and page.data.baseline.ranges_ready


def test_requests_made_while_computing_are_merged_into_the_latest(qtbot, window):
    page = open_dashboard(qtbot, window)
    shown = []
    page.figures_shown.connect(lambda: shown.append(page.data.baseline.period.label))
    with qtbot.waitSignal(page.updated, timeout=30000):
        for value in ("2026-Q2", "2026-Q1", "2025-Q4", "2026"):
            page.period.setCurrentIndex(page.period.findData(value))
    qtbot.waitUntil(lambda: not page.computing, timeout=30000)
    assert shown[-1] == "2026" and len(shown) <= 2  # the first, then only the latest
    assert page.data.baseline.period.label == "2026" and page.data.baseline.ranges_ready


def test_several_teams_can_be_chosen_at_once(qtbot, window):
    page = open_dashboard(qtbot, window)
    teams = [v for v in (page.team.itemData(i) for i in range(page.team.count())) if v]
    chosen = ["Legal", next(t for t in teams if t != "Legal")]
    with qtbot.waitSignal(page.updated, timeout=20000):
        page.team.set_values(chosen)
    assert page.request().filters.owners == tuple(t for t in teams if t in chosen)
    assert page.team.text() == ", ".join(page.team.labels())
    engine = engine_for(window)
    from core.dashboard import Filters, entries_for

    both = entries_for(engine, Filters(owners=tuple(chosen)))
    period = page.request().period
    expected = engine.estimate(period, samples=0, entries=set(both)).totals["location_kgco2e"]
    assert page.data.baseline.figures["location"].value == pytest.approx(expected)
    # a click on a value in the open list unticks it; the first line clears the choice
    with qtbot.waitSignal(page.updated, timeout=20000):
        page.team._on_view_pressed(page.team.model().index(page.team.findText(chosen[1]), 0))
    assert page.team.values() == ("Legal",)
    with qtbot.waitSignal(page.updated, timeout=20000):
        page.team._on_view_pressed(page.team.model().index(0, 0))
    assert page.team.values() == () and page.team.text() == "All teams"
    assert not page.data.baseline.filters.active


def test_saving_and_deleting_a_scenario_can_be_undone(qtbot, window, messages):
    from core import scenarios as scen
    from ui.scenario_dialog import ScenarioDialog

    inv = window.inventory
    dialog = ScenarioDialog(inv, window, editor=window.editor)
    qtbot.addWidget(dialog)
    dialog.name.setText("Greener")
    dialog.kind.setCurrentIndex(dialog.kind.findData("set_pue"))
    dialog._on_add_clicked()
    assert dialog.save()
    assert [s.name for s in scen.list_scenarios(inv)] == ["Greener"]
    window.editor.stack.undo()
    assert scen.list_scenarios(inv) == []
    window.editor.stack.redo()
    dialog._fill_saved("Greener")
    dialog._on_delete_clicked()
    assert scen.list_scenarios(inv) == []
    window.editor.stack.undo()
    assert [s.changes for s in scen.list_scenarios(inv)] == [[{"kind": "set_pue", "pue": 1.1}]]


def test_a_scenario_naming_a_deleted_record_is_not_saved(qtbot, window, messages):
    from core import scenarios as scen
    from core.commands import DeleteRecords
    from ui.scenario_dialog import ScenarioDialog

    inv = window.inventory
    dep_id, _ = inv.ref_options("deployments")[0]
    dialog = ScenarioDialog(inv, window, editor=window.editor)
    qtbot.addWidget(dialog)
    dialog.name.setText("Scale one")
    dialog.kind.setCurrentIndex(dialog.kind.findData("scale_requests"))
    dialog.fields["scale_requests"]["deployment_id"].setCurrentIndex(1)
    change = dialog.change_from_form()
    assert change["deployment_id"] == dep_id
    assert window.editor.run(DeleteRecords("deployments", [dep_id]))
    dialog._on_add_clicked()
    assert dialog.changes.item(0).text().startswith("⚠")
    assert not dialog.save()
    assert scen.list_scenarios(inv) == []
    text = messages.texts("warning")[-1]
    assert f"no deployment with id {dep_id}" in text and "Change 1" in text


def test_charts_wait_with_their_titles_and_say_when_the_figures_fail(qtbot, demo_path, tmp_path):
    """Until its first figures a chart's place names it and says it is computing; when
    computing fails, every such place and the notes say so."""
    from core.errors import LedgerError
    from core.inventory import Inventory
    from ui.dashboard_page import CHART_TITLES, DashboardPage

    path = tmp_path / "demo.aicl"
    path.write_bytes(demo_path.read_bytes())
    inv = Inventory.open(path)
    page = DashboardPage(inv)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.charts_ready, timeout=10_000)
    assert all(chart.isHidden() for chart in page.charts.values())
    texts = [w.text() for w in page._waiting.values()]
    assert texts == [f"{CHART_TITLES[k]}: computing…" for k in page._waiting]

    def fail(_request):
        raise LedgerError("the inventory could not be read")

    page.session.central = fail
    page.show()
    qtbot.waitUntil(lambda: not page.computing and page.status.text() != "", timeout=10_000)
    assert page.status.text() == "Could not compute the figures."
    assert "the inventory could not be read" in page.notes.text()
    assert all("could not be computed" in w.text() for w in page._waiting.values())
    assert page.data is None
    page.shutdown()
    inv.close()
