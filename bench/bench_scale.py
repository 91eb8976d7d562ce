"""How the cost of the app's main operations grows with the size of the inventory.

``python bench/bench_scale.py [--scales 1,10] [--reps 3] [--once-over 60] [--period 2026-Q1]
[--groups table,engine,dashboard,report,export] [--profile STEP]``

Scale 1 is the large inventory of ``bench/fill.py`` (50,000 deployments, 1,000,000 usage
rows); scale 10 is ten times that (500,000 deployments, 10,000,000 usage rows; ~1.2 GB,
built once and cached in ``bench/out/``, which takes several minutes). For each scale,
on a private copy of the cached file, each group of operations runs in a fresh
subprocess (so its peak resident memory, VmHWM, is its own):

* ``table``: ``Inventory.open`` + an ``InventoryPage`` on the usage table in a shown
  1280x800 window until its viewport painted (offscreen Qt); scrolling to the middle and
  to the end (scroll bar set + repaint); sort by ``energy_kwh`` ascending and by
  ``deployment_id`` (+ repaint); filter ``translate-eu`` and clear it (+ repaint);
* ``engine``: ``Engine(inv)`` (every table read from SQLite, lines and pieces built);
  one ``estimate(period, by="phase", samples=0)``; Monte Carlo ``estimate(period,
  by="phase", samples=1000)``;
* ``dashboard``: ``core.dashboard_session.DashboardSession`` as the dashboard page's worker
  uses it, headless: the first view's central figures (engine built on first use, key
  figures, trend, top emitters) and its uncertainty ranges (Monte Carlo), then another
  quarter with the engine warm;
* ``report``: ``core.report.build_report`` for the quarter (engine given, already built)
  and ``ui.report_render.write_pdf`` of it (offscreen);
* ``export``: ``core.importing.export_inventory`` to CSV (one file per table).

Every operation runs once ("first": cold caches) and then ``--reps`` more times, unless
its first run took over ``--once-over`` seconds (then it is measured once, and the
table says so). The medians (of the repeats; the first run when measured once) at both
scales and their ratio are printed; for a 10x larger inventory a ratio near 10 is
linear growth, above ~13 worse than linear. ``--profile STEP[,STEP]`` (step
names, e.g. ``"sort energy_kwh asc"``) prints a cProfile of those steps' first runs at
each scale. Results are also written to ``bench/out/scale-results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ["QT_QPA_PLATFORM"] = "offscreen"

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BASE_DEPLOYMENTS = 50_000
BASE_USAGE_ROWS = 1_000_000
GROUPS = ("table", "engine", "dashboard", "report", "export")
SEARCH = "translate-eu"
#: a ratio above linear x this is called worse than linear (noise on a shared machine)
WORSE_THAN_LINEAR = 1.3


# -- measuring inside a child -----------------------------------------------------------


class Steps:
    """Timings of one child's steps, with the first run apart and an optional profile."""

    def __init__(self, reps: int, once_over_s: float, profile: str | None) -> None:
        """``profile``: names of steps (comma-separated) whose first run is profiled."""
        self.reps = reps
        self.once_over_s = once_over_s
        self.profile = set(profile.split(",")) if profile else set()
        self.ops: dict[str, list[float]] = {}
        self.info: dict[str, Any] = {}
        self.profiles: dict[str, str] = {}

    def run(self, name: str, fn: Callable[[], Any], reps: int | None = None) -> Any:
        """Time ``fn`` once, then ``reps`` (default ``self.reps``) more times unless the
        first run took over ``once_over_s``; return the last result."""
        times = self.ops.setdefault(name, [])
        result = self._first(name, fn, times)
        if times[0] <= self.once_over_s:
            for _ in range(self.reps if reps is None else reps):
                t0 = time.perf_counter()
                result = fn()
                times.append(time.perf_counter() - t0)
        return result

    def _first(self, name: str, fn: Callable[[], Any], times: list[float]) -> Any:
        if name not in self.profile:
            t0 = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - t0)
            return result
        import cProfile
        import io
        import pstats

        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        result = fn()
        prof.disable()
        times.append(time.perf_counter() - t0)
        text = io.StringIO()
        pstats.Stats(prof, stream=text).sort_stats("cumulative").print_stats(25)
        self.profiles[name] = text.getvalue()
        return result

    def result(self) -> dict[str, Any]:
        from bench.bench_tables import peak_rss_mb, rss_mb

        return {
            "ops": self.ops,
            "info": self.info,
            "profiles": self.profiles,
            "rss_mb": rss_mb(),
            "peak_rss_mb": peak_rss_mb(),
        }


def child_table(path: Path, steps: Steps) -> None:
    """The usage table page: open + first paint, scroll, sort, filter."""
    from PySide6.QtCore import QCoreApplication, QEvent, Qt
    from PySide6.QtWidgets import QApplication, QMainWindow

    from bench.bench_tables import _paint, _PaintCounter, _warm_up_qt
    from core.inventory import Inventory
    from ui.inventory_page import InventoryPage
    from ui.undo import InventoryEditor

    app = QApplication([sys.argv[0]])
    counter = _PaintCounter()
    _warm_up_qt(app, counter)
    state: dict[str, Any] = {}

    def close() -> None:
        if "window" in state:
            state["window"].close()
            state["window"].deleteLater()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        if "inv" in state:
            state["inv"].close()
        state.clear()

    def open_and_paint() -> None:
        close()
        inv = Inventory.open(path)
        editor = InventoryEditor(inv)
        window = QMainWindow()
        page = InventoryPage(inv, editor, "usage")
        window.setCentralWidget(page)
        window.resize(1280, 800)
        page.view.viewport().installEventFilter(counter.filter)
        window.show()
        _paint(app, page.view, counter)
        state.update(inv=inv, editor=editor, window=window, page=page)

    steps.run("open + first paint", open_and_paint)
    page = state["page"]
    view, model = page.view, page.model
    bar = view.verticalScrollBar()

    def scroll_to(where: float) -> Callable[[], None]:
        def go() -> None:
            bar.setValue(int(bar.maximum() * where))
            _paint(app, view, counter)
            bar.setValue(0)  # back to the top, so each repeat scrolls again

        return go

    steps.run("scroll to the middle", scroll_to(0.5))
    steps.run("scroll to the end", scroll_to(1.0))
    bar.setValue(bar.maximum())
    _paint(app, view, counter)
    steps.info["top row shown at the end"] = view.rowAt(0)
    names = [f.name for f in model.fields]

    def sort(field: str, order: Qt.SortOrder) -> Callable[[], None]:
        def go() -> None:
            model.sort(names.index(field), order)
            _paint(app, view, counter)

        return go

    default = names.index(page.spec.default_sort)
    asc, desc = Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder

    def sort_then_reset(field: str, order: Qt.SortOrder) -> Callable[[], None]:
        go = sort(field, order)

        def run() -> None:
            go()
            model.sort(default, asc)

        return run

    # Each repeat starts from the default sort again; the app caches a computed order,
    # so "first" is the real cost of a new sort and the median that of a cached one.
    steps.run("sort energy_kwh asc", sort_then_reset("energy_kwh", asc))
    steps.run("sort energy_kwh desc", sort_then_reset("energy_kwh", desc))
    steps.run("sort deployment_id asc", sort_then_reset("deployment_id", asc))

    def search(text: str) -> Callable[[], None]:
        def go() -> None:
            model.set_search(text)
            _paint(app, view, counter)

        return go

    times = steps.ops
    for _ in range(1 + steps.reps):
        t0 = time.perf_counter()
        search(SEARCH)()
        times.setdefault("filter", []).append(time.perf_counter() - t0)
        steps.info["filter matches"] = model.rowCount()
        t0 = time.perf_counter()
        search("")()
        times.setdefault("clear filter", []).append(time.perf_counter() - t0)
        if times["filter"][0] > steps.once_over_s:
            break
    steps.info["rows"] = model.rowCount()
    close()


def child_engine(path: Path, steps: Steps, period: str) -> None:
    """Engine build, a quarter by phase, Monte Carlo by phase."""
    from core.estimate import Engine
    from core.inventory import Inventory

    inv = Inventory.open(path)
    engines: list[Any] = []

    def build() -> None:
        engines[:] = []  # drop the previous engine before building the next
        engines.append(Engine(inv))

    steps.run("engine build (read from SQLite)", build)
    engine = engines[0]
    steps.info["usage rows in the engine"] = len(engine.activity.usage)
    est = steps.run(
        f"estimate {period} by phase", lambda: engine.estimate(period, by="phase", samples=0)
    )
    steps.info["estimate location kgCO2e"] = float(est.totals["location_kgco2e"])
    steps.run(
        f"Monte Carlo {period} by phase (1,000 samples)",
        lambda: engine.estimate(period, by="phase", samples=1000, seed=1),
        reps=min(steps.reps, 2),
    )
    inv.close()


def child_dashboard(path: Path, steps: Steps, period: str) -> None:
    """The dashboard's first view (engine built on first use) and ranges, headless."""
    from core.dashboard import DashboardRequest
    from core.dashboard_session import DashboardSession

    request = DashboardRequest(period=period)
    central_key = "dashboard first view: central figures"
    ranges_key = "dashboard first view: ranges (Monte Carlo)"
    session = None
    # A new session each time (the ranges are memoised inside one), so each first view
    # builds its engine.
    for _ in range(2):
        if session is not None:
            session.close()
        session = DashboardSession(path)
        t0 = time.perf_counter()
        view = session.central(request)
        t1 = time.perf_counter()
        assert session.with_ranges(request, view) is not None
        t2 = time.perf_counter()
        steps.ops.setdefault(central_key, []).append(t1 - t0)
        steps.ops.setdefault(ranges_key, []).append(t2 - t1)
        steps.info.setdefault("dashboard stage timings (s)", view.timings)
    other = DashboardRequest(period="2025-Q4")
    steps.run("dashboard another quarter (engine warm)", lambda: session.central(other))
    session.close()


def child_report(path: Path, steps: Steps, period: str) -> None:
    """The quarter's report: build (engine given) and PDF (offscreen)."""
    from PySide6.QtGui import QGuiApplication

    from core.estimate import Engine
    from core.inventory import Inventory
    from core.periods import parse_period
    from core.report import ReportOptions, build_report
    from ui.report_render import write_pdf

    app = QGuiApplication([sys.argv[0]])
    inv = Inventory.open(path)
    t0 = time.perf_counter()
    engine = Engine(inv)
    steps.info["engine build before the report (s)"] = time.perf_counter() - t0
    options = ReportOptions(parse_period(period), "Scale benchmark")
    report = steps.run("report build", lambda: build_report(inv, options, engine=engine))
    steps.info["report table rows"] = sum(len(t.rows) for t in report.tables())
    with tempfile.TemporaryDirectory(prefix="aicl-scale-pdf-") as tmp:
        out = Path(tmp) / "report.pdf"
        pages = steps.run("report PDF", lambda: write_pdf(report, out))
        steps.info["report pages"] = pages
        steps.info["report PDF MB"] = out.stat().st_size / 1e6
    inv.close()
    del app


def child_export(path: Path, steps: Steps) -> None:
    """The whole inventory exported to CSV (one file per table)."""
    from core.importing import export_inventory
    from core.inventory import Inventory

    inv = Inventory.open(path)
    with tempfile.TemporaryDirectory(prefix="aicl-scale-csv-", dir=path.parent) as tmp:
        out = Path(tmp) / "export.csv"
        files = steps.run("export to CSV", lambda: export_inventory(inv, out), reps=1)
        steps.info["CSV MB"] = sum(f.stat().st_size for f in files) / 1e6
    inv.close()


# -- parent --------------------------------------------------------------------------


def run_child(group: str, path: Path, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", group, "--path", str(path)]
    cmd += ["--reps", str(args.reps), "--once-over", str(args.once_over)]
    cmd += ["--period", args.period]
    if args.profile:
        cmd += ["--profile", args.profile]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        sys.stderr.write("\n".join(proc.stderr.splitlines()[-30:]) + "\n")
        raise SystemExit(f"{group} child failed with exit code {proc.returncode}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall_s"] = time.perf_counter() - t0
    return out


def median(times: list[float]) -> float:
    return statistics.median(times[1:]) if len(times) > 1 else times[0]


def _fmt(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def report(results: dict[str, Any], scales: list[int]) -> None:
    """Print one table of all steps: first and median per scale, ratio of medians."""
    lo, hi = scales[0], scales[-1]
    factor = hi / lo
    print(
        f"\nTimes: 'first' = first run in a fresh process; 'median' = median of the repeats "
        f"('once' if measured once).\nRatio = median at {hi}x / median at {lo}x; linear "
        f"growth is {factor:.0f}; '!' marks a ratio over {WORSE_THAN_LINEAR * factor:.0f}."
    )
    head = f"{'group':10} {'step':46}"
    for s in scales:
        head += f" {f'{s}x first':>11} {f'{s}x median':>11}"
    head += f" {'ratio':>7}"
    print("\n" + head)
    print("-" * len(head))
    for group in GROUPS:
        if group not in results[str(lo)]:
            continue
        for step in results[str(lo)][group]["ops"]:
            line = f"{group:10} {step:46}"
            meds = []
            for s in scales:
                times = results[str(s)].get(group, {}).get("ops", {}).get(step)
                if not times:
                    line += f" {'-':>11} {'-':>11}"
                    meds.append(float("nan"))
                    continue
                med = median(times)
                meds.append(med)
                line += f" {_fmt(times[0]):>11} {(_fmt(med) if len(times) > 1 else 'once'):>11}"
            ratio = meds[-1] / meds[0] if meds[0] > 0 else float("nan")
            mark = "!" if ratio > WORSE_THAN_LINEAR * factor else ""
            line += f" {ratio:6.1f}{mark or ' '}"
            print(line)
    print("\nPeak resident memory (VmHWM) of each group's process, MB:")
    line = f"{'group':10}" + "".join(f" {f'{s}x':>9}" for s in scales) + f" {'ratio':>7}"
    print(line)
    for group in GROUPS:
        peaks = [results[str(s)].get(group, {}).get("peak_rss_mb") for s in scales]
        if None in peaks:
            continue
        print(
            f"{group:10}" + "".join(f" {p:9,.0f}" for p in peaks) + f" {peaks[-1] / peaks[0]:7.1f}"
        )
    print("\nOther figures:")
    for s in scales:
        file_mb = results[str(s)]["file_mb"]
        print(f"  {s}x: inventory file {file_mb:,.0f} MB")
        for group in GROUPS:
            info = results[str(s)].get(group, {}).get("info")
            wall = results[str(s)].get(group, {}).get("wall_s")
            if info is not None:
                items = ", ".join(f"{k}: {_short(v)}" for k, v in info.items())
                print(f"    {group} ({wall:,.0f} s in all): {items}")


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} {_short(v)}" for k, v in value.items()) + "}"
    return str(value)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", default="1,10", help="multiples of 50,000/1,000,000")
    parser.add_argument("--reps", type=int, default=3, help="repeats after the first run")
    parser.add_argument("--once-over", type=float, default=60.0, help="seconds (see above)")
    parser.add_argument("--period", default="2026-Q1")
    parser.add_argument("--groups", default=",".join(GROUPS))
    parser.add_argument("--profile", help="step names (comma-separated): cProfile their first run")
    parser.add_argument("--child", choices=GROUPS, help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        from bench.bench_tables import _record_error

        if args.child == "table":  # errors inside Qt's callbacks are recorded, not printed
            sys.excepthook = _record_error
        steps = Steps(args.reps, args.once_over, args.profile)
        path = Path(args.path)
        if args.child == "table":
            child_table(path, steps)
        elif args.child == "engine":
            child_engine(path, steps, args.period)
        elif args.child == "dashboard":
            child_dashboard(path, steps, args.period)
        elif args.child == "report":
            child_report(path, steps, args.period)
        else:
            child_export(path, steps)
        print(json.dumps(steps.result()))
        return

    from bench.fill import OUT_DIR, fill_large_inventory

    started = time.perf_counter()
    scales = [int(s) for s in args.scales.split(",")]
    groups = [g for g in args.groups.split(",") if g]
    print(
        f"Scale benchmark: scales {scales} of {BASE_DEPLOYMENTS:,} deployments / "
        f"{BASE_USAGE_ROWS:,} usage rows; period {args.period}; {args.reps} repeats after "
        f"the first run (once if the first took over {args.once_over:.0f} s); "
        f"{os.cpu_count()} CPUs"
    )
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    print(f"code: {commit or 'unknown'} (git describe)")
    results: dict[str, Any] = {"commit": commit}
    for scale in scales:
        source = fill_large_inventory(
            deployments=BASE_DEPLOYMENTS * scale, usage_rows=BASE_USAGE_ROWS * scale
        )
        results[str(scale)] = here = {"file_mb": source.stat().st_size / 1e6}
        with tempfile.TemporaryDirectory(prefix="aicl-scale-") as tmp:
            copy = Path(tmp) / source.name
            shutil.copyfile(source, copy)
            for group in groups:
                print(f"  {scale}x {group} ...", flush=True)
                here[group] = run_child(group, copy, args)
                for step, text in here[group]["profiles"].items():
                    print(f"\n--- profile of '{step}' at {scale}x ---\n{text}")
    report(results, scales)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "scale-results.json").write_text(json.dumps(results, indent=1))
    print(f"\nbenchmark took {time.perf_counter() - started:,.0f} s")


if __name__ == "__main__":
    main()
