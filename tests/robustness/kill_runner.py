"""Run ``main.py ARGS`` exactly as a user would, with two test hooks on SQLite:

- ``AICL_KILL_AT_STATEMENT=N``: the process sends itself SIGKILL just before the N-th
  SQL statement any connection runs (``BEGIN``, each row of an ``executemany``,
  ``COMMIT``, ``PRAGMA``...), so that a kill can be placed at every point of a write;
- ``AICL_COUNT_STATEMENTS=FILE``: write to FILE at the end how many statements ran and
  the numbers of the ``COMMIT`` statements (JSON), so kills can be placed around them.

The statement trace is SQLite's own (``set_trace_callback``); nothing else changes.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

_kill_at = int(os.environ.get("AICL_KILL_AT_STATEMENT", "0"))
_count_file = os.environ.get("AICL_COUNT_STATEMENTS")
_count = 0
_commits: list[int] = []


def _on_statement(sql: str) -> None:
    global _count
    _count += 1
    if sql.lstrip()[:6].upper() == "COMMIT":
        _commits.append(_count)
    if _count == _kill_at:
        os.kill(os.getpid(), signal.SIGKILL)


_connect = sqlite3.connect


def _traced_connect(*args, **kwargs):
    conn = _connect(*args, **kwargs)
    conn.set_trace_callback(_on_statement)
    return conn


sqlite3.connect = _traced_connect

import main  # noqa: E402

code = main.main(sys.argv[1:])
if _count_file:
    Path(_count_file).write_text(json.dumps({"statements": _count, "commits": _commits}))
sys.exit(code)
