"""One cell to the value its field stores: numbers in the field's unit, whole numbers,
text, dates and choices; and the formula escaping of text cells (applied by the export,
undone on the way in).

Both paths of :class:`core.importing.plan.RowScanner` convert through
:meth:`Conversion._convert`: the row path cell by cell, the fast path once per distinct
text, date or choice cell (numbers it converts whole, see :mod:`.fastpath`).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from core import schema
from core.importing import units
from core.importing.dates import parse_date
from core.importing.reading import MAX_CELL_CHARS
from core.validation import parse_value

#: characters that make a spreadsheet program run a cell as a formula
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _runs_as_formula(text: str) -> bool:
    """Whether the export neutralises ``text``: it starts with a formula character, or
    with quotes before one ("'=x": without its own quote it would read back as "=x")."""
    return text.lstrip("'")[:1] in FORMULA_START


def unescape_text(text: str) -> str:
    """Undo the export's formula neutralisation: "'=x" -> "=x", "''=x" -> "'=x".

    Only a quote the export would have added is taken off, so text that merely starts
    with a quote in someone else's file stays as it is ("'quoted", "''quoted").
    """
    if text[:1] == "'" and _runs_as_formula(text[1:]):
        return text[1:]
    return text


def escape_text(text: str) -> str:
    """Prefix "'" so spreadsheet programs show ``text`` instead of running it
    (:func:`unescape_text` takes it off again: every text makes the round trip)."""
    return "'" + text if _runs_as_formula(text) else text


class Conversion:
    """Cell conversion of :class:`core.importing.plan.RowScanner` (which sets
    ``decimal_comma`` and ``mapping``)."""

    def _convert(self, f: schema.FieldSpec, raw: Any, fac: float) -> Any:
        if raw is None:
            return f.blank
        kind = f.kind
        if kind in ("text", "longtext"):
            if isinstance(raw, float) and raw.is_integer():
                raw = int(raw)
            elif isinstance(raw, (dt.date, dt.datetime)):
                raw = raw.isoformat()
            text = unescape_text(str(raw).strip())
            if len(text) > MAX_CELL_CHARS:
                raise ValueError(f"is longer than {MAX_CELL_CHARS:,} characters")
            return text if text else f.blank
        if kind in ("int", "real"):
            if isinstance(raw, bool):
                raise ValueError("must be a number")
            if isinstance(raw, (int, float)):
                value = float(raw)
                if math.isnan(value) or math.isinf(value):
                    raise ValueError("must be a finite number")
            else:
                text = str(raw).strip()
                if f.unit == "%" and text.endswith("%"):
                    value = units.parse_number(text[:-1].strip(), self.decimal_comma)
                    fac = 1.0
                else:
                    number, unit = units.split_number_unit(text)
                    value = units.parse_number(number, self.decimal_comma)
                    if unit:
                        # a unit written in the cell wins over the header's: "800 kWh"
                        # under "Energy [MWh]" is 800 kWh, not 800 MWh
                        stored = f.unit.lower()
                        if stored and unit.strip().lower() in (stored, stored + "s"):
                            fac = 1.0
                        elif not units.converts_to(f.unit):  # e.g. "1+5": never a unit
                            where = f" in {f.unit}" if f.unit else ""
                            raise ValueError(
                                f"has '{unit}' after the number: write the number alone{where}"
                            )
                        else:
                            fac = units.factor(unit, f.unit)
            value *= fac
            if kind == "int":
                if abs(value - round(value)) > 1e-9 * max(1.0, abs(value)):
                    raise ValueError("must be a whole number")
                return round(value)
            return value
        if kind == "date":
            return parse_date(raw, self.mapping.date_order)
        if kind == "choice":
            return parse_value(f, str(raw))
        return raw
