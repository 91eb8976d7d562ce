"""Reading the open inventory on the UI thread, with a damaged file in mind.

A damaged page of the file (a large file is not checked whole when it opens) surfaces as
an SQLite error wherever a read meets it. Pages, dialogs and the Details dock read inside
:func:`catching_damage`, which hands that error to them to announce with their
``damaged`` signal (the window then closes the inventory and offers its automatic
backup), instead of letting SQLite's words reach an error box or the crash report.
Other errors go on as they are. Work on a worker thread uses ``ui.workers.reading``.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

from core import integrity
from core.errors import InventoryDamagedError


@contextlib.contextmanager
def catching_damage(report: Callable[[sqlite3.DatabaseError], object]) -> Iterator[None]:
    """A block that reads the inventory: damage SQLite reports on the way is passed to
    ``report`` (which announces it, once) instead of raised; other errors go on."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        if not integrity.is_damage(exc):
            raise
        report(exc)


def damage_error(path: Path, exc: sqlite3.DatabaseError) -> InventoryDamagedError:
    """The error the window offers the restore with, for SQLite's report ``exc`` of
    damage in the inventory file at ``path`` (it looks for the file's sound automatic
    backups, so it is made once, when the damage is first announced)."""
    return integrity.damaged(Path(path), f"SQLite reports: {exc}")
