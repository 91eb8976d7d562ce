"""Save a Copy in steps: progress as the share of pages copied, Cancel that leaves
nothing behind, and a copy that holds exactly what the inventory holds."""

from __future__ import annotations

import itertools
import sqlite3
import threading
from pathlib import Path

import pytest

from core import inventory as inventory_module
from core.errors import Cancelled, ImportCancelled, InventoryExistsError
from core.inventory import Inventory


@pytest.fixture
def small_steps(monkeypatch):
    """Copy a few pages per step, so that even the demo inventory takes many steps."""
    monkeypatch.setattr(inventory_module, "COPY_STEP_PAGES", 8)


def row_counts(path: Path) -> dict[str, int]:
    """Rows of every table in the SQLite file at ``path``."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        names = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1")
        ]
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        conn.close()


def leftovers(folder: Path, name: str) -> list[Path]:
    """Temporary files of a copy to ``folder / name``."""
    return sorted(folder.glob(f".{name}.*"))


def test_progress_rises_step_by_step_to_one(demo, tmp_path, small_steps):
    seen: list[float] = []
    dest = tmp_path / "copies" / "copy.aicl"
    dest.parent.mkdir()
    assert demo.save_copy(dest, progress=seen.append) == dest
    assert len(seen) > 10  # one call per step of 8 pages
    assert all(0 < a < b for a, b in itertools.pairwise(seen))
    assert seen[-1] == 1.0
    assert row_counts(dest) == row_counts(demo.path)
    assert leftovers(dest.parent, dest.name) == []


def test_cancel_mid_way_leaves_no_copy_and_no_temporary_file(demo, tmp_path, small_steps):
    dest = tmp_path / "copy.aicl"
    seen: list[float] = []
    with pytest.raises(Cancelled, match="cancelled"):
        demo.save_copy(dest, progress=seen.append, cancel=lambda: len(seen) >= 3)
    assert len(seen) == 3 and seen[-1] < 1  # stopped at the next step
    assert not dest.exists()
    assert leftovers(tmp_path, dest.name) == []


def test_cancel_keeps_an_existing_destination_as_it_was(demo, tmp_path, small_steps):
    dest = tmp_path / "older copy.aicl"
    dest.write_bytes(b"an earlier copy")
    with pytest.raises(Cancelled) as raised:
        demo.save_copy(dest, cancel=lambda: True)  # before the first page
    assert not isinstance(raised.value, ImportCancelled)  # a copy, not an import
    assert dest.read_bytes() == b"an earlier copy"
    assert leftovers(tmp_path, dest.name) == []


@pytest.mark.parametrize("stepped", [False, True], ids=["one-step", "in-steps"])
def test_a_copy_of_a_real_inventory_holds_every_row(demo, tmp_path, stepped):
    dest = tmp_path / "copy.aicl"
    if stepped:
        demo.save_copy(dest, progress=lambda _f: None, cancel=lambda: False)
    else:
        demo.save_copy(dest)
    source = row_counts(demo.path)
    assert source["usage"] > 0 and source["deployments"] > 0
    assert row_counts(dest) == source
    with Inventory.open(dest) as copy:
        assert copy.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # as opened
        assert copy.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn = sqlite3.connect(dest)
    try:  # closed, the copy is one file: no write-ahead log beside it
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    finally:
        conn.close()


def test_a_copy_in_steps_runs_on_another_thread_and_sees_every_commit(inv, tmp_path):
    """It reads through a connection of its own (the inventory's belongs to this
    thread), which sees what this thread committed just before."""
    inv.insert_logged("models", [{"name": f"M{i}"} for i in range(40)], "test")
    dest = tmp_path / "copy.aicl"
    outcome: list[object] = []

    def copy() -> None:
        try:
            outcome.append(inv.save_copy(dest, progress=lambda _f: None))
        except Exception as exc:  # reported to the test below
            outcome.append(exc)

    worker = threading.Thread(target=copy)
    worker.start()
    worker.join(30)
    assert outcome == [dest]
    assert row_counts(dest)["models"] == 40


def test_a_change_committed_between_two_steps_is_in_the_copy(inv, tmp_path, small_steps):
    """SQLite starts the copy again when another connection writes between two steps:
    the copy is of one state, and the progress shown does not go back."""
    inv.insert_logged("models", [{"name": f"M{i}", "notes": "x" * 500} for i in range(200)], "t")
    seen: list[float] = []

    def progress(fraction: float) -> None:
        if len(seen) == 3:  # the window's connection commits an edit mid-copy
            inv.insert_logged("models", [{"name": "Late"}], "test")
        seen.append(fraction)

    dest = tmp_path / "copy.aicl"
    inv.save_copy(dest, progress=progress)
    assert seen == sorted(seen) and seen[-1] == 1.0
    assert row_counts(dest) == row_counts(inv.path)
    assert row_counts(dest)["models"] == 201


def test_the_open_inventory_itself_is_refused_with_or_without_progress(inv):
    with pytest.raises(InventoryExistsError):
        inv.save_copy(inv.path, progress=lambda _f: None)
    with pytest.raises(InventoryExistsError):
        inv.save_copy(inv.path)
