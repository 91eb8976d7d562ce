"""The one way the UI runs long work: a function on the global QThreadPool.

Results come back as signals to objects living on the main thread, so widgets are only
ever touched there. Work in ``core`` opens its own connection (SQLite connections belong
to the thread that made them).

Work that reads the inventory file runs through :func:`reading`, so that a damaged file
comes back as :class:`~core.errors.InventoryDamagedError` (with its automatic backups,
checked on the worker) rather than as SQLite's words; callers that tell failures apart
take the exception with ``run_task``'s ``on_error``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from core import integrity
from core.errors import LedgerError

T = TypeVar("T")


class TaskSignals(QObject):
    """Created on the main thread; emitted from the worker (queued to the main thread)."""

    finished = Signal(object)
    #: why the work failed, in words for the user
    failed = Signal(str)
    #: the same failure as (exception, words), emitted right after ``failed``
    failed_with = Signal(object, str)


class Task(QRunnable):
    def __init__(self, fn: Callable[[], Any]):
        super().__init__()
        self.fn = fn
        self.signals = TaskSignals()

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # shown to the user; the inventory is not touched here
            message = str(exc) if isinstance(exc, LedgerError) else f"{type(exc).__name__}: {exc}"
            self.signals.failed.emit(message)
            self.signals.failed_with.emit(exc, message)
        else:
            self.signals.finished.emit(result)


#: tasks started and not yet reported back: kept alive here, whoever asked for them (a
#: dialog closed mid-run must not free a task a pool thread is still running)
_RUNNING: set[Task] = set()


def run_task(
    fn: Callable[[], Any],
    on_finished: Callable[[Any], None],
    on_failed: Callable[[str], None] | None = None,
    *,
    on_error: Callable[[BaseException, str], None] | None = None,
) -> Task:
    """Run ``fn`` on the thread pool; call back on the main thread: ``on_finished`` with
    its result, or on failure ``on_failed`` with the words to show, or instead
    ``on_error`` with the exception and those words (to tell failures apart, a damaged
    inventory file from the rest)."""
    task = Task(fn)
    task.setAutoDelete(False)
    _RUNNING.add(task)
    task.signals.finished.connect(lambda _result: _RUNNING.discard(task))
    # let go after the last signal of a failure (``failed_with``), so that the task and
    # its signals outlive every queued call back
    task.signals.failed_with.connect(lambda _exc, _message: _RUNNING.discard(task))
    task.signals.finished.connect(on_finished)
    if on_error is not None:
        task.signals.failed_with.connect(on_error)
    elif on_failed is not None:
        task.signals.failed.connect(on_failed)
    QThreadPool.globalInstance().start(task)
    return task


def reading(path: Path, fn: Callable[[], T]) -> Callable[[], T]:
    """``fn`` for a worker, with SQLite's report of a damaged inventory file at ``path``
    raised as :class:`~core.errors.InventoryDamagedError` (``core.integrity.damaged``:
    it checks the automatic backups, so it runs on the worker too). Other errors, and
    the damage ``core`` already reports that way (``Inventory.open``), go on as they are.
    """

    def read() -> T:
        try:
            return fn()
        except sqlite3.DatabaseError as exc:
            if not integrity.is_damage(exc):
                raise
            raise integrity.damaged(Path(path), f"SQLite reports: {exc}") from exc

    return read
