"""The Details dock: an entry's figures and explanation, off the UI thread, kept current."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

from core import estimate
from core.commands import DeleteRecords, UpdateRecord
from core.dashboard import format_quantity
from core.estimate import Engine
from core.inventory import Inventory
from ui import detail_panel
from ui.detail_panel import ALL_TIME, LATEST, EntryDetailPanel, period_choices
from ui.main_window import MainWindow
from ui.settings import SettingsStore

TIMEOUT = 30_000


@pytest.fixture
def inventory_file(tmp_path):
    """A model whose name is markup, a site in France with PUE 1.3, a fine-tuning run of
    500 kWh (IT boundary) in February 2026, a run across the turn of 2025/2026, and a
    deployment with measured usage in 2025-Q3 and 2026-Q1."""
    path = tmp_path / "inv.aicl"
    with Inventory.create(path) as inv:
        (m,) = inv.insert_logged("models", [{"name": "<b>x</b>"}], "t")
        (site,) = inv.insert_logged(
            "sites", [{"name": "Lyon", "kind": "own", "country": "FR", "pue": 1.3}], "t"
        )
        run = {
            "model_id": m,
            "kind": "fine-tuning",
            "site_id": site,
            "energy_boundary": "it",
        }
        runs = inv.insert_logged(
            "training_runs",
            [
                {
                    **run,
                    "name": "ft <i>1</i>",
                    "energy_kwh": 500.0,
                    "start_date": "2026-02-01",
                    "end_date": "2026-02-02",
                },
                {
                    **run,
                    "name": "winter run",
                    "energy_kwh": 310.0,
                    "start_date": "2025-11-01",
                    "end_date": "2026-01-31",
                },
            ],
            "t",
        )
        (dep,) = inv.insert_logged(
            "deployments",
            [{"name": "chat <script>", "model_id": m, "kind": "self-hosted", "site_id": site}],
            "t",
        )
        inv.insert_logged(
            "usage",
            [
                {
                    "deployment_id": dep,
                    "period_start": start,
                    "period_end": end,
                    "energy_kwh": kwh,
                    "energy_boundary": "it",
                }
                for start, end, kwh in (
                    ("2025-07-01", "2025-09-30", 90.0),
                    ("2026-01-01", "2026-03-31", 120.0),
                )
            ],
            "t",
        )
    return path, {"run": runs[0], "winter": runs[1], "deployment": dep}


@pytest.fixture
def window(qtbot, inventory_file):
    path, _ = inventory_file
    w = MainWindow(SettingsStore())
    qtbot.addWidget(w)
    w.resize(1366, 768)
    w.show()
    assert w.open_inventory(path)
    w.details_action.trigger()  # View > Details (F9)
    assert w.details.isVisible()
    return w


def shown(qtbot, panel: EntryDetailPanel, entry: str, choice: str | None = None):
    """Wait until the panel shows ``entry`` (for ``choice``) and nothing is computing."""

    def done():
        d = panel.details
        ok = d is not None and d.entry == entry and not panel.computing
        return ok and (choice is None or d.choice == choice)

    qtbot.waitUntil(done, timeout=TIMEOUT)
    return panel.details


def select(window, table: str, row_id: int) -> None:
    window.show_page(table)
    window.pages[table].select_id(row_id)


def expected(path, entry, period):
    """The figures as the panel formats them, from an engine of our own."""
    with Inventory.open(path) as inv:
        est = Engine(inv).estimate(period, by="entry", samples=1000, seed=0, entry=entry)
    t = est.totals
    low, high = format_quantity(t["low_kgco2e"], "kg"), format_quantity(t["high_kgco2e"], "kg")
    if low.split()[1] == high.split()[1]:  # one unit written once: "0.6 – 1.03 kgCO2e"
        low = low.split()[0]
    return {
        "location": format_quantity(t["location_kgco2e"], "kg"),
        "market": format_quantity(t["market_kgco2e"], "kg"),
        "range": f"{low} – {high}",
        "energy": format_quantity(t["energy_kwh"], "kWh"),
        "water": format_quantity(t["water_l"], "L"),
    }


def figures(panel):
    return {k: panel.values[k].text() for k in ("location", "market", "range", "energy", "water")}


def test_selecting_a_training_run_shows_its_engine_figures_and_explanation(
    qtbot, window, inventory_file
):
    path, ids = inventory_file
    panel = window.details
    select(window, "training_runs", ids["run"])
    d = shown(qtbot, panel, f"training_runs:{ids['run']}")
    assert d.period == "2026-Q1"  # the latest quarter with activity
    assert panel.period.currentText() == "Latest with activity (2026-Q1)"
    assert figures(panel) == expected(path, (0, ids["run"]), "2026-Q1")
    assert panel.values["energy"].text() == "650 kWh"  # 500 kWh IT x PUE 1.3
    assert panel.values["tier"].text() == "Measured energy"
    assert panel.values["scope"].text().startswith("Scope 2 (training)")
    text = panel.text.toPlainText()
    for part in ("Energy (training)", "x PUE 1.3 = 650 kWh", "FR 2023", "CC BY 4.0"):
        assert part in text  # formula with its numbers, factor with source and licence
    assert "Defaults used" in text and "Location-based emissions" in text
    assert "Figures in 2026-Q1" in panel.status.text()


def test_the_engine_runs_on_a_worker_and_is_kept_between_requests(
    qtbot, window, inventory_file, monkeypatch
):
    _, ids = inventory_file
    threads, builds = [], []
    real_compute, real_refresh = detail_panel.compute_details, estimate.Engine.refresh

    def compute(*args):
        threads.append(QThread.currentThread())
        return real_compute(*args)

    monkeypatch.setattr(detail_panel, "compute_details", compute)
    monkeypatch.setattr(
        estimate.Engine, "refresh", lambda self: (builds.append(1), real_refresh(self))[1]
    )
    panel = window.details
    select(window, "training_runs", ids["run"])
    assert panel.computing or panel.details is None
    shown(qtbot, panel, f"training_runs:{ids['run']}")
    select(window, "deployments", ids["deployment"])
    shown(qtbot, panel, f"deployments:{ids['deployment']}")
    main = QApplication.instance().thread()
    assert len(threads) == 2 and all(t is not main for t in threads)
    assert builds == [1]  # one engine read the inventory once


def test_changing_the_period_recomputes(qtbot, window, inventory_file):
    path, ids = inventory_file
    panel = window.details
    entry = f"training_runs:{ids['winter']}"
    select(window, "training_runs", ids["winter"])
    shown(qtbot, panel, entry)
    q1 = figures(panel)
    assert q1 == expected(path, (0, ids["winter"]), "2026-Q1")
    panel.period.setCurrentIndex(panel.period.findData("2025-Q4"))
    shown(qtbot, panel, entry, "2025-Q4")
    q4 = figures(panel)
    assert q4 == expected(path, (0, ids["winter"]), "2025-Q4")
    assert q4["energy"] != q1["energy"]
    assert "Period: 2025-Q4" in panel.details.explanation.text()
    panel.period.setCurrentIndex(panel.period.findData(ALL_TIME))
    shown(qtbot, panel, entry, ALL_TIME)
    assert figures(panel) == expected(path, (0, ids["winter"]), None)
    assert panel.values["energy"].text() == "403 kWh"  # 310 kWh IT x PUE 1.3
    # the chosen period stays when another entry is selected
    select(window, "training_runs", ids["run"])
    shown(qtbot, panel, f"training_runs:{ids['run']}", ALL_TIME)


def test_a_period_without_activity_says_so(qtbot, window, inventory_file):
    _, ids = inventory_file
    panel = window.details
    select(window, "training_runs", ids["run"])
    shown(qtbot, panel, f"training_runs:{ids['run']}")
    panel.period.setCurrentIndex(panel.period.findData("2025-Q3"))
    shown(qtbot, panel, f"training_runs:{ids['run']}", "2025-Q3")
    assert panel.status.text() == "No activity in 2025-Q3."
    assert panel.values["location"].text() == "0 kgCO2e"
    assert "No activity in this period." in panel.text.toPlainText()


def test_an_undoable_edit_of_the_entry_updates_the_panel(
    qtbot, window, inventory_file, monkeypatch
):
    path, ids = inventory_file
    panel = window.details
    entry = f"training_runs:{ids['run']}"
    select(window, "training_runs", ids["run"])
    shown(qtbot, panel, entry)
    rereads = []
    real_refresh = estimate.Engine.refresh
    monkeypatch.setattr(
        estimate.Engine, "refresh", lambda self: (rereads.append(self), real_refresh(self))[1]
    )
    before = figures(panel)
    with qtbot.waitSignal(panel.updated, timeout=TIMEOUT):
        assert window.editor.run(UpdateRecord("training_runs", ids["run"], {"energy_kwh": 1000.0}))
    shown(qtbot, panel, entry)
    assert panel.values["energy"].text() == "1.30 MWh"
    assert figures(panel) == expected(path, (0, ids["run"]), "2026-Q1")
    assert "x PUE 1.3 = 1,300 kWh" in panel.text.toPlainText()
    with qtbot.waitSignal(panel.updated, timeout=TIMEOUT):
        window.editor.stack.undo()
    shown(qtbot, panel, entry)
    assert figures(panel) == before
    # the panel's engine caught up with the change log: it never re-read the inventory
    assert window.engine_session.run(lambda engine: engine) not in rereads


def test_names_with_markup_show_literally(qtbot, window, inventory_file):
    _, ids = inventory_file
    panel = window.details
    select(window, "deployments", ids["deployment"])
    shown(qtbot, panel, f"deployments:{ids['deployment']}")
    assert panel.title.text() == "chat <script>"
    text = panel.text.toPlainText()
    assert "Model: <b>x</b>" in text
    assert "<b>" not in panel.text.toHtml().replace("&lt;b&gt;", "")
    assert panel.values["scope"].text().startswith("Scope 2 (inference)")
    select(window, "training_runs", ids["run"])
    shown(qtbot, panel, f"training_runs:{ids['run']}")
    assert panel.title.text() == "ft <i>1</i>"


def test_moving_through_rows_computes_only_where_the_selection_stops(
    qtbot, window, inventory_file, monkeypatch
):
    _, ids = inventory_file
    asked, shown_entries = [], []
    real = detail_panel.compute_details
    monkeypatch.setattr(
        detail_panel,
        "compute_details",
        lambda engine, entry, choice: (asked.append(entry), real(engine, entry, choice))[1],
    )
    panel = window.details
    panel.updated.connect(lambda: shown_entries.append(panel.details.entry))
    window.show_page("training_runs")
    page = window.pages["training_runs"]
    page.select_id(ids["run"])
    page.select_id(ids["winter"])  # within the debounce: the first is never computed
    shown(qtbot, panel, f"training_runs:{ids['winter']}")
    assert asked == [f"training_runs:{ids['winter']}"]
    # a result that arrives after the selection moved on is dropped
    page.select_id(ids["run"])
    qtbot.waitUntil(lambda: panel.computing, timeout=TIMEOUT)
    page.select_id(ids["winter"])
    shown(qtbot, panel, f"training_runs:{ids['winter']}")
    qtbot.wait(detail_panel.DEBOUNCE_MS + 50)
    qtbot.waitUntil(lambda: not panel.computing, timeout=TIMEOUT)
    assert shown_entries == [f"training_runs:{ids['winter']}"] * len(shown_entries)
    assert f"training_runs:{ids['run']}" in asked  # it was computed, then dropped


def test_other_pages_show_a_hint_and_the_panel_follows_the_page(qtbot, window, inventory_file):
    _, ids = inventory_file
    panel = window.details
    window.show_page("models")
    assert panel.stack.currentWidget() is panel.hint
    assert "Training runs" in panel.hint.text()
    select(window, "training_runs", ids["run"])
    shown(qtbot, panel, f"training_runs:{ids['run']}")
    assert panel.stack.currentWidget() is panel.content
    # the entry deleted (through the undo stack): nothing selected any more
    with qtbot.waitSignal(window.pages["training_runs"].selection_changed, timeout=TIMEOUT):
        window.editor.run(DeleteRecords("training_runs", [ids["run"]]))
    assert panel.stack.currentWidget() is panel.hint
    assert "Select a training run" in panel.hint.text()
    qtbot.wait(detail_panel.DEBOUNCE_MS * 2)
    assert not panel.computing
    window.close_inventory()
    assert "Open an inventory" in panel.hint.text()


def test_hidden_panel_computes_nothing_until_shown(qtbot, window, inventory_file, monkeypatch):
    _, ids = inventory_file
    panel = window.details
    window.details_action.trigger()  # hide
    assert not panel.isVisible()
    asked = []
    real = detail_panel.compute_details
    monkeypatch.setattr(
        detail_panel,
        "compute_details",
        lambda engine, entry, choice: (asked.append(entry), real(engine, entry, choice))[1],
    )
    select(window, "training_runs", ids["run"])
    qtbot.wait(detail_panel.DEBOUNCE_MS * 2)
    assert asked == [] and not panel.computing
    window.details_action.trigger()  # show
    shown(qtbot, panel, f"training_runs:{ids['run']}")
    assert asked == [f"training_runs:{ids['run']}"]


def test_the_dock_is_remembered_between_sessions(qtbot, inventory_file):
    first = MainWindow(SettingsStore())
    qtbot.addWidget(first)
    assert not first.details_action.isChecked()
    assert first.details_action.shortcut().toString() == "F9"
    first.show()
    first.details_action.trigger()
    first.close()
    second = MainWindow(SettingsStore())
    qtbot.addWidget(second)
    second.show()
    assert second.details.isVisible() and second.details_action.isChecked()
    second.details_action.trigger()
    second.close()
    third = MainWindow(SettingsStore())
    qtbot.addWidget(third)
    third.show()
    assert not third.details.isVisible()


def test_period_choices_list_years_with_their_quarters_newest_first():
    span = (dt.date(2025, 8, 3), dt.date(2026, 2, 1))
    choices = period_choices(span, "2026-Q1")
    assert choices[0] == ("Latest with activity (2026-Q1)", LATEST)
    assert [v for _, v in choices[1:]] == [
        ALL_TIME,
        "2026",
        "2026-Q1",
        "2025",
        "2025-Q4",
        "2025-Q3",
    ]
    one = period_choices((dt.date(2026, 4, 1), dt.date(2026, 4, 30)), "2026-Q2")
    assert [v for _, v in one] == [LATEST, ALL_TIME, "2026", "2026-Q2"]
    assert period_choices(None, None) == [("Latest with activity", LATEST), ("All time", ALL_TIME)]


def test_factor_lines_are_indented_under_their_formula_and_escaped():
    from core.explain import Explanation

    x = Explanation(
        "deployments:1",
        "t",
        "2026",
        [
            (
                "Energy (inference)",
                ["1 kWh x PUE 1.2 = 1.2 kWh", "  PUE 1.2 of <b>DC</b>: your input"],
            )
        ],
    )
    text = detail_panel.explanation_html(x)
    formula, factor = text.split("\n")[1:]
    assert "margin: 4px 0 2px 10px" in formula and "margin: 0 0 2px 28px" in factor
    assert ">PUE 1.2 of &lt;b&gt;DC&lt;/b&gt;: your input</p>" in factor


def test_the_panel_shows_each_factors_source_and_whether_it_is_a_default(
    qtbot, window, inventory_file
):
    _, ids = inventory_file
    panel = window.details
    select(window, "training_runs", ids["run"])
    shown(qtbot, panel, f"training_runs:{ids['run']}")
    text = panel.text.toPlainText()
    assert "PUE 1.3 of Lyon: your input (site 'Lyon'; no source given)" in text
    assert "Ember via Our World in Data, 2023, CC BY 4.0; default (shipped grid factors)" in text
    assert "CO2 only: the source gives grams of CO2 per kWh, not CO2e" in text
    assert "500 kWh measured at the IT boundary (your input: the training run)" in text
