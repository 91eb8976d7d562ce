"""The inventory file: creation, migrations, refusals, queries for the table views."""

from __future__ import annotations

import hashlib
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core import migrations, schema
from core.errors import (
    InventoryExistsError,
    InventoryOpenError,
    NewerSchemaError,
    NotAnInventoryError,
)
from core.inventory import Inventory, read_header


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_new_file_is_wal_with_foreign_keys_and_current_schema(tmp_path):
    path = tmp_path / "new.aicl"
    with Inventory.create(path) as inv:
        assert inv.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert inv.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert inv.schema_version == migrations.LATEST_VERSION
        assert inv.meta("created_by_version")
        tables = set(inv.db.table_names())
        assert {
            "models",
            "sites",
            "hardware",
            "training_runs",
            "deployments",
            "usage",
            "sourcing",
            "change_log",
            "imports_log",
            "meta",
        } <= tables
    app_id, version = read_header(path)
    assert app_id == migrations.APPLICATION_ID
    assert version == migrations.LATEST_VERSION


def test_migrates_an_empty_sqlite_file_created_elsewhere(tmp_path):
    path = tmp_path / "empty.aicl"
    path.touch()  # a zero-byte file is an empty database: creating over it is fine
    with Inventory.create(path) as inv:
        assert inv.schema_version == migrations.LATEST_VERSION


def test_reopen_keeps_data(tmp_path):
    path = tmp_path / "a.aicl"
    with Inventory.create(path) as inv:
        inv.insert_logged("models", [{"name": "M"}], "test")
    with Inventory.open(path) as inv:
        assert inv.count("models") == 1
        assert inv.get("models", 1)["name"] == "M"


def test_create_refuses_to_overwrite(tmp_path):
    path = tmp_path / "a.aicl"
    Inventory.create(path).close()
    before = _sha(path)
    with pytest.raises(InventoryExistsError, match="already exists"):
        Inventory.create(path)
    assert _sha(path) == before


def test_newer_schema_is_refused_and_untouched(tmp_path):
    path = tmp_path / "future.aicl"
    Inventory.create(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {migrations.LATEST_VERSION + 1}")
    conn.close()
    before = _sha(path)
    with pytest.raises(NewerSchemaError, match="newer version") as info:
        Inventory.open(path)
    assert str(path) in str(info.value)
    assert _sha(path) == before
    assert not list(tmp_path.glob("*backup*"))


def test_random_sqlite_file_is_refused_and_untouched(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    conn.close()
    before = _sha(path)
    with pytest.raises(NotAnInventoryError, match="another program"):
        Inventory.open(path)
    assert _sha(path) == before


@pytest.mark.parametrize("content", [b"name,power\nA100,400\n" * 20, b"", b"\x00" * 4096])
def test_non_sqlite_files_are_refused(tmp_path, content):
    path = tmp_path / "renamed.aicl"
    path.write_bytes(content)
    with pytest.raises(NotAnInventoryError, match="not an AI Carbon Ledger inventory"):
        Inventory.open(path)
    assert path.read_bytes() == content


def test_missing_file_and_folder_are_refused_with_the_path(tmp_path):
    with pytest.raises(InventoryOpenError, match="no such file"):
        Inventory.open(tmp_path / "nope.aicl")
    with pytest.raises(InventoryOpenError, match="folder"):
        Inventory.open(tmp_path)


def test_older_schema_is_backed_up_then_migrated(tmp_path, monkeypatch):
    """A file at the current version meets an app that knows one more: backup, then step."""
    current = migrations.LATEST_VERSION
    path = tmp_path / "old.aicl"
    with Inventory.create(path) as inv:
        inv.insert_logged("models", [{"name": "Kept"}], "test")

    def step(conn):
        conn.execute("ALTER TABLE models ADD COLUMN licence TEXT")

    new = migrations.Migration(current + 1, "test step", step)
    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, new))
    monkeypatch.setattr(migrations, "LATEST_VERSION", current + 1)
    with Inventory.open(path) as inv:
        assert inv.schema_version == current + 1
        assert "licence" in inv.db["models"].columns_dict
        assert inv.get("models", 1)["name"] == "Kept"
    backups = list(tmp_path.glob(f"old.schema{current}-backup-*.aicl"))
    assert len(backups) == 1
    conn = sqlite3.connect(backups[0])
    assert conn.execute("PRAGMA user_version").fetchone()[0] == current
    assert conn.execute("SELECT name FROM models").fetchall() == [("Kept",)]
    conn.close()


def test_failed_migration_leaves_the_previous_version(tmp_path, monkeypatch):
    current = migrations.LATEST_VERSION
    path = tmp_path / "old.aicl"
    Inventory.create(path).close()

    def broken(conn):
        conn.execute("ALTER TABLE models ADD COLUMN half_done TEXT")
        raise sqlite3.OperationalError("simulated failure in the middle of a step")

    bad = migrations.Migration(current + 1, "x", broken)
    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, bad))
    monkeypatch.setattr(migrations, "LATEST_VERSION", current + 1)
    with pytest.raises(InventoryOpenError, match="simulated failure"):
        Inventory.open(path)
    monkeypatch.undo()
    with Inventory.open(path) as inv:
        assert inv.schema_version == current
        assert "half_done" not in inv.db["models"].columns_dict


def test_change_log_is_append_only(inv):
    inv.insert_logged("models", [{"name": "M"}], "test")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        inv.conn.execute("DELETE FROM change_log")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        inv.conn.execute("UPDATE change_log SET os_user = 'someone else'")


def test_save_copy_is_a_complete_standalone_inventory(inv, tmp_path):
    inv.insert_logged("models", [{"name": f"M{i}"} for i in range(50)], "test")
    dest = tmp_path / "copy.aicl"
    inv.save_copy(dest)
    assert not list(tmp_path.glob(".copy.aicl.*.tmp"))
    with Inventory.open(dest) as copy:
        assert copy.count("models") == 50
        assert copy.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with pytest.raises(InventoryExistsError):
        inv.save_copy(inv.path)


def _models(inv, names):
    rows = [{"name": n, "owner": o, "params_total_b": p} for n, o, p in names]
    return inv.insert_logged("models", rows, "test")


def test_ordered_ids_sorts_in_sql_with_blanks_last(inv):
    ids = _models(inv, [("b", "Search", 7.0), ("A", None, None), ("c", "Legal", 70.0)])
    assert list(inv.ordered_ids("models", "name")) == [ids[1], ids[0], ids[2]]
    assert list(inv.ordered_ids("models", "name", descending=True)) == [ids[2], ids[0], ids[1]]
    assert list(inv.ordered_ids("models", "params_total_b")) == [ids[0], ids[2], ids[1]]
    desc = inv.ordered_ids("models", "params_total_b", descending=True)
    assert list(desc) == [ids[2], ids[0], ids[1]]
    assert inv.ordered_ids("models").dtype == np.int64


def test_search_matches_text_and_reference_titles(inv):
    m1, m2 = _models(inv, [("Llama 3.1 8B", "Support", 8), ("BERT base", "Legal", 0.11)])
    site = inv.ordered_ids("sites")[0] if inv.count("sites") else None
    inv.insert_logged(
        "training_runs",
        [
            {"name": "ft-1", "model_id": m1, "kind": "fine-tuning", "site_id": site},
            {"name": "ft-2", "model_id": m2, "kind": "fine-tuning"},
        ],
        "test",
    )
    assert list(inv.ordered_ids("models", search="llama")) == [m1]
    assert list(inv.ordered_ids("models", search="legal")) == [m2]
    assert list(inv.ordered_ids("models", search="BERT legal")) == [m2]  # every word
    assert list(inv.ordered_ids("models", search="nothing like it")) == []
    runs = inv.ordered_ids("training_runs", "model_id", search="llama")
    assert [inv.get("training_runs", int(i))["name"] for i in runs] == ["ft-1"]


def test_search_treats_like_wildcards_literally(inv):
    _models(inv, [("100% renewable", None, None), ("a_b", None, None), ("abc", None, None)])
    assert len(inv.ordered_ids("models", search="%")) == 1
    assert len(inv.ordered_ids("models", search="_")) == 1


def test_display_rows_show_reference_titles(inv, model_id):
    run = inv.insert_logged(
        "training_runs", [{"name": "r", "model_id": model_id, "kind": "experiments"}], "t"
    )[0]
    row = inv.display_rows("training_runs", [run])[run]
    shown = [f.name for f in inv.display_fields("training_runs")]
    assert row[shown.index("model_id")] == "Support bot 2"


def test_dependents_follow_cascades_and_report_restrictions(inv, model_id):
    site = inv.insert_logged("sites", [{"name": "Paris DC", "kind": "own"}], "t")[0]
    dep = inv.insert_logged(
        "deployments",
        [{"name": "bot", "model_id": model_id, "kind": "self-hosted", "site_id": site}],
        "t",
    )[0]
    inv.insert_logged(
        "usage",
        [
            {"deployment_id": dep, "period_start": f"2026-0{m}-01", "period_end": f"2026-0{m}-28"}
            for m in range(1, 4)
        ],
        "t",
    )
    cascade, restrict = inv.dependents("models", [model_id])
    assert cascade == {"deployments": 1, "usage": 3}
    assert restrict == {}
    cascade, restrict = inv.dependents("sites", [site])
    assert restrict == {"deployments": 1}


# -- ordered_ids against the plain SQL it replaced, and its caches ----------------------


def _reference_ids(inv, table, sort=None, descending=False, search=""):
    """What ``ordered_ids`` must return: the SQL it replaced (joins, LIKE, ORDER BY)."""
    spec = schema.table(table)
    from_clause, exprs = inv._joins(table)
    order = "t.id"
    if sort:
        f = spec.field(sort)
        expr = exprs.get(sort, f"t.{sort}")
        collate = " COLLATE NOCASE" if f.kind in ("text", "ref", "longtext") else ""
        direction = "DESC" if descending else "ASC"
        order = f"{expr}{collate} {direction} NULLS LAST, t.id {direction}"
    searchable = [
        exprs.get(f.name, f"t.{f.name}")
        for f in spec.fields
        if f.kind in ("text", "longtext", "choice", "ref")
    ]
    clauses, params = [], []
    for term in search.split():
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append("(" + " OR ".join(f"{e} LIKE ? ESCAPE '\\'" for e in searchable) + ")")
        params += [f"%{escaped}%"] * len(searchable)
    where = " WHERE " + " AND ".join(clauses) if clauses else ""
    sql = f"SELECT t.id FROM {from_clause}{where} ORDER BY {order}"
    return [row[0] for row in inv.conn.execute(sql, params)]


SEARCHES = ("", "a", "CHAT", "translate eu", "%", "_", "it", "zzz", "1")


def _assert_same_as_sql(inv, tables=None, searches=SEARCHES):
    for table in tables or schema.TABLES:
        for f in (None, *inv.display_fields(table)):
            for descending in (False, True):
                for search in searches:
                    sort = f.name if f else None
                    got = inv.ordered_ids(table, sort, descending, search)
                    want = _reference_ids(inv, table, sort, descending, search)
                    assert got.dtype == np.int64
                    assert list(got) == want, (table, sort, descending, search)


def _fill_random(inv, seed=1, usage_rows=300):
    """Ties, blanks, case differences and LIKE wildcards in every kind of column."""
    rng = random.Random(seed)
    names = ["Alpha", "alpha", "Beta", "chat-bot", "Chat bot", "100% green", "a_b", "Zeta"]
    pairs = {(rng.choice(names) + f" {i % 3}", rng.choice(["", "v1", "V1"])) for i in range(40)}
    models = inv.insert_logged(
        "models",
        [
            {
                "name": name,
                "version": version,
                "owner": rng.choice([None, "Search", "search", "Legal"]),
                "task": rng.choice([None, "chat", "code", "embedding"]),
                "params_total_b": rng.choice([None, 7.0, 0.11, 70.0, 7.0, 1e-3, 3.5]),
            }
            for name, version in sorted(pairs)
        ],
        "test",
    )
    sites = [i for i, _ in inv.ref_options("sites")][:6]
    hardware = [i for i, _ in inv.ref_options("hardware")][:6]
    deployments = inv.insert_logged(
        "deployments",
        [
            {
                "name": rng.choice(["translate-eu", "Chat", "chat", "batch_1", "search"]) + f" {i}",
                "model_id": rng.choice(models),
                "kind": rng.choice(["self-hosted", "cloud", "api"]),
                "site_id": rng.choice([None, *sites]),
                "hardware_id": rng.choice([None, *hardware]),
                "device_count": rng.choice([None, 0, 1, 8, 8, 64, 10**12]),
                "start_date": rng.choice([None, "2025-01-01", "2025-06-30", "2026-01-01"]),
            }
            for i in range(40)
        ],
        "test",
    )
    inv.insert_logged(
        "training_runs",
        [
            {
                "name": rng.choice(["ft", "FT", "pre"]) + f"-{i}",
                "model_id": rng.choice(models),
                "kind": rng.choice(["pre-training", "fine-tuning", "experiments"]),
                "site_id": rng.choice([None, *sites]),
                "energy_kwh": rng.choice([None, 10.0, 2.5, 10.0]),
                "energy_boundary": rng.choice([None, "device", "it", "facility"]),
            }
            for i in range(20)
        ],
        "test",
    )
    usage = []
    for i in range(usage_rows):
        start = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        usage.append(
            {
                "deployment_id": rng.choice(deployments),
                "period_start": start,
                "period_end": start.replace("2025", "2026") if i % 4 else start,
                "requests": rng.choice([None, 0, 5, 5, 10**15, rng.randint(0, 10**6)]),
                "input_tokens": rng.choice([None, rng.randint(0, 10**18)]),
                "device_hours": rng.choice([None, 0.0, 1.5, 1.5, rng.random() * 100]),
                "energy_kwh": rng.choice([None, 0.0, 2.25, rng.lognormvariate(0, 3)]),
                "energy_boundary": rng.choice([None, "device", "it", "facility"]),
                "notes": rng.choice([None, "", "50% at night", "a_b", "translate"]),
            }
        )
    inv.insert_logged("usage", usage, "test")
    return models, deployments


def test_ordered_ids_matches_sql_on_every_column_order_and_search(inv):
    _fill_random(inv)
    _assert_same_as_sql(inv)
    inv._cache.clear()  # and in the other order: searches before sorts
    for search in SEARCHES[::-1]:
        for table in ("usage", "deployments"):
            assert list(inv.ordered_ids(table, search=search)) == _reference_ids(
                inv, table, search=search
            )


def test_values_numpy_cannot_read_are_sorted_and_searched_by_sql(inv):
    """Whatever got into the file (written by another tool), the order stays SQL's."""
    _fill_random(inv, seed=2, usage_rows=60)
    raw = inv.conn  # bypassing Inventory's write methods on purpose
    raw.execute("UPDATE models SET task = 'Custom task' WHERE id % 3 = 0")  # not a choice
    raw.execute("UPDATE models SET params_total_b = 'n/a' WHERE id % 4 = 0")  # text
    raw.execute("UPDATE deployments SET start_date = '2026-1-5' WHERE id % 5 = 0")
    raw.execute("UPDATE deployments SET device_count = 2.5 WHERE id % 6 = 0")
    raw.execute("UPDATE deployments SET end_date = '0000-00-00' WHERE start_date IS NULL")
    raw.execute("PRAGMA foreign_keys = OFF")  # references to rows that do not exist
    raw.execute(f"UPDATE usage SET deployment_id = {-(2**63)} WHERE id % 7 = 0")
    raw.execute("UPDATE usage SET deployment_id = 999999 WHERE id % 8 = 0")
    raw.execute(f"UPDATE deployments SET site_id = {-(2**63)} WHERE id % 7 = 0")  # and blanks
    raw.execute("PRAGMA foreign_keys = ON")
    _assert_same_as_sql(inv, ("models", "deployments", "usage"), ("", "custom", "a"))


def test_ids_with_gaps_and_negative_ids(inv):
    _fill_random(inv, seed=3, usage_rows=80)
    usage = [int(i) for i in inv.ordered_ids("usage")]
    inv.delete_ids("usage", usage[5:40:3])
    row = inv.get("usage", usage[0])
    inv.insert_row("usage", {k: v for k, v in row.items() if k != "id"}, row_id=-7)
    _assert_same_as_sql(inv, ("usage", "deployments"), ("", "chat"))


def test_first_ids_are_the_start_of_the_order_when_they_come_cheaply(inv):
    _fill_random(inv, seed=4)
    for sort in (None, "period_start"):  # id order, and an indexed column
        for descending in (False, True):
            first = inv.first_ids("usage", sort, descending, limit=50)
            assert list(first) == _reference_ids(inv, "usage", sort, descending)[:50]
    assert inv.first_ids("usage", "energy_kwh", limit=50) is None  # would need a sort
    inv.ordered_ids("usage", "energy_kwh")  # now it is cached
    first = inv.first_ids("usage", "energy_kwh", True, limit=50)
    assert list(first) == _reference_ids(inv, "usage", "energy_kwh", True)[:50]


def _usage_by(inv, sort, descending=False, search=""):
    got = list(inv.ordered_ids("usage", sort, descending, search))
    assert got == _reference_ids(inv, "usage", sort, descending, search)
    return got


def test_edits_drop_only_the_orders_they_change(inv):
    _, deployments = _fill_random(inv, seed=5)
    first = int(inv.ordered_ids("usage")[0])
    for sort in ("energy_kwh", "deployment_id", "period_start"):
        _usage_by(inv, sort)
    cache = inv._cache
    energy, by_deployment = (
        cache.order("usage", "energy_kwh"),
        cache.order("usage", "deployment_id"),
    )

    inv.update_row("usage", first, {"notes": "edited"})  # sorts nothing shown
    assert cache.order("usage", "energy_kwh") is energy
    assert cache.order("usage", "deployment_id") is by_deployment
    inv.update_row("usage", first, {"energy_kwh": 1e9})
    assert cache.order("usage", "energy_kwh") is None
    assert cache.order("usage", "deployment_id") is by_deployment
    assert _usage_by(inv, "energy_kwh", descending=True)[0] == first

    inv.update_row("deployments", deployments[0], {"device_count": 3})  # not in titles
    assert cache.order("usage", "deployment_id") is by_deployment
    inv.update_row("deployments", deployments[0], {"name": "0000 renamed"})  # the title
    assert cache.order("usage", "deployment_id") is None
    renamed = _usage_by(inv, "deployment_id")
    assert inv.get("usage", renamed[0])["deployment_id"] == deployments[0]
    _usage_by(inv, "deployment_id", search="renamed")
    inv.update_row("usage", first, {"deployment_id": deployments[1]})  # a foreign key
    _usage_by(inv, "deployment_id", search="renamed")


def test_inserts_and_cascading_deletes_refresh_orders_and_searches(inv):
    models, deployments = _fill_random(inv, seed=6)
    for sort in (None, "energy_kwh", "deployment_id"):
        _usage_by(inv, sort)
        _usage_by(inv, sort, search="translate")
    new = inv.insert_row(
        "usage",
        {"deployment_id": deployments[2], "period_start": "2024-01-01", "period_end": "2024-01-02"},
    )
    assert _usage_by(inv, "period_start")[0] == new
    assert inv.count("usage") == len(_usage_by(inv, None))
    with inv.transaction():  # a deployment's usage rows go with it (ON DELETE CASCADE)
        inv.delete_ids("deployments", [deployments[2]])
    assert new not in _usage_by(inv, "energy_kwh", search="translate")
    assert inv.count("usage") == len(_usage_by(inv, "deployment_id"))
    inv.delete_ids("models", [models[0]])  # models -> deployments -> usage
    for table in ("models", "deployments", "usage", "training_runs"):
        assert inv.count(table) == len(inv.ordered_ids(table))
    _assert_same_as_sql(inv, ("deployments", "usage", "training_runs"), ("", "chat"))


def test_a_rollback_drops_orders_computed_inside_the_transaction(inv):
    _, deployments = _fill_random(inv, seed=7)
    before = _usage_by(inv, "energy_kwh")
    first = before[0]
    with pytest.raises(RuntimeError, match="abandon"), inv.transaction():
        inv.update_row("usage", first, {"energy_kwh": 1e9})
        inv.insert_row(
            "usage",
            {
                "deployment_id": deployments[0],
                "period_start": "2025-01-01",
                "period_end": "2025-01-01",
            },
        )
        inside = list(inv.ordered_ids("usage", "energy_kwh"))  # cached from unsaved rows
        assert inside[-len(before) - 1 :][0] != first and len(inside) == len(before) + 1
        raise RuntimeError("abandon")
    assert _usage_by(inv, "energy_kwh") == before
    assert inv.count("usage") == len(before)


def test_a_rolled_back_savepoint_drops_orders_too(inv):
    _fill_random(inv, seed=8)
    before = _usage_by(inv, "requests", descending=True)
    with inv.transaction():
        with pytest.raises(RuntimeError), inv.transaction():
            inv.update_row("usage", before[-1], {"requests": 10**16})
            assert inv.ordered_ids("usage", "requests", True)[0] == before[-1]
            raise RuntimeError
        assert _usage_by(inv, "requests", descending=True) == before
    assert _usage_by(inv, "requests", descending=True) == before


def test_commits_by_another_connection_are_seen(inv):
    _, deployments = _fill_random(inv, seed=9)
    before = _usage_by(inv, "energy_kwh", search="chat")
    inv.count("usage")
    with Inventory.open(inv.path) as other:
        other.update_row("usage", before[0], {"energy_kwh": 1e9})
        other.update_row("deployments", deployments[3], {"name": "chat renamed"})
        other.delete_ids("usage", [before[1]])
    after = _usage_by(inv, "energy_kwh", search="chat")
    assert after[-1] == before[0] or inv.get("usage", before[0])["energy_kwh"] == 1e9
    assert before[1] not in after
    assert inv.count("usage") == len(_usage_by(inv, None))


def test_writes_that_bypass_the_inventory_methods_are_seen(inv):
    _fill_random(inv, seed=10)
    before = _usage_by(inv, "device_hours")
    inv.count("usage")
    inv.conn.execute("UPDATE usage SET device_hours = 1e9 WHERE id = ?", (before[0],))
    inv.conn.execute("DELETE FROM usage WHERE id = ?", (before[1],))
    after = _usage_by(inv, "device_hours", descending=True)
    assert after[0] == before[0] and before[1] not in after
    assert inv.count("usage") == len(before) - 1


def test_numpy_ids_bind_as_numbers(inv, model_id):
    ids = inv.ordered_ids("models")
    assert inv.get("models", ids[0])["id"] == model_id  # an np.int64
    inv.update_row("models", model_id, {"params_total_b": np.float64(1.5)})
    assert inv.conn.execute("SELECT typeof(params_total_b) FROM models").fetchone() == ("real",)


def test_opening_an_inventory_imports_neither_numpy_nor_sqlite_utils(tmp_path):
    """They are imported on first use, not while the app starts."""
    path = tmp_path / "a.aicl"
    Inventory.create(path).close()
    code = (
        "import sys\n"
        "from core.inventory import Inventory\n"
        f"inv = Inventory.open({str(path)!r})\n"
        "inv.count('models'); inv.display_rows('models', [1]); inv.title('models', 1)\n"
        "print(sorted(m for m in ('numpy', 'sqlite_utils') if m in sys.modules))\n"
        "inv.ordered_ids('models'); inv.db.table_names()\n"
        "print(sorted(m for m in ('numpy', 'sqlite_utils') if m in sys.modules))\n"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["[]", "['numpy', 'sqlite_utils']"]


def test_a_full_disk_inside_a_savepoint_reports_the_full_disk(inv):
    """SQLite rolls the whole transaction back itself when the disk fills; the nested
    block must then not try its own ROLLBACK TO (which failed: "no such savepoint")."""
    before = inv.count("models")
    pages = inv.conn.execute("PRAGMA page_count").fetchone()[0]
    inv.conn.execute(f"PRAGMA max_page_count = {pages}")  # a disk with no room left
    with (
        pytest.raises(sqlite3.OperationalError, match="full"),
        inv.transaction(),
        inv.transaction(),  # a savepoint in it
    ):
        inv.insert_row("models", {"name": "x" * 200_000, "notes": "y" * 200_000})
    assert not inv.conn.in_transaction
    inv.conn.execute(f"PRAGMA max_page_count = {2**31}")
    assert inv.count("models") == before
    with inv.transaction(), inv.transaction():  # and it goes on working
        inv.insert_row("models", {"name": "after"})
    assert inv.count("models") == before + 1


def test_closing_twice_is_harmless_and_can_skip_the_statistics(tmp_path):
    path = tmp_path / "c.aicl"
    inv = Inventory.create(path)
    inv.close(optimize=False)
    inv.close()
    with Inventory.open(path) as again:
        assert again.count("models") >= 0
