"""Offering to restore the automatic backup of a damaged inventory.

The damaged file is never written: the backup is copied to a new file beside it
(``core.integrity.restore_backup``), which then opens. The user keeps the damaged file
for whoever may recover more from it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from core.errors import InventoryDamagedError, LedgerError
from core.integrity import backup_time, restore_backup
from ui.plain_text import literal

RESTORE_TEXT = "Restore Backup to a New File"
#: what a page or dialog says in place of figures when the engine found the inventory
#: file damaged (the window's message, :func:`offer_restore`, says what to do)
DAMAGED_FIGURES_TEXT = (
    "The figures could not be computed: the inventory file is damaged. See the message "
    "about it to restore its automatic backup; the damaged file is not changed."
)


def offer_restore(parent: QWidget | None, error: InventoryDamagedError) -> Path | None:
    """Say that the inventory is damaged; if it has an automatic backup, offer to
    restore the newest one to a new file. Returns the restored file, or None."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle("Inventory damaged")
    box.setTextFormat(Qt.TextFormat.PlainText)  # paths and SQLite's words shown as they are
    box.setText(str(error))
    restore = None
    if error.backups and error.path is not None:
        backup = error.backups[0]
        when = backup_time(backup)
        box.setInformativeText(
            f"Restoring copies the backup{' of ' + when.strftime('%Y-%m-%d %H:%M') if when else ''}"
            f" to a new file beside it and opens that. It holds the inventory as it was "
            f"then; the damaged file {error.path.name} is kept as it is."
        )
        restore = box.addButton(RESTORE_TEXT, QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(restore)
    else:
        box.addButton(QMessageBox.StandardButton.Close)
    box.exec()
    if restore is None or box.clickedButton() is not restore:
        return None
    try:
        return restore_backup(error.backups[0], error.path)
    except (LedgerError, OSError) as exc:
        QMessageBox.critical(parent, "Cannot restore the backup", literal(str(exc)))
        return None
