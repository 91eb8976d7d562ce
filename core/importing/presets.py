"""Named mapping presets stored in the inventory (``import_presets``), so next quarter's
file of the same shape imports in one step.

A preset is a list of :class:`SheetMapping` (one per sheet). Columns are matched again
by header text when a preset is applied to a new file (:func:`apply_preset`), so a
column that moved still maps; columns the preset does not know are ignored.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import LedgerError, ValidationError
from core.importing.mapping import ColumnMapping, SheetMapping, settle_date_order
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


def read_mapping_file(path: Path) -> list[SheetMapping]:
    """Mappings from a JSON file: one mapping object or a list of them (as presets store)."""
    try:
        data: Any = json.loads(Path(path).read_text(encoding="utf-8"))
        items = data if isinstance(data, list) else [data]
        return [SheetMapping.from_json(d) for d in items]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LedgerError(f"{Path(path).name}: not a mapping file ({exc}).") from exc


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
