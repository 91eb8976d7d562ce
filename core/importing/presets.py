"""Named mapping presets stored in the inventory (``import_presets``), so next quarter's
file of the same shape imports in one step.

A preset is a list of :class:`SheetMapping` (one per sheet). Columns are matched again
by header text when a preset is applied to a new file (:func:`apply_preset`), so a
column that moved still maps; columns the preset does not know are ignored.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import ImportReadError, LedgerError, ValidationError
from core.importing.mapping import (
    IMPORT_TABLES,
    ColumnMapping,
    SheetMapping,
    settle_date_order,
)
from core.importing.reading import SheetInfo

if TYPE_CHECKING:
    from core.inventory import Inventory


def save_preset(inv: Inventory, name: str, mappings: list[SheetMapping]) -> None:
    """Store ``mappings`` under ``name`` (replacing a preset of that name)."""
    from core.inventory import now_iso

    name = name.strip()
    if not name:
        raise ValidationError("Give the mapping preset a name.")
    data = json.dumps([m.to_json() for m in mappings], ensure_ascii=False)
    with inv.transaction():
        inv.conn.execute(
            "INSERT INTO import_presets (name, mappings, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET mappings = excluded.mappings, "
            "updated_at = excluded.updated_at",
            (name, data, now_iso()),
        )


def list_presets(inv: Inventory) -> list[str]:
    """Preset names, alphabetically."""
    rows = inv.conn.execute("SELECT name FROM import_presets ORDER BY name COLLATE NOCASE")
    return [r[0] for r in rows]


def load_preset(inv: Inventory, name: str) -> list[SheetMapping]:
    """The mappings saved as ``name``; :class:`LedgerError` naming the known presets if none."""
    row = inv.conn.execute("SELECT mappings FROM import_presets WHERE name = ?", (name,)).fetchone()
    if row is None:
        known = ", ".join(list_presets(inv)) or "none saved yet"
        raise LedgerError(f"There is no mapping preset called '{name}' (presets: {known}).")
    return [SheetMapping.from_json(d) for d in json.loads(row[0])]


def delete_preset(inv: Inventory, name: str) -> None:
    with inv.transaction():
        inv.conn.execute("DELETE FROM import_presets WHERE name = ?", (name,))


#: a mapping file is a few kilobytes (one entry per column); a larger one is not a mapping
MAX_MAPPING_FILE_BYTES = 10 * 1024**2

#: JSON types of the fields of a mapping object and of its columns (others are ignored,
#: as :meth:`SheetMapping.from_json` ignores them; a column's unknown keys are refused)
_SHEET_FIELDS: dict[str, tuple[type, ...]] = {
    "table": (str,),
    "columns": (list,),
    "date_order": (str, type(None)),
    "ambiguous_dates": (bool,),
    "defaults": (dict,),
    "into": (str, type(None)),
    "sheet": (str, type(None)),
    "create_missing": (list,),
}
_COLUMN_FIELDS: dict[str, tuple[type, ...]] = {
    "index": (int,),
    "header": (str,),
    "field": (str, type(None)),
    "unit": (str, type(None)),
    "confidence": (int, float),
}
_SCALARS = (str, int, float, bool, type(None))


def read_mapping_file(path: Path) -> list[SheetMapping]:
    """Mappings from a JSON file: one mapping object or a list of them (as presets store).

    Anything else (not JSON, nested deeper than Python can parse, fields of the wrong
    type, larger than :data:`MAX_MAPPING_FILE_BYTES`) is an :class:`ImportReadError`
    naming the file and what is wrong, never an exception from deep inside."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_MAPPING_FILE_BYTES:
            raise ImportReadError(
                f"{path.name}: not a mapping file (it is {path.stat().st_size:,} bytes; "
                f"a mapping file is a few kilobytes, at most {MAX_MAPPING_FILE_BYTES:,})."
            )
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise ImportReadError(
            f"{path.name}: not a mapping file (its JSON is nested too deeply to read)."
        ) from None
    except (OSError, ValueError) as exc:
        raise ImportReadError(f"{path.name}: not a mapping file ({exc}).") from exc
    items = data if isinstance(data, list) else [data]
    for n, item in enumerate(items, 1):
        where = f"{path.name}: mapping {n}" if len(items) > 1 else path.name
        problem = _mapping_problem(item)
        if problem:
            raise ImportReadError(f"{where}: not a mapping ({problem}).")
    try:
        return [SheetMapping.from_json(d) for d in items]
    except (ValueError, KeyError, TypeError) as exc:
        raise ImportReadError(f"{path.name}: not a mapping file ({exc}).") from exc


def _mapping_problem(item: Any) -> str | None:
    """What is wrong with one mapping object from a file (None: nothing)."""
    if not isinstance(item, dict):
        return f"expected an object with a 'table' and 'columns', found {type(item).__name__}"
    if "table" not in item:
        return "it has no 'table'"
    problem = _fields_problem(item, _SHEET_FIELDS, "")
    if problem:
        return problem
    tables = (*IMPORT_TABLES, "codecarbon")
    if item["table"] not in tables:
        return f"unknown table '{item['table']}'; known: {', '.join(tables)}"
    if item.get("into") not in (None, "training_runs", "usage"):
        return f"'into' is '{item['into']}', not training_runs or usage"
    names = {f.name for f in fields(ColumnMapping)}
    for i, col in enumerate(item.get("columns", [])):
        if not isinstance(col, dict):
            return f"column {i + 1} is {type(col).__name__}, not an object"
        missing = sorted(names - set(col))
        if missing:
            return f"column {i + 1} lacks {', '.join(repr(k) for k in missing)}"
        unknown = sorted(set(col) - names)
        if unknown:
            return f"column {i + 1} has unknown {', '.join(repr(k) for k in unknown)}"
        problem = _fields_problem(col, _COLUMN_FIELDS, f"column {i + 1}: ")
        if problem:
            return problem
    if not all(isinstance(v, _SCALARS) for v in item.get("defaults", {}).values()):
        return "'defaults' values must be plain values (text, numbers, true/false, null)"
    if not all(isinstance(v, str) for v in item.get("create_missing", [])):
        return "'create_missing' must list field names"
    return None


def _fields_problem(obj: dict, types: dict[str, tuple[type, ...]], where: str) -> str | None:
    for key, kinds in types.items():
        value = obj.get(key)
        if key in obj and not isinstance(value, kinds):
            return f"{where}'{key}' is {type(value).__name__}"
        if kinds == (int,) and isinstance(value, bool):
            return f"{where}'{key}' is bool"
    return None


def apply_preset(sheet: SheetInfo, mappings: list[SheetMapping]) -> SheetMapping | None:
    """The preset mapping that fits ``sheet``, re-aligned to its columns by header text.

    The mapping saved for a sheet of the same name wins; otherwise the one sharing the
    most headers. None when no mapping shares a header with the sheet.
    """
    headers = {h.strip().lower(): i for i, h in enumerate(sheet.headers)}

    def overlap(m: SheetMapping) -> int:
        return sum(1 for c in m.columns if c.field and c.header.strip().lower() in headers)

    named = [m for m in mappings if m.sheet and m.sheet == sheet.name]
    candidates = named or sorted(mappings, key=overlap, reverse=True)
    if not candidates or overlap(candidates[0]) == 0:
        return None
    best = candidates[0]
    by_header = {c.header.strip().lower(): c for c in best.columns}
    columns = []
    for i, h in enumerate(sheet.headers):
        c = by_header.get(h.strip().lower())
        columns.append(
            ColumnMapping(
                i, h, c.field if c else None, c.unit if c else None, 1.0 if c and c.field else 0.0
            )
        )
    mapping = SheetMapping(
        best.table, columns, best.date_order, False, dict(best.defaults), best.into, sheet.name
    )
    if mapping.date_order is None:
        settle_date_order(sheet, mapping)
    return mapping
