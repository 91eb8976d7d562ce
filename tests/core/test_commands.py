"""Undoable edits: each command's inverse restores the inventory exactly, and is logged."""

from __future__ import annotations

import json

import pytest

from core.commands import (
    DeleteRecords,
    InsertRecord,
    UpdateRecord,
    consequences_text,
    duplicate_values,
)
from core.errors import InUseError, RecordChangedError, ValidationError


def snapshot(inv):
    """Every user table's rows, to compare states exactly."""
    tables = ["models", "sites", "hardware", "training_runs", "deployments", "usage", "sourcing"]
    return {t: inv.conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in tables}


def log_rows(inv):
    return inv.conn.execute(
        "SELECT action, table_name, row_id, field, old_value, new_value, description, os_user "
        "FROM change_log ORDER BY id"
    ).fetchall()


def test_insert_undo_redo(inv):
    before = snapshot(inv)
    cmd = InsertRecord("models", {"name": "Llama 3.1", "version": "8B", "params_total_b": 8.0})
    undo = cmd.apply(inv)
    assert cmd.description == "Add model 'Llama 3.1 8B'"
    assert inv.get("models", cmd.row_id)["params_total_b"] == 8.0
    after = snapshot(inv)
    redo = undo.apply(inv)
    assert snapshot(inv) == before
    redo.apply(inv)
    assert snapshot(inv) == after  # same id and values again


def test_update_undo_redo_and_log(inv, model_id):
    before = snapshot(inv)
    n_log = len(log_rows(inv))
    cmd = UpdateRecord("models", model_id, {"owner": "Search", "params_total_b": 70.0})
    undo = cmd.apply(inv)
    after = snapshot(inv)
    assert inv.get("models", model_id)["owner"] == "Search"
    entries = log_rows(inv)[n_log:]
    assert {(e[0], e[3], e[4], e[5]) for e in entries} == {
        ("update", "owner", None, '"Search"'),
        ("update", "params_total_b", None, "70.0"),
    }
    assert all(e[7] for e in entries)  # OS user recorded
    redo = undo.apply(inv)
    assert snapshot(inv) == before
    undo_entries = log_rows(inv)[n_log + 2 :]
    assert {e[6] for e in undo_entries} == {"Undo: Edit model 'Support bot 2'"}
    redo.apply(inv)
    assert snapshot(inv) == after


def test_update_with_no_change_logs_nothing(inv, model_id):
    n_log = len(log_rows(inv))
    UpdateRecord("models", model_id, {"name": "Support bot"}).apply(inv)
    assert len(log_rows(inv)) == n_log


def test_delete_cascades_and_undo_restores_everything(inv, model_id):
    dep = InsertRecord("deployments", {"name": "bot", "model_id": model_id, "kind": "api"})
    dep.apply(inv)
    for m in (1, 2, 3):
        InsertRecord(
            "usage",
            {
                "deployment_id": dep.row_id,
                "period_start": f"2026-0{m}-01",
                "period_end": f"2026-0{m}-28",
                "requests": 1000 * m,
            },
        ).apply(inv)
    InsertRecord(
        "training_runs", {"name": "ft", "model_id": model_id, "kind": "fine-tuning"}
    ).apply(inv)
    assert consequences_text(inv, "models", [model_id]) == (
        "1 training run, 1 deployment, 3 usage records"
    )
    before = snapshot(inv)
    cmd = DeleteRecords("models", [model_id])
    undo = cmd.apply(inv)
    assert inv.count("models") == 0 and inv.count("usage") == 0
    deleted = [e for e in log_rows(inv) if e[0] == "delete"]
    assert {e[1] for e in deleted} == {"models", "training_runs", "deployments", "usage"}
    assert json.loads(deleted[-1][4])["name"] == "Support bot"  # old value kept in the log
    redo = undo.apply(inv)
    assert snapshot(inv) == before
    redo.apply(inv)
    assert inv.count("models") == 0 and inv.count("deployments") == 0


def test_delete_of_a_site_in_use_is_refused_and_changes_nothing(inv, model_id):
    site = InsertRecord("sites", {"name": "Paris DC", "kind": "own", "pue": 1.3})
    site.apply(inv)
    InsertRecord(
        "training_runs",
        {"name": "r", "model_id": model_id, "kind": "experiments", "site_id": site.row_id},
    ).apply(inv)
    before = snapshot(inv)
    with pytest.raises(InUseError, match="1 training run still use"):
        DeleteRecords("sites", [site.row_id]).apply(inv)
    assert snapshot(inv) == before


def test_invalid_records_are_refused_with_reasons(inv, model_id):
    before = snapshot(inv)
    with pytest.raises(ValidationError) as info:
        InsertRecord("sites", {"name": "X", "kind": "own", "pue": 0.9}).apply(inv)
    assert info.value.problems == {"pue": "must be at least 1"}
    with pytest.raises(ValidationError, match="End is before the start"):
        InsertRecord(
            "training_runs",
            {
                "name": "r",
                "model_id": model_id,
                "kind": "experiments",
                "start_date": "2026-02-01",
                "end_date": "2026-01-01",
            },
        ).apply(inv)
    with pytest.raises(ValidationError, match="already exists"):
        InsertRecord("models", {"name": "Support bot", "version": "2"}).apply(inv)
    with pytest.raises(ValidationError, match="Model is required"):
        InsertRecord("training_runs", {"name": "r", "kind": "experiments"}).apply(inv)
    assert snapshot(inv) == before


def test_duplicate_values_get_a_free_name(inv, model_id):
    values = duplicate_values(inv, "models", model_id)
    assert values["name"] == "Support bot (copy)" and "id" not in values
    InsertRecord("models", values).apply(inv)
    again = duplicate_values(inv, "models", model_id)
    assert again["name"] == "Support bot (copy 2)"


def test_power_over_ten_times_tdp_is_refused(inv, model_id):
    hw = InsertRecord("hardware", {"name": "GPU X", "kind": "accelerator", "tdp_w": 400})
    hw.apply(inv)
    run = {"name": "r", "model_id": model_id, "kind": "fine-tuning", "hardware_id": hw.row_id}
    with pytest.raises(ValidationError, match=r"more than 10 x the hardware's TDP \(400 W\)"):
        InsertRecord("training_runs", {**run, "avg_power_w": 4001}).apply(inv)
    ok = InsertRecord("training_runs", {**run, "avg_power_w": 4000})
    ok.apply(inv)
    with pytest.raises(ValidationError, match="TDP"):
        UpdateRecord("training_runs", ok.row_id, {"avg_power_w": 9000}).apply(inv)


def test_setting_the_embodied_convention_is_logged_and_undoable(inv):
    from core.commands import SetSetting

    undo = SetSetting("embodied_convention", "capital-goods").apply(inv)
    assert inv.meta("embodied_convention") == "capital-goods"
    entry = inv.change_log(1)[0]
    assert (entry["table_name"], entry["field"], entry["old_value"], entry["new_value"]) == (
        "meta",
        "embodied_convention",
        '"amortised"',
        '"capital-goods"',
    )
    undo.apply(inv)
    assert inv.meta("embodied_convention") == "amortised"
    with pytest.raises(ValidationError, match="must be one of"):
        SetSetting("embodied_convention", "whenever").apply(inv)
    with pytest.raises(ValidationError, match="no setting called"):
        SetSetting("colour", "green").apply(inv)


# -- edits made while another program changed the record (no lost update) ---------------


def _other_program(inv, table, row_id, **values):
    """Another program's write: its own connection, committed at once."""
    import sqlite3

    other = sqlite3.connect(inv.path, isolation_level=None)
    try:
        sets = ", ".join(f"{k} = ?" for k in values)
        other.execute(f"UPDATE {table} SET {sets} WHERE id = ?", (*values.values(), row_id))
    finally:
        other.close()


def test_an_edit_of_other_fields_keeps_what_another_program_changed(inv, model_id):
    opened = inv.get("models", model_id)  # the form opens
    _other_program(inv, "models", model_id, params_total_b=77.0)
    UpdateRecord(
        "models", model_id, {"notes": "reviewed"}, expected={"notes": opened["notes"]}
    ).apply(inv)
    record = inv.get("models", model_id)
    assert record["notes"] == "reviewed" and record["params_total_b"] == 77.0


def test_an_edit_of_a_field_another_program_changed_is_refused(inv, model_id):
    opened = inv.get("models", model_id)
    _other_program(inv, "models", model_id, owner="Legal", params_total_b=77.0)
    before, n_log = snapshot(inv), len(log_rows(inv))
    cmd = UpdateRecord(
        "models",
        model_id,
        {"owner": "Search", "notes": "mine"},
        expected={"owner": opened["owner"], "notes": opened["notes"]},
    )
    with pytest.raises(RecordChangedError) as caught:
        cmd.apply(inv)
    text = str(caught.value)
    assert "changed by another program while you edited it" in text
    assert "Owner / team is now 'Legal'" in text and "reopen" in text
    assert "Total parameters" not in text  # a field this edit leaves alone is no conflict
    assert caught.value.fields == {"owner": "Legal"}
    assert snapshot(inv) == before and len(log_rows(inv)) == n_log
    assert not inv.conn.in_transaction


def test_the_undo_of_an_edit_does_not_overwrite_a_later_change(inv, model_id):
    opened = inv.get("models", model_id)
    undo = UpdateRecord(
        "models", model_id, {"owner": "Search"}, expected={"owner": opened["owner"]}
    ).apply(inv)
    assert undo.expected == {"owner": "Search"}
    _other_program(inv, "models", model_id, owner="Legal")
    with pytest.raises(RecordChangedError, match="Owner / team is now 'Legal'"):
        undo.apply(inv)
    assert inv.get("models", model_id)["owner"] == "Legal"
    _other_program(inv, "models", model_id, owner="Search")  # as the edit left it
    redo = undo.apply(inv)
    assert inv.get("models", model_id)["owner"] == opened["owner"]
    redo.apply(inv)
    assert inv.get("models", model_id)["owner"] == "Search"


def test_a_changed_reference_is_named_by_its_title(inv, model_id):
    other = InsertRecord("models", {"name": "Other model", "version": "1"})
    other.apply(inv)
    dep = InsertRecord("deployments", {"name": "bot", "model_id": model_id, "kind": "api"})
    dep.apply(inv)
    _other_program(inv, "deployments", dep.row_id, model_id=other.row_id)
    cmd = UpdateRecord(
        "deployments", dep.row_id, {"model_id": model_id, "notes": "x"}, expected={"model_id": None}
    )
    with pytest.raises(RecordChangedError, match="Model is now 'Other model 1'"):
        cmd.apply(inv)
