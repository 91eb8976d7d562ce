"""The main window: navigation on the left, one page per inventory table on the right.

Pages are built when first shown, and the modules behind them (the table model with
numpy, the forms, the commands) are imported then: the empty window paints first.

The window is put together from mixins by domain: its actions and menus
(``ui.window_actions``), pages (``ui.window_pages``), opening and closing inventories
(``ui.window_inventory``), daily backup and damage handling (``ui.window_backup``) and
import and export (``ui.window_import``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QInputDialog,
    QLabel,
    QListWidget,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from core.inventory import Inventory
from ui.detail_panel import EntryDetailPanel
from ui.settings import SettingsStore
from ui.welcome import LoadingPage, NoInventoryPanel, WelcomePanel
from ui.window_actions import WindowActionsMixin
from ui.window_backup import DailyBackupRun, WindowBackupMixin
from ui.window_backup import _daily_backup as _daily_backup
from ui.window_import import WindowImportMixin
from ui.window_import import _import_paths as _import_paths
from ui.window_inventory import FILE_FILTER, WindowInventoryMixin
from ui.window_pages import (
    EDITING_PAGES,
    NAV_LABELS,
    NAV_PAGES,
    PLACEHOLDERS,
    WindowPagesMixin,
)

if TYPE_CHECKING:
    from core.dashboard_session import DashboardSession
    from ui.single_instance import InventoryClaim
    from ui.undo import InventoryEditor

__all__ = ["EDITING_PAGES", "FILE_FILTER", "NAV_LABELS", "NAV_PAGES", "PLACEHOLDERS", "MainWindow"]


class MainWindow(
    WindowActionsMixin,
    WindowPagesMixin,
    WindowInventoryMixin,
    WindowBackupMixin,
    WindowImportMixin,
    QMainWindow,
):
    #: the open inventory turned out damaged (an InventoryDamagedError): while reading a
    #: page, saving an edit, computing on a worker (dashboard, details, explanation,
    #: report) or checking the daily backup's copy. Handled once control is
    #: back in the event loop (:meth:`_on_damage_found`), never inside the code that
    #: found it (an undo in progress, a page being built).
    damage_found = Signal(object)

    def __init__(self, settings: SettingsStore | None = None, *, opening: bool = False):
        """``opening``: an inventory is about to be opened (see :meth:`show_opening`)."""
        super().__init__()
        self.damage_found.connect(self._on_damage_found, Qt.ConnectionType.QueuedConnection)
        #: daily backups a worker is making, by inventory (until they report back)
        self._daily_backups: dict[Path, DailyBackupRun] = {}
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
        self.details.damaged.connect(self.damage_found)  # found by its engine, on a worker
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
        current = None
        with self._reading():  # a damaged page met here: the restore offer
            current = self.inventory.meta("embodied_convention", values[0]) or values[0]
        if current is None:
            return
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
        dialog.damaged.connect(self.damage_found)  # it closes itself then
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

    #: at close, how long the workers still running may take to stop (ms)
    WORKERS_WAIT_MS = 10_000

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing the window ends the app (also on SIGTERM, SIGINT or SIGHUP:
        ``ui.app``): work under way on a worker is cancelled or finishes, and removes
        its temporary files, before the process can end under it."""
        self.settings.set_window_geometry(self.saveGeometry())
        self.settings.set_splitter_state(self.splitter.saveState())
        self.settings.set_window_state(self.saveState())
        self.settings.sync()
        self.hide()  # gone at once, even while the workers below stop
        if self._copy_job is not None:  # Save a Copy still running: it leaves nothing
            self._copy_job.cancel()
        self._wait_for_daily_backups()
        # a worker cut off by the interpreter's exit would leave its temporary file: let
        # the cancelled copy (and anything else still running) stop, within a bound
        QThreadPool.globalInstance().waitForDone(self.WORKERS_WAIT_MS)
        if self.inventory is not None:  # last: the last connection to close ends the WAL
            self.inventory.close()
            self.inventory = None
        self._release_claim()
        super().closeEvent(event)
