"""Importing spreadsheets and CodeCarbon logs into an inventory, and exporting it back.

The flow, as the import wizard and the ``import`` command use it::

    sheets = open_source(path)                       # list[SheetInfo], header rows detected
    table, confidence = propose_table(sheet)          # "usage", 0.8 ... or "codecarbon"
    mapping = propose_mapping(sheet, table)           # SheetMapping: column -> field + unit
    plan = plan_import(inv, sheet, mapping)           # reads everything, writes nothing
    result = commit_import(inv, [plan])               # one transaction, logged, undoable
    undo_import(inv, result.import_id)                # one step

Nothing here imports Qt; long operations take plain ``progress(done, total_or_None)`` and
``cancel() -> bool`` callables. Every error a user can act on is a
:class:`core.errors.LedgerError` subclass whose message names the file, row and column.

Stored units follow :mod:`core.schema` (W, kWh, hours, gCO2e/kWh, kgCO2e, percent,
ISO dates); values read in other units are converted on the way in (see
:mod:`core.importing.units`).
"""

from __future__ import annotations

from core.importing.commit import ImportResult, commit_import, undo_import
from core.importing.exporting import export_inventory, write_template
from core.importing.mapping import (
    ColumnMapping,
    SheetMapping,
    propose_mapping,
    propose_table,
    target_fields,
)
from core.importing.plan import ImportPlan, Problem, Unresolved, plan_import, preview_import
from core.importing.presets import delete_preset, list_presets, load_preset, save_preset
from core.importing.reading import SheetInfo, iter_rows, open_source, preview_rows

__all__ = [
    "ColumnMapping",
    "ImportPlan",
    "ImportResult",
    "Problem",
    "SheetInfo",
    "SheetMapping",
    "Unresolved",
    "commit_import",
    "delete_preset",
    "export_inventory",
    "iter_rows",
    "list_presets",
    "load_preset",
    "open_source",
    "plan_import",
    "preview_import",
    "preview_rows",
    "propose_mapping",
    "propose_table",
    "save_preset",
    "target_fields",
    "undo_import",
    "write_template",
]
