"""Edits that would change a closed quarter's figures ask first (``core.closing``).

:class:`GuardedEditor` is the main window's :class:`ui.undo.InventoryEditor` with every
command (and its undo and redo) wrapped in :class:`core.closing.GuardedCommand`: when the
edit would restate a closed period, :class:`RestatementDialog` lists the old and new
figures and asks for the reason. Declining leaves the inventory unchanged.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.closing import GuardedCommand, Restatement
from core.commands import Command
from core.report_model import format_number, format_percent
from ui.undo import InventoryEditor


class RestatementDialog(QDialog):
    """Lists the figures an edit would restate and asks why."""

    def __init__(self, changes: list[Restatement], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Restate a closed quarter?")
        periods = ", ".join(sorted({c.period_label for c in changes}))
        text = QLabel(
            f"This edit changes the reported figures of the closed period {periods}. "
            "If you save it, the change is recorded as a restatement (old value, new value "
            "and your reason) and the next report lists it."
        )
        text.setWordWrap(True)
        table = QTableWidget(len(changes), 5)
        table.setHorizontalHeaderLabels(["Period", "Figure", "Reported", "Restated", "Change"])
        for row, c in enumerate(changes):
            change = (c.new_value - c.old_value) / c.old_value if c.old_value else None
            cells = [
                c.period_label,
                c.label,
                f"{format_number(c.old_value)} {c.unit}",
                f"{format_number(c.new_value)} {c.unit}",
                format_percent(change, signed=True),
            ]
            for col, value in enumerate(cells):
                item = QTableWidgetItem(value)
                if col >= 2:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                table.setItem(row, col, item)
        table.resizeColumnsToContents()
        table.verticalHeader().hide()
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Reason for the restatement (required)")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText("Save and Restate")
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.reason.textChanged.connect(self._on_reason_text_changed)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(table)
        layout.addWidget(QLabel("Reason:"))
        layout.addWidget(self.reason)
        layout.addWidget(self.buttons)
        self.resize(620, 320)

    def _on_reason_text_changed(self, text: str) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(bool(text.strip()))


def ask_reason(changes: list[Restatement], parent: QWidget | None = None) -> str | None:
    """The reason for restating, or None when the user cancels."""
    dialog = RestatementDialog(changes, parent)
    if dialog.exec() == QDialog.DialogCode.Accepted:
        return dialog.reason.text().strip() or None
    return None


class GuardedEditor(InventoryEditor):
    """An :class:`InventoryEditor` whose edits warn before restating a closed period."""

    def run(self, command: Command) -> bool:
        parent = self.parent() if isinstance(self.parent(), QWidget) else None
        guarded = GuardedCommand(command, lambda changes: ask_reason(changes, parent))
        return super().run(guarded)  # type: ignore[arg-type]
