"""The import's writer: new rows go in without their ids (SQLite numbers them on from the
table's largest id), and the ids it recorded for undo are checked against what SQLite
gave: a mismatch stops the import with nothing written."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest

from core.errors import LedgerError
from core.importing import commit as commit_module
from core.importing import commit_import, open_source, plan_import, propose_mapping
from core.importing.commit import undo_import
from core.inventory import Inventory


def _inventory(path: Path) -> Inventory:
    inv = Inventory.create(path, reference_data=False)
    model = inv.insert_logged("models", [{"name": "Bot", "version": "1"}], "test")[0]
    inv.insert_logged("deployments", [{"name": "dep-a", "model_id": model, "kind": "cloud"}], "t")
    # a gap at the top of usage: ids 1..3 written, 3 deleted; SQLite reuses 3
    ids = inv.insert_logged(
        "usage",
        [
            {"deployment_id": 1, "period_start": f"2025-0{m}-01", "period_end": f"2025-0{m}-01"}
            for m in (1, 2, 3)
        ],
        "t",
    )
    with inv.transaction():
        inv.conn.execute("DELETE FROM usage WHERE id = ?", (ids[-1],))
    return inv


def _csv(path: Path, rows: int) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Deployment", "Period start", "Period end", "Requests"])
        for i in range(rows):
            day = f"2026-{1 + i // 28:02d}-{1 + i % 28:02d}"
            w.writerow(["dep-a", day, day, i])
    return path


def _plan(inv: Inventory, data: Path):
    sheet = open_source(data)[0]
    return plan_import(inv, sheet, propose_mapping(sheet, "usage"))


def test_new_rows_get_the_ids_recorded_for_undo(tmp_path):
    with _inventory(tmp_path / "inv.aicl") as inv:
        result = commit_import(inv, [_plan(inv, _csv(tmp_path / "u.csv", 60))])
        ids = [r[0] for r in inv.conn.execute("SELECT id FROM usage ORDER BY id")]
        assert ids == [1, 2, *range(3, 63)]  # on from the largest id left, 2
        changes = inv.conn.execute(
            "SELECT first_id, last_id FROM import_changes WHERE table_name = 'usage'"
        ).fetchall()
        assert changes == [(3, 62)]
        undo_import(inv, result.import_id)
        assert [r[0] for r in inv.conn.execute("SELECT id FROM usage")] == [1, 2]


def test_ids_not_as_expected_stop_the_import_with_nothing_written(tmp_path, monkeypatch):
    inv_path = tmp_path / "inv.aicl"
    data = _csv(tmp_path / "u.csv", 60)
    _inventory(inv_path).close()
    before = hashlib.sha256(inv_path.read_bytes()).hexdigest()
    real_new_id = commit_module._Writer.new_id

    def new_id_off_by_five(self, table):  # as if SQLite had numbered the rows otherwise
        if table not in self.next_id:
            real_new_id(self, table)
            self.next_id[table] += 5
            self.first_id[table] = self.next_id[table]
        return real_new_id(self, table)

    monkeypatch.setattr(commit_module._Writer, "new_id", new_id_off_by_five)
    with Inventory.open(inv_path) as inv:
        plan = _plan(inv, data)
        with pytest.raises(LedgerError, match="did not get the ids"):
            commit_import(inv, [plan])
        assert inv.count("usage") == 2
    assert hashlib.sha256(inv_path.read_bytes()).hexdigest() == before
