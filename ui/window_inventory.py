"""Opening, creating and closing the main window's inventory, as a mixin of
``ui.main_window.MainWindow``."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QListWidgetItem,
    QMessageBox,
    QWidget,
)

from core import APP_NAME, INVENTORY_SUFFIX, integrity
from core.errors import Cancelled, InventoryDamagedError, LedgerError
from core.inventory import Inventory
from ui.import_jobs import Cancel, Job, JobProgressDialog, Progress, reading_inventory
from ui.plain_text import literal
from ui.settings import demo_inventory_path
from ui.welcome import WelcomePanel
from ui.window_pages import NAV_PAGES
from ui.workers import run_task

if TYPE_CHECKING:
    from ui.single_instance import InventoryClaim

FILE_FILTER = f"AI Carbon Ledger inventories (*{INVENTORY_SUFFIX});;All files (*)"


class WindowInventoryMixin:
    """Shows an inventory in the window (claiming it, or read-only) and puts it away
    again; the File menu's New, Open, Open Demo, Save a Copy and Close."""

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
        for action in self._inventory_actions():
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

    def _inventory_actions(self) -> tuple[QAction, ...]:
        """The actions that need an open inventory (one list for enabling and disabling)."""
        return (
            *self.page_actions,
            self.save_copy_action,
            self.close_action,
            self.settings_action,
            self.import_action,
            self.import_history_action,
            self.export_action,
            self.report_action,
        )

    def _show_no_inventory(self, *, panel: bool = True) -> None:
        self._install_undo_actions()
        self.nav.setEnabled(False)
        for action in self._inventory_actions():
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

    #: the copy File > Save a Copy is making (one at a time), or None
    _copy_job: Job | None = None

    @property
    def copy_running(self) -> bool:
        """Whether a copy started by File > Save a Copy has not reported back yet."""
        return self._copy_job is not None

    def save_copy(self) -> None:
        """File > Save a Copy…: a checked copy of the open inventory.

        SQLite's backup copies the file's pages as they are, damaged ones too, so the
        copy is made under a temporary name beside the destination and checked
        (``PRAGMA quick_check``) before it takes the name: a damaged inventory (a page
        overwritten in a file too large to check at open) leaves no copy and nothing
        replaced, and brings the window's restore offer instead.

        Copy and check run on a worker (a 1 GB inventory takes seconds) behind a
        window-modal :class:`SaveCopyDialog` with Cancel, which leaves no copy and no
        temporary file; the worker reads the file through a connection of its own.
        """
        if not self.inventory or self._copy_job is not None:
            return
        suggestion = self.inventory.path.with_name(f"{self.inventory.name} copy{INVENTORY_SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(self, "Save a copy", str(suggestion), FILE_FILTER)
        if path:
            self._start_checked_copy(Path(path))

    def _start_checked_copy(self, dest: Path) -> Job | None:
        """Start copying the open inventory to ``dest`` through a checked temporary
        copy; the job, or None when it was refused (and said so)."""
        assert self.inventory is not None
        inventory = self.inventory
        if dest.resolve() == inventory.path.resolve():
            QMessageBox.critical(
                self, "Cannot save a copy", literal(f"{dest}: that is the open inventory itself.")
            )
            return None

        def work(progress: Progress, cancel: Cancel) -> Path:
            return _checked_copy(inventory, dest, progress, cancel)

        job = Job(reading_inventory(inventory.path, work), self)
        self._copy_job = job
        SaveCopyDialog(job, self)  # first to hear the end: it is gone before a message
        job.finished.connect(self._on_copy_job_finished)
        job.failed.connect(self._on_copy_job_failed)
        job.cancelled.connect(self._on_copy_job_cancelled)
        job.damaged.connect(self._on_copy_job_damaged)  # damage met by the copy: the offer
        return job.start()

    def _end_copy_job(self) -> None:
        if self._copy_job is not None:
            self._copy_job.deleteLater()
            self._copy_job = None

    def _on_copy_job_finished(self, written: Path) -> None:
        self._end_copy_job()
        self.statusBar().showMessage(f"Saved a copy as {written}", 8000)

    def _on_copy_job_failed(self, message: str) -> None:
        self._end_copy_job()
        QMessageBox.critical(self, "Cannot save a copy", literal(message))

    def _on_copy_job_cancelled(self) -> None:
        self._end_copy_job()
        self.statusBar().showMessage("The copy was cancelled; nothing was written.", 8000)

    def _on_copy_job_damaged(self, error: InventoryDamagedError) -> None:
        # nothing copied: the damaged file is closed, as is, and its backup offered
        self._end_copy_job()
        self.damage_found.emit(error)

    def close_inventory(self) -> None:
        self._discard_inventory()
        self.settings.set_last_inventory(None)
        self._show_no_inventory()


#: the copy's progress is reported as ``(done, COPY_STEPS)`` (per mille of its pages)...
COPY_STEPS = 1000
#: ...and its check, which cannot say how far it has got, as ``CHECKING``
CHECKING = (0, 0)


class SaveCopyDialog(JobProgressDialog):
    """The progress of a copy by File > Save a Copy: "Saving a copy…" over a bar showing
    the share copied (the bar says the percentage; the label does not repeat it), then
    "Checking the copy…" over a busy bar, with Cancel. Window-modal, so that the window is not used
    while it copies (it would not matter: the copy reads one committed state).

    Cancel asks the job to stop and says so; the dialog closes when the job reports back.
    """

    CANCELLING = "Cancelling… no copy is left."
    SAVING = "Saving a copy…"

    def __init__(self, job: Job, parent: QWidget | None = None):
        super().__init__(job, "Save a copy", parent)
        self.setMinimumWidth(360)
        self.setRange(0, COPY_STEPS)
        self.setValue(0)
        self.setLabelText(self.SAVING)
        job.damaged.connect(self._on_job_ended)  # the window offers the restore

    def _on_job_progressed(self, done: int, total: int | None) -> None:
        if self._job.cancel_requested or total is None:
            return
        if (done, total) == CHECKING:
            self.setRange(0, 0)  # busy: SQLite's check says nothing of how far it is
            self.setLabelText("Checking the copy…")
            return
        self.setRange(0, total)
        self.setValue(min(done, total))
        self.setLabelText(self.SAVING)


def _checked_copy(inventory: Inventory, dest: Path, progress: Progress, cancel: Cancel) -> Path:
    """On a worker: copy ``inventory`` under a temporary name beside ``dest``, check the
    copy and give it ``dest``'s name; ``dest``. Progress as ``(per mille, COPY_STEPS)``
    while copying, then :data:`CHECKING`.

    Raises :class:`InventoryDamagedError` when the check finds the copy (so the
    inventory) damaged, :class:`Cancelled` when ``cancel()`` stopped it, and an
    :class:`OSError` as a :class:`LedgerError` with its words as they are (the pool would
    put the exception's name before them). Whatever stops it leaves nothing behind.
    """
    checking: Path | None = None
    try:
        fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".checking", dir=dest.parent)
        os.close(fd)
        checking = Path(name)
        # a connection of its own (the window's belongs to the UI thread)
        inventory.save_copy(
            checking, lambda fraction: progress(round(fraction * COPY_STEPS), COPY_STEPS), cancel
        )
        progress(*CHECKING)
        problem = _copy_problem(checking, cancel)
        if problem is not None:
            raise integrity.damaged(inventory.path, problem)
        if cancel():
            raise Cancelled("The copy was cancelled; nothing was written.")
        os.replace(checking, dest)
    except OSError as exc:
        raise LedgerError(str(exc)) from exc
    finally:
        if checking is not None:
            checking.unlink(missing_ok=True)
    return dest


def _copy_problem(copy: Path, cancel: Cancel | None = None) -> str | None:
    """What SQLite's check finds damaged in a fresh ``copy`` of the inventory, or None
    when it is sound (``core.integrity.copy_problem``); ``cancel()`` returning true
    stops the check with :class:`Cancelled`."""
    problem = integrity.copy_problem(copy, cancel, "The copy was cancelled; nothing was written.")
    return None if problem is None else f"SQLite's check of a copy reports: {problem}"
