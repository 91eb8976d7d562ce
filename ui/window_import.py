"""The main window's import and export actions (and spreadsheets dropped on it), as a
mixin of ``ui.main_window.MainWindow``."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog


class WindowImportMixin:
    """File > Import…, Export…, Import History… and Save Import Template…; needs the
    window's ``inventory``, ``editor`` and ``_reading`` (``ui.window_backup``)."""

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


def _import_paths(urls: list) -> list[Path]:
    """The local files among dropped ``urls`` that the import wizard can read."""
    from ui.import_wizard import IMPORT_SUFFIXES

    paths = [Path(u.toLocalFile()) for u in urls if u.isLocalFile()]
    return [p for p in paths if p.suffix.lower() in IMPORT_SUFFIXES]
