"""The one way the UI runs long work: a function on the global QThreadPool.

Results come back as signals to objects living on the main thread, so widgets are only
ever touched there. Work in ``core`` opens its own connection (SQLite connections belong
to the thread that made them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from core.errors import LedgerError


class TaskSignals(QObject):
    """Created on the main thread; emitted from the worker (queued to the main thread)."""

    finished = Signal(object)
    failed = Signal(str)


class Task(QRunnable):
    def __init__(self, fn: Callable[[], Any]):
        super().__init__()
        self.fn = fn
        self.signals = TaskSignals()

    def run(self) -> None:
        try:
            result = self.fn()
        except LedgerError as exc:
            self.signals.failed.emit(str(exc))
        except Exception as exc:  # shown to the user; the inventory is not touched here
            self.signals.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            self.signals.finished.emit(result)


#: tasks started and not yet reported back: kept alive here, whoever asked for them (a
#: dialog closed mid-run must not free a task a pool thread is still running)
_RUNNING: set[Task] = set()


def run_task(
    fn: Callable[[], Any], on_finished: Callable[[Any], None], on_failed: Callable[[str], None]
) -> Task:
    """Run ``fn`` on the thread pool; call back on the main thread."""
    task = Task(fn)
    task.setAutoDelete(False)
    _RUNNING.add(task)
    task.signals.finished.connect(lambda _result: _RUNNING.discard(task))
    task.signals.failed.connect(lambda _message: _RUNNING.discard(task))
    task.signals.finished.connect(on_finished)
    task.signals.failed.connect(on_failed)
    QThreadPool.globalInstance().start(task)
    return task
