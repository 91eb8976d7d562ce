"""Crash safety: every unhandled exception is logged with the version and platform and
shown in a dialog that says the inventory is safe.

Why the inventory is safe: every edit is one SQLite transaction (``Inventory.transaction``),
so an exception in the middle of an edit rolls that edit back and everything committed
before stays committed. The app keeps running after the dialog; the user decides.

:class:`CrashHandler` hooks ``sys.excepthook`` (exceptions in Qt slots and event handlers
end there) and ``threading.excepthook`` (worker threads); a worker thread's exception
is handed to the main thread through a queued signal, since widgets live there.
Logs go to :func:`log_dir`: one ``crash-<UTC time>.log`` per exception, ``app.log``
(rotating) for starts and warnings, ``fatal.log`` for hard crashes (``faulthandler``).
"""

from __future__ import annotations

import datetime as dt
import faulthandler
import logging
import logging.handlers
import os
import platform
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from core import APP_NAME, __version__

log = logging.getLogger("ai_carbon_ledger")


def log_dir() -> Path:
    """The per-user log folder (created if missing).

    ``$XDG_STATE_HOME/AI Carbon Ledger/log`` (``~/.local/state/...``) on Linux,
    ``%LOCALAPPDATA%\\AI Carbon Ledger\\Logs`` on Windows, ``~/Library/Logs/AI Carbon
    Ledger`` on macOS: where each system's conventions put an application's logs.
    """
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        path = Path(base) / APP_NAME / "Logs"
    elif sys.platform == "darwin":
        path = Path.home() / "Library" / "Logs" / APP_NAME
    else:
        state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        path = Path(state) / APP_NAME / "log"
    path.mkdir(parents=True, exist_ok=True)
    return path


def environment_text() -> str:
    """Version, platform and library versions, as the first lines of every log."""
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion

    frozen = "bundle" if getattr(sys, "frozen", False) else "source"
    return "\n".join(
        [
            f"{APP_NAME} {__version__} ({frozen})",
            f"Platform: {platform.platform()} ({platform.machine()})",
            f"Python {platform.python_version()}, Qt {qVersion()}, PySide6 {pyside_version}",
        ]
    )


def write_crash_log(
    exc_type: type[BaseException],
    exc: BaseException,
    tb: TracebackType | None,
    *,
    where: str = "main thread",
    inventory: Path | None = None,
    directory: Path | None = None,
) -> Path:
    """Write one crash report and return its path (never raises for a full disk: the
    report then goes to stderr only, and the returned path does not exist)."""
    now = dt.datetime.now(dt.UTC)
    text = "\n".join(
        [
            environment_text(),
            f"Time: {now.strftime('%Y-%m-%dT%H:%M:%SZ')}",
            f"Where: {where}",
            f"Inventory: {inventory or 'none open'}",
            "",
            "".join(traceback.format_exception(exc_type, exc, tb)),
        ]
    )
    stamp = now.strftime("%Y%m%d-%H%M%S-%f")
    try:
        path = (directory or log_dir()) / f"crash-{stamp}.log"
        path.write_text(text, encoding="utf-8")
    except OSError:
        path = Path(os.devnull) / f"crash-{stamp}.log"
    if sys.stderr is not None:  # a windowed Windows app has no stderr
        print(text, file=sys.stderr)
    return path


def open_log_folder() -> bool:
    """Show the log folder in the system's file manager."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(log_dir())))


class CrashDialog(QMessageBox):
    """Says what went wrong, that the inventory is safe, and where the report is."""

    def __init__(self, summary: str, details: str, log_path: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.log_path = log_path
        self.setIcon(QMessageBox.Icon.Critical)
        self.setWindowTitle(f"{APP_NAME}: something went wrong")
        self.setText(
            f"<b>Something went wrong:</b> {_escape(summary)}<br><br>"
            "<b>Your inventory is safe.</b> Every change was saved the moment you made it; "
            "a change that was under way when this happened was not written, so nothing "
            "is half-saved. You can keep working."
        )
        self.setInformativeText(
            f"A report was written to {_escape(str(log_path))}. Please send it with a "
            "note of what you were doing to whoever supports the app for you."
        )
        self.setDetailedText(details)
        self.open_folder_button = self.addButton("Open Log Folder", QMessageBox.ButtonRole.HelpRole)
        self.open_folder_button.clicked.connect(open_log_folder)
        self.setStandardButtons(QMessageBox.StandardButton.Close)
        self.setDefaultButton(QMessageBox.StandardButton.Close)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)


def _escape(text: str) -> str:
    import html

    return html.escape(text)


class CrashHandler(QObject):
    """Installs the hooks; shows one :class:`CrashDialog` at a time (exceptions raised
    while one is open are logged only, so a failing paint cannot flood the screen)."""

    #: a crash report was written (its path); emitted on the main thread
    reported = Signal(object)
    _thread_failed = Signal(object, object, object, str)

    def __init__(
        self,
        inventory_path: Callable[[], Path | None] = lambda: None,
        parent: QObject | None = None,
        *,
        show_dialog: bool = True,
    ):
        super().__init__(parent)
        self._inventory_path = inventory_path
        self._show_dialog = show_dialog
        self.dialog: CrashDialog | None = None
        self._previous: tuple[object, object] | None = None
        self._thread_failed.connect(self._on_exception, Qt.ConnectionType.QueuedConnection)

    def install(self) -> None:
        self._previous = (sys.excepthook, threading.excepthook)
        sys.excepthook = self._on_sys_exception
        threading.excepthook = self._on_thread_exception

    def uninstall(self) -> None:
        if self._previous is not None:
            sys.excepthook, threading.excepthook = self._previous  # type: ignore[assignment]
            self._previous = None

    def _on_sys_exception(
        self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt):  # Ctrl+C in a terminal: just stop
            QApplication.quit()
            return
        if threading.current_thread() is threading.main_thread():
            self._on_exception(exc_type, exc, tb, "main thread")
        else:
            self._thread_failed.emit(exc_type, exc, tb, threading.current_thread().name)

    def _on_thread_exception(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None:
            return
        name = args.thread.name if args.thread is not None else "a worker thread"
        self._thread_failed.emit(args.exc_type, args.exc_value, args.exc_traceback, name)

    def _on_exception(
        self,
        exc_type: type[BaseException],
        exc: BaseException,
        tb: TracebackType | None,
        where: str,
    ) -> None:
        try:
            inventory = self._inventory_path()
        except Exception:  # the window may be half torn down
            inventory = None
        path = write_crash_log(exc_type, exc, tb, where=where, inventory=inventory)
        log.error("unhandled %s in %s; report: %s", exc_type.__name__, where, path)
        self.reported.emit(path)
        if not self._show_dialog or self.dialog is not None:
            return
        app = QApplication.instance()
        if not isinstance(app, QApplication):
            return
        summary = "".join(traceback.format_exception_only(exc_type, exc)).strip()
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        parent = app.activeWindow()
        self.dialog = CrashDialog(summary, details, path, parent)
        self.dialog.finished.connect(self._on_dialog_finished)
        self.dialog.open()  # window-modal, no nested event loop inside the failing code

    def _on_dialog_finished(self) -> None:
        self.dialog = None


_fatal_file: IO[str] | None = None


def setup_logging(directory: Path | None = None) -> Path:
    """Log starts and warnings to ``app.log`` (rotating, 3 x 1 MB) and hard crashes
    (segmentation faults, aborts) to ``fatal.log``; return the folder."""
    global _fatal_file
    directory = directory or log_dir()
    handler = logging.handlers.RotatingFileHandler(
        directory / "app.log", maxBytes=1_000_000, backupCount=3, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.info("start: %s", environment_text().replace("\n", "; "))
    if _fatal_file is None:
        try:
            _fatal_file = open(directory / "fatal.log", "a", encoding="utf-8")  # noqa: SIM115
            faulthandler.enable(_fatal_file)
        except OSError:
            _fatal_file = None
    return directory
