"""The main window: navigation on the left, one page per inventory table on the right.

Pages are built when first shown, and the modules behind them (the table model with
numpy, the forms, the commands) are imported then: the empty window paints first.
"""

from __future__ import annotations

import contextlib
import importlib
import sqlite3
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from core import APP_NAME, INVENTORY_SUFFIX, integrity, schema
from core.errors import InventoryDamagedError, LedgerError
from core.inventory import Inventory
from ui.detail_panel import EntryDetailPanel
from ui.plain_text import literal
from ui.settings import SettingsStore, demo_inventory_path
from ui.welcome import LoadingPage, NoInventoryPanel, PlaceholderPage, WelcomePanel
from ui.workers import run_task

if TYPE_CHECKING:
    from core.dashboard_session import DashboardSession
    from ui.inventory_page import InventoryPage
    from ui.single_instance import InventoryClaim
    from ui.undo import InventoryEditor

FILE_FILTER = f"AI Carbon Ledger inventories (*{INVENTORY_SUFFIX});;All files (*)"

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


class MainWindow(QMainWindow):
    #: the open inventory turned out damaged (an InventoryDamagedError): while reading a
    #: page, saving an edit or checking the daily backup's copy. Handled once control is
    #: back in the event loop (:meth:`_on_damage_found`), never inside the code that
    #: found it (an undo in progress, a page being built).
    damage_found = Signal(object)

    def __init__(self, settings: SettingsStore | None = None, *, opening: bool = False):
        """``opening``: an inventory is about to be opened (see :meth:`show_opening`)."""
        super().__init__()
        self.damage_found.connect(self._on_damage_found, Qt.ConnectionType.QueuedConnection)
        #: daily backups a worker is making: inventory -> set when the worker is done
        self._daily_backups: dict[Path, threading.Event] = {}
        self.settings = settings or SettingsStore()
        self.inventory: Inventory | None = None
        self.editor: InventoryEditor | None = None
        #: the pages built so far (each is built when first shown), by navigation key
        self.pages: dict[str, QWidget] = {}
        self._dirty: set[str] = set()

        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setIconSize(QSize(16, 16))
        self.nav.setMinimumWidth(170)
        self.nav.setAccessibleName("Pages")
        self.nav.setSpacing(1)
        self.nav.setStyleSheet("QListWidget#navigation::item { padding: 5px 8px; }")
        self.nav.currentRowChanged.connect(self._on_nav_current_row_changed)
        self.stack = QStackedWidget()
        self.splitter = QSplitter()
        self.splitter.addWidget(self.nav)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([190, 1000])
        self.splitter.setChildrenCollapsible(False)
        #: says why the inventory is read-only (another program writes it); hidden if not
        self.read_only_banner = QLabel()
        self.read_only_banner.setObjectName("readOnlyBanner")
        self.read_only_banner.setWordWrap(True)
        # it quotes the lock holder's app and host names, read from the lock file
        self.read_only_banner.setTextFormat(Qt.TextFormat.PlainText)
        self.read_only_banner.setStyleSheet(
            "QLabel#readOnlyBanner { background: #fff4ce; color: #3b2f00;"
            " border-bottom: 1px solid #e0c46c; padding: 8px 12px; }"
        )
        self.read_only_banner.hide()
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.read_only_banner)
        column.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        #: this window's claim on the open inventory (ui.single_instance); None if read-only
        self.claim: InventoryClaim | None = None
        #: why the open inventory is read-only, or None when it can be edited
        self.read_only_reason: str | None = None
        self.setAcceptDrops(True)  # a spreadsheet dropped on the window starts an import
        self.import_wizard: QWidget | None = None
        #: File > Import History… while it is open (window-modal)
        self.import_history: QWidget | None = None

        self._no_inventory: NoInventoryPanel | None = None  # built when first shown
        #: shown while the initial inventory opens, right after the window first paints
        self.opening = QLabel("Opening the inventory…")
        self.opening.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.opening.setEnabled(False)  # greyed: a moment's notice, nothing to act on
        self.stack.addWidget(self.opening)
        self.welcome: WelcomePanel | None = None
        #: shown in the dashboard's place while its modules load (``_loading_dashboard``)
        self._dashboard_loading: LoadingPage | None = None
        #: the engine of the open inventory, shared by the dashboard and the details
        self.engine_session: DashboardSession | None = None
        self.details = EntryDetailPanel(self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.details)
        self.details.hide()  # until View > Details (F9); restoreState remembers it

        self._build_actions()
        self._build_menus()
        if geometry := self.settings.window_geometry():
            self.restoreGeometry(geometry)
        else:  # first start: most of the screen, never more than it
            available = self.screen().availableGeometry()
            self.resize(
                min(1400, int(available.width() * 0.9)), min(900, int(available.height() * 0.9))
            )
        if state := self.settings.splitter_state():
            self.splitter.restoreState(state)
        if state := self.settings.window_state():
            self.restoreState(state)  # the Details dock: shown or not, where, how wide
        self._show_no_inventory(panel=not opening)
        if opening:
            self.show_opening()

    @property
    def no_inventory(self) -> NoInventoryPanel:
        """The panel that offers to create or open an inventory."""
        if self._no_inventory is None:
            self._no_inventory = NoInventoryPanel()
            self._no_inventory.new_requested.connect(self.new_inventory)
            self._no_inventory.open_requested.connect(self.open_inventory_dialog)
            self.stack.addWidget(self._no_inventory)
        return self._no_inventory

    # -- actions and menus ------------------------------------------------------------

    def _action(self, text: str, slot: object, shortcut: object = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, list):
                action.setShortcuts(shortcut)
            else:
                action.setShortcut(shortcut)
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        key = QKeySequence.StandardKey
        self.new_action = self._action(
            "&New Inventory…", self.new_inventory, key.New, "Create a new, empty inventory file"
        )
        self.open_action = self._action(
            "&Open…", self.open_inventory_dialog, key.Open, "Open an inventory file"
        )
        self.demo_action = self._action(
            "Open &Demo Inventory",
            self.open_demo,
            tip="Open an example inventory with realistic data",
        )
        self.save_copy_action = self._action(
            "Save a &Copy…",
            self.save_copy,
            QKeySequence("Ctrl+Shift+S"),
            "Write a consistent copy of this inventory",
        )
        self.close_action = self._action("&Close Inventory", self.close_inventory, key.Close)
        self.import_action = self._action(
            "&Import…",
            lambda: self.start_import(),
            QKeySequence("Ctrl+I"),
            "Import spreadsheets, CSV files and CodeCarbon logs into this inventory",
        )
        self.export_action = self._action(
            "&Export…", self.export_inventory, tip="Write this inventory to XLSX, CSV or JSON"
        )
        self.import_history_action = self._action(
            "Import &History…",
            self.show_import_history,
            tip="The imports recorded in this inventory; undo one of them",
        )
        self.template_action = self._action(
            "Save Import &Template…",
            self.save_import_template,
            tip="Save an empty workbook with the columns the import expects",
        )
        self.quit_action = self._action("&Quit", self.close, key.Quit)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)

        self.add_action = self._action(
            "&Add…",
            lambda: self._page_call("add_record"),
            [QKeySequence("Ctrl+Shift+A"), QKeySequence("Ins")],
            "Add a record to this page",
        )
        self.edit_action = self._action(
            "&Edit…",
            lambda: self._page_call("edit_record"),
            QKeySequence("F2"),
            "Edit the selected record",
        )
        self.duplicate_action = self._action(
            "D&uplicate",
            lambda: self._page_call("duplicate_record"),
            QKeySequence("Ctrl+D"),
            "Copy the selected record",
        )
        self.delete_action = self._action(
            "&Delete",
            lambda: self._page_call("delete_records"),
            key.Delete,
            "Delete the selected records",
        )
        self.find_action = self._action(
            "&Find", lambda: self._page_call("focus_search"), key.Find, "Search this page"
        )
        self.about_action = self._action(
            "&About AI Carbon Ledger and Data Sources", self.show_about
        )
        self.explain_action = self._action(
            "E&xplain…",
            lambda: self._page_call("explain_record"),
            QKeySequence("Ctrl+E"),
            "How the selected training run's or deployment's emissions were reached",
        )
        self.report_action = self._action(
            "&Report…",
            self.show_report_dialog,
            QKeySequence.StandardKey.Print,
            "Preview, print or save the quarterly report; close a reported quarter",
        )
        self.settings_action = self._action(
            "Inventory &Settings…",
            self.edit_inventory_settings,
            tip="How this inventory counts the embodied emissions of hardware",
        )
        self.page_actions = [
            self.add_action,
            self.edit_action,
            self.duplicate_action,
            self.delete_action,
            self.find_action,
            self.explain_action,
        ]

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.new_action, self.open_action])
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addAction(self.demo_action)
        file_menu.addSeparator()
        file_menu.addActions(
            [
                self.import_action,
                self.import_history_action,
                self.export_action,
                self.template_action,
            ]
        )
        file_menu.addSeparator()
        file_menu.addAction(self.report_action)
        file_menu.addSeparator()
        file_menu.addActions([self.save_copy_action, self.close_action])
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        self.edit_menu = bar.addMenu("&Edit")
        self.undo_placeholder = self.edit_menu.addAction("&Undo")
        self.undo_placeholder.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_placeholder.setEnabled(False)
        self.redo_placeholder = self.edit_menu.addAction("&Redo")
        self.redo_placeholder.setShortcuts(
            [QKeySequence("Ctrl+Shift+Z"), QKeySequence(QKeySequence.StandardKey.Redo)]
        )
        self.redo_placeholder.setEnabled(False)
        self.edit_menu.addSeparator()
        self.edit_menu.addActions(self.page_actions)
        self.edit_menu.addSeparator()
        self.edit_menu.addAction(self.settings_action)

        self.view_menu = bar.addMenu("&View")
        for i, (key, label) in enumerate(NAV_PAGES):
            action = self._action(label, lambda _=False, k=key: self.show_page(k))
            if i < 9:
                action.setShortcut(QKeySequence(f"Ctrl+{i + 1}"))
            self.view_menu.addAction(action)
        self.view_menu.addSeparator()
        self.details_action = self.details.toggleViewAction()
        self.details_action.setText("&Details")
        self.details_action.setShortcut(QKeySequence("F9"))
        self.details_action.setStatusTip(
            "Show or hide the selected entry's figures and how they were reached"
        )
        self.view_menu.addAction(self.details_action)

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.about_action)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_files()
        for path in recent:
            self.recent_menu.addAction(
                Path(path).name, lambda _=False, p=path: self.open_inventory(p)
            ).setStatusTip(path)
        if not recent:
            self.recent_menu.addAction("No recent inventories").setEnabled(False)

    def _install_undo_actions(self) -> None:
        for action in self.edit_menu.actions()[:2]:
            self.edit_menu.removeAction(action)
        first = self.edit_menu.actions()[0] if self.edit_menu.actions() else None
        if self.editor is None:
            undo, redo = self.undo_placeholder, self.redo_placeholder
        else:
            undo = self.editor.stack.createUndoAction(self, "&Undo")
            undo.setShortcut(QKeySequence.StandardKey.Undo)
            redo = self.editor.stack.createRedoAction(self, "&Redo")
            redo.setShortcuts(
                [QKeySequence("Ctrl+Shift+Z"), QKeySequence(QKeySequence.StandardKey.Redo)]
            )
        self.edit_menu.insertActions(first, [undo, redo])
        self.undo_action, self.redo_action = undo, redo

    # -- opening and closing inventories ----------------------------------------------

    def set_inventory(
        self,
        inventory: Inventory,
        *,
        welcome: bool = False,
        claim: InventoryClaim | None = None,
        read_only_reason: str | None = None,
    ) -> None:
        """Show ``inventory`` (taking ownership), closing the one open before.

        ``claim``: this window's claim on the file (made here if not given);
        ``read_only_reason``: the inventory was opened read-only, and why.
        """
        from ui import single_instance
        from ui.closing_guard import GuardedEditor

        self._discard_inventory()
        self.inventory = inventory
        self.read_only_reason = read_only_reason
        if read_only_reason is None:
            self.claim = claim or single_instance.claim_new(inventory.path, self)
            if self.claim is not None:
                self.claim.activation_requested.connect(self._on_claim_activation_requested)
            self.editor = GuardedEditor(inventory, self)  # asks before restating a quarter
        else:
            self.editor = single_instance.ReadOnlyEditor(inventory, read_only_reason, self)
            self.read_only_banner.setText(single_instance.read_only_message(read_only_reason))
            self.read_only_banner.show()
        from core.dashboard_session import DashboardSession

        self.engine_session = DashboardSession(inventory.path)
        self.details.set_inventory(inventory, self.engine_session)
        self.editor.edited.connect(self._on_editor_edited)
        self.editor.edit_failed.connect(self._on_editor_edit_failed)
        self.editor.damaged.connect(self.damage_found)
        self._install_undo_actions()
        for key, label in NAV_PAGES:
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, key)
            self.nav.addItem(item)
        self._update_nav_counts()
        self.nav.setEnabled(True)
        for action in (
            *self.page_actions,
            self.save_copy_action,
            self.close_action,
            self.settings_action,
            self.import_action,
            self.import_history_action,
            self.export_action,
            self.report_action,
        ):
            action.setEnabled(True)
        if read_only_reason is not None:  # looking, searching and explaining stay
            for action in (self.settings_action, self.import_action, self.import_history_action):
                action.setEnabled(False)
        self.settings.add_recent_file(inventory.path)
        self.settings.set_last_inventory(inventory.path)
        self.setWindowTitle(f"{inventory.name} — {APP_NAME}")
        self.setWindowFilePath(str(inventory.path))
        self.statusBar().showMessage(str(inventory.path))
        if welcome:
            self.welcome = WelcomePanel(str(inventory.path))
            self.welcome.demo_requested.connect(self.open_demo)
            self.welcome.import_requested.connect(lambda: self.start_import())
            self.welcome.start_empty_requested.connect(lambda: self.show_page("models"))
            self.stack.addWidget(self.welcome)
            self.nav.setCurrentRow(-1)
            self.stack.setCurrentWidget(self.welcome)
        else:
            self.show_page(self.settings.current_page())

    def _discard_inventory(self) -> None:
        self.nav.blockSignals(True)
        self.nav.clear()
        self.nav.blockSignals(False)
        for page in self.pages.values():
            if hasattr(page, "shutdown"):
                page.shutdown()  # the dashboard's worker connection
            self.stack.removeWidget(page)
            page.deleteLater()
        self.pages.clear()
        self._drop_dashboard_loading()
        self._dirty.clear()
        self.details.clear_inventory()
        if self.engine_session is not None:  # on a pool thread: it may still be computing
            run_task(self.engine_session.close, lambda _r: None, lambda _m: None)
            self.engine_session = None
        if self.welcome is not None:
            self.stack.removeWidget(self.welcome)
            self.welcome.deleteLater()
            self.welcome = None
        if self.editor is not None:
            self.editor.stack.clear()
            self.editor.deleteLater()
            self.editor = None
        if self.inventory is not None:
            self.inventory.close()
            self.inventory = None
        self._release_claim()

    def _release_claim(self) -> None:
        from ui.single_instance import release_quietly

        release_quietly(self.claim)
        self.claim = None
        self.read_only_reason = None
        self.read_only_banner.hide()

    def _on_claim_activation_requested(self) -> None:
        """A second launch on this inventory: come forward instead of a second window."""
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()
        self.statusBar().showMessage(f"{self.windowFilePath()} is already open here.", 5000)

    def _show_no_inventory(self, *, panel: bool = True) -> None:
        self._install_undo_actions()
        self.nav.setEnabled(False)
        for action in (
            *self.page_actions,
            self.save_copy_action,
            self.close_action,
            self.settings_action,
            self.import_action,
            self.import_history_action,
            self.export_action,
            self.report_action,
        ):
            action.setEnabled(False)
        if panel:
            self.stack.setCurrentWidget(self.no_inventory)
        self.setWindowTitle(APP_NAME)
        self.setWindowFilePath("")
        self.statusBar().clearMessage()

    def show_opening(self) -> None:
        """Say that the initial inventory is opening (rather than show the panel for
        no inventory for a moment); :meth:`end_opening` ends it."""
        if self.inventory is None:
            self.stack.setCurrentWidget(self.opening)

    def end_opening(self) -> None:
        """After the initial inventory opened, or could not be: if none is open, the
        panel that offers to create or open one."""
        if self.inventory is None:
            self._show_no_inventory()

    def open_inventory(self, path: str | Path) -> bool:
        """Open the inventory at ``path``; on failure say why and keep the current one.

        A file another launch of the app has open is brought forward there instead; a
        file another program writes is opened read-only (``ui.single_instance``).
        """
        from ui.single_instance import open_for_window

        if self.inventory is not None and Path(path).resolve() == self.inventory.path.resolve():
            return True  # already open in this window
        try:
            inventory, claim, read_only_reason = open_for_window(path, self)
        except InventoryDamagedError as exc:  # say so; offer its automatic backup
            from ui.restore_backup import offer_restore

            restored = offer_restore(self, exc)
            return restored is not None and self.open_inventory(restored)
        except (LedgerError, OSError) as exc:
            QMessageBox.critical(self, "Cannot open inventory", literal(str(exc)))
            if not Path(path).exists():
                self.settings.remove_recent_file(path)
            return False
        if inventory is None:
            self.statusBar().showMessage(f"{path} is open in another window.", 8000)
            return False
        self.set_inventory(inventory, claim=claim, read_only_reason=read_only_reason)
        if read_only_reason is None:  # opened for editing (the worker checks its copy)
            self.start_daily_backup()
        return True

    # -- the daily backup and damage found while working ------------------------------

    def start_daily_backup(self) -> bool:
        """Back up the open inventory on a worker thread if its newest daily backup is a
        day old or missing (``core.integrity.make_daily_backup``: about 0.7 s for a
        121 MB inventory, copy and check, none of it on this thread). Whether one
        started."""
        if self.inventory is None or self.read_only_reason is not None:
            return False
        path = self.inventory.path
        if path in self._daily_backups:
            return False
        try:
            if not integrity.daily_backup_due(path):
                return False
        except OSError:
            return False
        done = threading.Event()
        self._daily_backups[path] = done
        run_task(
            lambda: _daily_backup(path, done),
            self._on_daily_backup_finished,
            self._on_daily_backup_failed,
        )
        return True

    @property
    def daily_backups_running(self) -> frozenset[Path]:
        """The inventories whose daily backup was started and has not reported back."""
        return frozenset(self._daily_backups)

    def _forget_finished_backups(self) -> None:
        for path, done in list(self._daily_backups.items()):
            if done.is_set():
                del self._daily_backups[path]

    def _on_daily_backup_finished(self, result: tuple[Path, object]) -> None:
        self._forget_finished_backups()
        path, outcome = result
        if isinstance(outcome, InventoryDamagedError):
            self.damage_found.emit(outcome)
        elif isinstance(outcome, str) and self.inventory and self.inventory.path == path:
            # no backup today (a full disk, say): the inventory itself is unchanged
            self.statusBar().showMessage(f"The daily backup was not made: {outcome}", 15000)

    def _on_daily_backup_failed(self, _message: str) -> None:
        self._forget_finished_backups()

    def _wait_for_daily_backups(self, seconds: float = 15.0) -> None:
        """At quit: let a backup under way finish (instead of leaving its temporary
        file behind), for at most ``seconds``."""
        for done in list(self._daily_backups.values()):
            done.wait(seconds)

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Reads of the open inventory: a damaged page found on the way (in a file too
        large to check at open) is reported as damage, with the restore offer, instead
        of reaching the crash report."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            if self.inventory is None or not integrity.is_damage(exc):
                raise
            self.damage_found.emit(integrity.damaged(self.inventory.path, f"SQLite reports: {exc}"))

    def _on_damage_found(self, error: InventoryDamagedError) -> None:
        """Close the damaged inventory (writing nothing more to it) and offer to restore
        its newest sound automatic backup to a new file, as opening it would have."""
        if self.inventory is None or error.path is None:
            return
        if Path(error.path).resolve() != self.inventory.path.resolve():
            return  # already handled (several reads found it), or another file by now
        self.inventory.close(optimize=False)
        self.close_inventory()
        from ui.restore_backup import offer_restore

        restored = offer_restore(self, error)
        if restored is not None:
            self.open_inventory(restored)

    def open_inventory_dialog(self) -> None:
        start = str(self.inventory.path.parent) if self.inventory else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open inventory", start, FILE_FILTER)
        if path:
            self.open_inventory(path)

    def new_inventory(self) -> None:
        start = str(self.inventory.path.parent) if self.inventory else ""
        path, _ = QFileDialog.getSaveFileName(self, "New inventory", start, FILE_FILTER)
        if not path:
            return
        target = Path(path)
        if not target.suffix:
            target = target.with_suffix(INVENTORY_SUFFIX)
        if target.exists():
            if self.inventory and target.resolve() == self.inventory.path.resolve():
                QMessageBox.warning(
                    self, "New inventory", literal(f"{target} is the inventory that is open now.")
                )
                return
            target.unlink()  # the save dialog already asked to replace it
        try:
            inventory = Inventory.create(target)
        except (LedgerError, OSError) as exc:
            QMessageBox.critical(self, "Cannot create inventory", literal(str(exc)))
            return
        self.set_inventory(inventory)
        self.show_page("models")

    def open_demo(self) -> None:
        """Open the demo inventory in the data folder, building it the first time."""
        path = demo_inventory_path()
        if path.exists():
            self.open_inventory(path)
            return
        from core.demo import build_demo

        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            inventory = build_demo(path)
        except (LedgerError, OSError) as exc:
            QMessageBox.critical(self, "Cannot create the demo inventory", literal(str(exc)))
            return
        finally:
            QApplication.restoreOverrideCursor()
        self.set_inventory(inventory)
        self.show_page("models")

    def save_copy(self) -> None:
        if not self.inventory:
            return
        suggestion = self.inventory.path.with_name(f"{self.inventory.name} copy{INVENTORY_SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(self, "Save a copy", str(suggestion), FILE_FILTER)
        if not path:
            return
        try:
            written = self.inventory.save_copy(path)
        except (LedgerError, OSError) as exc:
            QMessageBox.critical(self, "Cannot save a copy", literal(str(exc)))
            return
        self.statusBar().showMessage(f"Saved a copy as {written}", 8000)

    def close_inventory(self) -> None:
        self._discard_inventory()
        self.settings.set_last_inventory(None)
        self._show_no_inventory()

    # -- pages ------------------------------------------------------------------------

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
            elif key == "reference":
                from ui.reference_page import ReferenceDataPage  # reads the shipped tables

                assert self.inventory is not None and self.editor is not None
                page = ReferenceDataPage(self.inventory, self.editor)
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
            self.stack.setCurrentWidget(self._page("dashboard"))

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

    # -- import and export --------------------------------------------------------------

    def start_import(self, files: list[Path] | None = None) -> None:
        """Open the import wizard (on ``files`` if given; else it asks for them)."""
        if self.inventory is None or self.editor is None:
            return
        from ui.import_wizard import IMPORT_FILTER, ImportWizard

        if not files:
            start = str(self.inventory.path.parent)
            names, _ = QFileDialog.getOpenFileNames(self, "Import files", start, IMPORT_FILTER)
            if not names:
                return
            files = [Path(n) for n in names]
        wizard = ImportWizard(self.inventory, self.editor, files, self)
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.import_wizard = wizard
        wizard.open()

    def export_inventory(self) -> None:
        if self.inventory is not None:
            from ui.import_wizard import export_inventory_dialog

            export_inventory_dialog(self, self.inventory)

    def show_import_history(self) -> None:
        """File > Import History…: the recorded imports; undoing one goes through the
        editor, so Edit > Undo puts it back (``ui.import_history_dialog``)."""
        if self.inventory is None or self.editor is None or self.read_only_reason is not None:
            return
        from ui.import_history_dialog import ImportHistoryDialog

        dialog = None
        with self._reading():  # a damaged page found on the way: the restore offer
            dialog = ImportHistoryDialog(self.inventory, self.editor, self)
        if dialog is None:
            return
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.import_history = dialog
        dialog.open()

    def save_import_template(self) -> None:
        from ui.import_wizard import save_template_dialog

        save_template_dialog(self, self.inventory.path.parent if self.inventory else None)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self.inventory is not None and _import_paths(event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = _import_paths(event.mimeData().urls())
        if paths:
            event.acceptProposedAction()
            self.start_import(paths)

    # -- misc -------------------------------------------------------------------------

    def edit_inventory_settings(self) -> None:
        """Choose the embodied-emissions convention of this inventory (undoable)."""
        if self.inventory is None or self.editor is None:
            return
        from core.commands import SETTINGS, SetSetting

        labels = {
            "amortised": "Amortised: spread over the hardware's lifetime by hours used "
            "(what AI footprint tools do)",
            "capital-goods": "Capital goods: counted in full in the quarter bought "
            "(GHG Protocol Scope 3 category 2)",
        }
        values = SETTINGS["embodied_convention"]
        current = self.inventory.meta("embodied_convention", values[0]) or values[0]
        choice, ok = QInputDialog.getItem(
            self,
            "Inventory settings",
            "Embodied emissions of hardware:",
            [labels[v] for v in values],
            values.index(current),
            False,
        )
        if ok:
            chosen = values[[labels[v] for v in values].index(choice)]
            if chosen != current:
                self.editor.run(SetSetting("embodied_convention", chosen))

    def show_report_dialog(self) -> None:
        """File > Report… (Ctrl+P): the report dialog (``ui.report_dialog``)."""
        if self.inventory is None:
            return
        from ui.report_dialog import ReportDialog  # built on demand

        dialog = ReportDialog(self.inventory, self)
        dialog.exec()
        if (reports := self.pages.get("reports")) is not None:
            reports.refresh()  # a quarter may have been closed or reopened

    def show_about(self) -> None:
        from ui.about_dialog import AboutDialog  # built on demand

        dialog = AboutDialog(self.inventory.path if self.inventory else None, self)
        dialog.exec()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # the system palette changed
            # a widget with a style sheet keeps the palette it was polished with: the
            # navigation list stayed white when the system switched to a dark palette
            sheet = self.nav.styleSheet()
            self.nav.setStyleSheet("")  # setting the same text again changes nothing
            self.nav.setStyleSheet(sheet)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.set_window_geometry(self.saveGeometry())
        self.settings.set_splitter_state(self.splitter.saveState())
        self.settings.set_window_state(self.saveState())
        self.settings.sync()
        if self.inventory is not None:
            self.inventory.close()
            self.inventory = None
        self._release_claim()
        self._wait_for_daily_backups()
        super().closeEvent(event)


def _daily_backup(path: Path, done: threading.Event) -> tuple[Path, object]:
    """On a worker: ``(path, outcome)``, the outcome being the new daily backup of
    ``path``, the damage its check found (to offer the restore), or why it could not be
    made; sets ``done`` at the end."""
    try:
        return path, integrity.make_daily_backup(path)
    except InventoryDamagedError as exc:
        return path, exc
    except (LedgerError, OSError, sqlite3.Error) as exc:
        return path, str(exc)
    finally:
        done.set()


def _import_paths(urls: list) -> list[Path]:
    """The local files among dropped ``urls`` that the import wizard can read."""
    from ui.import_wizard import IMPORT_SUFFIXES

    paths = [Path(u.toLocalFile()) for u in urls if u.isLocalFile()]
    return [p for p in paths if p.suffix.lower() in IMPORT_SUFFIXES]
