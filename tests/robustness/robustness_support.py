"""Helpers shared by the robustness tests: file states, digests, running the CLI.

A *state* of an inventory is a digest per table of every row (in rowid order) plus the
schema text and version. Values that only say *when* something was written (``at``,
``closed_at``... and the report's ``generated`` stamp) are left out, so that the state
after an operation run twice is the same; everything a user entered or the app
computed is in.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "main.py"
SCHEMAS = ROOT / "tests" / "data" / "schemas"
RUNNER = Path(__file__).resolve().parent / "kill_runner.py"

#: columns that hold the time of writing, not content
TIME_COLUMNS = frozenset(
    {"at", "closed_at", "created_at", "updated_at", "undone_at", "reopened_at"}
)
#: statistics SQLite keeps for the query planner (PRAGMA optimize at close), not content
STAT_TABLES = ("sqlite_stat1", "sqlite_stat4", "sqlite_sequence")


def _drop_stamps(value: object) -> object:
    if isinstance(value, dict):
        return {k: _drop_stamps(v) for k, v in value.items() if k != "generated"}
    if isinstance(value, list):
        return [_drop_stamps(v) for v in value]
    return value


def _normalise(table: str, names: list[str], row: tuple) -> tuple:
    out = []
    for name, value in zip(names, row, strict=True):
        if name in TIME_COLUMNS or (table == "meta" and name == "value" and row[0].endswith("_at")):
            value = "<time>"
        elif table == "closed_periods" and name == "report" and value:
            value = json.dumps(_drop_stamps(json.loads(value)), sort_keys=True)
        out.append(value)
    return tuple(out)


def table_digests(path: Path) -> dict[str, str]:
    """``{table: sha256}`` for every table, plus ``(schema)`` for the DDL and version.

    Opens the file as any SQLite program would (a WAL left by a killed process is
    recovered on the way); never through the app's code."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout = 5000")
        out: dict[str, str] = {}
        rows = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT IN "
            f"({','.join('?' * len(STAT_TABLES))}) ORDER BY type, name",
            STAT_TABLES,
        ).fetchall()
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        out["(schema)"] = hashlib.sha256(repr((rows, version, app_id)).encode()).hexdigest()
        for kind, name, _ in rows:
            if kind != "table":
                continue
            cur = conn.execute(f'SELECT * FROM "{name}" ORDER BY rowid')
            names = [d[0] for d in cur.description]
            h = hashlib.sha256()
            for row in cur:
                h.update(repr(_normalise(name, names, row)).encode())
            out[name] = h.hexdigest()
        return out
    finally:
        conn.close()


def integrity(path: Path) -> list[str]:
    """Problems ``PRAGMA integrity_check`` and ``foreign_key_check`` find (empty: none)."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        problems = [r[0] for r in conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        problems += [f"foreign key: {r}" for r in conn.execute("PRAGMA foreign_key_check")]
        return problems
    finally:
        conn.close()


def copy_inventory(src: Path, dest: Path) -> Path:
    """A self-contained copy (main file only; ``src`` must have no WAL content)."""
    shutil.copyfile(src, dest)
    return dest


def cli(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python main.py ARGS`` to the end."""
    return subprocess.run(
        [sys.executable, str(MAIN), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


@dataclass
class KillOutcome:
    """What one killed run left behind."""

    how: str  # "statement N" or "after X.XXX s"
    state: str  # "before", "after", or "MIXED"
    finished: bool  # the process ended by itself before the kill
    problems: list[str] = field(default_factory=list)


def run_reference(args: list[str]) -> tuple[float, int, list[int]]:
    """Run the operation to the end through the runner: (seconds, SQL statements, the
    numbers of its COMMIT statements)."""
    count_file = Path(args[1]).with_suffix(".count")
    env = {**os.environ, "AICL_COUNT_STATEMENTS": str(count_file)}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(RUNNER), *args], env=env, capture_output=True, text=True, cwd=ROOT
    )
    seconds = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr
    counted = json.loads(count_file.read_text())
    return seconds, counted["statements"], counted["commits"]


def run_killed(args: list[str], *, at_statement: int | None = None, after: float | None = None):
    """Run the operation and SIGKILL it at SQL statement ``at_statement`` (the runner
    kills itself just before it) or ``after`` seconds (killed from here).

    Returns True if the process finished by itself before it could be killed."""
    env = dict(os.environ)
    if at_statement is not None:
        env["AICL_KILL_AT_STATEMENT"] = str(at_statement)
    proc = subprocess.Popen(
        [sys.executable, str(RUNNER), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    if after is not None:
        try:
            proc.wait(timeout=after)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == -signal.SIGKILL:
        return False
    assert proc.returncode == 0, err.decode(errors="replace")
    return True


def classify(path: Path, before: dict[str, str], after: dict[str, str]) -> tuple[str, list[str]]:
    """``("before"|"after"|"MIXED", integrity problems)`` of the file at ``path``."""
    problems = integrity(path)
    now = table_digests(path)
    if now == before:
        return "before", problems
    if now == after:
        return "after", problems
    differ_b = sorted(k for k in set(now) | set(before) if now.get(k) != before.get(k))
    differ_a = sorted(k for k in set(now) | set(after) if now.get(k) != after.get(k))
    return f"MIXED (differs from before in {differ_b}, from after in {differ_a})", problems


def kill_plan(
    seed: int, statements: int, commits: list[int], seconds: float, n_random: int, n_timed: int
):
    """Seeded kill points: just before and just after every COMMIT and before the last
    statement (where the transaction ends and the closing checkpoint starts), plus
    ``n_random`` statements anywhere; and ``n_timed`` delays from the start to a little
    past the reference run's length."""
    rng = random.Random(seed)
    points = {p for c in commits for p in (c, c + 1) if p <= statements} | {statements}
    anywhere = [p for p in range(1, statements + 1) if p not in points]
    points |= set(rng.sample(anywhere, min(n_random, len(anywhere))))
    delays = [round(rng.uniform(0.05, 1.1) * seconds, 3) for _ in range(n_timed)]
    return sorted(points), delays


#: address space a child running a hostile import may use: far above what the import of
#: a refused file needs (about 0.3 GB), far below what the reader asks for when a check
#: fails to stop it (4 to 700 GB), so a regression ends the child, never the test runner
CHILD_MEMORY_BYTES = 2 * 1024**3


def cli_limited(
    *args: str | Path, memory_bytes: int = CHILD_MEMORY_BYTES, timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run ``python main.py ARGS`` to the end in a child whose address space is capped
    at ``memory_bytes``: an allocation the cap refuses kills the child (a negative or
    134 exit status for the test to report), not the process running the tests."""
    prelude = (
        "import resource, runpy, sys; "
        f"resource.setrlimit(resource.RLIMIT_AS, ({memory_bytes}, {memory_bytes})); "
        f"sys.argv = [{str(MAIN)!r}, *sys.argv[1:]]; "
        f"runpy.run_path({str(MAIN)!r}, run_name='__main__')"
    )
    return subprocess.run(
        [sys.executable, "-c", prelude, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
