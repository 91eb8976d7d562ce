"""The main window's daily backup and its handling of damage found while working,
as a mixin of ``ui.main_window.MainWindow``."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from core import integrity, leftovers
from core.errors import InventoryDamagedError, LedgerError
from ui.workers import run_task

log = logging.getLogger("ai_carbon_ledger")


class DailyBackupRun:
    """A daily backup a worker is making: ``cancel`` asks it to stop (it then leaves no
    temporary file); ``done`` is set when the worker has finished, whichever way."""

    def __init__(self) -> None:
        self.cancel = threading.Event()
        self.done = threading.Event()


class WindowBackupMixin:
    """Makes the open inventory's daily backup on a worker, and closes a damaged
    inventory with the restore offer; needs the window's ``damage_found`` signal,
    ``_daily_backups`` and ``inventory``."""

    def start_daily_backup(self) -> bool:
        """Back up the open inventory on a worker thread if its newest daily backup is a
        day old or missing (``core.integrity.make_daily_backup``: about 0.7 s for a
        121 MB inventory, copy and check, none of it on this thread). Whether one
        started.

        Called when an inventory is opened for editing, which is also when the
        temporary files a killed app or command left beside it are removed (on another
        worker: ``core.leftovers``; a large one takes a moment to delete)."""
        if self.inventory is None or self.read_only_reason is not None:
            return False
        path = self.inventory.path
        run_task(lambda: _remove_leftovers(path), lambda _removed: None, lambda _message: None)
        if path in self._daily_backups:
            return False
        try:
            if not integrity.daily_backup_due(path):
                return False
        except OSError:
            return False
        backup = DailyBackupRun()
        self._daily_backups[path] = backup
        run_task(
            lambda: _daily_backup(path, backup),
            self._on_daily_backup_finished,
            self._on_daily_backup_failed,
        )
        return True

    @property
    def daily_backups_running(self) -> frozenset[Path]:
        """The inventories whose daily backup was started and has not reported back."""
        return frozenset(self._daily_backups)

    def _forget_finished_backups(self) -> None:
        for path, backup in list(self._daily_backups.items()):
            if backup.done.is_set():
                del self._daily_backups[path]

    def _on_daily_backup_finished(self, result: tuple[Path, object]) -> None:
        self._forget_finished_backups()
        path, outcome = result
        if isinstance(outcome, InventoryDamagedError):
            self.damage_found.emit(outcome)
        elif isinstance(outcome, str) and self.inventory and self.inventory.path == path:
            # no backup today (a full disk, say): the inventory itself is unchanged
            self.statusBar().showMessage(f"The daily backup was not made: {outcome}", 15000)

    def _on_daily_backup_failed(self, _message: str) -> None:
        self._forget_finished_backups()

    def _wait_for_daily_backups(self, grace: float = 2.0, seconds: float = 10.0) -> None:
        """At quit: let a backup under way finish for at most ``grace`` seconds (a
        small inventory's takes well under that), then cancel it and wait for its
        worker to stop (within a step of the copy, a few ms; at most ``seconds``), so
        that no temporary file is left behind when the process ends."""
        backups = list(self._daily_backups.values())
        deadline = time.monotonic() + grace
        for backup in backups:
            backup.done.wait(max(0.0, deadline - time.monotonic()))
        for backup in backups:
            backup.cancel.set()
        deadline = time.monotonic() + seconds
        for backup in backups:
            backup.done.wait(max(0.0, deadline - time.monotonic()))

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Reads of the open inventory: a damaged page found on the way (in a file too
        large to check at open) is reported as damage, with the restore offer, instead
        of reaching the crash report."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            if self.inventory is None or not integrity.is_damage(exc):
                raise
            self.damage_found.emit(integrity.damaged(self.inventory.path, f"SQLite reports: {exc}"))

    def _on_damage_found(self, error: InventoryDamagedError) -> None:
        """Close the damaged inventory (writing nothing more to it) and offer to restore
        its newest sound automatic backup to a new file, as opening it would have."""
        if self.inventory is None or error.path is None:
            return
        if Path(error.path).resolve() != self.inventory.path.resolve():
            return  # already handled (several reads found it), or another file by now
        self.inventory.close(optimize=False)
        self.close_inventory()
        from ui.restore_backup import offer_restore

        restored = offer_restore(self, error)
        if restored is not None:
            self.open_inventory(restored)


def _daily_backup(path: Path, backup: DailyBackupRun) -> tuple[Path, object]:
    """On a worker: ``(path, outcome)``, the outcome being the new daily backup of
    ``path``, the damage its check found (to offer the restore), or why it could not be
    made (or that it was cancelled); sets ``backup.done`` at the end."""
    try:
        return path, integrity.make_daily_backup(path, cancel=backup.cancel.is_set)
    except InventoryDamagedError as exc:
        return path, exc
    except (LedgerError, OSError, sqlite3.Error) as exc:
        return path, str(exc)
    finally:
        backup.done.set()


def _remove_leftovers(path: Path) -> list[Path]:
    """On a worker: remove the stale temporary files beside ``path`` and log them."""
    removed = leftovers.remove_leftovers(path)
    for leftover in removed:
        log.info("removed a temporary file that interrupted work left: %s", leftover)
    return removed
