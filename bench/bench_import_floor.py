"""The least an import of issue 4's files can cost, measured beside its references in the
same run: how far under the targets any import written in this stack could get.

``python bench/bench_import_floor.py [--reps 5]``

Each line is a whole child process, timed from outside as ``bench_import.py`` times the
real command, over the same files (``bench_import.py``'s 1,000,000-row usage CSV and its
100,000-row XLSX) into a copy of the same inventory:

* **CSV, nothing checked**: the csv module reads the file 20,000 rows at a time, the
  rows become columns, names become ids (a dict), the four number columns floats
  (numpy), the rows go in with the app's bulk insert (:mod:`core.importing.bulk`),
  indexes built again, committed. No validation, no problems, no records of the import.
* **CSV, least checking**: the same plus :func:`least_checks`, the checks issue 4 asks
  of every row done the cheapest way the stack offers (and nothing to say what failed).
* **CSV through pyarrow, least checking** (only when ``pyarrow`` is installed: it is not
  a dependency): pyarrow's CSV reader gives the columns as Arrow strings; numbers are
  checked and converted in Arrow, names and dates once per distinct value; the same
  checks, the same write.
* **XLSX, nothing checked / least checking**: the workbook's size check (which keeps a
  hostile file from making the reader abort the process, so an import cannot leave it
  out), the reader's parse, its rows 10,000 at a time, then as for the CSV.
* **the import** (``python main.py import``), as ``bench_import.py`` runs it.

References, alternating with the lines above: the sqlite3 shell's ``.import`` of the
CSV and calamine's bare read of the XLSX, as in ``bench_import.py``. Targets (issue 4):
CSV within 2.5x, XLSX within 2x. Medians of ``--reps``; nothing here is a target of its
own.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gc
import itertools
import json
import operator
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"

NAMES = ("deployment_id", "period_start", "period_end", "requests", "input_tokens",
         "output_tokens", "energy_kwh", "energy_boundary")  # fmt: skip
INDEXES = (
    "CREATE INDEX usage_deployment ON usage (deployment_id, period_start)",
    "CREATE INDEX usage_period ON usage (period_start)",
)
BOUNDARY = {"IT equipment": "it", "Device": "device", "Facility": "facility"}
#: what a plain number cell may hold (as the import's fast path reads them)
PLAIN_BYTES = b"0123456789.+-eE\n"
PLAIN_RE = r"^\s*[-+]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\s*$"


class Target:
    """A private copy of the inventory, in one transaction with the usage indexes
    dropped (as the import does for a bulk load), and the deployments' ids by name."""

    def __init__(self, template: Path):
        self.path = OUT / "floor_import.aicl"
        self._remove()
        shutil.copy(template, self.path)
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        self.conn.execute("PRAGMA foreign_keys = ON")
        self.conn.execute("PRAGMA ignore_check_constraints = ON")  # the import checks them
        self.ids = dict(self.conn.execute("SELECT name, id FROM deployments"))
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("DROP INDEX usage_deployment")
        self.conn.execute("DROP INDEX usage_period")

    def write(self, columns: dict) -> None:
        from core.importing.bulk import insert_rows

        rows = list(zip(*(columns[j] for j in range(8)), strict=True))
        insert_rows(self.conn, "usage", NAMES, rows)

    def finish(self) -> None:
        for sql in INDEXES:
            self.conn.execute(sql)
        self.conn.execute("COMMIT")
        self.conn.close()
        self._remove()

    def _remove(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)


def least_checks(cols: list, out: dict, seen: list) -> None:
    """The least checking issue 4 asks of each usage row, the cheapest way this stack
    offers, in place of the import's own (which also says what is wrong; here a failure
    only raises): every number cell plain (text), finite and not negative, the counts
    whole; each distinct date read once, the end not before the start; the boundary one
    of the allowed words; no key (deployment, start, end) twice in the chunk. ``out``
    (holding the deployment ids at 0) gets the converted columns; ``seen`` the keys'
    hashes, for the check across chunks at the end."""
    import numpy as np

    n = len(cols[0])
    for j in (3, 4, 5, 6):
        if cols[j][0].__class__ is str:  # a CSV's text (a workbook gives floats)
            text = "\n".join(cols[j])
            if text.encode("ascii").translate(None, PLAIN_BYTES):
                raise ValueError("not a plain number")
        arr = np.array(cols[j], dtype=np.float64)
        if not np.isfinite(arr).all() or (arr < 0).any():
            raise ValueError("out of range")
        out[j] = _whole(arr).tolist() if j != 6 else arr.tolist()
    memo = out.setdefault("memo", {})
    for j in (1, 2):
        for d in set(cols[j]).difference(memo):
            memo[d] = (dt.date.fromisoformat(d) if d.__class__ is str else d).isoformat()
        out[j] = list(map(memo.__getitem__, cols[j]))
    if any(map(operator.lt, out[2], out[1])):
        raise ValueError("end before start")
    out[7] = list(map(BOUNDARY.__getitem__, cols[7]))
    keys = zip(out[0], out[1], out[2], strict=True)
    hashes = np.fromiter(map(hash, keys), np.int64, n)
    if len(np.unique(hashes)) != n:
        raise ValueError("a key twice in a chunk")
    seen.append(hashes)


def _whole(arr: Any) -> Any:
    import numpy as np

    whole = np.rint(arr)
    if (np.abs(arr - whole) > 1e-9 * np.maximum(1.0, np.abs(arr))).any():
        raise ValueError("not a whole number")
    return whole.astype(np.int64)


def _no_repeats(seen: list) -> None:
    import numpy as np

    every = np.concatenate(seen)
    if len(np.unique(every)) != len(every):
        raise ValueError("a key twice in the file")


def _plain(cols: list, out: dict) -> None:
    """Nothing checked: numbers through numpy, dates and the boundary as they are."""
    import numpy as np

    for j in (3, 4, 5):
        out[j] = np.array(cols[j], dtype=np.float64).astype(np.int64).tolist()
    out[6] = np.array(cols[6], dtype=np.float64).tolist()
    for j in (1, 2):
        days = {d: d if d.__class__ is str else d.isoformat() for d in set(cols[j])}
        out[j] = list(map(days.__getitem__, cols[j]))
    out[7] = ["it"] * len(cols[0])


def _load(target: Target, chunks: Iterator[list], checked: bool) -> None:
    seen: list = []
    for rows in chunks:
        cols = list(zip(*rows, strict=True))
        out: dict = {0: list(map(target.ids.__getitem__, cols[0]))}
        if checked:
            least_checks(cols, out, seen)
        else:
            _plain(cols, out)
        target.write(out)
    if checked:
        _no_repeats(seen)


def child_csv(template: Path, csv_path: Path, checked: bool) -> None:
    gc.disable()  # as the import does while it scans
    target = Target(template)
    with open(csv_path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        _load(target, iter(lambda: list(itertools.islice(reader, 20_000)), []), checked)
    target.finish()


def child_xlsx(template: Path, xlsx_path: Path, checked: bool) -> None:
    import python_calamine as pc

    from core.importing.sheet_limits import check_workbook

    gc.disable()
    check_workbook(xlsx_path)
    sheet = pc.CalamineWorkbook.from_path(str(xlsx_path)).get_sheet_by_index(0)
    rows = iter(sheet.iter_rows())
    next(rows)  # the header
    target = Target(template)
    _load(target, iter(lambda: list(itertools.islice(rows, 10_000)), []), checked)
    target.finish()


def child_arrow(template: Path, csv_path: Path) -> None:
    """The least-checking CSV import with pyarrow reading the file: the same checks as
    :func:`least_checks`, done on Arrow columns (numbers matched and cast in Arrow,
    names and dates through their distinct values)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pac
    import pyarrow.csv as pcsv

    gc.disable()
    target = Target(template)
    with open(csv_path, encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    reader = pcsv.open_csv(
        csv_path,
        read_options=pcsv.ReadOptions(block_size=1 << 21),
        convert_options=pcsv.ConvertOptions(column_types=dict.fromkeys(header, pa.string())),
    )
    memo: dict[str, str] = {}
    seen = []
    for batch in reader:
        c = batch.columns
        out: dict = {}
        ids, where = _through_distinct(c[0], target.ids.__getitem__)
        dep = ids[where].astype(np.int64)
        out[0] = dep.tolist()
        days = []
        for j in (1, 2):
            iso, where = _through_distinct(c[j], lambda d: memo.get(d) or _iso(memo, d))
            out[j] = iso[where].tolist()
            days.append(np.array([dt.date.fromisoformat(d).toordinal() for d in iso])[where])
        if (days[1] < days[0]).any():
            raise ValueError("end before start")
        for j in (3, 4, 5, 6):
            if not pac.all(pac.match_substring_regex(c[j], PLAIN_RE)).as_py():
                raise ValueError("not a plain number")
            arr = pac.cast(c[j], pa.float64()).to_numpy()
            if not np.isfinite(arr).all() or (arr < 0).any():
                raise ValueError("out of range")
            out[j] = _whole(arr).tolist() if j != 6 else arr.tolist()
        words, where = _through_distinct(c[7], BOUNDARY.__getitem__)
        out[7] = words[where].tolist()
        keys = (dep << 40) + (days[0].astype(np.int64) << 20) + days[1].astype(np.int64)
        if len(np.unique(keys)) != len(keys):
            raise ValueError("a key twice in a chunk")
        seen.append(keys)
        target.write(out)
    _no_repeats(seen)
    target.finish()


def _through_distinct(column: Any, convert: Callable[[Any], Any]) -> tuple[Any, Any]:
    """``(converted distinct values, where each cell's value is)`` of an Arrow column,
    ``convert`` called once per distinct value."""
    import numpy as np
    import pyarrow.compute as pac

    encoded = pac.dictionary_encode(column)
    values = [convert(x) for x in encoded.dictionary.to_pylist()]
    return np.array(values, dtype=object), encoded.indices.to_numpy()


def _iso(memo: dict[str, str], text: str) -> str:
    memo[text] = dt.date.fromisoformat(text).isoformat()
    return memo[text]


def _has(module: str) -> bool:
    probe = [sys.executable, "-c", f"import {module}"]
    return subprocess.run(probe, capture_output=True).returncode == 0


def _timed_child(*args: str) -> float:
    cmd = [sys.executable, __file__, "--child", json.dumps(args)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, template, data = json.loads(args.child)
        if kind == "csv-arrow":
            child_arrow(Path(template), Path(data))
        elif kind.startswith("csv"):
            child_csv(Path(template), Path(data), kind == "csv-checked")
        else:
            child_xlsx(Path(template), Path(data), kind == "xlsx-checked")
        return

    from bench.bench_import import (
        DEPLOYMENTS,
        calamine_read,
        make_csv,
        make_inventory,
        make_xlsx,
        our_import,
        sqlite_import,
    )

    OUT.mkdir(exist_ok=True)
    template = OUT / f"bench_import_d{DEPLOYMENTS}.aicl"
    make_inventory(template)
    csv_path = OUT / "usage_1000000.csv"
    make_csv(csv_path, 1_000_000)
    xlsx_path = OUT / "usage_100000.xlsx"
    make_xlsx(csv_path, xlsx_path, 100_000)
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "core", "main.py"], cwd=ROOT, check=True
    )  # as bench_import.py does: an installed app has its bytecode
    csv_kinds = ["csv-plain", "csv-checked"]
    if _has("pyarrow"):
        csv_kinds.append("csv-arrow")
    else:
        print("pyarrow is not installed (pip install pyarrow): its line is left out")
    labels = {
        "csv-plain": "CSV, nothing checked",
        "csv-checked": "CSV, least checking",
        "csv-arrow": "CSV through pyarrow, least checking",
        "xlsx-plain": "XLSX, nothing checked",
        "xlsx-checked": "XLSX, least checking",
        "ours": "the import (python main.py import)",
    }
    for name, data, kinds, reference, target in (
        ("CSV, 1,000,000 rows", csv_path, csv_kinds, sqlite_import, 2.5),
        ("XLSX, 100,000 rows", xlsx_path, ["xlsx-plain", "xlsx-checked"], calamine_read, 2.0),
    ):
        refs: list[float] = []
        times: dict[str, list[float]] = {k: [] for k in [*kinds, "ours"]}
        for _ in range(args.reps):  # alternating, so that all see the same machine
            refs.append(reference(data))
            for kind in kinds:
                times[kind].append(_timed_child(kind, str(template), str(data)))
            times["ours"].append(our_import(template, data)[0])
        ref = statistics.median(refs)
        print(f"{name}: reference {ref:.2f} s (target {target}x = {target * ref:.2f} s)")
        for kind, runs in times.items():
            med = statistics.median(runs)
            each = ", ".join(f"{t / r:.2f}" for t, r in zip(runs, refs, strict=True))
            print(f"  {labels[kind]:<38} {med:6.2f} s  {med / ref:5.2f}x  (each run: {each})")


if __name__ == "__main__":
    main()
