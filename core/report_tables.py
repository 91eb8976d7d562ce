"""Shared pieces of the report's tables: phase, scope and tier labels, the figure columns
and rows (energy kWh, emissions kgCO2e, water L), number formatting, the renewable share,
the restatements table and site look-ups.

Part of :mod:`core.report`, which re-exports the public names.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from core import closing
from core.estimate import EstimateRow
from core.inventory import Inventory
from core.periods import Period
from core.report_model import Column, Table, format_percent

PHASE_LABELS = {
    "training": "Training",
    "inference": "Inference (own and cloud)",
    "api": "API usage",
    "embodied": "Embodied hardware",
}
SCOPE_CATEGORIES = {
    "Scope 2": "Purchased electricity of own and colocation sites",
    "Scope 3 cat. 1": "Purchased goods and services: cloud and API providers",
    "Scope 3 cat. 2": "Capital goods: hardware of own sites",
}
TIER_TEXT = {
    "measured": "Measured energy (meters, CodeCarbon)",
    "activity-based": "Activity-based (device-hours × power, requests × energy)",
    "token-based": "Token-based (tokens × energy per token)",
    "default": "Defaults only",
}
TOP_N = 10


def _stamp(now: dt.datetime) -> str:
    return now.strftime("%Y-%m-%d %H:%M %Z").strip()


def _number_columns(share: bool = True) -> list[Column]:
    cols = [
        Column("Energy", "kWh", "number"),
        Column("Location", "kgCO2e", "number"),
        Column("Market", "kgCO2e", "number"),
        Column("Savings", "kgCO2e", "number"),
        Column("Water", "L", "number", 0.85),
    ]
    if share:
        cols.append(Column("Market share", "%", "percent", 0.85))
    return cols


def _figures(r: EstimateRow | dict[str, float], market_total: float, share: bool = True) -> list:
    get = r.get if isinstance(r, dict) else lambda k: getattr(r, k)
    values = [
        get("energy_kwh"),
        get("location_kgco2e"),
        get("market_kgco2e"),
        get("savings_kgco2e"),
        get("water_l"),
    ]
    if share:
        values.append(get("market_kgco2e") / market_total if market_total else None)
    return values


def _change(now: float, before: float) -> float | None:
    return (now - before) / before if before else None


def _vs(now: float, prev: float, last_year: float, p: Period, ly: Period) -> str:
    parts = []
    for value, label in ((prev, p.previous().label), (last_year, ly.label)):
        change = _change(now, value)
        parts.append(
            f"{format_percent(change, signed=True)} vs {label}"
            if change is not None
            else f"none in {label}"
        )
    return "; ".join(parts)


def _value_text(f: dict[str, Any]) -> str:
    return f["unit"] if f["value"] is None else f"{_g(f['value'])} {f['unit']}"


def _g(value: float) -> str:
    return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"


def renewable_share(figures: EstimateRow | dict[str, float]) -> float | None:
    """Share of the energy (facility kWh) covered by renewable instruments (PPAs, green
    tariffs, certificates): ``renewable_kwh / energy_kwh`` as the engine gives them;
    None without energy."""
    get = figures.get if isinstance(figures, dict) else lambda k, d=0.0: getattr(figures, k, d)
    energy = float(get("energy_kwh", 0.0))
    return float(get("renewable_kwh", 0.0)) / energy if energy > 0 else None


def _restatement_table(
    recorded: list[closing.Restatement], pending: list[closing.Restatement]
) -> Table:
    rows = [
        [
            r.period_label,
            f"{r.label} ({r.unit})",
            r.old_value,
            r.new_value,
            _change(r.new_value, r.old_value),
            r.reason,
            f"{r.at[:10]} {r.os_user}",
        ]
        for r in recorded
    ] + [
        [
            r.period_label,
            f"{r.label} ({r.unit})",
            r.old_value,
            r.new_value,
            _change(r.new_value, r.old_value),
            "Not recorded: changed outside a confirmed edit (reference data or settings)",
            "",
        ]
        for r in pending
    ]
    return Table(
        "restatements",
        "Restatements of closed periods",
        [
            Column("Period", width=0.8),
            Column("Figure", width=1.9),
            Column("Reported", "", "number", 0.9),
            Column("Restated", "", "number", 0.9),
            Column("Change", "", "change", 0.75),
            Column("Reason", width=2.2),
            Column("Recorded", width=1.2),
        ],
        rows,
    )


def _site_regions(inv: Inventory) -> dict[str, str]:
    rows = inv.conn.execute(
        "SELECT id, coalesce(region_code, grid_region, country, '') FROM sites"
    ).fetchall()
    return {f"sites:{r[0]}": r[1] or "" for r in rows}


def _entry_sites(inv: Inventory, table: str) -> dict[int, str]:
    rows = inv.conn.execute(
        f"SELECT e.id, coalesce(s.name, '') FROM {table} e LEFT JOIN sites s ON s.id = e.site_id"
    ).fetchall()
    return {int(r[0]): r[1] for r in rows}
