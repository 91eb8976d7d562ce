"""Start the app (or a bare window), wait for its first paint, print timings, exit.

``python bench/startup_driver.py app INVENTORY`` starts the app as ``python main.py
INVENTORY`` does (``main``'s dispatch, then ``ui.app.start``, which ``ui.app.run`` calls
before entering the event loop); ``python bench/startup_driver.py bare`` shows a bare
``QMainWindow``. After the first paint the app's driver also waits (for information,
outside the measured time) until the inventory has opened and its page has painted.
Each prints one JSON line and leaves with ``os._exit(0)`` (no teardown, the same for
both). Used by ``bench/bench_startup.py``, which sets ``QT_QPA_PLATFORM=offscreen`` and
private XDG folders in its environment.
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


def wait_for_first_paint(app: object, window: object) -> tuple[str, float]:
    """Process events until ``window`` has had a paint event; return how it was seen
    and when (``time.perf_counter()`` at the paint event: the events processed after
    it in the same pass, such as the app opening its inventory, are not counted)."""
    from PySide6.QtCore import QEvent, QEventLoop, QObject

    class PaintSpy(QObject):
        painted_at: float | None = None

        def eventFilter(self, obj: object, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and PaintSpy.painted_at is None:
                PaintSpy.painted_at = time.perf_counter()
            return False

    spy = PaintSpy()
    window.installEventFilter(spy)  # type: ignore[attr-defined]
    deadline = time.perf_counter() + PAINT_TIMEOUT_S
    while PaintSpy.painted_at is None and time.perf_counter() < deadline:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)  # type: ignore[attr-defined]
    app.processEvents()  # type: ignore[attr-defined]  # finish the pass that painted
    window.removeEventFilter(spy)  # type: ignore[attr-defined]
    if PaintSpy.painted_at is not None:
        return "paint event", PaintSpy.painted_at
    window.grab()  # type: ignore[attr-defined]
    return "grab (no paint event seen)", time.perf_counter()


def _since_process_start_at(moment: float) -> str:
    """Wall time from the process start to ``moment`` (a ``time.perf_counter()``)."""
    return f"{since_process_start_ms() - (time.perf_counter() - moment) * 1000:.1f}"


def run_app(argv: list[str]) -> dict[str, float | str]:
    """The app's start as ``python main.py INVENTORY`` makes it."""
    marks: dict[str, float | str] = {}
    sys.path.insert(0, str(ROOT))
    import main  # the composition root, as `python main.py` imports it

    if main.wants_cli(argv):
        raise SystemExit("the driver starts the desktop app, not a command")
    from PySide6.QtCore import QEvent, QObject

    from ui import app as app_module

    marks["imports"] = time.perf_counter()
    opened: dict[str, float] = {}
    open_initial_inventory = app_module.open_initial_inventory

    def timed_open(window: object, path: str | None) -> None:
        opened["start"] = time.perf_counter()
        open_initial_inventory(window, path)  # type: ignore[arg-type]
        opened["end"] = time.perf_counter()

    app_module.open_initial_inventory = timed_open  # type: ignore[assignment]
    app, window = app_module.start(argv)
    marks["QApplication + MainWindow + show"] = time.perf_counter()
    heavy = ("numpy", "sqlite_utils", "ui.inventory_page", "pyqtgraph")
    loaded: list[str] = []

    class Watch(QObject):  # which heavy modules were loaded when the window first painted
        def eventFilter(self, obj: object, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and not loaded:
                loaded.append(",".join(m for m in heavy if m in sys.modules) or "-")
            return False

    watch = Watch()
    window.installEventFilter(watch)
    marks["painted_via"], marks["first paint"] = wait_for_first_paint(app, window)
    window.removeEventFilter(watch)
    marks["since start at first paint"] = _since_process_start_at(marks["first paint"])
    marks["loaded at first paint"] = loaded[0] if loaded else "?"
    before = opened.get("start", 1e300) < marks["first paint"]
    marks["opened before first paint"] = "yes" if before else "no"
    deadline = time.perf_counter() + PAINT_TIMEOUT_S
    while "end" not in opened and time.perf_counter() < deadline:
        app.processEvents()
    if "end" not in opened:
        raise SystemExit("the inventory was not opened")
    page = window.stack.currentWidget()
    page.update()  # in case it painted already, within the events that opened it
    marks["inventory opened and painted"] = wait_for_first_paint(app, page)[1]
    marks["open_initial_inventory_ms"] = f"{(opened['end'] - opened['start']) * 1000:.1f}"
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
    marks["painted_via"], marks["first paint"] = wait_for_first_paint(app, window)
    marks["since start at first paint"] = _since_process_start_at(marks["first paint"])
    return marks


def main() -> None:
    mode, argv = sys.argv[1], sys.argv[2:]
    marks = run_bare() if mode == "bare" else run_app(argv)
    first_paint = float(marks["first paint"])
    result: dict[str, object] = {
        "since_process_start_ms": float(str(marks.pop("since start at first paint"))),
        "after_first_paint_ms": (time.perf_counter() - first_paint) * 1000,
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
