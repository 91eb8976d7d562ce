"""What Python's sqlite3 module costs by itself: the floors under the engine's full
recompute (issue 3) and the CSV import (issue 4), measured in this run.

``python bench/bench_sqlite_floor.py [--rows 1000000] [--reps 3]``

* **Read** (the engine's full recompute reads every usage row): the engine's own
  expressions over the 1,000,000 usage rows of ``bench/fill.py``'s inventory,
  (a) summed inside SQLite (SQLite's pass over the rows, nothing handed to Python),
  (b) fetched through Python's ``sqlite3`` module in chunks (tuples only, no numpy),
  (c) fetched through APSW, when it is installed (``pip install apsw``).
* **Write** (the CSV import writes every row): the first ``--rows`` rows of
  ``bench_import.py``'s usage CSV, converted once to the tuples the import writes, into
  a copy of that benchmark's inventory (indexes dropped, foreign keys on, CHECK
  constraints left to the import as it does) in one transaction, with
  (a) ``sqlite3`` ``executemany``, (b) APSW ``executemany``; then the two usage indexes
  built again; against (c) the sqlite3 shell's ``.import`` of the same CSV, the
  reference of issue 4. (What a whole import of that CSV costs at least, with and
  without its checks, is ``bench_import_floor.py``.)

Every measurement runs in its own child process: two different SQLite libraries in one
process (Python's and APSW's) must not open the same file (SQLite's "How To Corrupt An
SQLite Database File", section 2.2.1: their POSIX locks cancel each other). Medians of
``--reps`` runs; nothing here is a target, the script prints the floors beside them.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"

WRITE_SQL = (
    "INSERT INTO usage (deployment_id, period_start, period_end, requests, input_tokens,"
    " output_tokens, energy_kwh, energy_boundary) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
INDEXES = (
    "CREATE INDEX usage_deployment ON usage (deployment_id, period_start)",
    "CREATE INDEX usage_period ON usage (period_start)",
)


def _engine_exprs() -> list[str]:
    from core.activity import _expr, _fields

    return ["id", *(_expr("usage", f) for f in _fields("usage"))]


def _connect(lib: str, path: Path):
    if lib == "apsw":
        import apsw

        conn = apsw.Connection(str(path))
    else:
        import sqlite3

        conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def child_read(lib: str, path: Path, how: str) -> float:
    conn = _connect(lib, path)
    exprs = _engine_exprs()
    t0 = time.perf_counter()
    if how == "sum":
        conn.execute(f"SELECT {', '.join(f'sum({e})' for e in exprs)} FROM usage").fetchall()
    else:
        cursor = conn.execute(f"SELECT {', '.join(exprs)} FROM usage ORDER BY id")
        n = 0
        while True:
            rows = cursor.fetchmany(20_000) if lib == "sqlite3" else _apsw_many(cursor)
            if not rows:
                break
            n += len(rows)
    return time.perf_counter() - t0


def _apsw_many(cursor, size: int = 20_000) -> list[tuple]:
    rows = []
    for row in cursor:
        rows.append(row)
        if len(rows) == size:
            break
    return rows


def _rows(csv_path: Path, inv: Path, limit: int) -> list[tuple]:
    import sqlite3

    ids = dict(sqlite3.connect(inv).execute("SELECT name, id FROM deployments"))
    out = []
    with open(csv_path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        for i, r in enumerate(reader):
            if i == limit:
                break
            out.append((ids[r[0]], r[1], r[2], int(r[3]), int(r[4]), int(r[5]), float(r[6]), "it"))
    return out


def child_write(lib: str, template: Path, csv_path: Path, limit: int) -> tuple[float, float]:
    rows = _rows(csv_path, template, limit)
    target = OUT / f"floor_{lib}.aicl"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copy(template, target)
    conn = _connect(lib, target)
    conn.execute("PRAGMA ignore_check_constraints = ON")  # the import checks them after
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("DROP INDEX usage_deployment")
    conn.execute("DROP INDEX usage_period")
    t0 = time.perf_counter()
    for start in range(0, len(rows), 20_000):
        conn.executemany(WRITE_SQL, rows[start : start + 20_000])
    written = time.perf_counter() - t0
    t0 = time.perf_counter()
    for sql in INDEXES:
        conn.execute(sql)
    indexed = time.perf_counter() - t0
    conn.execute("COMMIT")
    conn.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    return written, indexed


def _child(*args: str) -> list[float]:
    cmd = [sys.executable, __file__, "--child", json.dumps(args)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])


def _has_apsw() -> bool:
    probe = [sys.executable, "-c", "import apsw"]
    return subprocess.run(probe, capture_output=True).returncode == 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, *rest = json.loads(args.child)
        if kind == "read":
            print(json.dumps([child_read(rest[0], Path(rest[1]), rest[2])]))
        else:
            written = child_write(rest[0], Path(rest[1]), Path(rest[2]), int(rest[3]))
            print(json.dumps(list(written)))
        return

    from bench.bench_import import DEPLOYMENTS, make_csv, make_inventory, sqlite_import
    from bench.fill import fill_large_inventory

    libs = ["sqlite3", "apsw"] if _has_apsw() else ["sqlite3"]
    if len(libs) == 1:
        print("APSW is not installed (pip install apsw): its rows are left out")
    engine_inv = fill_large_inventory()
    OUT.mkdir(exist_ok=True)
    template = OUT / f"bench_import_d{DEPLOYMENTS}.aicl"
    make_inventory(template)
    csv_path = OUT / f"usage_{args.rows}.csv"
    make_csv(csv_path, args.rows)

    def med(values: list[float]) -> float:
        return statistics.median(values)

    print(f"read: the engine's usage columns, {engine_inv.name}")
    reads = {"SQLite's own pass (sum)": [_child("read", "sqlite3", str(engine_inv), "sum")[0]
                                          for _ in range(args.reps)]}  # fmt: skip
    for lib in libs:
        reads[f"fetched through {lib}"] = [
            _child("read", lib, str(engine_inv), "fetch")[0] for _ in range(args.reps)
        ]
    for label, times in reads.items():
        print(f"  {label:<28} {med(times):6.2f} s   (issue 3: whole recompute < 1.5 s)")

    print(f"write: {args.rows:,} usage rows in one transaction, then the two indexes")
    ref = [sqlite_import(csv_path) for _ in range(args.reps)]
    print(f"  sqlite3 shell .import (reference) {med(ref):6.2f} s   "
          f"(issue 4: whole import <= 2.5x = {2.5 * med(ref):.2f} s)")  # fmt: skip
    for lib in libs:
        runs = [_child("write", lib, str(template), str(csv_path), str(args.rows))
                for _ in range(args.reps)]  # fmt: skip
        written, indexed = med([r[0] for r in runs]), med([r[1] for r in runs])
        total = written + indexed
        print(
            f"  {lib:<8} executemany {written:6.2f} s + indexes {indexed:5.2f} s = {total:5.2f} s"
            f" = {total / med(ref):.2f}x the reference, before a cell is read or checked"
        )


if __name__ == "__main__":
    main()
