"""Edits through ``core.commands`` on a QUndoStack.

``InventoryEditor`` applies a command first (so errors reach the user as a message and
nothing is pushed), then pushes an ``InventoryUndoCommand`` holding its inverse. Undo
and redo each apply the stored inverse and keep the inverse of that.

An edit SQLite refuses (another program holds the write lock past the busy timeout, a
full disk, a read-only file) is a message too, since the edit's transaction left the
inventory unchanged (``core.errors.storage_error``); a damaged file is announced with
:attr:`InventoryEditor.damaged`, for the window to offer the automatic backup. Other
SQLite errors are bugs and reach the crash report.
"""

from __future__ import annotations

import sqlite3

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from core.commands import Command
from core.errors import InventoryDamagedError, LedgerError, storage_error
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
        new_inverse = self._editor.apply(inverse)
        if new_inverse is None:
            self.setObsolete(True)
            return
        self._inverse = new_inverse
        self._editor.edited.emit(inverse.tables)


class InventoryEditor(QObject):
    """The one way the UI changes an inventory."""

    #: frozenset of table names whose rows changed
    edited = Signal(object)
    #: a message for the user; the inventory is unchanged
    edit_failed = Signal(str)
    #: the inventory file turned out damaged during an edit (an InventoryDamagedError);
    #: the edit was not saved
    damaged = Signal(object)

    def __init__(self, inventory: Inventory, parent: QObject | None = None):
        super().__init__(parent)
        self.inventory = inventory
        self.stack = QUndoStack(self)
        #: why the last edit (or undo, redo) was refused; None after one that succeeded
        self.last_error: LedgerError | None = None

    def run(self, command: Command) -> bool:
        """Apply ``command``; on success push it for undo and return True."""
        inverse = self.apply(command)
        if inverse is None:
            return False
        self.stack.push(InventoryUndoCommand(self, inverse, command.description))
        self.edited.emit(command.tables)
        return True

    def apply(self, command: Command) -> Command | None:
        """Apply ``command`` and return its inverse; on a refusal say why (signals) and
        return None: nothing was changed."""
        try:
            inverse = command.apply(self.inventory)
        except LedgerError as exc:
            self._refused(exc)
            return None
        except sqlite3.DatabaseError as exc:
            error = storage_error(self.inventory.path, exc, during="edit")
            if error is None:
                raise
            self._refused(error)
            return None
        self.last_error = None
        return inverse

    def _refused(self, error: LedgerError) -> None:
        self.last_error = error
        if isinstance(error, InventoryDamagedError):
            self.damaged.emit(error)
        else:
            self.edit_failed.emit(str(error))
