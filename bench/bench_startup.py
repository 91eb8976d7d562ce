"""Process start to first painted main window: the app versus a bare PySide6 window.

``python bench/bench_startup.py [--reps 7] [--large]``

Each start is a fresh subprocess of ``bench/startup_driver.py`` with
``QT_QPA_PLATFORM=offscreen`` and private XDG folders (a new temporary folder per run, so
no user settings are read or written and no run sees another's settings). The app
builds its main window exactly as ``ui.app.run`` does, on an inventory created with
``python main.py new`` (``--demo``: ``python main.py demo``), and the driver exits right
after the first paint. The time is the parent's wall time around ``subprocess.run``,
the same for the app and the bare window, so the ratio compares like with like (less
what the process did after its first paint: the app opens its inventory right after,
and the driver waits for that page to paint too, reported for information). Runs
alternate app/bare; the first of each is reported as "first" (cold) and left out of
the median. Target: app/bare <= 1.5, and pyqtgraph not imported during startup.

Modules are compiled once into a private bytecode cache (``PYTHONPYCACHEPREFIX``), as
an installed app has them; ``--no-bytecode-cache`` keeps the environment's setting
instead. ``--large`` adds (for information) the app on the large inventory of
``bench/fill.py``.
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
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DRIVER = BENCH / "startup_driver.py"
TARGET_RATIO = 1.5


def _env(home: Path, pycache: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    if pycache is not None:  # compiled modules are kept (in a private folder) as installed
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        path = home / name.lower()
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    runtime = home / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env["XDG_RUNTIME_DIR"] = str(runtime)
    return env


def start_once(
    mode: str, inventory: Path | None, scratch: Path, pycache: Path | None
) -> dict[str, Any]:
    """Run the driver once in a fresh process; return its report plus the wall time."""
    home = Path(tempfile.mkdtemp(prefix="home-", dir=scratch))
    cmd = [sys.executable, str(DRIVER), mode]
    if inventory is not None:
        cmd.append(str(inventory))
    env = _env(home, pycache)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    wall_ms = (time.perf_counter() - t0) * 1000
    shutil.rmtree(home, ignore_errors=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"{mode} start failed with exit code {proc.returncode}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    # what ran after the first paint (the app opens its inventory then) is not counted
    result["wall_ms"] = wall_ms - result["after_first_paint_ms"]
    result["total_wall_ms"] = wall_ms
    return result


def make_inventory(scratch: Path, demo: bool) -> Path:
    path = scratch / ("demo.aicl" if demo else "bench.aicl")
    command = "demo" if demo else "new"
    proc = subprocess.run(
        [sys.executable, "main.py", command, str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_env(scratch / "setup-home"),
    )
    if proc.returncode != 0:
        raise SystemExit(f"python main.py {command} failed: {proc.stderr.strip()}")
    return path


def _median(runs: list[dict[str, Any]], key: str = "wall_ms") -> float:
    return statistics.median(r[key] for r in runs)


def _steps(runs: list[dict[str, Any]]) -> str:
    names = list(runs[0]["steps_ms"])
    return ", ".join(f"{n} {statistics.median(r['steps_ms'][n] for r in runs):.0f}" for n in names)


def measure(
    label_runs: list[tuple[str, str, Path | None]],
    reps: int,
    scratch: Path,
    pycache: Path | None,
) -> dict[str, list[dict[str, Any]]]:
    """Alternate the starts; index 0 of each list is the first (cold) run."""
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label, _, _ in label_runs}
    for _ in range(reps + 1):
        for label, mode, inventory in label_runs:
            runs[label].append(start_once(mode, inventory, scratch, pycache))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7, help="measured starts each (default 7)")
    parser.add_argument("--demo", action="store_true", help="use `main.py demo` data")
    parser.add_argument(
        "--large", action="store_true", help="also start on the large benchmark inventory"
    )
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="keep the environment's PYTHONDONTWRITEBYTECODE (modules compiled every start)",
    )
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="aicl-startup-") as tmp:
        scratch = Path(tmp)
        pycache = None if args.no_bytecode_cache else scratch / "pycache"
        inventory = make_inventory(scratch, args.demo)
        plan: list[tuple[str, str, Path | None]] = [
            ("app", "app", inventory),
            ("bare", "bare", None),
        ]
        if args.large:
            from fill import fill_large_inventory

            large = scratch / "large.aicl"
            fill_large_inventory(large, quiet=True)
            plan.append(("app, large inventory", "app", large))
        runs = measure(plan, args.reps, scratch, pycache)

    print(
        f"Startup benchmark: process start to first painted main window; {args.reps} "
        f"measured starts each after one first start; {os.cpu_count()} CPUs"
    )
    print(f"Inventory: {'demo' if args.demo else 'new, empty (reference data only)'}")
    if pycache is None:
        dont = os.environ.get("PYTHONDONTWRITEBYTECODE")
        print(f"Bytecode cache: as in the environment (PYTHONDONTWRITEBYTECODE={dont!r})")
    else:
        print("Bytecode cache: kept in a private folder (the first start compiles)")
    print(f"\n   {'start':24} {'first':>7} {'median':>7} {'min':>7} {'max':>7}  (ms, wall)")
    for label, rs in runs.items():
        walls = [r["wall_ms"] for r in rs[1:]]
        print(
            f"   {label:24} {rs[0]['wall_ms']:7.0f} {statistics.median(walls):7.0f} "
            f"{min(walls):7.0f} {max(walls):7.0f}"
        )
    print("\n   median time inside the process to the first paint, then by step (ms):")
    for label, rs in runs.items():
        inside = _median(rs[1:], "since_process_start_ms")
        print(f"   {label:24} {inside:5.0f}; from the script's first line: {_steps(rs[1:])}")
    app_med, bare_med = _median(runs["app"][1:]), _median(runs["bare"][1:])
    ratio = app_med / bare_med
    verdict = "PASS" if ratio <= TARGET_RATIO else "FAIL"
    fastest = min(r["wall_ms"] for r in runs["app"][1:]) / min(
        r["wall_ms"] for r in runs["bare"][1:]
    )
    print(
        f"\n   app / bare = {ratio:.2f} (target <= {TARGET_RATIO})  {verdict}  "
        f"(fastest / fastest {fastest:.2f}; the machine is noisy)"
    )
    pyqtgraph = any(r["pyqtgraph_imported"] for r in runs["app"])
    modules = statistics.median(r["modules"] for r in runs["app"])
    print(
        f"   pyqtgraph imported during startup: {'yes' if pyqtgraph else 'no'}  "
        f"{'FAIL' if pyqtgraph else 'PASS'}  ({modules:.0f} modules loaded; bare "
        f"{statistics.median(r['modules'] for r in runs['bare']):.0f})"
    )
    for label in runs:
        if label not in ("app", "bare"):
            print(f"   info: {label} / bare = {_median(runs[label][1:]) / bare_med:.2f}")
    for label, rs in runs.items():
        if label == "bare":
            continue
        shown = statistics.median(
            r["since_process_start_ms"] + r["steps_ms"]["inventory opened and painted"]
            for r in rs[1:]
        )
        opening = statistics.median(float(r["open_initial_inventory_ms"]) for r in rs[1:])
        before = sum(r["opened before first paint"] == "yes" for r in rs)
        loaded = sorted({r["loaded at first paint"] for r in rs})
        print(
            f"   info: {label}: inventory opened in {opening:.0f} ms and its page painted "
            f"{shown:.0f} ms after process start; opened before the first paint in "
            f"{before} of {len(rs)} starts; loaded at first paint: {' / '.join(loaded)}"
        )
    seen = {r.get("painted_via") for rs in runs.values() for r in rs}
    print(f"   first paint seen by: {', '.join(sorted(str(s) for s in seen))}")
    print(f"\nbenchmark took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
