"""Long import and export work on the thread pool, with progress and a Cancel button.

``core.importing`` takes plain ``progress(done, total)`` and ``cancel()`` callables. A
:class:`Job` hands it callables that only write numbers and read a flag (safe from any
thread); a timer on the main thread reads those numbers ten times a second, so the
worker never touches a widget and the UI thread never waits on the worker.

A damaged inventory file met by the wizard's work (on a worker, through
:func:`reading_inventory`, or on the UI thread, inside :func:`catching_wizard_damage`)
goes to the wizard that runs it from the main window (``ui.window_import``): it offers
the restore once and closes, instead of a failure message with SQLite's words.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMetaMethod, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from core.errors import InventoryDamagedError
from ui.damage_guard import catching_damage
from ui.workers import reading, run_task

#: how often the progress shown is brought up to date (ms)
POLL_MS = 100

Progress = Callable[[int, int | None], None]
Cancel = Callable[[], bool]
JobFn = Callable[[Progress, Cancel], Any]


class Job(QObject):
    """``fn(progress, cancel)`` run once on the thread pool.

    Emits ``progressed(done, total or None)`` while it runs, then exactly one of
    ``finished(result)``, ``cancelled()`` (after :meth:`cancel`, whatever the work
    raised), ``damaged(error)`` (the work raised an
    :class:`~core.errors.InventoryDamagedError` and ``damaged`` has a receiver) or
    ``failed(message)``.
    """

    progressed = Signal(int, object)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    #: the inventory file is damaged (an InventoryDamagedError); only when connected:
    #: a job nobody asks about damage reports it as ``failed``, as any other error
    damaged = Signal(object)

    def __init__(self, fn: JobFn, parent: QObject | None = None):
        super().__init__(parent)
        self._fn = fn
        self._stop = threading.Event()
        self._done = 0
        self._total: int | None = None
        self._shown: tuple[int, int | None] | None = None
        self.running = False
        self.started_at = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._on_timer_timeout)

    def start(self) -> Job:
        self.running = True
        self.started_at = time.monotonic()
        self._timer.start()
        run_task(
            lambda: self._fn(self._report, self._stop.is_set),
            self._on_task_finished,
            on_error=self._on_task_failed,
        )
        return self

    def cancel(self) -> None:
        """Ask the work to stop; it reports back with ``cancelled`` when it has."""
        self._stop.set()

    @property
    def cancel_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def done(self) -> int:
        return self._done

    def rate(self) -> float:
        """Rows per second so far."""
        elapsed = time.monotonic() - self.started_at
        return self._done / elapsed if elapsed > 0 else 0.0

    def _report(self, done: int, total: int | None = None) -> None:
        # worker thread: plain attribute writes, read by the main thread's timer
        self._done, self._total = done, total

    def _on_timer_timeout(self) -> None:
        state = (self._done, self._total)
        if state != self._shown:
            self._shown = state
            self.progressed.emit(*state)

    def _end(self) -> None:
        self.running = False
        self._timer.stop()
        self._on_timer_timeout()

    def _on_task_finished(self, result: object) -> None:
        # Finished is finished, even if Cancel came too late to stop it: a commit that
        # completed is in the file and must be reported (and made undoable) as such.
        self._end()
        self.finished.emit(result)

    def _on_task_failed(self, exc: BaseException, message: str) -> None:
        self._end()
        if self._stop.is_set():
            self.cancelled.emit()
        elif isinstance(exc, InventoryDamagedError) and self.isSignalConnected(
            QMetaMethod.fromSignal(self.damaged)
        ):
            self.damaged.emit(exc)
        else:
            self.failed.emit(message)


def reading_inventory(path: Path, fn: JobFn) -> JobFn:
    """``fn`` for a :class:`Job` whose work opens the inventory at ``path`` itself:
    SQLite's report of a damaged file is raised as
    :class:`~core.errors.InventoryDamagedError` (``ui.workers.reading``, on the worker),
    which the job announces with ``damaged``."""

    def run(progress: Progress, cancel: Cancel) -> Any:
        return reading(path, lambda: fn(progress, cancel))()

    return run


@contextlib.contextmanager
def catching_wizard_damage(wizard: QObject) -> Iterator[None]:
    """A block of a wizard page that reads or writes the inventory on the UI thread
    (a button's handler, a job's result shown): damage SQLite reports there goes to the
    wizard's ``report_damage`` (the main window's wizard: the restore offer, once, and
    the wizard closes) and the rest of the block is skipped. A wizard without one (run
    on its own), and every other error, go on as before."""
    report = getattr(wizard, "report_damage", None)
    if report is None:
        yield
        return
    with catching_damage(report):
        yield


def rows_text(done: int, total: int | None, rate: float) -> str:
    """``"12,000 of 100,000 rows · 8,150 rows/s"``."""
    count = f"{done:,} of {total:,} rows" if total else f"{done:,} rows"
    return f"{count} · {rate:,.0f} rows/s" if rate >= 1 else count


class JobProgressDialog(QProgressDialog):
    """A modal progress dialog for a :class:`Job`: rows done, rows/s, Cancel.

    Cancel asks the job to stop and says so; the dialog closes when the job reports back.
    """

    #: what the dialog says once Cancel was pressed, until the job reports back
    CANCELLING = "Cancelling… nothing is written."

    def __init__(self, job: Job, what: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(what)
        self._what = what
        self._job = job
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(420)
        self.setMinimumDuration(300)  # a quick job finishes before the dialog appears
        self.setAutoClose(False)
        self.setAutoReset(False)
        self.setRange(0, 0)
        self.setLabelText(f"{what}…")
        self.canceled.disconnect()  # do not hide at once: wait for the job to stop
        self.canceled.connect(self._on_canceled)
        job.progressed.connect(self._on_job_progressed)
        # (``damaged`` is not followed here: its receiver closes the wizard, and this
        # dialog with it; following it would count as asking about damage)
        for signal in (job.finished, job.failed, job.cancelled):
            signal.connect(self._on_job_ended)

    def _on_job_progressed(self, done: int, total: int | None) -> None:
        if self._job.cancel_requested:
            return
        if total:
            self.setRange(0, total)
            self.setValue(min(done, total))
        self.setLabelText(f"{self._what}…\n{rows_text(done, total, self._job.rate())}")

    def _on_canceled(self) -> None:
        self._job.cancel()
        self.setLabelText(self.CANCELLING)
        self.setCancelButtonText("Cancelling…")

    def _on_job_ended(self, *_args: object) -> None:
        self.reset()
        self.hide()
        self.deleteLater()
