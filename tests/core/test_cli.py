"""The headless CLI, run as users run it: ``python main.py ...`` in a subprocess."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from core import __version__

ROOT = Path(__file__).resolve().parents[2]


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=120,
    )


def test_help_and_version():
    result = run("--help")
    assert result.returncode == 0
    for command in ("new", "demo", "list", "imports", "undo-import"):
        assert command in result.stdout
    assert "Exit codes" in result.stdout
    result = run("--version")
    assert result.returncode == 0 and __version__ in result.stdout


def test_new_then_list_in_every_format(tmp_path):
    path = tmp_path / "inv.aicl"
    result = run("new", path)
    assert result.returncode == 0, result.stderr
    assert path.exists()

    table = run("list", path, "hardware")
    assert table.returncode == 0, table.stderr
    assert "TDP (W)" in table.stdout  # headers carry units
    rows = json.loads(run("list", path, "hardware", "--format", "json").stdout)
    parsed = list(
        csv.DictReader(io.StringIO(run("list", path, "hardware", "--format", "csv").stdout))
    )
    assert len(rows) == len(parsed)
    assert f"({len(rows):,} " in table.stdout or (len(rows) == 1)
    if rows:
        assert {"id", "name", "tdp_w", "source"} <= set(rows[0])


def test_list_shows_reference_titles(tmp_path):
    from core.inventory import Inventory

    path = tmp_path / "inv.aicl"
    with Inventory.create(path, reference_data=False) as inv:
        m = inv.insert_logged("models", [{"name": "Llama", "version": "3.1"}], "t")[0]
        inv.insert_logged("deployments", [{"name": "chat", "model_id": m, "kind": "api"}], "t")
    rows = json.loads(run("list", path, "deployments", "--format", "json").stdout)
    assert rows == [
        {
            "id": 1,
            "name": "chat",
            "model_id": 1,
            "model": "Llama 3.1",
            "kind": "api",
            "site_id": None,
            "site": None,
            "hardware_id": None,
            "hardware": None,
            "device_count": None,
            "start_date": None,
            "end_date": None,
            "notes": None,
        }
    ]
    table = run("list", path, "deployments").stdout
    assert "Llama 3.1" in table and "Third-party API" in table


def test_list_shows_control_characters_as_escapes(tmp_path):
    """A name holding a terminal escape sequence cannot drive the terminal of whoever
    lists the inventory: control characters are printed as escapes in the table."""
    from core.inventory import Inventory

    path = tmp_path / "inv.aicl"
    with Inventory.create(path, reference_data=False) as inv:
        inv.insert_logged("models", [{"name": "red\x1b[31m\x07bot", "version": "1"}], "t")
    table = run("list", path, "models").stdout
    assert "\x1b" not in table and "\x07" not in table
    assert "red\\x1b[31m\\x07bot" in table
    # the JSON keeps the name exactly as stored
    rows = json.loads(run("list", path, "models", "--format", "json").stdout)
    assert rows[0]["name"] == "red\x1b[31m\x07bot"


def test_usage_errors_exit_2_with_one_line(tmp_path):
    result = run("list", tmp_path / "x.aicl", "no_such_table")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
    result = run("frobnicate")
    assert result.returncode == 2


@pytest.mark.parametrize("content", [None, b"not a database at all" * 10])
def test_unreadable_inventory_exits_2_naming_the_file(tmp_path, content):
    path = tmp_path / "broken.aicl"
    if content is not None:
        path.write_bytes(content)
    result = run("list", path, "models")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0]
    assert result.stdout == ""


def test_new_refuses_an_existing_file(tmp_path):
    path = tmp_path / "inv.aicl"
    path.write_text("precious")
    result = run("new", path)
    assert result.returncode == 2
    assert "already exists" in result.stderr
    assert path.read_text() == "precious"


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.aicl"
    assert run("demo", path).returncode == 0
    return path


def test_estimate_json_document(demo_path):
    result = run(
        "estimate",
        demo_path,
        "--period",
        "2026-Q1",
        "--by",
        "entry",
        "--format",
        "json",
        "--samples",
        "200",
        "--seed",
        "3",
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["period"] == {"label": "2026-Q1", "start": "2026-01-01", "end": "2026-03-31"}
    fields = {
        "energy_kwh",
        "location_kgco2e",
        "market_kgco2e",
        "savings_kgco2e",
        "water_l",
        "low_kgco2e",
        "p50_kgco2e",
        "high_kgco2e",
        "renewable_kwh",
    }
    assert set(doc["totals"]) == fields
    assert doc["rows"]
    for row in doc["rows"]:
        assert fields | {"id", "name", "kind", "part", "scope", "method_tier"} <= set(row)
        assert row["kind"] in ("training", "inference", "api", "embodied")
        assert row["part"] in ("operational", "embodied")
        assert row["method_tier"] in ("measured", "activity-based", "token-based", "default")
    for f in ("energy_kwh", "location_kgco2e", "market_kgco2e", "water_l"):
        assert sum(r[f] for r in doc["rows"]) == pytest.approx(doc["totals"][f], rel=1e-9)
    t = doc["totals"]
    assert t["low_kgco2e"] <= t["location_kgco2e"] <= t["high_kgco2e"]
    assert t["low_kgco2e"] <= t["p50_kgco2e"] <= t["high_kgco2e"]
    assert t["savings_kgco2e"] == pytest.approx(t["location_kgco2e"] - t["market_kgco2e"])
    again = json.loads(
        run(
            "estimate",
            demo_path,
            "--period",
            "2026-Q1",
            "--format",
            "json",
            "--samples",
            "200",
            "--seed",
            "3",
        ).stdout
    )
    assert again["totals"] == doc["totals"]  # seeded: the same range every time


def test_estimate_groupings_agree(demo_path):
    totals = []
    for by in ("entry", "model", "phase", "scope", "site", "quarter"):
        doc = json.loads(
            run(
                "estimate",
                demo_path,
                "--period",
                "2025",
                "--by",
                by,
                "--format",
                "json",
                "--samples",
                "0",
            ).stdout
        )
        totals.append(doc["totals"]["location_kgco2e"])
        assert sum(r["location_kgco2e"] for r in doc["rows"]) == pytest.approx(totals[-1])
    assert max(totals) == pytest.approx(min(totals))
    table = run("estimate", demo_path, "--period", "2025", "--by", "phase")
    assert "Location (kgCO2e)" in table.stdout and "Total" in table.stdout


def test_explain_shows_formula_sources_and_defaults(tmp_path):
    from core.inventory import Inventory

    path = tmp_path / "inv.aicl"
    with Inventory.create(path) as inv:
        model = inv.insert_logged("models", [{"name": "Llama"}], "t")[0]
        hw = inv.ordered_ids("hardware", search="A100 SXM4")[0]
        site = inv.insert_logged("sites", [{"name": "Lyon", "kind": "own", "country": "FR"}], "t")[
            0
        ]
        run_id = inv.insert_logged(
            "training_runs",
            [
                {
                    "name": "ft",
                    "model_id": model,
                    "kind": "fine-tuning",
                    "hardware_id": int(hw),
                    "site_id": site,
                    "device_hours": 800.0,
                    "start_date": "2026-02-01",
                    "end_date": "2026-02-03",
                }
            ],
            "t",
        )[0]
    result = run("explain", path, f"training_runs:{run_id}", "--period", "2026-Q1")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "device-hours x" in text and "x PUE" in text
    assert "800 device-hours x 200 W" in text  # 400 W TDP x 0.5 utilisation
    assert "utilisation_training = 0.5" in text  # a default, with its source
    assert "Patterson et al. 2021" in text
    assert "pue_industry_average" in text or "PUE 1.56" in text
    assert "FR 2023" in text and "used 2023" in text  # the grid fallback, said


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["estimate", "--period", "2026-Q9"], "is not a period"),
        (["explain", "models:1"], "is not an entry"),
        (["explain", "deployments:99999"], "no deployment with id 99999"),
        (["estimate", "--samples", "-5"], "--samples"),
    ],
)
def test_estimate_and_explain_refuse_bad_arguments(demo_path, args, message):
    command, *rest = args
    result = run(command, demo_path, *rest)
    assert result.returncode == 2  # usage errors, as the README says
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_settings_command_switches_the_embodied_convention(tmp_path):
    from core.inventory import Inventory

    path = tmp_path / "inv.aicl"
    with Inventory.create(path) as inv:
        m = inv.insert_logged("models", [{"name": "m"}], "t")[0]
        site = inv.insert_logged("sites", [{"name": "DC", "kind": "own", "country": "DE"}], "t")[0]
        hw = int(inv.ordered_ids("hardware", search="H100 SXM")[0])
        inv.insert_logged(
            "deployments",
            [
                {
                    "name": "d",
                    "model_id": m,
                    "kind": "self-hosted",
                    "site_id": site,
                    "hardware_id": hw,
                    "device_count": 8,
                    "start_date": "2026-01-15",
                    "end_date": "2026-12-31",
                }
            ],
            "t",
        )

    def embodied_in(period):
        doc = json.loads(
            run(
                "estimate",
                path,
                "--period",
                period,
                "--by",
                "phase",
                "--samples",
                "0",
                "--format",
                "json",
            ).stdout
        )
        return sum(r["location_kgco2e"] for r in doc["rows"] if r["kind"] == "embodied")

    amortised_q1 = embodied_in("2026-Q1")
    assert run("settings", path).stdout.startswith("embodied_convention = amortised")
    result = run("settings", path, "embodied_convention=capital-goods")
    assert result.returncode == 0 and "capital-goods" in result.stdout
    # the whole 8 x (164 + 712.5) kg lands in the quarter the hardware came into use
    assert embodied_in("2026-Q1") == pytest.approx(8 * (164 + 712.5))
    assert embodied_in("2026-Q2") == 0
    assert amortised_q1 < embodied_in("2026-Q1")
    bad = run("settings", path, "embodied_convention=soon")
    assert bad.returncode == 1 and str(path) in bad.stderr


@pytest.mark.parametrize("second", ["", "embodied_convention=soon", "colour=blue"])
def test_settings_with_a_bad_assignment_change_nothing(tmp_path, second):
    """Found by the random fuzz run: a good setting followed by a bad one was written
    (and logged) before the bad one was refused."""
    from core.inventory import Inventory

    path = tmp_path / "inv.aicl"
    with Inventory.create(path) as inv:
        log = inv.change_log(limit=5)
    before = path.read_bytes()
    bad = run("settings", path, "embodied_convention=capital-goods", second)
    assert bad.returncode == 1 and str(path) in bad.stderr
    assert path.read_bytes() == before
    with Inventory.open(path) as inv:
        assert inv.meta("embodied_convention") in (None, "amortised")
        assert inv.change_log(limit=5) == log


@pytest.mark.parametrize(
    ("command", "argument"),
    [("list", "table"), ("explain", "ENTRY_ID"), ("undo-import", "IMPORT_ID")],
)
def test_a_lone_double_dash_as_an_argument_is_a_usage_error(tmp_path, capsys, command, argument):
    """Found by the random fuzz run: "list INVENTORY -- --" ended in a TypeError (Python
    3.11's argparse passes an empty list on for the value)."""
    from core import cli
    from core.inventory import Inventory

    path = tmp_path / "inv.aicl"
    Inventory.create(path).close()
    before = path.read_bytes()
    with pytest.raises(SystemExit) as exited:
        cli.main([command, str(path), "--", "--"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"error: argument {argument}: expected one value" in err
    assert path.read_bytes() == before


def test_csv_output_keeps_a_carriage_return_inside_a_name(tmp_path):
    from core.inventory import Inventory

    path = tmp_path / "inv.aicl"
    with Inventory.create(path) as inv:
        inv.insert_logged("models", [{"name": "two\rlines", "version": "1"}], "test")
    raw = subprocess.run(  # bytes: text mode would translate the carriage return
        [sys.executable, str(ROOT / "main.py"), "list", str(path), "models", "--format", "csv"],
        capture_output=True,
        timeout=120,
        check=True,
    ).stdout
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert [r["name"] for r in rows] == ["two\rlines"]


# -- imports and undo-import -------------------------------------------------------------


def _models_csv(path: Path, rows: str) -> Path:
    path.write_text("Model,Version,Parameters (billions)\n" + rows)
    return path


def _model_rows(path: Path) -> list[tuple]:
    from core.inventory import Inventory

    with Inventory.open(path) as inv:
        return inv.conn.execute("SELECT id, name, params_total_b, owner FROM models").fetchall()


def test_imports_lists_each_import_and_undo_import_takes_one_back(tmp_path):
    import hashlib

    path = tmp_path / "inv.aicl"
    assert run("new", path).returncode == 0
    first = _models_csv(tmp_path / "q3.csv", "Alpha,1,7\nBeta,2,13\n")
    assert run("import", path, first).returncode == 0
    second = _models_csv(tmp_path / "q4.csv", "Gamma,1,1\n")
    assert run("import", path, second).returncode == 0
    sha = hashlib.sha256(first.read_bytes()).hexdigest()

    table = run("imports", path)
    assert table.returncode == 0, table.stderr
    header, _, one, _two, footer = table.stdout.splitlines()
    assert header.split()[:5] == ["id", "time", "file", "sheet", "SHA-256"]
    assert one.split()[0] == "1" and "q3.csv" in one and sha[:12] in one and sha not in one
    assert one.rstrip().endswith("imported") and "UTC" in one
    assert footer == "(2 imports, 0 undone)"
    listed = json.loads(run("imports", path, "--format", "json").stdout)
    assert [i["id"] for i in listed] == [1, 2]
    assert listed[0]["sha256"] == sha and listed[0]["file_name"] == "q3.csv"
    assert listed[0]["counts"] == {"models": {"new": 2, "changed": 0, "unchanged": 0, "skipped": 0}}
    assert listed[0]["undone"] is False and listed[0]["undone_at"] is None

    undo = run("undo-import", path, 1)  # an earlier import than the last: allowed
    assert undo.returncode == 0, undo.stderr
    assert undo.stdout.strip() == "Undid import 1 (q3.csv): removed 2 models."
    assert [r[1] for r in _model_rows(path)] == ["Gamma"]
    after = json.loads(run("imports", path, "--format", "json").stdout)
    assert after[0]["undone"] is True and after[0]["undone_at"].endswith("Z")
    assert run("imports", path).stdout.splitlines()[2].split()[-4:-2] == [
        "undone",
        after[0]["undone_at"][:10],
    ]

    again = run("undo-import", path, 1)
    assert again.returncode == 1 and "already undone" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    for unknown in ("9", "0", "-3", "99999999999999999999"):
        missing = run("undo-import", path, unknown)
        assert missing.returncode == 2, (unknown, missing.stderr)
        assert f"There is no import {unknown} " in missing.stderr
    assert run("undo-import", path, "one").returncode == 2
    assert [r[1] for r in _model_rows(path)] == ["Gamma"]


def test_undo_import_refuses_what_would_lose_later_work_and_says_what_blocks(tmp_path):
    from core.commands import InsertRecord, UpdateRecord
    from core.inventory import Inventory

    path = tmp_path / "inv.aicl"
    run("new", path)
    run("import", path, _models_csv(tmp_path / "a.csv", "Alpha,1,7\nBeta,2,13\n"))
    run("import", path, _models_csv(tmp_path / "b.csv", "Alpha,1,8\n"))  # changes Alpha
    before = _model_rows(path)

    blocked = run("undo-import", path, 1)
    assert blocked.returncode == 1
    assert "Cannot undo import 1 (a.csv): import 2 (b.csv) changed 1 model it added" in (
        blocked.stderr
    )
    assert "undo import 2 first" in blocked.stderr and "Nothing was changed" in blocked.stderr
    assert _model_rows(path) == before

    with Inventory.open(path) as inv:  # an edit by hand of a field import 2 changed
        edit = UpdateRecord("models", 1, {"params_total_b": 9}).apply(inv)
    blocked = run("undo-import", path, 2)
    assert blocked.returncode == 1
    assert "1 model it changed was edited since ('Alpha 1')" in blocked.stderr
    with Inventory.open(path) as inv:
        edit.apply(inv)  # undone: nothing of it is left to lose
    assert run("undo-import", path, 2).returncode == 0

    with Inventory.open(path) as inv:  # a record added by hand refers to Beta
        added = InsertRecord(
            "training_runs", {"name": "run", "model_id": 2, "kind": "fine-tuning"}
        ).apply(inv)
        edited = UpdateRecord("models", 1, {"owner": "Team X"}).apply(inv)
    before = _model_rows(path)
    blocked = run("undo-import", path, 1)
    assert blocked.returncode == 1
    assert "1 training run added or changed since refers to models it added" in blocked.stderr
    assert "1 model it added was edited since ('Alpha 1')" in blocked.stderr
    assert _model_rows(path) == before
    with Inventory.open(path) as inv:
        added.apply(inv)
        edited.apply(inv)
    done = run("undo-import", path, 1)
    assert done.returncode == 0, done.stderr
    assert _model_rows(path) == []
