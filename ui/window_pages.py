"""The main window's navigation and pages, as a mixin of ``ui.main_window.MainWindow``.

Pages are built when first shown, and the modules behind them (the table model with
numpy, the forms, the commands) are imported then: the empty window paints first.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from core import schema
from ui.plain_text import literal
from ui.welcome import LoadingPage, PlaceholderPage
from ui.workers import run_task

if TYPE_CHECKING:
    from ui.inventory_page import InventoryPage

#: navigation entries in order: (key, label); keys that are tables get an InventoryPage
NAV_PAGES: tuple[tuple[str, str], ...] = (
    ("dashboard", "Dashboard"),
    *((name, schema.TABLES[name].label) for name in schema.NAVIGATION_TABLES),
    ("reference", "Reference data"),
    ("reports", "Reports"),
)
#: pages whose page actions (Add, Edit, Delete, ...) edit a table
EDITING_PAGES = (*schema.TABLES, "reference")
NAV_LABELS = dict(NAV_PAGES)
#: pages not built yet: (title, text) of a placeholder
PLACEHOLDERS: dict[str, tuple[str, str]] = {}


class WindowPagesMixin:
    """Shows the navigation's pages, building each when first needed, and keeps them
    current after edits; needs the window's ``nav``, ``stack``, ``pages``, ``inventory``,
    ``editor``, ``details`` and ``_reading`` (``ui.window_backup``)."""

    def show_page(self, key: str) -> None:
        if key not in NAV_LABELS:
            key = "models"
        for row in range(self.nav.count()):
            if self.nav.item(row).data(Qt.ItemDataRole.UserRole) == key:
                self.nav.setCurrentRow(row)
                break

    def current_page(self) -> QWidget | None:
        widget = self.stack.currentWidget()
        return widget if widget in self.pages.values() else None

    def _page(self, key: str) -> QWidget:
        """The page for navigation key ``key``, built the first time it is needed."""
        page = self.pages.get(key)
        if page is None:
            if key in schema.TABLES:
                from ui.inventory_page import InventoryPage

                assert self.inventory is not None and self.editor is not None
                page = InventoryPage(self.inventory, self.editor, key)
                page.damaged.connect(self.damage_found)
            elif key == "dashboard":
                if "ui.dashboard_page" not in sys.modules:
                    return self._loading_dashboard()
                page = self._dashboard_page()
            elif key == "reports":
                from ui.reports_page import ReportsPage  # quarters, closing, restatements

                assert self.inventory is not None
                page = ReportsPage(
                    self.inventory, self.editor, read_only=self.read_only_reason is not None
                )
                page.damaged.connect(self.damage_found)
            elif key == "reference":
                from ui.reference_page import ReferenceDataPage  # reads the shipped tables

                assert self.inventory is not None and self.editor is not None
                page = ReferenceDataPage(self.inventory, self.editor)
                page.overrides.damaged.connect(self.damage_found)  # its overrides table
            else:
                page = PlaceholderPage(*PLACEHOLDERS[key])
            self.pages[key] = page
            self.stack.addWidget(page)
        return page

    def _dashboard_page(self) -> QWidget:
        from ui.dashboard_page import DashboardPage  # imports pyqtgraph

        assert self.inventory is not None
        page = DashboardPage(self.inventory, session=self.engine_session, editor=self.editor)
        page.entry_activated.connect(self._on_dashboard_entry_activated)
        page.damaged.connect(self.damage_found)  # found by its engine, on a worker
        return page

    def _loading_dashboard(self) -> QWidget:
        """A page saying the dashboard is loading, while its modules (pyqtgraph, about
        half a second) are imported on a worker thread; the window stays responsive and
        the dashboard replaces this page when they are in."""
        if self._dashboard_loading is None:
            self._dashboard_loading = LoadingPage("Loading the dashboard…")
            self.stack.addWidget(self._dashboard_loading)
            run_task(
                lambda: importlib.import_module("ui.dashboard_page"),
                self._on_dashboard_import_finished,
                self._on_dashboard_import_failed,
            )
        return self._dashboard_loading

    def _drop_dashboard_loading(self) -> bool:
        """Remove the loading page; whether it was the page shown."""
        loading, self._dashboard_loading = self._dashboard_loading, None
        if loading is None:
            return False
        shown = self.stack.currentWidget() is loading
        self.stack.removeWidget(loading)
        loading.deleteLater()
        return shown

    def _on_dashboard_import_finished(self, _module: object) -> None:
        # built now if still asked for, else when next shown
        if self._drop_dashboard_loading() and self.inventory is not None:
            page = None
            with self._reading():  # building it reads the filter and scenario lists
                page = self._page("dashboard")
            if page is not None:  # (else the inventory is damaged: the window closes it)
                self.stack.setCurrentWidget(page)

    def _on_dashboard_import_failed(self, message: str) -> None:
        if self._dashboard_loading is not None:
            self._dashboard_loading.set_text(f"The dashboard could not be loaded: {message}")

    def _table_pages(self) -> dict[str, InventoryPage]:
        """The table pages built so far."""
        return {k: cast("InventoryPage", p) for k, p in self.pages.items() if k in EDITING_PAGES}

    def _page_call(self, method: str) -> None:
        page = self.current_page()
        if page is not None and page in self._table_pages().values():
            getattr(page, method)()

    def _on_nav_current_row_changed(self, row: int) -> None:
        if row < 0:
            return
        key = self.nav.item(row).data(Qt.ItemDataRole.UserRole)
        page = None
        with self._reading():
            page = self._page(key)
            if key in self._dirty:
                self._table_pages()[key].refresh()
                self._dirty.discard(key)
        if page is None:
            return  # the inventory is damaged: _on_damage_found closes it
        self.stack.setCurrentWidget(page)
        self.details.set_page(key, page)
        changes = (self.add_action, self.edit_action, self.duplicate_action, self.delete_action)
        for action in self.page_actions:
            read_only = self.read_only_reason is not None and action in changes
            action.setEnabled(key in EDITING_PAGES and not read_only)
        self.settings.set_current_page(key)

    def _on_editor_edited(self, tables: frozenset[str]) -> None:
        # Titles of referenced rows show on other pages (a renamed model appears on the
        # training runs page), so every table page built so far is refreshed: the
        # current one now, the others when next shown (pages not built yet will read
        # the inventory as it is then).
        current = self.current_page()
        for key, page in self._table_pages().items():
            if page is current:
                with self._reading():
                    page.refresh()
            else:
                self._dirty.add(key)
        self._update_nav_counts()
        if (dashboard := self.pages.get("dashboard")) is not None:
            dashboard.inventory_edited(tables)  # recomputes off the UI thread
        self.details.inventory_edited(tables)
        self.statusBar().showMessage("Saved", 2000)

    def _on_dashboard_entry_activated(self, table: str, row_id: int) -> None:
        """A bar on the dashboard was clicked: show that record in its table page."""
        if table not in schema.TABLES:
            return
        self.show_page(table)
        page = self._table_pages().get(table)
        if page is not None:
            page.select_id(row_id)

    def _on_editor_edit_failed(self, message: str) -> None:
        QMessageBox.warning(self, "Not saved", literal(message))

    def _update_nav_counts(self) -> None:
        if self.inventory is None:
            return
        with self._reading():
            for row in range(self.nav.count()):
                item = self.nav.item(row)
                key = item.data(Qt.ItemDataRole.UserRole)
                label = NAV_LABELS[key]
                if key in schema.TABLES:
                    item.setText(f"{label}  ({self.inventory.count(key):,})")
