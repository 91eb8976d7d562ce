"""Edits through ``core.commands`` on a QUndoStack.

``InventoryEditor`` applies a command first (so errors reach the user as a message and
nothing is pushed), then pushes an ``InventoryUndoCommand`` holding its inverse. Undo
and redo each apply the stored inverse and keep the inverse of that.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from core.commands import Command
from core.errors import LedgerError
from core.inventory import Inventory


class InventoryUndoCommand(QUndoCommand):
    def __init__(self, editor: InventoryEditor, inverse: Command, text: str):
        super().__init__(text)
        self._editor = editor
        self._inverse = inverse
        self._applied = True  # pushed after the edit was already made

    def redo(self) -> None:
        if self._applied:
            self._applied = False  # QUndoStack.push calls redo once: the edit is done
            return
        self._swap()

    def undo(self) -> None:
        self._swap()

    def _swap(self) -> None:
        inverse = self._inverse
        try:
            self._inverse = inverse.apply(self._editor.inventory)
        except LedgerError as exc:
            self._editor.edit_failed.emit(str(exc))
            self.setObsolete(True)
            return
        self._editor.edited.emit(inverse.tables)


class InventoryEditor(QObject):
    """The one way the UI changes an inventory."""

    #: frozenset of table names whose rows changed
    edited = Signal(object)
    #: a message for the user; the inventory is unchanged
    edit_failed = Signal(str)

    def __init__(self, inventory: Inventory, parent: QObject | None = None):
        super().__init__(parent)
        self.inventory = inventory
        self.stack = QUndoStack(self)

    def run(self, command: Command) -> bool:
        """Apply ``command``; on success push it for undo and return True."""
        try:
            inverse = command.apply(self.inventory)
        except LedgerError as exc:
            self.edit_failed.emit(str(exc))
            return False
        self.stack.push(InventoryUndoCommand(self, inverse, command.description))
        self.edited.emit(command.tables)
        return True
