"""Table views over a large inventory versus a bare in-memory reference, in one run.

``python bench/bench_tables.py [--reps 5] [--tables usage,deployments] [--search TERM]``

For the usage table (1,000,000 rows) and the deployments table (50,000 rows) of the
inventory built by ``bench/fill.py`` this measures, with the offscreen Qt platform:

* open + first paint: ``Inventory.open`` and an ``InventoryPage`` in a shown
  ``QMainWindow`` until its view's viewport has painted;
* sorting by a numeric and by a text/reference column (``model.sort`` + repaint);
* filtering (``model.set_search`` + repaint) and clearing the filter;
* resident memory (VmRSS, VmHWM) against the size of the inventory file.

The reference is a bare ``QTableView`` over a minimal ``QAbstractTableModel`` backed by
in-memory numpy arrays holding the same rows and columns (text columns as categorical
codes), formatted the same way: sort is ``numpy.argsort`` + ``layoutChanged``, filter a
numpy boolean mask. Loading those arrays is timed separately and not counted.

Each repetition of the sort and filter operations starts with an edit (the notes of one
row, through ``core.commands.UpdateRecord`` as the app does) and the page refresh the
main window does after an edit. The sorts go numeric column, the same column the other
way round ("toggle"), then a text/reference column and its toggle, then back to the
default sort, filter and clear: so each first sort of a column in a repetition comes
after sorting by other columns.

Each implementation runs in its own subprocess (so memory and first-run numbers are not
shared) on a private copy of the cached inventory (so the cached file never changes).
Every operation is run once more than ``--reps``: that first run is reported as "first"
(cold SQLite cache, first query plan), and the median is taken over the others.
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

FIRST_PAINT_TARGET_MS = 300.0
SORT_FILTER_TARGET_MS = 500.0
#: "memory well under the data size": RSS growth (after the operations, against before
#: opening) under this share of the inventory file's size; the peak is printed too
MEMORY_TARGET_SHARE = 0.5
SORT_FILTER_TARGET_TABLES = ("usage",)

#: (operation key, label, field name, descending) per table; the reference does the same
SORTS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "usage": (
        ("energy_kwh", "numeric", False),
        ("energy_kwh", "numeric", True),
        ("deployment_id", "reference", False),
        ("deployment_id", "reference", True),
    ),
    "deployments": (
        ("device_count", "numeric", False),
        ("device_count", "numeric", True),
        ("name", "text", False),
        ("model_id", "reference", False),
    ),
}


# -- helpers used by both children ----------------------------------------------------


def _proc_status_kb(key: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def rss_mb() -> float:
    return _proc_status_kb("VmRSS") / 1024


def peak_rss_mb() -> float:
    return _proc_status_kb("VmHWM") / 1024


def _op_key(field: str, descending: bool) -> str:
    return f"sort {field} {'desc' if descending else 'asc'}"


class _PaintCounter:
    """Counts paint events of one widget (to check that a measurement really painted)."""

    def __init__(self) -> None:
        from PySide6.QtCore import QEvent, QObject

        class Filter(QObject):
            count = 0

            def eventFilter(self, obj: Any, event: Any) -> bool:
                if event.type() == QEvent.Type.Paint:
                    Filter.count += 1
                return False

        self.filter = Filter()

    @property
    def count(self) -> int:
        return type(self.filter).count


_ERRORS: list[str] = []


def _record_error(kind: type[BaseException], value: BaseException, tb: Any) -> None:
    """Exceptions inside Qt callbacks (e.g. a model's data()) only get printed: keep them."""
    _ERRORS.append(f"{kind.__name__}: {value}")


def _paint(app: Any, view: Any, counter: _PaintCounter) -> None:
    """Force the view's viewport to paint now and let pending events run."""
    before = counter.count
    app.processEvents()
    view.viewport().repaint()
    app.processEvents()
    if _ERRORS:
        raise SystemExit(f"error while painting: {_ERRORS[0]}")
    if counter.count == before:
        raise RuntimeError("the viewport did not paint")


def _warm_up_qt(app: Any, counter: _PaintCounter) -> None:
    """Show and paint an empty table once, so one-time Qt costs (fonts, style, backing
    store) are neither in the first measurement nor in the memory growth."""
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtGui import QStandardItemModel
    from PySide6.QtWidgets import QMainWindow, QTableView

    window = QMainWindow()
    view = QTableView()
    view.setModel(QStandardItemModel(0, 8))
    window.setCentralWidget(view)
    window.resize(1280, 800)
    view.viewport().installEventFilter(counter.filter)
    window.show()
    _paint(app, view, counter)
    window.close()
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _timed(fn: Callable[[], None]) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


# -- child: the app's InventoryPage -----------------------------------------------------


def child_app(path: Path, table: str, reps: int, search: str) -> dict[str, Any]:
    from PySide6.QtCore import QCoreApplication, QEvent, Qt
    from PySide6.QtWidgets import QApplication, QMainWindow

    from core.inventory import Inventory
    from ui.inventory_page import InventoryPage
    from ui.undo import InventoryEditor

    app = QApplication([sys.argv[0]])
    counter = _PaintCounter()
    _warm_up_qt(app, counter)
    rss_before = rss_mb()
    ops: dict[str, list[float]] = {}
    query_ms: dict[str, list[float]] = {}
    query_calls: dict[str, list[str]] = {}
    pending: list[tuple[str, float]] = []

    def timed(name: str) -> Callable[..., Any]:
        real = getattr(Inventory, name)

        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            ids = real(self, *args, **kwargs)
            pending.append((name, (time.perf_counter() - t0) * 1000))
            return ids

        return call

    Inventory.ordered_ids = timed("ordered_ids")  # type: ignore[method-assign]
    Inventory.first_ids = timed("first_ids")  # type: ignore[method-assign]

    def record(key: str, ms: float) -> None:
        ops.setdefault(key, []).append(ms)
        query_ms.setdefault(key, []).append(sum(t for _, t in pending))
        full = sum(name == "ordered_ids" for name, _ in pending)
        query_calls.setdefault(key, []).append(f"{full}+{len(pending) - full}")
        pending.clear()

    def open_and_paint() -> tuple[Any, Any, Any]:
        inv = Inventory.open(path)
        editor = InventoryEditor(inv)
        window = QMainWindow()
        page = InventoryPage(inv, editor, table)
        window.setCentralWidget(page)
        window.resize(1280, 800)
        page.view.viewport().installEventFilter(counter.filter)
        window.show()
        _paint(app, page.view, counter)
        return inv, window, page, editor

    rss_first_paint = 0.0
    for rep in range(reps + 1):
        pending.clear()
        t0 = time.perf_counter()
        inv, window, page, editor = open_and_paint()
        record("open + first paint", (time.perf_counter() - t0) * 1000)
        if rep == 0:
            rss_first_paint = rss_mb()
        if rep < reps:
            window.close()
            window.deleteLater()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            del window, page, editor
            inv.close()

    model = page.model
    names = [f.name for f in model.fields]
    opened_sorted_by = model._sort_field

    def run(key: str, action: Callable[[], None]) -> None:
        pending.clear()
        record(key, _timed(lambda: (action(), _paint(app, page.view, counter))))

    from core import commands

    first_id = inv.conn.execute(f"SELECT min(id) FROM {table}").fetchone()[0]
    for rep in range(reps + 1):
        # An edit first, as the app makes it (notes of one row), then the refresh the
        # main window does after any edit.
        editor.run(commands.UpdateRecord(table, first_id, {"notes": f"benchmark edit {rep}"}))
        page.refresh()
        for field, _kind, descending in SORTS[table]:
            order = Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
            col = names.index(field)
            run(_op_key(field, descending), lambda c=col, o=order: model.sort(c, o))
        model.sort(names.index(page.spec.default_sort), Qt.SortOrder.AscendingOrder)
        run("filter", lambda: model.set_search(search))
        matches = model.rowCount()
        run("clear filter", lambda: model.set_search(""))

    stats = inv.conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
    result = {
        "rows": model.rowCount(),
        "columns": model.columnCount(),
        "matches": matches,
        "ops": ops,
        "query_ms": query_ms,
        "query_calls": query_calls,
        "opened_sorted_by": opened_sorted_by,
        "default_sort": page.spec.default_sort,
        "rss_before": rss_before,
        "rss_first_paint": rss_first_paint,
        "rss_after": rss_mb(),
        "rss_peak": peak_rss_mb(),
        "analyzed": bool(stats.fetchone()[0]),
    }
    window.close()
    inv.close()
    return result


# -- child: the numpy reference ----------------------------------------------------------


def _load_columns(path: Path, table: str) -> tuple[list[Any], list[Any], int]:
    """The table's displayed columns as numpy arrays in id order, and the field specs.

    Numbers become float64 (NaN for blanks); text, dates, choices and references become
    categorical codes (int32, -1 for blanks) into an array of distinct values. Rows are
    read in chunks into preallocated arrays, so the arrays are most of the memory used.
    """
    import numpy as np

    from core.inventory import Inventory

    inv = Inventory.open(path)
    try:
        fields = list(inv.display_fields(table))
        n = inv.count(table)
        from_clause, exprs = inv._joins(table)
        cols = ", ".join(exprs[f.name] for f in fields)
        cur = inv.conn.execute(f"SELECT {cols} FROM {from_clause} ORDER BY t.id")
        arrays = [
            np.full(n, np.nan) if f.is_number else np.full(n, -1, dtype=np.int32) for f in fields
        ]
        index: list[dict[Any, int]] = [{} for _ in fields]
        row = 0
        while chunk := cur.fetchmany(50_000):
            for c, f in enumerate(fields):
                values = [r[c] for r in chunk]
                if f.is_number:
                    arrays[c][row : row + len(chunk)] = [np.nan if v is None else v for v in values]
                else:
                    seen = index[c]
                    arrays[c][row : row + len(chunk)] = [
                        -1 if v is None else seen.setdefault(v, len(seen)) for v in values
                    ]
            row += len(chunk)
    finally:
        inv.close()
    columns: list[Any] = []
    for c, f in enumerate(fields):
        if f.is_number:
            columns.append(arrays[c])
        else:
            columns.append((arrays[c], np.array(list(index[c]), dtype=object)))
    return fields, columns, n


def _nbytes(columns: list[Any]) -> int:
    total = 0
    for col in columns:
        if isinstance(col, tuple):
            total += col[0].nbytes + sum(len(str(u)) + 49 for u in col[1])
        else:
            total += col.nbytes
    return total


def child_reference(path: Path, table: str, reps: int, search: str) -> dict[str, Any]:
    import numpy as np
    from PySide6.QtCore import QAbstractTableModel, QCoreApplication, QEvent, QModelIndex, Qt
    from PySide6.QtWidgets import QApplication, QMainWindow, QTableView

    from core.formatting import format_cell

    app = QApplication([sys.argv[0]])
    counter = _PaintCounter()
    _warm_up_qt(app, counter)
    rss_start = rss_mb()
    t0 = time.perf_counter()
    fields, columns, n = _load_columns(path, table)
    load_ms = (time.perf_counter() - t0) * 1000
    rss_before = rss_mb()
    arrays_mb = _nbytes(columns) / 1e6

    class ArrayModel(QAbstractTableModel):
        def __init__(self) -> None:
            super().__init__()
            self.order = np.arange(n)
            self.full = self.order

        def rowCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
            return 0 if parent.isValid() else len(self.order)

        def columnCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
            return 0 if parent.isValid() else len(fields)

        def headerData(self, section: int, orientation: Any, role: int = 0) -> Any:
            if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
                return fields[section].header
            return None

        def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
            if role != Qt.ItemDataRole.DisplayRole or not index.isValid():
                return None
            col = columns[index.column()]
            i = self.order[index.row()]
            if isinstance(col, tuple):
                code = col[0][i]
                value = None if code < 0 else col[1][code]
            else:
                value = None if np.isnan(col[i]) else float(col[i])
            return format_cell(fields[index.column()], value)

        def set_order(self, order: np.ndarray) -> None:
            if len(order) != len(self.order):
                self.beginResetModel()
                self.order = order
                self.endResetModel()
            else:
                self.layoutAboutToBeChanged.emit()
                self.order = order
                self.layoutChanged.emit()

    def sort_keys(col: Any, descending: bool) -> np.ndarray:
        if isinstance(col, tuple):
            codes, uniques = col
            lowered = np.array([u.lower() if isinstance(u, str) else str(u) for u in uniques])
            rank = np.empty(len(uniques) + 1, dtype=np.int64)
            rank[np.argsort(lowered, kind="stable")] = np.arange(len(uniques))
            rank[-1] = len(uniques)  # blanks (code -1) last
            key = rank[codes].astype(float)
            key[codes < 0] = np.nan
        else:
            key = col
        return -key if descending else key  # NaN (blank) stays last either way

    def make_view() -> tuple[Any, Any, Any]:
        window = QMainWindow()
        model = ArrayModel()
        view = QTableView()
        view.setModel(model)
        view.setAlternatingRowColors(True)
        view.setWordWrap(False)
        view.verticalHeader().setSectionResizeMode(view.verticalHeader().ResizeMode.Fixed)
        window.setCentralWidget(view)
        window.resize(1280, 800)
        view.viewport().installEventFilter(counter.filter)
        window.show()
        _paint(app, view, counter)
        return window, model, view

    ops: dict[str, list[float]] = {}
    rss_first_paint = 0.0
    for rep in range(reps + 1):
        t0 = time.perf_counter()
        window, model, view = make_view()
        ops.setdefault("open + first paint", []).append((time.perf_counter() - t0) * 1000)
        if rep == 0:
            rss_first_paint = rss_mb()
        if rep < reps:
            window.close()
            window.deleteLater()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            del window, model, view

    names = [f.name for f in fields]
    searchable = [
        i for i, f in enumerate(fields) if f.kind in ("text", "longtext", "choice", "ref")
    ]
    terms = [t.lower() for t in search.split()]

    def run(key: str, action: Callable[[], None]) -> None:
        ms = _timed(lambda: (action(), _paint(app, view, counter)))
        ops.setdefault(key, []).append(ms)

    def do_sort(col: Any, descending: bool) -> None:
        order = np.argsort(sort_keys(col, descending), kind="stable")
        model.full = order
        model.set_order(order)

    def do_filter() -> None:
        mask = np.ones(n, dtype=bool)
        for term in terms:
            hit = np.zeros(n, dtype=bool)
            for c in searchable:
                codes, uniques = columns[c]
                matched = np.array([term in str(u).lower() for u in uniques] + [False])
                hit |= matched[codes]  # code -1 picks the trailing False
            mask &= hit
        model.set_order(model.full[mask[model.full]])

    for _rep in range(reps + 1):
        for field, _kind, descending in SORTS[table]:
            col = columns[names.index(field)]
            run(_op_key(field, descending), lambda c=col, d=descending: do_sort(c, d))
        model.full = np.arange(n)
        model.set_order(model.full)
        run("filter", do_filter)
        matches = model.rowCount()
        run("clear filter", lambda: model.set_order(model.full))

    return {
        "rows": n,
        "columns": len(fields),
        "matches": matches,
        "ops": ops,
        "load_ms": load_ms,
        "arrays_mb": arrays_mb,
        "rss_start": rss_start,
        "rss_before": rss_before,
        "rss_first_paint": rss_first_paint,
        "rss_after": rss_mb(),
        "rss_peak": peak_rss_mb(),
    }


# -- parent: orchestration and report -------------------------------------------------


def _table_size_mb(path: Path, table: str) -> float:
    import sqlite3

    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        sql = (
            "SELECT sum(pgsize) FROM dbstat WHERE name = ? OR name IN "
            "(SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?)"
        )
        return (conn.execute(sql, (table, table)).fetchone()[0] or 0) / 1e6
    except sqlite3.Error:
        return float("nan")
    finally:
        conn.close()


def _run_child(impl: str, source: Path, table: str, reps: int, search: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="aicl-bench-") as tmp:
        copy = Path(tmp) / source.name
        shutil.copyfile(source, copy)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", impl]
        cmd += ["--path", str(copy), "--table", table, "--reps", str(reps), "--search", search]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        sys.stderr.write("\n".join(proc.stderr.splitlines()[-20:]) + "\n")
        raise SystemExit(f"{impl} child for {table} failed with exit code {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _median(values: list[float]) -> float:
    return statistics.median(values[1:]) if len(values) > 1 else values[0]


def _label(table: str, key: str) -> str:
    previous = None
    for field, kind, descending in SORTS[table]:
        if key == _op_key(field, descending):
            toggle = " (toggle)" if previous == field else ""
            return f"sort {kind} {field} {'desc' if descending else 'asc'}{toggle}"
        previous = field
    return key


def _target(table: str, key: str) -> float | None:
    if key == "open + first paint":
        return FIRST_PAINT_TARGET_MS
    if table in SORT_FILTER_TARGET_TABLES:
        return SORT_FILTER_TARGET_MS
    return None


def report(
    table: str,
    file_mb: float,
    table_mb: float,
    apps: list[tuple[str, dict[str, Any]]],
    ref: dict[str, Any],
) -> dict[str, list[bool]]:
    """Print one table's results; return the PASS/FAIL verdicts per implementation."""
    rows, columns = ref["rows"], ref["columns"]
    print(
        f"\n== {table}: {rows:,} rows x {columns} columns; inventory file {file_mb:,.0f} MB "
        f"(this table + its indexes {table_mb:,.0f} MB)"
    )
    ref_first = ref["rss_first_paint"] - ref["rss_start"]
    ref_peak = ref["rss_peak"] - ref["rss_start"]
    print(
        f"   reference: arrays of {ref['arrays_mb']:,.0f} MB loaded in {ref['load_ms']:,.0f} ms "
        f"(not counted); RSS +{ref_first:.0f} MB at first paint, peak +{ref_peak:.0f} MB; "
        f"filter matches {ref['matches']:,} rows"
    )
    verdicts: dict[str, list[bool]] = {}
    for name, app in apps:
        verdicts[name] = mine = []
        print(
            f"\n   [{name}] opened sorted by {app['opened_sorted_by']} (table default "
            f"{app['default_sort']}); filter matches {app['matches']:,} rows"
        )
        head = (
            f"   {'operation':42} {'first':>7} {'median':>7} {'ids query':>11} "
            f"{'ref med':>7} {'ratio':>6} {'target':>7}  result"
        )
        print(head)
        print("   " + "-" * (len(head) - 3))
        for key, values in app["ops"].items():
            med = _median(values)
            ref_med = _median(ref["ops"][key])
            q = _median(app["query_ms"][key])
            calls = app["query_calls"][key][-1]
            q_text = f"{q:.0f} ({calls})" if calls != "0+0" else "-"
            target = _target(table, key)
            if target is None:
                t_text, verdict = "-", "info"
            else:
                ok = med < target
                mine.append(ok)
                t_text, verdict = f"<{target:.0f}", "PASS" if ok else "FAIL"
                if values[0] >= target:
                    verdict += " (first: over)"
            print(
                f"   {_label(table, key):42} {values[0]:7.0f} {med:7.0f} {q_text:>11} "
                f"{ref_med:7.0f} {med / ref_med:6.1f} {t_text:>7}  {verdict}"
            )
        grow_first = app["rss_first_paint"] - app["rss_before"]
        grow_after = app["rss_after"] - app["rss_before"]
        grow_peak = app["rss_peak"] - app["rss_before"]
        ok = grow_after < MEMORY_TARGET_SHARE * file_mb
        mine.append(ok)
        print(
            f"   memory: RSS {app['rss_before']:.0f} MB before opening; +{grow_first:.0f} MB at "
            f"first paint; +{grow_after:.0f} MB after all operations; peak +{grow_peak:.0f} "
            f"MB\n   memory growth after / file size = {grow_after / file_mb:.2f} (target < "
            f"{MEMORY_TARGET_SHARE}; peak / file size {grow_peak / file_mb:.2f})  "
            f"{'PASS' if ok else 'FAIL'}"
        )
        if app.get("analyzed"):
            print("   note: PRAGMA optimize wrote sqlite_stat1 during the run")
    return verdicts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=5, help="measured repetitions (default 5)")
    parser.add_argument("--tables", default="usage,deployments")
    parser.add_argument("--search", default="translate-eu", help="filter text")
    parser.add_argument("--deployments", type=int, default=50_000)
    parser.add_argument("--usage-rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", choices=("app", "reference"), help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--table", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        sys.excepthook = _record_error
        where = Path(args.path)
        if args.child == "reference":
            result = child_reference(where, args.table, args.reps, args.search)
        else:
            result = child_app(where, args.table, args.reps, args.search)
        print(json.dumps(result))
        return

    from fill import fill_large_inventory

    started = time.perf_counter()
    source = fill_large_inventory(
        deployments=args.deployments, usage_rows=args.usage_rows, seed=args.seed
    )
    file_mb = source.stat().st_size / 1e6
    print(
        f"Table benchmark: {args.reps} measured repetitions after one first run; "
        f"{os.cpu_count()} CPUs; filter text {args.search!r}"
    )
    print(
        "Times in ms. 'first' is the first run in a fresh process (cold SQLite cache), "
        "'median' the median of the others;\n'ids query' is the median time spent in "
        "Inventory.ordered_ids and Inventory.first_ids during the operation (and how many\n"
        "calls: whole id lists + first pages). Each repetition of the sorts and filters "
        "begins with an edit\nof one row (see --help)."
    )
    variants = ["app"]
    verdicts: dict[str, list[bool]] = {v: [] for v in variants}
    for table in args.tables.split(","):
        apps = [(v, _run_child(v, source, table, args.reps, args.search)) for v in variants]
        ref = _run_child("reference", source, table, args.reps, args.search)
        for v, got in report(table, file_mb, _table_size_mb(source, table), apps, ref).items():
            verdicts[v] += got
    print()
    for v, got in verdicts.items():
        print(f"[{v}] {got.count(True)} of {len(got)} targets met")
    print(f"benchmark took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
