"""Building the QApplication and the main window: the desktop app's entry point."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer
from PySide6.QtGui import QFontDatabase, QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

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


def run(argv: Sequence[str]) -> int:
    """Start the desktop app; ``argv`` may hold one inventory path.

    A second launch on an inventory that a window of this user already has open asks
    that window to come forward and exits (``ui.single_instance``). Unhandled
    exceptions are logged and shown (``ui.crash``).
    """
    from ui import crash

    crash.setup_logging()
    app, window = start(argv)
    if window is None:
        return 0
    handler = crash.CrashHandler(lambda: window.inventory.path if window.inventory else None, app)
    handler.install()
    try:
        return app.exec()
    finally:
        handler.uninstall()
