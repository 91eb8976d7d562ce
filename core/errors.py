"""Exceptions the core raises for conditions a user can act on.

Every message is a complete sentence that names the file or record and says what to do;
the UI and the CLI show it as it is.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path


class LedgerError(Exception):
    """Base class: a problem the user can fix; ``str(error)`` is the message to show."""


class InventoryOpenError(LedgerError):
    """The file cannot be opened as an inventory (missing, unreadable, wrong kind)."""


class NotAnInventoryError(InventoryOpenError):
    """The file exists but is not an AI Carbon Ledger inventory."""


class InventoryDamagedError(InventoryOpenError):
    """The file was an inventory but is damaged (cut off, overwritten); it is left
    untouched. ``backups``: automatic backups of it, newest first (``core.integrity``)."""

    def __init__(self, message: str, path: Path | None = None, backups: Sequence[Path] = ()):
        super().__init__(message)
        self.path = path
        self.backups = list(backups)


class NewerSchemaError(InventoryOpenError):
    """The inventory was written by a newer version of the app; it is left untouched."""


class InventoryExistsError(LedgerError):
    """Creating an inventory where a non-empty file already exists."""


class ValidationError(LedgerError):
    """A record has invalid fields; ``problems`` maps field name to reason."""

    def __init__(self, message: str, problems: dict[str, str] | None = None):
        super().__init__(message)
        self.problems = dict(problems or {})


class InUseError(LedgerError):
    """A record cannot be deleted because others still refer to it."""


class RecordNotFoundError(LedgerError):
    """A record id that is not (or no longer) in the inventory."""


class PeriodError(LedgerError):
    """A reporting period that cannot be understood."""


class ImportReadError(LedgerError):
    """A file to import cannot be read (wrong type, encrypted, corrupt, empty, too big)."""


class Cancelled(LedgerError):
    """The user (or the app, when it is closed) cancelled a long operation: an import,
    an export, a copy, a backup or a check of one; nothing was written."""


class ImportCancelled(Cancelled):
    """The user cancelled an import or export; nothing was written."""


class ImportInvalidError(LedgerError):
    """Rows of an import are invalid and were not skipped; ``problems`` lists them."""

    def __init__(self, message: str, problems: list | None = None):
        super().__init__(message)
        self.problems = list(problems or [])


class OutputWriteError(LedgerError):
    """An output file (report, export, list of refused rows) could not be written; the
    message names that file and says what was kept. ``path``: the output file (not the
    inventory, which an output never changes)."""

    def __init__(self, message: str, path: Path | None = None):
        super().__init__(message)
        self.path = path


class RecordChangedError(LedgerError):
    """An edit was refused because another program changed the same fields of the
    record after it was read (``core.commands.UpdateRecord`` with expected values);
    ``fields`` maps each such field to its value now. Nothing was saved."""

    def __init__(self, message: str, fields: dict[str, object] | None = None):
        super().__init__(message)
        self.fields = dict(fields or {})


class StorageError(LedgerError):
    """SQLite could not write (or read) the inventory file: another program holds the
    write lock, the disk is full, the file is read-only. Every write is one transaction,
    so nothing was changed. ``path``: the inventory."""

    def __init__(self, message: str, path: Path | None = None):
        super().__init__(message)
        self.path = path


class InventoryBusyError(StorageError):
    """Another program held the inventory's write lock longer than the busy timeout."""


class DiskFullError(StorageError):
    """The disk holding the inventory (or SQLite's temporary files) is full."""


class InventoryReadOnlyError(StorageError):
    """The inventory file, its folder or its disk cannot be written."""


#: words in SQLite's error texts that say why a write failed (``sqlite3_errstr``)
_FULL_SIGNS = ("full",)
_READ_ONLY_SIGNS = ("readonly", "read-only")
_BUSY_SIGNS = ("locked", "busy")


def storage_error(
    path: str | os.PathLike[str], exc: BaseException, *, during: str = "command"
) -> LedgerError | None:
    """The :class:`LedgerError` to show for an SQLite error ``exc`` that stopped a read
    or write of the inventory at ``path``; None when it is none of the known conditions
    (a programming error: let it reach the crash report).

    - damaged content: :class:`InventoryDamagedError` naming the automatic backup;
    - disk full: :class:`DiskFullError`; read-only: :class:`InventoryReadOnlyError`;
    - another program writing past the busy timeout: :class:`InventoryBusyError`.

    ``during``: ``"command"`` (a command-line command stopped) or ``"edit"`` (a change
    made in the app was not saved); only the wording differs.
    """
    if not isinstance(exc, sqlite3.DatabaseError):
        return None
    from core import integrity  # integrity imports this module

    if integrity.is_damage(exc):
        return integrity.damaged(Path(path), f"SQLite reports: {exc}")
    text = str(exc)
    if any(s in text for s in _FULL_SIGNS):
        cls: type[StorageError] = DiskFullError
        why = "the disk is full; free some space and try again"
        edit = (
            "the disk holding it is full, so your change was not saved and nothing was "
            "changed. Free some space on the disk and try again."
        )
    elif any(s in text for s in _READ_ONLY_SIGNS):
        cls = InventoryReadOnlyError
        why = "the file or its folder is read-only; copy it somewhere you can write"
        edit = (
            "the file, its folder or its disk cannot be written, so your change was not "
            "saved and nothing was changed. Copy the inventory to a folder you can write "
            "to and open the copy."
        )
    elif any(s in text for s in _BUSY_SIGNS):
        cls = InventoryBusyError
        why = "another program is writing it; try again when it has finished"
        edit = (
            "another program is writing this inventory and did not finish in time, so "
            "your change was not saved and nothing was changed. Try again in a moment."
        )
    else:
        return None
    if during == "edit":
        return cls(f"{path}: {edit}", Path(path))
    return cls(f"{path}: the command stopped and nothing was changed ({why}).", Path(path))


def database_error_message(path: str | os.PathLike[str], exc: BaseException) -> str:
    """One sentence for an SQLite error that escaped a command-line command; nothing was
    saved, since every write is one transaction."""
    error = storage_error(path, exc, during="command")
    if error is not None:
        return str(error)
    return f"{path}: the command stopped and nothing was changed (SQLite reports: {exc})."
