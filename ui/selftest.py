"""``--selftest``: prove that an installed app works, end to end, without a user.

Builds a demo inventory in a temporary folder, computes its estimate, opens it in the
main window and visits every page, renders the quarterly report to PDF, and prints one
line per step. Exit code 0 when every step passed, 1 otherwise. The user's own settings,
inventories and logs are never touched (settings go to the temporary folder too).

It runs the same code paths as the app, so in a PyInstaller bundle it also proves that
nothing the app loads lazily (pages, pyqtgraph, the SVG and platform plugins, the
bundled fonts, the report renderer) was trimmed away.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from core import APP_NAME, __version__


class _Steps:
    def __init__(self) -> None:
        self.failed: list[str] = []

    def run(self, name: str, step: Callable[[], str]) -> None:
        started = time.perf_counter()
        try:
            detail = step()
        except Exception as exc:
            self.failed.append(name)
            print(f"FAIL  {name}: {type(exc).__name__}: {exc}", flush=True)
            traceback.print_exc(file=sys.stdout)
            return
        ms = (time.perf_counter() - started) * 1000
        print(f"ok    {name}: {detail} ({ms:,.0f} ms)", flush=True)


def last_full_quarter(end: dt.date) -> str:
    """The label of the last calendar quarter that ends on or before ``end``."""
    quarter = (end.month - 1) // 3 + 1
    quarter_end = dt.date(end.year + quarter // 4, 1 + (quarter * 3) % 12, 1) - dt.timedelta(1)
    if end < quarter_end:
        quarter -= 1
    year = end.year
    if quarter == 0:
        year, quarter = year - 1, 4
    return f"{year}-Q{quarter}"


def run(argv: Sequence[str] = ()) -> int:
    """Run every step; print what was done; 0 if all passed."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from ui.app import app_icon, configure_application_names, register_bundled_fonts

    frozen = "bundle" if getattr(sys, "frozen", False) else "source checkout"
    print(f"{APP_NAME} {__version__} self-test ({frozen}, {sys.platform})", flush=True)
    steps = _Steps()
    configure_application_names()
    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    print(f"ok    Qt platform: {app.platformName()}", flush=True)

    with tempfile.TemporaryDirectory(prefix="aicl-selftest-") as tmp_name:
        tmp = Path(tmp_name)
        state: dict[str, object] = {}

        def fonts() -> str:
            families = register_bundled_fonts()
            if getattr(sys, "frozen", False) and "DejaVu Sans" not in families:
                raise RuntimeError("the bundled DejaVu fonts were not registered")
            return ", ".join(families) if families else "none bundled (system fonts in use)"

        def icon() -> str:
            pixmap = app_icon().pixmap(64, 64)
            if pixmap.isNull():
                raise RuntimeError("the SVG icon did not render (Qt's SVG plugin missing?)")
            return f"{pixmap.width()}x{pixmap.height()} from SVG"

        def demo() -> str:
            from core import schema
            from core.demo import build_demo

            inv = build_demo(tmp / "selftest.aicl")
            state["inventory"] = inv
            counts = {t: inv.count(t) for t in schema.TABLES}
            if not counts.get("training_runs") or not counts.get("deployments"):
                raise RuntimeError(f"the demo inventory is nearly empty: {counts}")
            return ", ".join(f"{n:,} {t}" for t, n in counts.items() if n)

        def estimate() -> str:
            from core.estimate import Engine

            est = Engine(state["inventory"]).estimate(None, samples=200, seed=0)  # type: ignore[arg-type]
            total = est.totals["location_kgco2e"]
            if not total > 0:
                raise RuntimeError(f"the estimate came out as {total} kgCO2e")
            return (
                f"{len(est.rows)} entries, {est.totals['energy_kwh']:,.0f} kWh, "
                f"{total:,.0f} kgCO2e location-based "
                f"(P5-P95 {est.totals['low_kgco2e']:,.0f}-{est.totals['high_kgco2e']:,.0f})"
            )

        def window() -> str:
            from ui.main_window import NAV_PAGES, MainWindow
            from ui.settings import SettingsStore

            inv = state.pop("inventory")
            inv.close()  # type: ignore[attr-defined]
            settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
            main = MainWindow(SettingsStore(settings))
            main.resize(1200, 800)
            main.show()
            try:
                if not main.open_inventory(tmp / "selftest.aicl"):
                    raise RuntimeError("the main window could not open the demo inventory")
                for key, _label in NAV_PAGES:
                    main.show_page(key)
                    app.processEvents()
                # the dashboard's modules load on a worker the first time, and the page
                # is built if it is still shown then: show it and wait
                deadline = time.monotonic() + 60
                while len(main.pages) < len(NAV_PAGES) and time.monotonic() < deadline:
                    for key in (k for k, _ in NAV_PAGES if k not in main.pages):
                        main.show_page(key)
                    app.processEvents()
                    time.sleep(0.01)
                built = len(main.pages)
                if built < len(NAV_PAGES):
                    raise RuntimeError(f"only {built} of {len(NAV_PAGES)} pages were built")
            finally:
                main.close()
                main.deleteLater()
                app.processEvents()
            return f"opened the demo and showed all {len(NAV_PAGES)} pages"

        def report() -> str:
            try:
                from core.report import ReportOptions, build_report
                from ui.report_render import write_pdf
            except ImportError as exc:
                raise RuntimeError(f"report renderer missing ({exc})") from exc
            from core.demo import DEMO_PERIOD
            from core.inventory import Inventory
            from core.periods import parse_period

            label = last_full_quarter(dt.date.fromisoformat(DEMO_PERIOD[1]))
            pdf = tmp / "selftest-report.pdf"
            with Inventory.open(tmp / "selftest.aicl") as inv:
                content = build_report(inv, ReportOptions(period=parse_period(label), samples=200))
                pages = write_pdf(content, pdf)
            head = pdf.read_bytes()[:5]
            if head != b"%PDF-" or pages < 1:
                raise RuntimeError(f"{pdf} is not a PDF ({head!r}, {pages} pages)")
            return f"{label} report, {pages} pages, {pdf.stat().st_size:,} bytes of PDF"

        steps.run("fonts", fonts)
        steps.run("icon", icon)
        steps.run("demo inventory", demo)
        if "inventory" in state:
            steps.run("estimate", estimate)
            steps.run("main window", window)
            steps.run("report to PDF", report)
        leftover = state.pop("inventory", None)
        if leftover is not None:
            leftover.close()  # type: ignore[attr-defined]

    if steps.failed:
        print(f"self-test FAILED: {', '.join(steps.failed)}", flush=True)
        return 1
    print("self-test passed", flush=True)
    return 0
