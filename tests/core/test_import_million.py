"""The "1,000,000 rows" entry of the bad-input catalogue: a real million-row usage CSV
goes through the real command, with a few bad rows skipped, and memory stays bounded.

Speed is measured by ``bench/bench_import.py`` (against the sqlite3 shell in the same
run), not here: this test checks the counts and the peak memory of the child process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.inventory import Inventory

ROOT = Path(__file__).resolve().parents[2]
ROWS = 1_000_000
DEPLOYMENTS = 50
#: rows written bad on purpose (a word in a number column, an unknown deployment, an end
#: before its start), every 100,000th row
BAD_EVERY = 100_000
#: peak resident memory allowed for the import (MiB). The file is ~60 MB; holding its
#: rows as Python objects would take ~600 MB, streaming takes ~120 MB here.
MAX_RSS_MIB = 300


def _write_csv(path: Path) -> int:
    bad = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("Deployment,Period start,Period end,Requests,Output tokens,Energy (kWh),"
                 "Energy boundary\n")  # fmt: skip
        lines = []
        for i in range(ROWS):
            day = f"{2000 + i // (DEPLOYMENTS * 336)}-{(i // DEPLOYMENTS) % 12 + 1:02d}-" \
                  f"{(i // (DEPLOYMENTS * 12)) % 28 + 1:02d}"  # fmt: skip
            dep = f"dep-{i % DEPLOYMENTS:02d}"
            requests = str(i % 9973)
            end = day
            if i % BAD_EVERY == 7:
                bad += 1
                kind = (i // BAD_EVERY) % 3
                if kind == 0:
                    requests = "lots"
                elif kind == 1:
                    dep = "dep-unknown"
                else:
                    end = "1999-01-01"
            lines.append(f"{dep},{day},{end},{requests},{i % 1000},{(i % 500) / 8},it\n")
            if len(lines) >= 50_000:
                fh.writelines(lines)
                lines = []
        fh.writelines(lines)
    return bad


#: runs main.py and writes the process's own peak resident memory (VmHWM, kB) to the
#: file named first. ``wait4``'s ru_maxrss would include the memory of the test process
#: that started it (the child's size before exec), which grows with the tests before it.
_PEAK_REPORTER = """
import atexit, runpy, sys
out = sys.argv.pop(1)
def report():
    with open("/proc/self/status") as status:
        kb = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(out, "w") as f:
        f.write(kb)
atexit.register(report)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.mark.slow
def test_a_million_row_csv_imports_with_bounded_memory(tmp_path):
    inv_path = tmp_path / "big.aicl"
    with Inventory.create(inv_path) as inv:
        model = inv.insert_logged("models", [{"name": "Bench", "version": "1"}], "t")[0]
        inv.insert_logged(
            "deployments",
            [{"name": f"dep-{i:02d}", "model_id": model, "kind": "cloud"}
             for i in range(DEPLOYMENTS)],
            "t",
        )  # fmt: skip
    data = tmp_path / "usage.csv"
    bad = _write_csv(data)
    assert bad == ROWS // BAD_EVERY
    out_path, err_path = tmp_path / "out.json", tmp_path / "err.txt"
    hwm_path = tmp_path / "peak.txt"
    with open(out_path, "w") as out, open(err_path, "w") as err:
        proc = subprocess.run(
            [sys.executable, "-c", _PEAK_REPORTER, str(hwm_path), "main.py", "import",
             str(inv_path), str(data), "--skip-invalid", "--format", "json"],
            cwd=ROOT, stdout=out, stderr=err, check=False,
        )  # fmt: skip
    assert proc.returncode == 1, err_path.read_text()  # 1: rows were skipped
    summary = json.loads(out_path.read_text())
    assert summary["imported"]
    assert summary["counts"]["usage"] == {
        "new": ROWS - bad, "changed": 0, "unchanged": 0, "skipped": bad
    }  # fmt: skip
    rows = {p["row"] for p in summary["problems"]}
    assert rows == {i + 2 for i in range(ROWS) if i % BAD_EVERY == 7}  # line numbers
    with Inventory.open(inv_path) as inv:
        assert inv.count("usage") == ROWS - bad
        # the indexes dropped during the bulk insert are back
        sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'usage'"
        names = {r[0] for r in inv.conn.execute(sql)}
        assert {"usage_deployment", "usage_period"} <= names
        assert inv.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    peak_mib = int(hwm_path.read_text()) / 1024  # VmHWM, kB
    assert peak_mib < MAX_RSS_MIB, f"peak RSS {peak_mib:.0f} MiB"
