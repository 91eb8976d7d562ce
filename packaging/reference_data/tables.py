"""Column order of the generated CSV files and the row builders the tables share.

``hardware.csv`` and ``sites.csv`` (``build_reference.py``); ``grid_factors.csv``,
``parameters.csv`` and ``inference_energy.csv`` (``build_factors.py``).
"""

from __future__ import annotations

from .common import BuildError, _sig

HARDWARE_COLUMNS = (
    "name",
    "kind",
    "vendor",
    "tdp_w",
    "embodied_kgco2e",
    "lifetime_years",
    "source",
    "notes",
    "year",
    "licence",
)
SITES_COLUMNS = (
    "name",
    "kind",
    "provider",
    "region_code",
    "country",
    "grid_region",
    "pue",
    "wue",
    "grid_factor_g_per_kwh",
    "grid_factor_source",
    "source",
    "notes",
    "year",
    "licence",
)

GRID_COLUMNS = ("zone", "zone_name", "kind", "year", "g_per_kwh", "cfe_pct", "gas")
GRID_COLUMNS += ("source", "licence", "notes")
PARAMETER_COLUMNS = ("name", "central", "low", "high", "unit", "applies_to", "source", "year")
PARAMETER_COLUMNS += ("licence", "notes")
INFERENCE_COLUMNS = ("key", "task", "model_params_b", "gpu", "metric", "central", "low", "high")
INFERENCE_COLUMNS += ("unit", "source", "year", "licence", "notes")


def _row(columns: tuple[str, ...], **cells: object) -> dict[str, str]:
    unknown = set(cells) - set(columns)
    if unknown:
        raise BuildError(f"unknown column(s) {sorted(unknown)}")
    return {c: str(cells.get(c, "")) for c in columns}


def _energy(stats: tuple[float | None, float | None, float | None], **cells: object):
    """An inference energy row; ``stats`` are (central, low, high) in the row's unit."""
    central, low, high = (_sig(v) for v in stats)
    return _row(INFERENCE_COLUMNS, central=central, low=low, high=high, **cells)
