"""Ordered schema steps for inventory files.

The schema version is ``PRAGMA user_version``. Each step runs in its own transaction
together with the version bump, so a file is always at exactly one version. A step,
once released, never changes: later changes are new steps. ``PRAGMA application_id``
marks a file as an AI Carbon Ledger inventory.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

#: "ACLg" as a big-endian 32-bit integer; written at offset 68 of the file header.
APPLICATION_ID = 0x41434C67


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[sqlite3.Connection], None]


_V1 = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT
);

CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(trim(name)) > 0),
    version TEXT NOT NULL DEFAULT '',
    owner TEXT,
    task TEXT,
    params_total_b REAL CHECK (params_total_b IS NULL OR params_total_b >= 0),
    params_active_b REAL CHECK (params_active_b IS NULL OR params_active_b >= 0),
    provider TEXT,
    tags TEXT,
    notes TEXT,
    UNIQUE (name, version)
);

CREATE TABLE sites (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
    kind TEXT NOT NULL CHECK (kind IN ('own', 'colocation', 'cloud', 'api')),
    provider TEXT,
    region_code TEXT,
    country TEXT,
    grid_region TEXT,
    pue REAL CHECK (pue IS NULL OR pue >= 1),
    wue REAL CHECK (wue IS NULL OR wue >= 0),
    grid_factor_g_per_kwh REAL
        CHECK (grid_factor_g_per_kwh IS NULL OR grid_factor_g_per_kwh >= 0),
    grid_factor_source TEXT,
    source TEXT,
    notes TEXT
);

CREATE TABLE hardware (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
    kind TEXT NOT NULL CHECK (kind IN ('accelerator', 'server', 'cpu')),
    vendor TEXT,
    tdp_w REAL CHECK (tdp_w IS NULL OR tdp_w > 0),
    embodied_kgco2e REAL CHECK (embodied_kgco2e IS NULL OR embodied_kgco2e >= 0),
    lifetime_years REAL CHECK (lifetime_years IS NULL OR lifetime_years > 0),
    source TEXT,
    notes TEXT
);

CREATE TABLE training_runs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(trim(name)) > 0),
    model_id INTEGER NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('pre-training', 'fine-tuning', 'experiments')),
    site_id INTEGER REFERENCES sites (id) ON DELETE RESTRICT,
    hardware_id INTEGER REFERENCES hardware (id) ON DELETE RESTRICT,
    device_count INTEGER CHECK (device_count IS NULL OR device_count >= 1),
    start_date TEXT,
    end_date TEXT,
    device_hours REAL CHECK (device_hours IS NULL OR device_hours >= 0),
    wall_hours REAL CHECK (wall_hours IS NULL OR wall_hours >= 0),
    avg_power_w REAL CHECK (avg_power_w IS NULL OR avg_power_w >= 0),
    energy_kwh REAL CHECK (energy_kwh IS NULL OR energy_kwh >= 0),
    energy_boundary TEXT CHECK (energy_boundary IS NULL
        OR energy_boundary IN ('device', 'it', 'facility')),
    data_source TEXT,
    external_id TEXT,
    notes TEXT,
    CHECK (end_date IS NULL OR start_date IS NULL OR end_date >= start_date)
);
CREATE INDEX training_runs_model ON training_runs (model_id);
CREATE INDEX training_runs_site ON training_runs (site_id);
CREATE INDEX training_runs_hardware ON training_runs (hardware_id);
CREATE INDEX training_runs_start ON training_runs (start_date);

CREATE TABLE deployments (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(trim(name)) > 0),
    model_id INTEGER NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('self-hosted', 'cloud', 'api')),
    site_id INTEGER REFERENCES sites (id) ON DELETE RESTRICT,
    hardware_id INTEGER REFERENCES hardware (id) ON DELETE RESTRICT,
    device_count INTEGER CHECK (device_count IS NULL OR device_count >= 0),
    start_date TEXT,
    end_date TEXT,
    notes TEXT,
    CHECK (end_date IS NULL OR start_date IS NULL OR end_date >= start_date)
);
CREATE INDEX deployments_model ON deployments (model_id);
CREATE INDEX deployments_site ON deployments (site_id);
CREATE INDEX deployments_hardware ON deployments (hardware_id);
CREATE INDEX deployments_name ON deployments (name);

CREATE TABLE usage (
    id INTEGER PRIMARY KEY,
    deployment_id INTEGER NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    requests INTEGER CHECK (requests IS NULL OR requests >= 0),
    input_tokens INTEGER CHECK (input_tokens IS NULL OR input_tokens >= 0),
    output_tokens INTEGER CHECK (output_tokens IS NULL OR output_tokens >= 0),
    device_hours REAL CHECK (device_hours IS NULL OR device_hours >= 0),
    energy_kwh REAL CHECK (energy_kwh IS NULL OR energy_kwh >= 0),
    energy_boundary TEXT CHECK (energy_boundary IS NULL
        OR energy_boundary IN ('device', 'it', 'facility')),
    notes TEXT,
    CHECK (period_end >= period_start)
);
CREATE INDEX usage_deployment ON usage (deployment_id, period_start);
CREATE INDEX usage_period ON usage (period_start);

CREATE TABLE sourcing (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(trim(name)) > 0),
    kind TEXT NOT NULL
        CHECK (kind IN ('ppa', 'onsite', 'green-tariff', 'eac', 'supplier-factor')),
    site_id INTEGER REFERENCES sites (id) ON DELETE CASCADE,
    grid_region TEXT,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    mwh REAL CHECK (mwh IS NULL OR mwh >= 0),
    share_pct REAL CHECK (share_pct IS NULL OR (share_pct >= 0 AND share_pct <= 100)),
    factor_g_per_kwh REAL CHECK (factor_g_per_kwh IS NULL OR factor_g_per_kwh >= 0),
    supplier TEXT,
    notes TEXT,
    CHECK (period_end >= period_start)
);
CREATE INDEX sourcing_site ON sourcing (site_id);

-- Append-only: one row per inserted or deleted record and per changed field.
CREATE TABLE change_log (
    id INTEGER PRIMARY KEY,
    batch INTEGER NOT NULL,
    at TEXT NOT NULL,
    os_user TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('insert', 'update', 'delete')),
    table_name TEXT NOT NULL,
    row_id INTEGER NOT NULL,
    field TEXT,
    old_value TEXT,
    new_value TEXT,
    description TEXT
);
CREATE INDEX change_log_row ON change_log (table_name, row_id);
CREATE TRIGGER change_log_no_update BEFORE UPDATE ON change_log
BEGIN SELECT RAISE(ABORT, 'the change log is append-only'); END;
CREATE TRIGGER change_log_no_delete BEFORE DELETE ON change_log
BEGIN SELECT RAISE(ABORT, 'the change log is append-only'); END;

CREATE TABLE imports_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    os_user TEXT NOT NULL,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    sheet TEXT,
    mapping TEXT,
    counts TEXT
);
"""


def _v1(conn: sqlite3.Connection) -> None:
    for statement in _split_sql(_V1):
        conn.execute(statement)


def _split_sql(script: str) -> list[str]:
    """Split a DDL script into statements; ``executescript`` would commit our transaction.

    Triggers contain ``;`` inside ``BEGIN ... END``, so split on ``sqlite3.complete_statement``.
    """
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        if not current and (not line.strip() or line.lstrip().startswith("--")):
            continue
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        raise ValueError(f"incomplete SQL statement: {current[:60]!r}")
    return statements


_V2 = """
-- A user's own values for shipped reference factors; they win over the defaults.
CREATE TABLE factor_overrides (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE CHECK (length(trim(key)) > 0),
    value REAL NOT NULL CHECK (value >= 0),
    low REAL CHECK (low IS NULL OR (low >= 0 AND low <= value)),
    high REAL CHECK (high IS NULL OR high >= value),
    reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    source TEXT
);
"""


def _v2(conn: sqlite3.Connection) -> None:
    for statement in _split_sql(_V2):
        conn.execute(statement)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "Initial inventory schema", _v1),
    Migration(2, "User overrides of reference factors", _v2),
)

_CLOSED_QUARTERS = """
-- A reported period kept as it was reported: figures, factors used and the report's
-- content (JSON). A reopened closing keeps its row (reopened_* set); at most one
-- closing of a period is in force at a time.
CREATE TABLE closed_periods (
    id INTEGER PRIMARY KEY,
    label TEXT NOT NULL CHECK (length(trim(label)) > 0),
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    closed_at TEXT NOT NULL,
    closed_by TEXT NOT NULL,
    app_version TEXT NOT NULL,
    totals TEXT NOT NULL,
    factors TEXT NOT NULL,
    report TEXT NOT NULL,
    reopened_at TEXT,
    reopened_by TEXT,
    reopen_reason TEXT,
    CHECK (end_date >= start_date),
    CHECK (reopened_at IS NULL OR length(trim(coalesce(reopen_reason, ''))) > 0)
);
CREATE UNIQUE INDEX closed_periods_in_force ON closed_periods (label)
    WHERE reopened_at IS NULL;

-- A change of a closed period's figure after closing: old and new value and why.
CREATE TABLE restatements (
    id INTEGER PRIMARY KEY,
    closing_id INTEGER NOT NULL REFERENCES closed_periods (id) ON DELETE RESTRICT,
    period_label TEXT NOT NULL,
    at TEXT NOT NULL,
    os_user TEXT NOT NULL,
    figure TEXT NOT NULL,
    old_value REAL NOT NULL,
    new_value REAL NOT NULL,
    reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    change TEXT
);
CREATE INDEX restatements_closing ON restatements (closing_id);
"""


def _closed_quarters(conn: sqlite3.Connection) -> None:
    for statement in _split_sql(_CLOSED_QUARTERS):
        conn.execute(statement)


# Appended after the released steps; its number follows whatever step comes before it.
MIGRATIONS = (
    *MIGRATIONS,
    Migration(MIGRATIONS[-1].version + 1, "Closed quarters and restatements", _closed_quarters),
)

_SCENARIOS = """
-- Named what-if scenarios: changes to assumptions the engine applies to a copy of the
-- activity; the inventory's own records are never touched by them.
CREATE TABLE scenarios (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
    description TEXT,
    changes TEXT NOT NULL CHECK (json_valid(changes)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""


def _scenarios(conn: sqlite3.Connection) -> None:
    for statement in _split_sql(_SCENARIOS):
        conn.execute(statement)


MIGRATIONS = (
    *MIGRATIONS,
    Migration(MIGRATIONS[-1].version + 1, "Saved what-if scenarios", _scenarios),
)

_IMPORTS = """
-- Named column mappings for the import wizard and the import command.
CREATE TABLE import_presets (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
    mappings TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- What each import wrote: inserted id ranges, and old values of rows it changed.
CREATE TABLE import_changes (
    id INTEGER PRIMARY KEY,
    import_id INTEGER NOT NULL REFERENCES imports_log (id) ON DELETE CASCADE,
    table_name TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('insert', 'update')),
    first_id INTEGER NOT NULL,
    last_id INTEGER NOT NULL,
    old_values TEXT,
    CHECK (last_id >= first_id)
);
CREATE INDEX import_changes_import ON import_changes (import_id);

ALTER TABLE imports_log ADD COLUMN undone_at TEXT;
"""


def _imports(conn: sqlite3.Connection) -> None:
    for statement in _split_sql(_IMPORTS):
        conn.execute(statement)


MIGRATIONS = (
    *MIGRATIONS,
    Migration(MIGRATIONS[-1].version + 1, "Import presets and undoable imports", _imports),
)

LATEST_VERSION = MIGRATIONS[-1].version


def pending(current_version: int) -> list[Migration]:
    """The steps that bring a file at ``current_version`` up to :data:`LATEST_VERSION`."""
    return [m for m in MIGRATIONS if m.version > current_version]


def apply(conn: sqlite3.Connection, migration: Migration) -> None:
    """Run one step and bump ``user_version`` in a single transaction.

    ``conn`` must be in autocommit mode (``isolation_level=None``) and outside a
    transaction. On any error the file stays at its previous version.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        run_in_transaction(conn, migration)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def run_in_transaction(conn: sqlite3.Connection, migration: Migration) -> None:
    """Run one step and bump ``user_version`` inside the caller's open transaction.

    Opening a file runs all its pending steps in one transaction this way, so that a
    crash or a kill half-way leaves the file at its old version, never in between.
    """
    if not conn.in_transaction:
        raise RuntimeError("run_in_transaction needs an open transaction")
    migration.apply(conn)
    conn.execute(f"PRAGMA user_version = {int(migration.version)}")
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
