"""Import speed: a 1,000,000-row usage CSV against the sqlite3 shell's ``.import`` of the
same file into a plain table, and a 100,000-row XLSX against calamine's bare read of it,
all measured in this run. Our side is the real command (``python main.py import``) in a
child process, so its time includes start-up, sniffing, mapping, conversion, validation of
every row, duplicate checks and the one-transaction commit; peak memory is the child's
maximum resident set.

Targets (issue 4): CSV within 2.5x of ``.import``; XLSX within 2x of calamine's bare read.

    python bench/bench_import.py [--rows 1000000] [--xlsx-rows 100000]

Generated files live in bench/out/ (git-ignored).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
DEPLOYMENTS = 200

from core.inventory import Inventory  # noqa: E402


def make_inventory(path: Path) -> None:
    if path.exists():
        return
    inv = Inventory.create(path)
    model = inv.insert_logged("models", [{"name": "Bench model", "version": "1"}], "bench")[0]
    inv.insert_logged(
        "deployments",
        [{"name": f"dep-{i:03d}", "model_id": model, "kind": "cloud"} for i in range(DEPLOYMENTS)],
        "bench",
    )
    inv.close()


def make_csv(path: Path, rows: int) -> None:
    if path.exists():
        return
    rng = random.Random(0)
    start = dt.date(2020, 1, 1)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Deployment", "Period start", "Period end", "Requests", "Input tokens",
                    "Output tokens", "Energy (kWh)", "Energy boundary"])  # fmt: skip
        for i in range(rows):
            day = start + dt.timedelta(days=i // DEPLOYMENTS)
            w.writerow([
                f"dep-{i % DEPLOYMENTS:03d}", day.isoformat(), day.isoformat(),
                rng.randint(0, 10**6), rng.randint(0, 10**9), rng.randint(0, 10**8),
                round(rng.random() * 500, 3), "IT equipment",
            ])  # fmt: skip
    tmp.replace(path)


def make_xlsx(src_csv: Path, path: Path, rows: int) -> None:
    if path.exists():
        return
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("Usage")
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    with open(src_csv, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        ws.write_row(0, 0, next(reader))
        for r, row in enumerate(reader, 1):
            if r > rows:
                break
            ws.write_string(r, 0, row[0])
            ws.write_datetime(r, 1, dt.datetime.fromisoformat(row[1]), date_fmt)
            ws.write_datetime(r, 2, dt.datetime.fromisoformat(row[2]), date_fmt)
            for c in range(3, 7):
                ws.write_number(r, c, float(row[c]))
            ws.write_string(r, 7, row[7])
    wb.close()


def timed(cmd: list[str]) -> tuple[float, int]:
    """Seconds and the child's peak RSS (MiB) of running ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) // 1024


def sqlite_import(csv_path: Path) -> float:
    db = OUT / "bench_import_plain.db"
    db.unlink(missing_ok=True)
    t0 = time.perf_counter()
    subprocess.run(
        ["sqlite3", str(db), ".mode csv", f".import {csv_path} usage_plain"],
        check=True, capture_output=True,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    db.unlink(missing_ok=True)
    return seconds


def our_import(inv_template: Path, data: Path) -> tuple[float, int]:
    inv = OUT / "bench_import_target.aicl"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{inv}{suffix}").unlink(missing_ok=True)
    shutil.copy(inv_template, inv)
    seconds, peak = timed([sys.executable, "main.py", "import", str(inv), str(data)])
    with Inventory.open(inv) as check:
        n = check.count("usage")
    return seconds, peak, n


def calamine_read(path: Path) -> float:
    code = (
        "import python_calamine as pc, sys;"
        "wb = pc.CalamineWorkbook.from_path(sys.argv[1]);"
        "rows = wb.get_sheet_by_index(0).to_python()"
    )
    return timed([sys.executable, "-c", code, str(path)])[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--xlsx-rows", type=int, default=100_000)
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    template = OUT / f"bench_import_d{DEPLOYMENTS}.aicl"
    make_inventory(template)
    csv_path = OUT / f"usage_{args.rows}.csv"
    make_csv(csv_path, args.rows)
    xlsx_path = OUT / f"usage_{args.xlsx_rows}.xlsx"
    make_xlsx(csv_path, xlsx_path, args.xlsx_rows)
    if not shutil.which("sqlite3"):
        raise SystemExit("the sqlite3 command-line shell is needed (apt-get install sqlite3)")

    ref = min(sqlite_import(csv_path) for _ in range(2))
    ours, peak, n = our_import(template, csv_path)
    assert n == args.rows, f"imported {n:,} rows, expected {args.rows:,}"
    ratio = ours / ref
    print(f"CSV  {args.rows:>9,} rows: sqlite3 .import {ref:6.2f} s | ours {ours:6.2f} s "
          f"({args.rows / ours:,.0f} rows/s, peak {peak:,} MiB) | ratio {ratio:4.2f} "
          f"(target <= 2.5) {'PASS' if ratio <= 2.5 else 'FAIL'}")  # fmt: skip
    ref = min(calamine_read(xlsx_path) for _ in range(2))
    ours, peak, n = our_import(template, xlsx_path)
    assert n == args.xlsx_rows, f"imported {n:,} rows, expected {args.xlsx_rows:,}"
    ratio = ours / ref
    print(f"XLSX {args.xlsx_rows:>9,} rows: calamine read  {ref:6.2f} s | ours {ours:6.2f} s "
          f"(peak {peak:,} MiB) | ratio {ratio:4.2f} "
          f"(target <= 2.0) {'PASS' if ratio <= 2.0 else 'FAIL'}")  # fmt: skip


if __name__ == "__main__":
    main()
