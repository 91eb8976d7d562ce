"""Several writers on one inventory: the command line, other app processes and another
connection holding a write transaction. Writers wait for each other (busy timeout);
one that waits too long stops with a clear message and changes nothing; no update is
lost."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from robustness_support import MAIN, ROOT, SCHEMAS, cli, integrity, table_digests

from core import inventory as inventory_module
from core.commands import InsertRecord
from core.inventory import Inventory


@pytest.fixture
def inv_path(tmp_path) -> Path:
    path = Path(shutil.copy(SCHEMAS / "schema4.aicl", tmp_path / "shared.aicl"))
    Inventory.open(path).close()
    return path


def _hold_write_lock(path: Path, seconds: float, started: threading.Event, commit: bool):
    """Another program: a write transaction open for ``seconds``."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO models (name, version) VALUES ('Held by another program', '1')")
    started.set()
    time.sleep(seconds)
    conn.execute("COMMIT" if commit else "ROLLBACK")
    conn.close()


def _meta(path: Path, key: str) -> str | None:
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None
    finally:
        conn.close()


def test_the_command_line_waits_for_a_short_write_and_both_are_kept(inv_path):
    started = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(inv_path, 1.5, started, True))
    holder.start()
    started.wait(5)
    proc = cli("settings", inv_path, "embodied_convention=capital-goods")
    holder.join()
    assert proc.returncode == 0, proc.stderr
    assert _meta(inv_path, "embodied_convention") == "capital-goods"
    with Inventory.open(inv_path) as inv:
        titles = [t for _, t in inv.ref_options("models")]
    assert any("Held by another program" in t for t in titles)


def test_a_writer_that_does_not_finish_gets_a_clear_message(inv_path):
    before = table_digests(inv_path)
    started = threading.Event()
    seconds = inventory_module.BUSY_TIMEOUT_MS / 1000 + 2
    holder = threading.Thread(target=_hold_write_lock, args=(inv_path, seconds, started, False))
    holder.start()
    started.wait(5)
    proc = cli("settings", inv_path, "embodied_convention=capital-goods")
    holder.join()
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "database is locked" not in proc.stderr
    assert "another program is writing this inventory" in proc.stderr
    assert "Nothing was changed" in proc.stderr
    assert table_digests(inv_path) == before
    assert not integrity(inv_path)


def test_concurrent_imports_and_edits_lose_nothing(inv_path, tmp_path):
    """Three imports from three processes and edits from this one, all at once."""
    with Inventory.open(inv_path) as inv:
        usage0, models0 = inv.count("usage"), inv.count("models")
        deployment = inv.get("deployments", 1)["name"]
    files = []
    for n in range(3):
        csv = tmp_path / f"usage{n}.csv"
        lines = ["deployment,period_start,period_end,requests,energy_kwh,energy_boundary"]
        for day in range(400):
            date = time.strftime("%Y-%m-%d", time.gmtime(1262304000 + (n * 400 + day) * 86400))
            lines.append(f"{deployment},{date},{date},{day},{day / 10},it")
        csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
        files.append(csv)
    procs = [
        subprocess.Popen(
            [sys.executable, str(MAIN), "import", str(inv_path), str(f), "--kind", "usage"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for f in files
    ]
    with Inventory.open(inv_path) as inv:
        for i in range(20):
            InsertRecord("models", {"name": f"Concurrent {i}", "version": "1"}).apply(inv)
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, out + err
    with Inventory.open(inv_path) as inv:
        assert inv.count("usage") == usage0 + 3 * 400
        assert inv.count("models") == models0 + 20
        logged = inv.conn.execute("SELECT count(*) FROM imports_log").fetchone()[0]
    assert logged >= 3
    assert not integrity(inv_path)
