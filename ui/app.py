"""Building the QApplication and the main window: the desktop app's entry point."""

from __future__ import annotations

import contextlib
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSocketNotifier, QTimer
from PySide6.QtGui import QFontDatabase, QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

import core
from core import APP_NAME, ORG_NAME, __version__
from core.errors import LedgerError
from core.inventory import Inventory
from ui.main_window import MainWindow
from ui.plain_text import literal
from ui.settings import SettingsStore, default_inventory_path


def configure_application_names() -> None:
    """Names that QSettings and QStandardPaths use for the per-user folders."""
    QCoreApplication.setOrganizationName(ORG_NAME)
    QCoreApplication.setApplicationName(APP_NAME)
    QCoreApplication.setApplicationVersion(__version__)


#: resources/ beside core/ (in a source checkout and in the PyInstaller bundle alike)
RESOURCES = Path(core.__file__).resolve().parent.parent / "resources"
#: the .desktop file's name (without .desktop): Wayland matches windows to it
DESKTOP_FILE_NAME = "ai-carbon-ledger"


def register_bundled_fonts(folder: Path | None = None) -> list[str]:
    """Register the fonts shipped in ``resources/fonts`` (the bundle has DejaVu; a
    source checkout has none and uses the system's); returns the families added."""
    folder = folder or RESOURCES / "fonts"
    families: set[str] = set()
    for font in sorted(folder.glob("*.ttf")) if folder.is_dir() else []:
        font_id = QFontDatabase.addApplicationFont(str(font))
        if font_id >= 0:
            families.update(QFontDatabase.applicationFontFamilies(font_id))
    return sorted(families)


def app_icon() -> QIcon:
    """The application icon, drawn from the one SVG source at any size."""
    return QIcon(str(RESOURCES / "icons" / "ai-carbon-ledger.svg"))


def open_initial_inventory(window: MainWindow, path_arg: str | None) -> None:
    """Open what the user asked for, else the last inventory, else the default one.

    The default inventory is created on first run, and then the welcome panel shows.
    """
    settings = window.settings
    if path_arg and window.open_inventory(path_arg):
        return
    last = settings.last_inventory()
    if last and Path(last).exists() and window.open_inventory(last):
        return
    default = default_inventory_path()
    if default.exists():
        window.open_inventory(default)
        return
    try:
        inventory = Inventory.create(default)
    except (LedgerError, OSError) as exc:
        QMessageBox.critical(window, "Cannot create your inventory", literal(str(exc)))
        return
    window.set_inventory(inventory, welcome=True)


class _OpenAfterFirstPaint(QObject):
    """Opens the initial inventory once the window has painted for the first time.

    A zero-delay timer set at ``show()`` is not enough: the timer can fire before the
    window's first paint (it did in every start measured with the offscreen platform).
    """

    def __init__(self, window: MainWindow, path: str | None):
        super().__init__(window)
        self._window, self._path = window, path
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._window and event.type() == QEvent.Type.Paint:
            self._window.removeEventFilter(self)
            QTimer.singleShot(0, self, self._open)  # after this paint has been shown
        return False

    def _open(self) -> None:
        self.deleteLater()
        if not self._window.isVisible():  # closed before it painted (ended by a signal)
            return
        try:
            open_initial_inventory(self._window, self._path)
        finally:
            self._window.end_opening()


def show_and_open(window: MainWindow, path: str | None) -> None:
    """Show ``window`` now and open the initial inventory right after its first paint,
    so that opening an inventory never delays the first sight of the app."""
    _OpenAfterFirstPaint(window, path)
    window.show_opening()
    window.show()


def start(argv: Sequence[str]) -> tuple[QApplication, MainWindow | None]:
    """Create the application and show the main window (``run`` without the event
    loop); ``argv`` may hold one inventory path. No window (None) when a window of
    another launch had that inventory open and came forward instead."""
    configure_application_names()
    # the engine computes on worker threads (dashboard, details): hand the interpreter
    # lock back to the UI thread every millisecond instead of every 5 (see
    # ui.dashboard_page.SWITCH_INTERVAL for what it costs a chart's paint otherwise)
    sys.setswitchinterval(0.001)
    app = QApplication([sys.argv[0], *argv])
    app.setApplicationDisplayName(APP_NAME)
    QGuiApplication.setDesktopFileName(DESKTOP_FILE_NAME)
    app.setWindowIcon(app_icon())
    register_bundled_fonts()
    paths = [a for a in app.arguments()[1:] if not a.startswith("-")]
    settings = SettingsStore()
    # the file this launch would open: the one asked for, else the last or default one
    target = paths[0] if paths else settings.last_inventory() or str(default_inventory_path())
    if Path(target).is_file():
        from ui.single_instance import hand_over

        if hand_over(target):
            print(f"{target} is already open; its window was brought forward.")
            return app, None
    window = MainWindow(settings, opening=True)
    show_and_open(window, paths[0] if paths else None)
    return app, window


#: the signals that end the app as closing its window does: ``kill`` and a logout
#: (SIGTERM), Ctrl+C in the terminal that started it (SIGINT), the terminal closed
#: (SIGHUP, not on Windows)
ENDING_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name)
)


class SignalEnding(QObject):
    """Ends the app gracefully on :data:`ENDING_SIGNALS`: the main window is closed, so
    its ``closeEvent`` cancels the work under way (Save a Copy, the daily backup), which
    removes its temporary files, and the app exits with status 0.

    Python runs a signal handler only when the interpreter gets control, never while Qt's
    event loop waits: the C-level handler writes to a socket (``signal.set_wakeup_fd``)
    that a :class:`QSocketNotifier` watches, which wakes the loop to run it. Where that
    socket cannot be made, a timer gives Python control every :data:`POLL_MS` instead.
    The handler only schedules the ending, which runs from the event loop.
    """

    POLL_MS = 200
    #: modal dialogs are closed one at a time (one may open another as it closes):
    #: at most this many rounds, this many ms apart, before the window closes anyway
    MODAL_ROUNDS, MODAL_ROUND_MS = 20, 50

    def __init__(self, app: QApplication, window: MainWindow):
        super().__init__(app)
        self._app, self._window = app, window
        self.received: int | None = None  #: the first ending signal received
        self._rounds = 0
        self._previous: dict[int, object] = {}
        self._previous_fd = -1  # (none)
        self._sockets: tuple[socket.socket, socket.socket] | None = None
        self._notifier: QSocketNotifier | None = None
        self._timer: QTimer | None = None

    def install(self) -> None:
        try:
            reader, writer = socket.socketpair()
            for sock in (reader, writer):
                sock.setblocking(False)
            self._previous_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        except (OSError, ValueError):  # no socket pair here: poll instead
            self._timer = QTimer(self)
            self._timer.timeout.connect(lambda: None)  # Python runs pending handlers
            self._timer.start(self.POLL_MS)
        else:
            self._sockets = (reader, writer)
            self._notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, self)
            self._notifier.activated.connect(self._drain)
        for signum in ENDING_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._on_signal)

    def uninstall(self) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)  # type: ignore[arg-type]
        self._previous.clear()
        if self._timer is not None:
            self._timer.stop()
        if self._sockets is not None:
            signal.set_wakeup_fd(self._previous_fd)
            if self._notifier is not None:
                self._notifier.setEnabled(False)
            for sock in self._sockets:
                sock.close()
            self._sockets = None

    def _drain(self) -> None:
        # the bytes only woke the loop; running this Python code runs the handler
        if self._sockets is None:
            return
        with contextlib.suppress(OSError):  # (nothing more to read)
            while self._sockets[0].recv(64):
                pass

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.received is None:  # a second signal while ending changes nothing
            self.received = signum
            QTimer.singleShot(0, self, self._end)

    def _end(self) -> None:
        """Close the modal dialogs (their nested event loops return first), then the
        main window, then quit."""
        modal = QApplication.activeModalWidget()
        if modal is not None and self._rounds < self.MODAL_ROUNDS:
            self._rounds += 1
            if isinstance(modal, QDialog):
                modal.reject()
            else:
                modal.close()
            QTimer.singleShot(self.MODAL_ROUND_MS, self, self._end)
            return
        self._window.close()
        self._app.quit()


def run(argv: Sequence[str]) -> int:
    """Start the desktop app; ``argv`` may hold one inventory path.

    A second launch on an inventory that a window of this user already has open asks
    that window to come forward and exits (``ui.single_instance``). Unhandled
    exceptions are logged and shown (``ui.crash``). SIGTERM, SIGINT and SIGHUP end it
    as closing its window does, with status 0 (:class:`SignalEnding`).
    """
    from ui import crash

    crash.setup_logging()
    app, window = start(argv)
    if window is None:
        return 0
    handler = crash.CrashHandler(lambda: window.inventory.path if window.inventory else None, app)
    handler.install()
    ending = SignalEnding(app, window)
    ending.install()
    try:
        return app.exec()
    finally:
        ending.uninstall()
        handler.uninstall()
