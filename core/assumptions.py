"""Reference data as the engine uses it: assumptions, sites and hardware.

``Assumptions`` bundles the shipped grid factors, parameters and inference energy with an
inventory's overrides; ``SiteTable`` and ``HardwareTable`` hold per-site PUE, WUE, grid
zone and scope, and per-hardware TDP (W), embodied emissions (kgCO2e) and lifetime (years)
as arrays the engine indexes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from core import factors
from core.activity import Activity

_PROVIDER_PARAM = {
    "aws": "aws",
    "amazon web services": "aws",
    "microsoft azure": "azure",
    "azure": "azure",
    "google cloud": "gcp",
    "openai": "openai",
    "google": "google-api",
}


@dataclass(frozen=True)
class Assumptions:
    """Reference data the engine uses: grid factors, parameters, inference energy, and
    the inventory's overrides of grid factors (``(zone, year) -> Factor``)."""

    grid: factors.GridFactors
    params: dict[str, factors.Factor]
    inference: dict[str, dict[str, Any]]
    grid_overrides: dict[tuple[str, int], factors.Factor] = field(default_factory=dict)

    def param(self, name: str) -> factors.Factor:
        return self.params[name]

    def with_overrides(self, rows: list[dict[str, Any]]) -> Assumptions:
        """These assumptions with an inventory's ``factor_overrides`` rows applied.

        A parameter override replaces the shipped value (its range defaults to the value
        itself: a user's figure is taken as known); ``grid:ZONE:YEAR`` replaces that
        zone's grid factor for that year; ``inference:KEY`` replaces a row of the
        inference energy table (its ``central``, ``low`` and ``high``, in the row's unit).
        The reason and source travel with the value.
        """
        if not rows:
            return self
        params = dict(self.params)
        inference = self.inference
        grid: dict[tuple[str, int], factors.Factor] = dict(self.grid_overrides)
        for row in rows:
            value = float(row["value"])
            low = value if row.get("low") is None else float(row["low"])
            high = value if row.get("high") is None else float(row["high"])
            source = f"override: {row['reason']}" + (
                f" ({row['source']})" if row.get("source") else ""
            )
            key = str(row["key"])
            if key.startswith("grid:"):
                zone, _, year = key[len("grid:") :].rpartition(":")
                grid[(factors.normalise_zone(zone), int(year))] = factors.Factor(
                    value, low, high, "gCO2e/kWh", source, int(year), "", ""
                )
            elif key.startswith("inference:") and key[len("inference:") :] in inference:
                name = key[len("inference:") :]
                if inference is self.inference:
                    inference = dict(inference)  # copy on first change
                inference[name] = {
                    **inference[name],
                    "central": value,
                    "low": low,
                    "high": high,
                    "source": source,
                    "year": None,
                    "notes": f"shipped value {inference[name]['central']} "
                    f"({inference[name]['source']})",
                }
            elif key in params:
                base = params[key]
                params[key] = factors.Factor(
                    value,
                    low,
                    high,
                    base.unit,
                    source,
                    None,
                    "",
                    f"shipped value {base.value} ({base.source})",
                )
        return replace(self, params=params, grid_overrides=grid, inference=inference)


_ASSUMPTIONS: Assumptions | None = None


def load_assumptions() -> Assumptions:
    """The shipped reference data, read once per process."""
    global _ASSUMPTIONS
    if _ASSUMPTIONS is None:
        rows = {row["key"]: row for row in factors.load_inference_energy()}
        _ASSUMPTIONS = Assumptions(factors.load_grid_factors(), factors.load_parameters(), rows)
    return _ASSUMPTIONS


@dataclass
class SiteTable:
    """Per-site values the engine needs, indexed like ``Activity.sites`` (plus one row
    at the end for "no site": world average grid, industry-average PUE)."""

    pue: np.ndarray
    pue_range: np.ndarray  # (n, 2) relative low/high
    pue_source: list[str]
    wue: np.ndarray
    zone: list[str]
    country: list[str | None]
    own_factor: np.ndarray  # g/kWh, NaN when none
    scope2: np.ndarray  # bool: own or colocation (Scope 2), else Scope 3 cat. 1
    names: list[str]


def site_table(activity: Activity, a: Assumptions) -> SiteTable:
    rows = [*activity.site_rows, {"id": -1, "name": "(no site)", "kind": "own"}]
    n = len(rows)
    pue, wue, own = np.empty(n), np.full(n, np.nan), np.full(n, np.nan)
    pue_range, pue_source = np.ones((n, 2)), []
    zones, countries, scope2 = [], [], np.zeros(n, dtype=bool)
    average = a.param("pue_industry_average")
    for i, s in enumerate(rows):
        provider = _PROVIDER_PARAM.get((s.get("provider") or "").strip().lower())
        if s.get("pue") is not None:
            pue[i] = s["pue"]
            pue_range[i] = (0.98, 1.02)  # a stated PUE: +-2 % (judgement)
            pue_source.append(f"site '{s['name']}'")
        else:
            default = a.params.get(f"pue:{provider}", average) if provider else average
            pue[i] = default.value
            pue_range[i] = (default.low / default.value, default.high / default.value)
            pue_source.append(default.source)
        if s.get("wue") is not None:
            wue[i] = s["wue"]
        elif provider and f"wue:{provider}" in a.params:
            wue[i] = a.params[f"wue:{provider}"].value
        if s.get("grid_factor_g_per_kwh") is not None:
            own[i] = s["grid_factor_g_per_kwh"]
        zone, country = factors.zone_for_site(
            s.get("kind"),
            s.get("provider"),
            s.get("region_code"),
            s.get("country"),
            s.get("grid_region"),
        )
        zones.append(zone)
        countries.append(country)
        scope2[i] = s.get("kind") in ("own", "colocation")
    return SiteTable(
        pue,
        pue_range,
        pue_source,
        wue,
        zones,
        countries,
        own,
        scope2,
        [str(r["name"]) for r in rows],
    )


@dataclass
class HardwareTable:
    """Per-hardware values, indexed like ``Activity.hardware`` plus a last "none" row."""

    tdp: np.ndarray
    embodied: np.ndarray
    lifetime: np.ndarray
    accelerator: np.ndarray
    names: list[str]


def hardware_table(activity: Activity) -> HardwareTable:
    rows = [*activity.hardware_rows, {"name": "(no hardware)", "kind": None}]

    def col(key: str) -> np.ndarray:
        return np.array([np.nan if r.get(key) is None else float(r[key]) for r in rows])

    return HardwareTable(
        col("tdp_w"),
        col("embodied_kgco2e"),
        col("lifetime_years"),
        np.array([r.get("kind") == "accelerator" for r in rows]),
        [str(r["name"]) for r in rows],
    )
