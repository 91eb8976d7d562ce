"""Exceptions the core raises for conditions a user can act on.

Every message is a complete sentence that names the file or record and says what to do;
the UI and the CLI show it as it is.
"""

from __future__ import annotations

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


class ImportCancelled(LedgerError):
    """The user cancelled an import or export; nothing was written."""


class ImportInvalidError(LedgerError):
    """Rows of an import are invalid and were not skipped; ``problems`` lists them."""

    def __init__(self, message: str, problems: list | None = None):
        super().__init__(message)
        self.problems = list(problems or [])
