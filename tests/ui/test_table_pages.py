"""Table pages over larger tables: default sort, lazy first page, pages built on demand,
and the start that paints the window before opening the inventory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QObject, Qt

from core import schema
from core.inventory import Inventory
from ui import app as app_module
from ui.inventory_page import InventoryPage
from ui.main_window import MainWindow
from ui.settings import SettingsStore
from ui.table_model import PAGE_ROWS
from ui.undo import InventoryEditor

ROOT = Path(__file__).resolve().parents[2]
USAGE_ROWS = 2 * PAGE_ROWS + 50


@pytest.fixture
def big_path(tmp_path):
    """An inventory whose usage table is larger than two pages, in no date order."""
    path = tmp_path / "big.aicl"
    with Inventory.create(path) as inv:
        model = inv.insert_logged("models", [{"name": "M"}], "t")[0]
        deployments = inv.insert_logged(
            "deployments",
            [{"name": f"dep {i:02d}", "model_id": model, "kind": "api"} for i in range(12)],
            "t",
        )
        inv.insert_logged(
            "usage",
            [
                {
                    "deployment_id": deployments[(i * 7) % 12],
                    "period_start": f"2025-{1 + (i * 5) % 12:02d}-{1 + (i * 11) % 28:02d}",
                    "period_end": "2026-01-01",
                    "energy_kwh": None if i % 9 == 0 else float((i * 37) % 101),
                    "notes": "night shift" if i % 10 == 0 else None,
                }
                for i in range(USAGE_ROWS)
            ],
            "t",
        )
    return path


@pytest.fixture
def big(big_path):
    with Inventory.open(big_path) as inv:
        yield inv


def _counting_ordered_ids(inv, monkeypatch):
    calls = []
    original = inv.ordered_ids
    monkeypatch.setattr(inv, "ordered_ids", lambda *a, **k: calls.append(a) or original(*a, **k))
    return calls


def _make_page(qtbot, inv, table):
    editor = InventoryEditor(inv)
    page = InventoryPage(inv, editor, table)
    qtbot.addWidget(page)
    return page


def _column_ids(page):
    return [page.model.id_at(row) for row in range(page.model.rowCount())]


@pytest.mark.parametrize("table", list(schema.TABLES))
def test_a_page_opens_sorted_by_its_default_sort_with_one_query(qtbot, big, monkeypatch, table):
    calls = _counting_ordered_ids(big, monkeypatch)
    page = _make_page(qtbot, big, table)
    assert len(calls) <= 1
    spec = schema.table(table)
    names = [f.name for f in page.model.fields]
    header = page.view.horizontalHeader()
    assert header.sortIndicatorSection() == names.index(spec.default_sort)
    assert header.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder
    expected = big.ordered_ids(table, spec.default_sort)
    assert _column_ids(page) == list(expected)


def test_the_usage_page_opens_by_period_start_from_its_first_page(qtbot, big, monkeypatch):
    calls = _counting_ordered_ids(big, monkeypatch)
    page = _make_page(qtbot, big, "usage")
    assert calls == []  # the first page came from the index, the count from count(*)
    model = page.model
    assert model._sort_field == "period_start"
    assert model.rowCount() == USAGE_ROWS
    assert len(model._ids) == PAGE_ROWS  # not the whole table
    starts = [model.index(row, 1).data() for row in range(PAGE_ROWS)]
    assert starts == sorted(starts)
    assert page.status.text() == f"{USAGE_ROWS:,} usage records"

    last = model.index(USAGE_ROWS - 1, 1).data()  # past the first page: the full list
    assert len(calls) == 1 and len(model._ids) == USAGE_ROWS
    assert last == max(r["period_start"] for r in big.get_many("usage", _column_ids(page)))
    assert _column_ids(page) == list(big.ordered_ids("usage", "period_start"))


def test_a_lazy_page_finds_rows_sorts_and_searches(qtbot, big):
    page = _make_page(qtbot, big, "usage")
    model = page.model
    order = list(big.ordered_ids("usage", "period_start"))
    far = order[-3]
    page.select_id(far)  # needs the full id list
    assert page.current_id() == far
    assert model.row_of(far) == USAGE_ROWS - 3

    col = [f.name for f in model.fields].index("energy_kwh")
    page.view.sortByColumn(col, Qt.SortOrder.DescendingOrder)
    assert _column_ids(page) == list(big.ordered_ids("usage", "energy_kwh", True))
    model.set_search("night")
    assert _column_ids(page) == list(big.ordered_ids("usage", "energy_kwh", True, "night"))
    assert model.rowCount() == len(range(0, USAGE_ROWS, 10))
    model.set_search("")
    assert model.rowCount() == USAGE_ROWS
    assert _column_ids(page) == list(big.ordered_ids("usage", "energy_kwh", True))


def test_a_lazy_page_refreshes_after_an_edit(qtbot, big):
    page = _make_page(qtbot, big, "usage")
    first = page.model.id_at(0)
    page.refresh()
    editor = InventoryEditor(big)
    from core import commands

    editor.run(commands.UpdateRecord("usage", first, {"period_start": "2025-12-31"}))
    page.refresh()
    assert page.model.rowCount() == USAGE_ROWS
    assert _column_ids(page) == list(big.ordered_ids("usage", "period_start"))


def test_pages_are_built_when_first_shown(qtbot, big_path):
    window = MainWindow(SettingsStore())
    qtbot.addWidget(window)
    window.show()
    window.open_inventory(big_path)
    assert set(window.pages) == {"models"}
    window.show_page("usage")
    assert set(window.pages) == {"models", "usage"}
    assert window.stack.currentWidget() is window.pages["usage"]
    assert window.nav.currentItem().text() == f"Usage  ({USAGE_ROWS:,})"


def test_the_initial_inventory_opens_after_the_first_paint(qtbot, big_path, monkeypatch):
    events: list[str] = []

    class PaintLog(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint:
                events.append("paint")
            return False

    original = app_module.open_initial_inventory

    def logged_open(window, path):
        events.append("open")
        assert window.stack.currentWidget() is window.opening  # not "no inventory"
        original(window, path)

    monkeypatch.setattr(app_module, "open_initial_inventory", logged_open)
    window = MainWindow(SettingsStore(), opening=True)  # as ui.app.start makes it
    qtbot.addWidget(window)
    assert window.stack.currentWidget() is window.opening
    log = PaintLog(window)
    window.installEventFilter(log)
    app_module.show_and_open(window, str(big_path))
    qtbot.waitUntil(lambda: window.inventory is not None, timeout=5000)
    assert events[0] == "paint" and events.count("open") == 1
    assert window.inventory.path == big_path


def test_when_the_initial_inventory_cannot_open_the_window_offers_to_create_one(qtbot, monkeypatch):
    opened = []
    monkeypatch.setattr(app_module, "open_initial_inventory", lambda w, p: opened.append(p))
    window = MainWindow(SettingsStore())
    qtbot.addWidget(window)
    app_module.show_and_open(window, "missing.aicl")  # (messages already said why)
    assert window.stack.currentWidget() is window.opening
    qtbot.waitUntil(lambda: opened == ["missing.aicl"], timeout=5000)
    assert window.stack.currentWidget() is window.no_inventory


def test_starting_the_app_loads_neither_numpy_nor_the_table_pages():
    """Before the first paint: numpy, sqlite-utils and the pages load after it."""
    code = (
        "import sys\n"
        "import main\n"
        "assert not main.wants_cli([])\n"
        "assert 'core.cli' not in sys.modules\n"
        "from ui import app\n"
        "heavy = ('numpy', 'sqlite_utils', 'ui.inventory_page', 'ui.table_model', 'pyqtgraph')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_row_count_quotes_the_search_as_typed_not_as_markup(qtbot, big):
    page = _make_page(qtbot, big, "models")
    page.search.setText("<b>x</b><img src=x>")
    page._search_timer.stop()
    page._on_search_timer_timeout()  # the search delay, without waiting for it
    assert page.status.textFormat() == Qt.TextFormat.PlainText
    assert "match “<b>x</b><img src=x>”" in page.status.text()
