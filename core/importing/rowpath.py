"""The row path of :class:`core.importing.plan.RowScanner`: one row field by field.

It gives the reason for every problem cell, takes CodeCarbon logs and the tables the
fast path leaves alone, and is the reference the column-wise fast path
(:mod:`.fastpath`) is tested against: both give the same values.
"""

from __future__ import annotations

from typing import Any

from core.importing import codecarbon
from core.importing.keys import natural_key
from core.importing.reading import normalise_cells
from core.importing.scanned import ScannedRow
from core.validation import MAX_POWER_OVER_TDP, parse_value, record_problems


class RowPath:
    """Row-by-row scanning of :class:`core.importing.plan.RowScanner` (which sets the
    attributes used here; conversion and keys come from its other parts)."""

    def _scan_row(self, number: int, cells: list[Any]) -> ScannedRow:
        """One row, field by field: the reference path (and the one with the reasons)."""
        cells = normalise_cells(cells)
        spec, table = self.spec, self.table
        defaults = self.mapping.defaults
        fields = self.fields
        edits = self.edits
        values: dict[str, Any] = {}
        problems: dict[str, str] = {}
        raw: dict[str, Any] = {}
        get: dict[str, Any] = {}
        if self.codecarbon:
            get = {name: cells[i] for name, i in self.cc_index.items()}
            cc_values, problems = codecarbon.row_values(get, table)
            for name, value in cc_values.items():
                if name in fields:
                    raw[name] = value
            for name, value in defaults.items():
                if name in fields and (value is not None or name not in raw):
                    raw[name] = value
            for name, value in raw.items():
                f = fields[name]
                if f.kind == "ref" or value is None:
                    values[name] = value
                elif f.kind == "choice":
                    try:
                        values[name] = parse_value(f, str(value))
                    except ValueError as exc:
                        problems[name] = str(exc)
                else:
                    values[name] = value
        else:
            for c in self.columns:
                name = c.field
                f = fields.get(name)  # type: ignore[arg-type]
                if f is None or name not in self.factors:
                    continue
                cell = cells[c.index]
                if edits and (number, name) in edits:
                    cell = edits[(number, name)]
                raw[name] = cell
                if f.kind == "ref":
                    values[name] = None if cell is None or str(cell).strip() == "" else cell
                    continue
                try:
                    values[name] = self._convert(f, cell, self.factors[name])
                except ValueError as exc:
                    problems[name] = str(exc)
                    values[name] = None
            for name, value in defaults.items():
                f = fields.get(name)
                if f is None or values.get(name) not in (None, ""):
                    continue
                raw.setdefault(name, value)
                if f.kind == "ref":
                    values[name] = value
                else:
                    try:
                        values[name] = self._convert(f, value, 1.0)
                    except ValueError as exc:
                        problems[name] = str(exc)
        for name, resolver in self.resolvers.items():
            value = values.get(name)
            if value is None or name in problems:
                continue
            rid, count, reason = resolver.resolve(value)
            values[name] = rid
            if reason:
                problems[name] = reason
            elif count > 1 and values.get("device_count") is None and "device_count" in fields:
                values["device_count"] = count
        for f in spec.fields:
            if f.name not in values:
                values[f.name] = f.blank
        for name, reason in record_problems(table, values).items():
            if name not in problems and not (values.get(name) is None and name in problems):
                problems.setdefault(name, reason)
        if table == "training_runs" and values.get("avg_power_w") is not None:
            tdp = self._hardware_tdp(values.get("hardware_id"))
            if tdp and values["avg_power_w"] > MAX_POWER_OVER_TDP * tdp:
                problems.setdefault(
                    "avg_power_w",
                    f"is more than {MAX_POWER_OVER_TDP:g} x the hardware's TDP ({tdp:,g} W): "
                    "give the average power of one device, in W",
                )
        if problems:
            # which of several columns a value came from, for naming it in the problem
            sources = codecarbon.row_sources(get) if self.codecarbon else None
            return ScannedRow(number, "invalid", values, problems, raw, sources=sources)
        key = natural_key(table, values)
        existing = self._existing_many([key])[0] if key is not None else None
        return self._classify(number, values, raw, key, existing)
