"""Heads-ups on a sourcing record while it is typed: supplier-specific factors that
share days.

Two supplier-specific factors covering the same days of the same market boundary cannot
both apply: the engine uses the one starting earlier for those days (same start: the
one listed first, the lower id) and names the pair in the estimate's notes
(``core.emissions.supplier_overlap_notes``). Saying so while the record is entered
lets the analyst fix a period typed wrong before it reaches a report. It is a notice,
not a problem: overlapping letters from a supplier can be real, and saving stays
possible.

The boundary is compared as the record gives it: the same site, or (for records naming
no site) the same grid region. A record naming a site and another naming the region
that site lies in are not compared here; the estimate's notes still name such a pair.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from core.factors import normalise_zone

SUPPLIER_FACTOR = "supplier-factor"


def _boundary(record: dict[str, Any]) -> tuple[str, Any] | None:
    if record.get("site_id") is not None:
        return ("site", record["site_id"])
    region = normalise_zone(record.get("grid_region"))
    return ("region", region) if region else None


def _earlier(a: dict[str, Any], a_id: int | None, b: dict[str, Any], b_id: int) -> bool:
    """Whether record ``a`` (``a_id`` None: not saved yet, so listed last) comes before
    ``b`` in the engine's order: period start, then id."""
    if a["period_start"] != b["period_start"]:
        return a["period_start"] < b["period_start"]
    return a_id is not None and a_id < b_id


def supplier_overlap_notices(
    values: dict[str, Any], record_id: int | None, others: Iterable[dict[str, Any]]
) -> list[str]:
    """One sentence per other supplier-specific factor (``others``: sourcing records
    with ``id``) of the same boundary whose period shares days with ``values`` (the
    record being typed; ``record_id`` None for a new one). Empty unless ``values`` is a
    supplier-specific factor with both dates and a boundary."""
    if values.get("kind") != SUPPLIER_FACTOR:
        return []
    start, end, where = values.get("period_start"), values.get("period_end"), _boundary(values)
    if not start or not end or end < start or where is None:
        return []
    out = []
    for other in sorted(others, key=lambda r: r["id"]):
        if other["id"] == record_id or other.get("kind") != SUPPLIER_FACTOR:
            continue
        o_start, o_end = other.get("period_start"), other.get("period_end")
        if not o_start or not o_end or _boundary(other) != where:
            continue
        first, last = max(start, o_start), min(end, o_end)
        if first > last:
            continue
        place = "site" if where[0] == "site" else "grid region"
        used = "this record's" if _earlier(values, record_id, other, other["id"]) else "its"
        out.append(
            f"Supplier-specific factor #{other['id']} '{other.get('name') or ''}' of the "
            f"same {place} also covers {first}..{last}: for those days {used} factor is "
            "used (the one starting earlier; on the same start, the one listed first)."
        )
    return out


def supplier_factors(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """The inventory's supplier-specific factors, as :func:`supplier_overlap_notices`
    takes them."""
    names = ("id", "name", "kind", "site_id", "grid_region", "period_start", "period_end")
    rows = conn.execute(
        f"SELECT {', '.join(names)} FROM sourcing WHERE kind = ? ORDER BY id", (SUPPLIER_FACTOR,)
    )
    return [dict(zip(names, row, strict=True)) for row in rows]
