"""What an extra index on the usage table costs at import and gains when sorting.

``python bench/bench_indexes.py [--reps 3] [--usage-rows N]``

For each variant (the schema as it is, plus ``usage(energy_kwh)``, plus three numeric
columns) this builds a fresh inventory holding the deployments of ``bench/fill.py``'s
large inventory, adds the variant's indexes, and then measures:

* **bulk insert**: the usage rows (read beforehand into Python tuples) inserted with one
  ``executemany`` in one transaction at the default ``synchronous`` setting, as an
  importer would;
* **index afterwards**: ``CREATE INDEX`` on the filled table instead (the other way an
  importer can add rows: drop the index, insert, create it again);
* **sort** by ``energy_kwh`` on a newly opened inventory (nothing cached; the file in the
  operating system's cache): the first page as a table page gets it on a click
  (``Inventory.first_ids``, or the whole order when no index gives it), the whole
  ascending order (``Inventory.ordered_ids``), then the descending one;
* the file size.

Times are medians over ``--reps`` runs in ms (inserts in s). The data is the same for
every variant, so the differences are the indexes' cost.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from core.inventory import Inventory  # noqa: E402

VARIANTS: dict[str, tuple[str, ...]] = {
    "schema as is": (),
    "+ usage(energy_kwh)": ("energy_kwh",),
    "+ energy_kwh, device_hours, requests": ("energy_kwh", "device_hours", "requests"),
}


def _usage_rows(source: Path) -> tuple[list[str], list[tuple]]:
    conn = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        cur = conn.execute("SELECT * FROM usage ORDER BY id")
        names = [d[0] for d in cur.description]
        return names, cur.fetchall()
    finally:
        conn.close()


def _empty_inventory(path: Path, source: Path) -> None:
    """A new inventory with the source's models, sites, hardware and deployments."""
    with Inventory.create(path, reference_data=False) as inv:
        inv.conn.execute("ATTACH DATABASE ? AS src", (f"{source.resolve().as_uri()}?mode=ro",))
        with inv.transaction():
            for table in ("models", "sites", "hardware", "deployments"):
                inv.conn.execute(f"INSERT INTO {table} SELECT * FROM src.{table}")
        inv.conn.execute("DETACH DATABASE src")


def _index_sql(columns: tuple[str, ...]) -> list[str]:
    return [f"CREATE INDEX bench_usage_{c} ON usage ({c})" for c in columns]


def measure(
    source: Path, names: list[str], rows: list[tuple], columns: tuple[str, ...], tmp: Path
) -> dict[str, float]:
    path = tmp / "variant.aicl"
    for p in tmp.glob("variant.aicl*"):
        p.unlink()
    _empty_inventory(path, source)
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    for sql in _index_sql(columns):
        conn.execute(sql)
    marks = ",".join("?" * len(names))
    t0 = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(f"INSERT INTO usage ({','.join(names)}) VALUES ({marks})", rows)
    conn.execute("COMMIT")
    insert_s = time.perf_counter() - t0
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    t0 = time.perf_counter()
    for c in columns:  # the same indexes built on the filled table instead
        conn.execute(f"DROP INDEX bench_usage_{c}")
    drop_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for sql in _index_sql(columns):
        conn.execute(sql)
    create_s = time.perf_counter() - t0 + drop_s
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    size_mb = path.stat().st_size / 1e6
    with Inventory.open(path) as inv:  # what a page does on a click: its first page
        t0 = time.perf_counter()
        if inv.first_ids("usage", "energy_kwh", limit=200) is None:
            inv.ordered_ids("usage", "energy_kwh")
        page_ms = (time.perf_counter() - t0) * 1000
    with Inventory.open(path) as inv:  # the whole order (scrolling, searching)
        t0 = time.perf_counter()
        inv.ordered_ids("usage", "energy_kwh")
        asc_ms = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        inv.ordered_ids("usage", "energy_kwh", descending=True)
        desc_ms = (time.perf_counter() - t0) * 1000
    return {
        "insert_s": insert_s,
        "create_s": create_s,
        "page_ms": page_ms,
        "sort_ms": asc_ms,
        "desc_ms": desc_ms,
        "size_mb": size_mb,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--deployments", type=int, default=50_000)
    parser.add_argument("--usage-rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from fill import fill_large_inventory

    started = time.perf_counter()
    source = fill_large_inventory(
        deployments=args.deployments, usage_rows=args.usage_rows, seed=args.seed
    )
    names, rows = _usage_rows(source)
    print(
        f"Index benchmark: {len(rows):,} usage rows, {args.reps} runs each; {os.cpu_count()} CPUs"
    )
    results: dict[str, list[dict[str, float]]] = {v: [] for v in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="aicl-index-") as tmp:
        for _ in range(args.reps):
            for variant, columns in VARIANTS.items():  # alternating: noise hits all alike
                results[variant].append(measure(source, names, rows, columns, Path(tmp)))
        shutil.rmtree(tmp, ignore_errors=True)
    base = statistics.median(r["insert_s"] for r in results["schema as is"])
    print(
        f"\n   {'variant':38} {'insert (s)':>10} {'vs base':>7} {'index after (s)':>15} "
        f"{'page sort':>9} {'full asc':>8} {'desc':>6} {'file (MB)':>9}"
    )
    for variant, runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(
            f"   {variant:38} {med['insert_s']:10.1f} {med['insert_s'] / base:7.2f} "
            f"{med['create_s']:15.1f} {med['page_ms']:9.0f} {med['sort_ms']:8.0f} "
            f"{med['desc_ms']:6.0f} {med['size_mb']:9.0f}"
        )
    print("   (sorts by energy_kwh in ms on a newly opened inventory: the first page as a")
    print("   page gets it on a click, the whole ascending order, then the descending one)")
    print(f"\nbenchmark took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
