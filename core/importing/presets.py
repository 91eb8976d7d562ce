"""Named mapping presets stored in the inventory (``import_presets``), so next quarter's
file of the same shape imports in one step.

A preset is a list of :class:`SheetMapping` (one per sheet). Columns are matched again
by header text when a preset is applied to a new file (:func:`apply_preset`), so a
column that moved still maps; columns the preset does not know are ignored.

A preset also keeps the user's answers for references nobody could match (the
import's ``resolutions``: "A100-80GB" is record 7, "New DC" is to be created), so the
same texts in next quarter's file are settled without asking again
(:func:`load_preset_resolutions`). They are stored with each mapping whose table has
the field, under ``"resolutions"`` (a key older versions ignore; presets saved before
have none), as ``{"field", "value", "choice", "title"}``: ``choice`` a record id or
"create", ``title`` the record's title when it was chosen, so that an id reused by
another record since is not taken for it. Mapping files carry no resolutions: record
ids belong to one inventory.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core import schema
from core.errors import ImportReadError, LedgerError, ValidationError
from core.importing import codecarbon, units
from core.importing.mapping import (
    IMPORT_TABLES,
    ColumnMapping,
    SheetMapping,
    settle_date_order,
)
from core.importing.reading import SheetInfo
from core.importing.resolving import Resolutions

if TYPE_CHECKING:
    from core.inventory import Inventory


def save_preset(
    inv: Inventory,
    name: str,
    mappings: list[SheetMapping],
    resolutions: Resolutions | None = None,
) -> None:
    """Store ``mappings`` under ``name`` (replacing a preset of that name), with the
    user's choices for unmatched references (``resolutions[(field, text)]``: a record
    id or "create"; those of fields no mapping's table has are left out)."""
    from core.inventory import now_iso

    name = name.strip()
    if not name:
        raise ValidationError("Give the mapping preset a name.")
    data = json.dumps(
        [_with_resolutions(inv, m, resolutions or {}) for m in mappings], ensure_ascii=False
    )
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


def load_preset_resolutions(inv: Inventory, name: str) -> Resolutions:
    """The reference choices saved with preset ``name`` (see :func:`save_preset`), as
    the import takes them: ``(field, text) -> record id or "create"``. A choice whose
    record is gone, or whose id now belongs to a record of another title, is left out
    (the text is then matched, or asked about, again); empty for presets saved before
    presets kept them. :class:`LedgerError` when there is no such preset."""
    row = inv.conn.execute("SELECT mappings FROM import_presets WHERE name = ?", (name,)).fetchone()
    if row is None:
        load_preset(inv, name)  # raises, naming the presets there are
        return {}
    items = json.loads(row[0])
    out: Resolutions = {}
    titles: dict[str, dict[int, str]] = {}
    for item in items if isinstance(items, list) else []:
        saved = item.get("resolutions") if isinstance(item, dict) else None
        for entry in saved if isinstance(saved, list) else []:
            choice = _saved_choice(inv, entry, titles)
            if choice is not None:
                out[(entry["field"], entry["value"])] = choice
    return out


def _ref_table(fld: str) -> str | None:
    """The table a reference field (of any importable table) points to."""
    for table in IMPORT_TABLES:
        spec = schema.table(table)
        if fld in spec.field_names and spec.field(fld).kind == "ref":
            return spec.field(fld).ref
    return None


def _with_resolutions(inv: Inventory, mapping: SheetMapping, resolutions: Resolutions) -> dict:
    """``mapping``'s JSON with the resolutions of the reference fields of its table."""
    data = mapping.to_json()
    spec = schema.table(mapping.target)
    refs = {f.name: f.ref for f in spec.fields if f.kind == "ref" and f.ref}
    saved = []
    for (fld, text), choice in sorted(resolutions.items(), key=repr):
        if fld not in refs:
            continue
        if choice == "create":
            saved.append({"field": fld, "value": text, "choice": "create"})
        elif isinstance(choice, int) and not isinstance(choice, bool) and choice > 0:
            title = inv.title(refs[fld], choice)
            saved.append({"field": fld, "value": text, "choice": choice, "title": title})
    if saved:
        data["resolutions"] = saved
    return data


def _saved_choice(
    inv: Inventory, entry: Any, titles: dict[str, dict[int, str]]
) -> int | str | None:
    """A saved resolution's choice as it holds now: "create", the record id (the id
    whose record still has the saved title, else the one record of that title), or
    None when it no longer holds or the entry is not one."""
    if not isinstance(entry, dict):
        return None
    fld, text, choice = entry.get("field"), entry.get("value"), entry.get("choice")
    if not isinstance(fld, str) or not isinstance(text, str):
        return None
    table = _ref_table(fld)
    if table is None:
        return None
    if choice == "create":
        return "create"
    if not isinstance(choice, int) or isinstance(choice, bool):
        return None
    if table not in titles:
        titles[table] = dict(inv.ref_options(table))
    known = titles[table]
    title = entry.get("title")
    if not isinstance(title, str) or known.get(choice) == title:
        return choice if choice in known else None
    same = [rid for rid, t in known.items() if t == title]
    return same[0] if len(same) == 1 else None


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
    return _meaning_problem(item)


def _meaning_problem(item: dict) -> str | None:
    """What in a well-formed mapping object does not fit its table (None: nothing): a
    column mapped to a field the table lacks or in a unit that does not convert to the
    field's, a date order other than dmy/mdy, a value for every row of an unknown
    field, records to create of a field that is no reference."""
    table = item["table"]
    target = (item.get("into") or "training_runs") if table == "codecarbon" else table
    spec = schema.table(target)
    for i, col in enumerate(item.get("columns", [])):
        fld, unit = col["field"], col["unit"]
        if fld is None:
            continue
        if table == "codecarbon":
            if fld not in codecarbon.USED_COLUMNS:
                known = ", ".join(codecarbon.USED_COLUMNS)
                return f"column {i + 1}: '{fld}' is not a CodeCarbon column we read ({known})"
            continue
        if fld not in spec.field_names:
            return f"column {i + 1}: '{fld}' is not a field of {spec.label.lower()}"
        if unit is not None:
            try:
                units.factor(unit, spec.field(fld).unit)
            except ValueError as exc:
                return f"column {i + 1}: {exc}"
    if item.get("date_order") not in (None, "dmy", "mdy"):
        return f"'date_order' is '{item['date_order']}', not dmy or mdy"
    for fld in item.get("defaults", {}):
        if fld not in spec.field_names:
            return f"'defaults' names '{fld}', not a field of {spec.label.lower()}"
    for fld in item.get("create_missing", []):
        if fld not in spec.field_names or spec.field(fld).kind != "ref":
            return f"'create_missing' names '{fld}', not a reference of {spec.label.lower()}"
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
        best.table,
        columns,
        best.date_order,
        False,
        dict(best.defaults),
        best.into,
        sheet.name,
        list(best.create_missing),
    )
    if mapping.date_order is None:
        settle_date_order(sheet, mapping)
    return mapping
