"""Start the app (or a bare window), wait for its first paint, print timings, exit.

``python bench/startup_driver.py app INVENTORY`` builds the main window exactly as
``ui.app.run`` does (through ``main``'s imports); ``python bench/startup_driver.py bare``
shows a bare ``QMainWindow``; ``prototype INVENTORY`` is ``app`` with
``bench/proto_ordered_ids.py`` installed first; ``deferred INVENTORY`` prototypes a
start that paints the window first and opens the inventory right after, with numpy and
sqlite_utils imported on first use. Each prints one JSON line and leaves
with ``os._exit(0)`` (no teardown, the same for all). Used by ``bench/bench_startup.py``,
which sets ``QT_QPA_PLATFORM=offscreen`` and private XDG folders in its environment.
"""

from __future__ import annotations

import time

T0 = time.perf_counter()

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PAINT_TIMEOUT_S = 10.0


def since_process_start_ms() -> float:
    """Wall time since the kernel started this process (10 ms resolution)."""
    with open("/proc/self/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    start_ticks = int(fields[19])  # field 22 of the whole line: start time in clock ticks
    with open("/proc/uptime") as fh:
        uptime = float(fh.read().split()[0])
    return (uptime - start_ticks / os.sysconf("SC_CLK_TCK")) * 1000


def wait_for_first_paint(app: object, window: object) -> str:
    """Process events until ``window`` has had a paint event; return how it was seen."""
    from PySide6.QtCore import QEvent, QEventLoop, QObject

    class PaintSpy(QObject):
        painted = False

        def eventFilter(self, obj: object, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                PaintSpy.painted = True
            return False

    spy = PaintSpy()
    window.installEventFilter(spy)  # type: ignore[attr-defined]
    deadline = time.perf_counter() + PAINT_TIMEOUT_S
    while not PaintSpy.painted and time.perf_counter() < deadline:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)  # type: ignore[attr-defined]
    app.processEvents()  # type: ignore[attr-defined]  # finish the pass that painted
    if PaintSpy.painted:
        return "paint event"
    window.grab()  # type: ignore[attr-defined]
    return "grab (no paint event seen)"


def lazy_imports(names: set[str]) -> None:
    """Load these modules lazily (on first attribute use), as deferred imports would."""
    import importlib.util

    class LazyFinder:
        @staticmethod
        def find_spec(name: str, path: object = None, target: object = None) -> object:
            if name not in names:
                return None
            sys.meta_path.remove(LazyFinder)
            try:
                spec = importlib.util.find_spec(name)
            finally:
                sys.meta_path.insert(0, LazyFinder)
            if spec is not None and spec.loader is not None:
                spec.loader = importlib.util.LazyLoader(spec.loader)
            return spec

    sys.meta_path.insert(0, LazyFinder)  # type: ignore[arg-type]


def run_app(argv: list[str], deferred: bool = False) -> dict[str, float | str]:
    """The app's start as ``ui.app.run`` does it; ``deferred`` prototypes opening the
    inventory after the first paint, with numpy and sqlite_utils imported on first use."""
    marks: dict[str, float | str] = {}
    if deferred:
        lazy_imports({"numpy", "sqlite_utils"})
    sys.path.insert(0, str(ROOT))
    import main  # noqa: F401  # the composition root, as `python main.py` imports it
    from core import cli

    if cli.is_cli(argv):
        raise SystemExit("the driver starts the desktop app, not a command")
    from PySide6.QtWidgets import QApplication

    from core import APP_NAME
    from ui.app import configure_application_names, open_initial_inventory
    from ui.main_window import MainWindow
    from ui.settings import SettingsStore

    marks["imports"] = time.perf_counter()
    configure_application_names()
    app = QApplication([sys.argv[0], *argv])
    app.setApplicationDisplayName(APP_NAME)
    paths = [a for a in app.arguments()[1:] if not a.startswith("-")]
    marks["QApplication"] = time.perf_counter()
    window = MainWindow(SettingsStore())
    window.show()
    marks["MainWindow + show"] = time.perf_counter()
    if not deferred:
        open_initial_inventory(window, paths[0] if paths else None)
        marks["open_initial_inventory"] = time.perf_counter()
    marks["painted_via"] = wait_for_first_paint(app, window)
    marks["first paint"] = time.perf_counter()
    marks["since start at first paint"] = f"{since_process_start_ms():.1f}"
    if deferred:
        open_initial_inventory(window, paths[0] if paths else None)
        marks["open_initial_inventory"] = time.perf_counter()
        wait_for_first_paint(app, window.stack.currentWidget())
        marks["inventory painted"] = time.perf_counter()
    marks["title"] = window.windowTitle()
    return marks


def run_bare() -> dict[str, float | str]:
    marks: dict[str, float | str] = {}
    from PySide6.QtWidgets import QApplication, QMainWindow

    marks["imports"] = time.perf_counter()
    app = QApplication([sys.argv[0]])
    marks["QApplication"] = time.perf_counter()
    window = QMainWindow()
    window.resize(1280, 800)
    window.setWindowTitle("bare")
    window.show()
    marks["MainWindow + show"] = time.perf_counter()
    marks["painted_via"] = wait_for_first_paint(app, window)
    marks["first paint"] = time.perf_counter()
    marks["since start at first paint"] = f"{since_process_start_ms():.1f}"
    return marks


def main() -> None:
    mode, argv = sys.argv[1], sys.argv[2:]
    if mode == "prototype":  # the app with bench/proto_ordered_ids.py installed
        sys.path.insert(0, str(ROOT))
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import proto_ordered_ids

        proto_ordered_ids.install()
    marks = run_bare() if mode == "bare" else run_app(argv, deferred=mode == "deferred")
    result: dict[str, object] = {
        "since_process_start_ms": float(str(marks.pop("since start at first paint"))),
        "after_first_paint_ms": (time.perf_counter() - float(marks["first paint"])) * 1000,
    }
    last = T0
    steps = {}
    for key, value in marks.items():
        if isinstance(value, float):
            steps[key] = (value - last) * 1000
            last = value
        else:
            result[key] = value
    result["steps_ms"] = steps
    result["pyqtgraph_imported"] = "pyqtgraph" in sys.modules
    result["modules"] = len(sys.modules)
    print(json.dumps(result), flush=True)
    os._exit(0)  # no teardown: the parent times start to first paint


if __name__ == "__main__":
    main()
