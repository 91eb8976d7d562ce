"""The main window's import and export actions (and spreadsheets dropped on it), as a
mixin of ``ui.main_window.MainWindow``."""

from __future__ import annotations

import functools
import sqlite3
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog

from core.errors import InventoryDamagedError
from ui.damage_guard import catching_damage, damage_error


class WindowImportMixin:
    """File > Import…, Export…, Import History… and Save Import Template…; needs the
    window's ``inventory``, ``editor`` and ``_reading`` (``ui.window_backup``)."""

    def start_import(self, files: list[Path] | None = None) -> None:
        """Open the import wizard (on ``files`` if given; else it asks for them)."""
        if self.inventory is None or self.editor is None:
            return
        from ui.import_wizard import IMPORT_FILTER

        if not files:
            start = str(self.inventory.path.parent)
            names, _ = QFileDialog.getOpenFileNames(self, "Import files", start, IMPORT_FILTER)
            if not names:
                return
            files = [Path(n) for n in names]
        wizard = None
        with self._reading():  # a damaged page met while it is built: the restore offer
            wizard = _window_wizard_class()(self.inventory, self.editor, files, self)
        if wizard is None:
            return
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        wizard.damaged.connect(self.damage_found)  # met by a page: it closes itself then
        self.editor.destroyed.connect(wizard.reject)  # the inventory was closed
        self.import_wizard = wizard
        with self._reading():  # its first page is set up as it opens
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
        dialog.damaged.connect(self.damage_found)  # met once open: it closes itself then
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


@functools.cache
def _window_wizard_class() -> Any:
    """The import wizard as the window runs it (built on first use, as the wizard's
    modules are loaded only then): its pages read the lists they offer (the
    inventory's records, the saved presets) from the window's connection as they are
    set up and left, so a damaged page of the file met there is announced with
    ``damaged`` (once; the wizard closes, the window offers the backup) instead of
    reaching the crash report with SQLite's words. So is damage met by the pages'
    buttons and by the jobs' results shown (``report_damage``, through
    ``ui.import_jobs.catching_wizard_damage``), and by its jobs on the worker (each
    reads through ``ui.import_jobs.reading_inventory``) instead of a failure message.
    Other errors go on as before."""
    from ui.import_jobs import Job, JobFn, reading_inventory
    from ui.import_wizard import ImportWizard

    class WindowImportWizard(ImportWizard):
        #: the inventory file is damaged (an InventoryDamagedError), met by a page
        damaged = Signal(object)

        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            self._damage_reported = False

        def initializePage(self, page_id: int) -> None:
            with catching_damage(self.report_damage):
                super().initializePage(page_id)

        def validateCurrentPage(self) -> bool:
            with catching_damage(self.report_damage):
                return super().validateCurrentPage()
            return False  # damaged: the wizard is closing

        def start_job(self, fn: JobFn) -> Job:
            # every job may open the inventory (those reading only the files never meet
            # SQLite): its damage is announced here, not shown as the job's failure
            job = super().start_job(reading_inventory(self.inventory.path, fn))
            job.damaged.connect(self._announce)
            job.damaged.connect(lambda _error, job=job: self._forget(job))
            return job

        def report_damage(self, exc: sqlite3.DatabaseError) -> None:
            """SQLite's report ``exc`` of damage met on the UI thread: announced once."""
            if not self._damage_reported:
                self._announce(damage_error(self.inventory.path, exc))

        def _announce(self, error: InventoryDamagedError) -> None:
            if self._damage_reported:
                return
            self._damage_reported = True
            self.damaged.emit(error)
            self.reject()  # nothing more can be read from the file

    return WindowImportWizard


def _import_paths(urls: list) -> list[Path]:
    """The local files among dropped ``urls`` that the import wizard can read."""
    from ui.import_wizard import IMPORT_SUFFIXES

    paths = [Path(u.toLocalFile()) for u in urls if u.isLocalFile()]
    return [p for p in paths if p.suffix.lower() in IMPORT_SUFFIXES]
