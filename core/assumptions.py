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

from core import factors, reference
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
    #: the seeded sites of ``sites.csv`` by name: their PUE and WUE are reference figures
    #: (provider defaults with a range), not the user's (see :class:`SiteTable`)
    reference_sites: dict[str, dict[str, Any]] = field(default_factory=dict)

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
        _ASSUMPTIONS = Assumptions(
            factors.load_grid_factors(),
            factors.load_parameters(),
            rows,
            reference_sites=_shipped_sites(),
        )
    return _ASSUMPTIONS


@dataclass
class SiteTable:
    """Per-site values the engine needs, indexed like ``Activity.sites`` (plus one row
    at the end for "no site": world average grid, industry-average PUE).

    ``pue_stated`` says whether the PUE is the user's own figure (+-2 %): a PUE typed on
    the site record. A PUE that is still the shipped figure of a seeded site of the same
    name (``sites.csv``) is reference data, a default: it keeps its value but takes the
    range of the provider's parameter (``pue:aws`` ..., else the industry average's) and
    its source (the parameter's, which holds the same curated figure, else the shipped
    table's), and estimates list it among the defaults used. ``wue_source`` says where
    each WUE (L/kWh) came from: :data:`WUE_STATED`, or a source as for the PUE.
    """

    pue: np.ndarray
    pue_range: np.ndarray  # (n, 2) relative low/high
    pue_source: list[str]
    wue: np.ndarray
    zone: list[str]
    country: list[str | None]
    own_factor: np.ndarray  # g/kWh, NaN when none
    scope2: np.ndarray  # bool: own or colocation (Scope 2), else Scope 3 cat. 1
    names: list[str]
    pue_stated: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    wue_source: list[str] = field(default_factory=list)


#: what a WUE typed on the site record is called in explanations
WUE_STATED = "stated for the site"


def _shipped_sites() -> dict[str, dict[str, Any]]:
    """The seeded sites of ``sites.csv`` by name (their shipped PUE and WUE)."""
    try:
        rows = reference.load_csv("sites")
    except reference.ReferenceDataError:  # no shipped sites: every figure is the user's
        return {}
    return {str(r["name"]): r for r in rows}


def _from_reference(site: dict[str, Any], key: str, shipped: dict[str, dict[str, Any]]) -> bool:
    """Whether the site's ``key`` (``pue`` or ``wue``) is still the shipped figure of the
    seeded site of that name (a user who edits it makes it their own)."""
    row = shipped.get(str(site.get("name")))
    return (
        row is not None
        and site.get(key) is not None
        and row.get(key) is not None
        and float(site[key]) == float(row[key])
    )


def _shipped_source(site: dict[str, Any], shipped: dict[str, dict[str, Any]]) -> str:
    """The citation of a seeded site's shipped figures (source, year and licence)."""
    return f"shipped sites table: {shipped[str(site.get('name'))]['source']}"


def site_table(activity: Activity, a: Assumptions) -> SiteTable:
    rows = [*activity.site_rows, {"id": -1, "name": "(no site)", "kind": "own"}]
    n = len(rows)
    pue, wue, own = np.empty(n), np.full(n, np.nan), np.full(n, np.nan)
    pue_range, pue_source = np.ones((n, 2)), []
    pue_stated, wue_source = np.zeros(n, dtype=bool), []
    zones, countries, scope2 = [], [], np.zeros(n, dtype=bool)
    average = a.param("pue_industry_average")
    for i, s in enumerate(rows):
        provider = _PROVIDER_PARAM.get((s.get("provider") or "").strip().lower())
        pue_param = a.params.get(f"pue:{provider}") if provider else None
        wue_param = a.params.get(f"wue:{provider}") if provider else None
        if s.get("pue") is not None and _from_reference(s, "pue", a.reference_sites):
            # the shipped figure of a seeded site: a default with the provider's range
            f = pue_param or average
            pue[i] = s["pue"]
            pue_range[i] = (f.low / f.value, f.high / f.value)
            same = pue_param is not None and pue_param.value == pue[i]  # the same figure
            pue_source.append(f.source if same else _shipped_source(s, a.reference_sites))
        elif s.get("pue") is not None:
            pue[i] = s["pue"]
            pue_range[i] = (0.98, 1.02)  # a stated PUE: +-2 % (judgement)
            pue_source.append(f"site '{s['name']}'")
            pue_stated[i] = True
        else:
            default = pue_param or average
            pue[i] = default.value
            pue_range[i] = (default.low / default.value, default.high / default.value)
            pue_source.append(default.source)
        if s.get("wue") is not None and _from_reference(s, "wue", a.reference_sites):
            wue[i] = s["wue"]
            same = wue_param is not None and wue_param.value == wue[i]
            wue_source.append(wue_param.source if same else _shipped_source(s, a.reference_sites))
        elif s.get("wue") is not None:
            wue[i] = s["wue"]
            wue_source.append(WUE_STATED)
        elif wue_param is not None:
            wue[i] = wue_param.value
            wue_source.append(wue_param.source)
        else:
            wue_source.append("")
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
        pue_stated,
        wue_source,
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


def with_grid_override(
    found: factors.GridLookup, zone: str, year: int, a: Assumptions
) -> factors.GridLookup:
    """``found`` replaced by the inventory's override of ``zone``'s factor for ``year``,
    if it has one (the override's value, range and source; no fallback)."""
    override = a.grid_overrides.get((factors.normalise_zone(zone), int(year)))
    if override is None:
        return found
    return replace(
        found,
        value=override.value,
        zone=zone,
        year=int(year),
        factor=override,
        fallback="",
    )


def site_grid_lookup(
    sites: SiteTable, site: int, year: int, a: Assumptions
) -> factors.GridLookup | None:
    """The location-based grid factor lookup of site index ``site`` for ``year`` (with
    the inventory's overrides), or None when the site has a factor of its own."""
    if not np.isnan(sites.own_factor[site]):
        return None
    found = a.grid.lookup(sites.zone[site], int(year), sites.country[site])
    return with_grid_override(found, sites.zone[site], int(year), a)
