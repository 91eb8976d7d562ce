"""SIGKILL in the middle of an import, an edit, a migration and a quarter close.

Each operation runs the real command line (``main.py``) in a subprocess on a copy of an
inventory and is killed with SIGKILL at seeded random points: just before the N-th SQL
statement (the runner kills itself, so every point of the write can be hit: inside the
transaction, at COMMIT, during the closing checkpoint) and after a random delay (killed
from outside, which also lands inside SQLite's own writes and syncs). Afterwards the file
must pass ``PRAGMA integrity_check`` and ``foreign_key_check``, hold exactly the state
before the operation or exactly the state after it (a digest of every table), and open in
the app.

The default run kills each operation a few times (the whole module stays well under a
minute); ``AICL_SLOW_TESTS=1`` runs the long variant (``-m slow``) with many more kills.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import sqlite3
from pathlib import Path

import pytest
from robustness_support import (
    SCHEMAS,
    classify,
    cli,
    copy_inventory,
    kill_plan,
    run_killed,
    run_reference,
    table_digests,
)

from core import migrations
from core.inventory import Inventory

SLOW = os.environ.get("AICL_SLOW_TESTS") == "1"
#: (kills at random statements, timed kills) per operation, besides those around each
#: COMMIT: default run and long variant
FAST_KILLS, SLOW_KILLS = (2, 3), (40, 40)
#: usage rows in the CSV the import test imports (default run, long variant)
FAST_ROWS, SLOW_ROWS = 20_000, 50_000


@pytest.fixture(scope="module")
def demo_base(tmp_path_factory) -> Path:
    """The demo inventory, built once by the CLI (closed, so a single file)."""
    path = tmp_path_factory.mktemp("base") / "demo.aicl"
    proc = cli("demo", path)
    assert proc.returncode == 0, proc.stderr
    return path


USAGE_COLUMNS = ("deployment", "period_start", "period_end", "requests", "input_tokens",
                 "output_tokens", "energy_kwh", "energy_boundary", "notes")  # fmt: skip


def usage_csv(inventory: Path, dest: Path, rows: int) -> Path:
    """A large usage CSV: one row per deployment and day, none repeating the demo's."""
    conn = sqlite3.connect(inventory)
    names = [r[0] for r in conn.execute("SELECT name FROM deployments ORDER BY id")]
    conn.close()
    day0 = dt.date(2020, 1, 1)
    with open(dest, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(USAGE_COLUMNS)
        for i in range(rows):
            day = (day0 + dt.timedelta(days=i // len(names))).isoformat()
            name = names[i % len(names)]
            w.writerow([name, day, day, 1000 + i, 5000 + i, 700 + i, 1 + i / 1000, "it", f"r{i}"])
    return dest


def _operation(name: str, demo_base: Path, folder: Path, rows: int):
    """(base file, argv with {inv} for the inventory) of operation ``name``."""
    if name == "import":
        data = usage_csv(demo_base, folder / "usage.csv", rows)
        return demo_base, ["import", "{inv}", str(data), "--kind", "usage"]
    if name == "edit":
        return demo_base, ["settings", "{inv}", "embodied_convention=capital-goods"]
    if name == "migration":
        return SCHEMAS / "schema1.aicl", ["settings", "{inv}"]
    if name == "close":
        return demo_base, ["close", "{inv}", "--quarter", "2026-Q2", "--org", "Demo"]
    raise AssertionError(name)


def kill_operation(name: str, demo_base: Path, folder: Path, kills: tuple[int, int], rows: int):
    base, argv = _operation(name, demo_base, folder, rows)
    before = table_digests(copy_inventory(base, folder / "before.aicl"))
    ref = copy_inventory(base, folder / "reference.aicl")
    seconds, statements, commits = run_reference([a.format(inv=ref) for a in argv])
    after = table_digests(ref)
    assert after != before, "the operation changed nothing: the test would prove nothing"
    points, delays = kill_plan(sum(map(ord, name)), statements, commits, seconds, *kills)
    outcomes = []
    for n, how in enumerate([("statement", p) for p in points] + [("after", d) for d in delays]):
        # same file name as the reference: the closing's report names the file
        target = copy_inventory(
            base, (folder / f"kill{n}").mkdir() or folder / f"kill{n}" / ref.name
        )
        args = [a.format(inv=target) for a in argv]
        if how[0] == "statement":
            finished = run_killed(args, at_statement=how[1])
        else:
            finished = run_killed(args, after=how[1])
        state, problems = classify(target, before, after)
        assert not problems, f"{name}, kill {how}: integrity problems {problems}"
        assert state in ("before", "after"), f"{name}, kill {how}: {state}"
        with Inventory.open(target) as inv:  # the app opens it (a migration completes)
            assert inv.schema_version == migrations.LATEST_VERSION
        outcomes.append((how, state, finished))
    killed = [o for o in outcomes if not o[2]]
    summary = {
        "runs": len(outcomes),
        "killed": len(killed),
        "before": sum(o[1] == "before" for o in killed),
        "after": sum(o[1] == "after" for o in killed),
        "statements": statements,
        "commits": len(commits),
        "seconds": round(seconds, 2),
    }
    print(f"\nkill {name}: {summary}")
    return outcomes


OPERATIONS = ("import", "edit", "migration", "close")


@pytest.mark.parametrize("name", OPERATIONS)
def test_killed_operation_leaves_before_or_after(name, demo_base, tmp_path):
    outcomes = kill_operation(name, demo_base, tmp_path, FAST_KILLS, FAST_ROWS)
    states = {o[1] for o in outcomes if not o[2]}
    # the statement kills place at least one kill inside the write and one after it
    assert "before" in states and "after" in states, outcomes


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.skipif(not SLOW, reason="set AICL_SLOW_TESTS=1 for the long kill runs")
@pytest.mark.parametrize("name", OPERATIONS)
def test_killed_operation_many_times(name, demo_base, tmp_path):
    kill_operation(name, demo_base, tmp_path, SLOW_KILLS, SLOW_ROWS)
