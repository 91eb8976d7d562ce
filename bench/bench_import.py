"""Import speed: a 1,000,000-row usage CSV against the sqlite3 shell's ``.import`` of the
same file into a plain table, and a 100,000-row XLSX against calamine's bare read of it,
all measured in this run. Our side is the real command (``python main.py import``) in a
child process, so its time includes start-up, sniffing, mapping, conversion, validation of
every row, duplicate checks and the one-transaction commit; peak memory is the child's
maximum resident set.

Targets (issue 4): CSV within 2.5x of ``.import``; XLSX within 2x of calamine's bare read.

    python bench/bench_import.py [--rows 1000000] [--xlsx-rows 100000] [--reps 3]

Each side runs ``--reps`` times, alternating with the other; medians and the ratio of
the medians are printed, with the ratio of each pair of runs.

Generated files live in bench/out/ (git-ignored).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
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
    """Seconds and this child's own peak RSS (MiB) of running ``cmd``."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        code = os.waitstatus_to_exitcode(status)
        proc.returncode = code
        if code != 0:
            out.seek(0)
            raise SystemExit(f"{' '.join(cmd)} failed ({code}):\n{out.read()}")
    return seconds, usage.ru_maxrss // 1024


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


def our_import(inv_template: Path, data: Path) -> tuple[float, int, int]:
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
    ap.add_argument("--reps", type=int, default=5, help="alternating runs of each (median)")
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
    # An installed app starts from compiled bytecode (pip compiles it, Python caches it);
    # a shell with PYTHONDONTWRITEBYTECODE set would otherwise compile every module of
    # the command on every run (~0.15 s, charged to the import and not to the reference)
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "core", "main.py"], cwd=ROOT, check=True
    )

    refs, ours, peaks = [], [], []
    for _ in range(args.reps):  # alternating, so both see the same load on a shared machine
        refs.append(sqlite_import(csv_path))
        seconds, peak, n = our_import(template, csv_path)
        assert n == args.rows, f"imported {n:,} rows, expected {args.rows:,}"
        ours.append(seconds)
        peaks.append(peak)
    report("CSV ", args.rows, "sqlite3 .import", refs, ours, peaks, 2.5)
    refs, ours, peaks = [], [], []
    for _ in range(args.reps):
        refs.append(calamine_read(xlsx_path))
        seconds, peak, n = our_import(template, xlsx_path)
        assert n == args.xlsx_rows, f"imported {n:,} rows, expected {args.xlsx_rows:,}"
        ours.append(seconds)
        peaks.append(peak)
    report("XLSX", args.xlsx_rows, "calamine read  ", refs, ours, peaks, 2.0)


def report(
    kind: str, rows: int, what: str, refs: list[float], ours: list[float], peaks: list[int],
    target: float,
) -> None:  # fmt: skip
    ref, our = statistics.median(refs), statistics.median(ours)
    ratios = ", ".join(f"{o / r:.2f}" for o, r in zip(ours, refs, strict=True))
    ratio = our / ref
    print(
        f"{kind} {rows:>9,} rows: {what} {ref:6.2f} s | ours {our:6.2f} s "
        f"({rows / our:,.0f} rows/s, peak {max(peaks):,} MiB) | ratio of medians {ratio:4.2f} "
        f"(each run: {ratios}) (target <= {target}) {'PASS' if ratio <= target else 'FAIL'}",
        flush=True,
    )


if __name__ == "__main__":
    main()
