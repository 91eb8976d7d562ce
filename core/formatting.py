"""How stored values read for people: choice labels, grouped digits, sensible precision."""

from __future__ import annotations

from typing import Any

from core import schema


def format_cell(f: schema.FieldSpec, value: Any) -> str:
    """How a stored value reads in a table: choice labels, grouped numbers, blanks."""
    if value is None or value == "":
        return ""
    if f.kind == "choice":
        return f.choice_label(value)
    if f.kind == "int":
        return f"{int(value):,}"
    if f.kind == "real":
        v = float(value)
        if v == 0:
            return "0"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        if abs(v) >= 1:
            return f"{v:,.2f}".rstrip("0").rstrip(".")
        return f"{v:.3g}"
    return str(value)
