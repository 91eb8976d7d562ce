"""Build one inventory per earlier schema version: ``schemaN.aicl`` beside this script.

``python tests/data/schemas/make_fixtures.py``

Each file is what a user of that schema version would have on disk: the demo inventory
(reference data, models, runs, deployments, monthly usage, sourcing) plus, where the
version has the tables, a factor override, a saved scenario, a closed and a reopened
quarter, a CSV import and a changed setting, with their change-log rows. It is made by
building that content at the current schema, then copying every column an older schema
has into a file created by the first N migration steps only. The migration tests read the
committed files; run this again only when a new schema version is released (the files of
already released versions must not change).
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from core import cli, migrations  # noqa: E402
from core.commands import InsertRecord  # noqa: E402
from core.demo import _model_title, build_demo, load_definition  # noqa: E402
from core.inventory import Inventory  # noqa: E402
from core.scenarios import Scenario, save_scenario  # noqa: E402

USAGE_CSV = (
    "deployment,period_start,period_end,requests,energy_kwh,energy_boundary\n"
    "Support chat EU (Assistant 2.0),2026-10-01,2026-10-31,1000,12.5,it\n"
    "Support chat EU (Assistant 2.0),2026-11-01,2026-11-30,1100,13.25,it\n"
)


def small_demo(folder: Path) -> Path:
    """A cut of the demo definition (two deployments and what they refer to), so that
    the committed files stay small."""
    data = load_definition()
    deployments = data["deployments"][:2]
    runs = data["training_runs"][:1]
    models = {d["model"] for d in deployments + runs}
    sites = {d["site"] for d in deployments + runs}
    data["deployments"], data["training_runs"] = deployments, runs
    data["models"] = [m for m in data["models"] if _model_title(m) in models]
    data["sites"] = [s for s in data["sites"] if s["name"] in sites]
    data["sourcing"] = [s for s in data["sourcing"] if s.get("site") in sites]
    path = folder / "demo.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def build_source(folder: Path) -> Path:
    """The content at the current schema, made through the app's own code."""
    path = folder / "source.aicl"
    build_demo(path, small_demo(folder)).close()
    with Inventory.open(path) as inv:
        InsertRecord(
            "factor_overrides",
            {"key": "pue_industry_average", "value": 1.3, "reason": "measured by facilities"},
        ).apply(inv)
        save_scenario(inv, Scenario("PUE 1.1", [{"kind": "set_pue", "pue": 1.1}], "what if"))
    csv = folder / "usage.csv"
    csv.write_text(USAGE_CSV, encoding="utf-8")
    for argv in (
        ["settings", str(path), "embodied_convention=capital-goods"],
        ["import", str(path), str(csv), "--kind", "usage"],
        ["close", str(path), "--quarter", "2025-Q4"],
        ["reopen", str(path), "--quarter", "2025-Q4", "--reason", "late invoices"],
        ["close", str(path), "--quarter", "2026-Q1"],
    ):
        code = cli.main(argv, out=open(folder / "out.txt", "a"))  # noqa: SIM115
        if code != 0:
            raise SystemExit(f"{argv[0]} failed with exit code {code}")
    return path


def columns(conn: sqlite3.Connection, schema_name: str, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA {schema_name}.table_info({table})")]


def write_version(source: Path, version: int, dest: Path) -> None:
    """``dest`` at schema ``version`` holding every column of ``source`` it has."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{dest}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(dest, isolation_level=None)
    for step in migrations.MIGRATIONS[:version]:
        migrations.apply(conn, step)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == version
    conn.execute("ATTACH DATABASE ? AS src", (str(source),))
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    conn.execute("BEGIN")
    for table in tables:
        keep = [c for c in columns(conn, "main", table) if c in columns(conn, "src", table)]
        cols = ", ".join(keep)
        conn.execute(f"INSERT INTO main.{table} ({cols}) SELECT {cols} FROM src.{table}")
    conn.execute("COMMIT")
    conn.execute("DETACH DATABASE src")
    conn.execute("VACUUM")
    conn.execute("PRAGMA journal_mode = WAL")  # as the app leaves every file it writes
    conn.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = build_source(Path(tmp))
        for version in range(1, migrations.LATEST_VERSION):
            dest = HERE / f"schema{version}.aicl"
            write_version(source, version, dest)
            print(f"{dest.name}: schema {version}, {dest.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
