"""Ranges of grid factors for the Monte Carlo (parameters ``grid_range:*``).

The grid factor sources give no range. The engine varies a factor between bounds that
grow with what it had to assume (``core.factors.grid_range``):

* ``grid_range:exact`` -- a factor of the right zone and year: a documented judgement
  from the gaps between published figures for the same zone and year;
* ``grid_range:year_gap_<g>`` (g = 1..10) -- a factor of another year, ``g`` years away:
  how far a country's factor moved over ``g`` years in the table itself (Ember via Our
  World in Data, 2010 onwards: the 90th percentile of the absolute log change);
* ``grid_range:country_fallback`` -- the parent country's factor for an unknown
  sub-national or cloud zone: the spread of the table's sub-national factors around
  their country's factor of the same year (5th and 95th percentiles);
* ``grid_range:world_fallback`` -- the world average for an unknown place: the spread of
  the countries' factors around the world average (5th and 95th percentiles).

Every statistic is computed from the grid factor rows being shipped, so the ranges follow
the table. Values are ratios to the factor used (central 1).
"""

from __future__ import annotations

import math
from collections import defaultdict

from .common import BuildError
from .parameters import Param
from .sources import CITED

#: Year gaps with a range of their own; longer gaps take the last one.
MAX_GAP = 10
#: First year of the country series used for the year-gap spread.
SINCE = 2010
#: Factors below this (g/kWh) are left out of the year-gap spread: on near-zero grids a
#: few grams make ratios that say nothing about a typical grid.
FLOOR_G = 10.0
UNIT = "ratio to the grid factor used"
OWN = "Computed from grid_factors.csv (this table) by packaging/reference_data/grid_ranges.py"
EXACT_NOTE = (
    "Documented judgement. The grid factor sources give no range. Published figures for "
    "the same zone and year differ by up to about 5 % in the methodology notes and the "
    "project's cases file (world 2019: IEA 475 vs Ember 500 g/kWh; US 2019: Patterson et "
    "al. 429 vs Ember 413; US 2018: Strubell et al. 433 vs Ember 435; Iowa 2019: "
    "Patterson 478 vs Google 479). The bound is doubled to +-10 % for the differences of "
    "method the notes name but do not quantify (CO2 or CO2e, lifecycle or combustion, "
    "generation or consumption basis)."
)
EXACT_CHECKS = ("world 475 (IEA 2019)",)


def _percentile(values: list[float], q: float) -> float:
    """Percentile ``q`` (0-100) of ``values``, interpolated linearly like numpy's default."""
    s = sorted(values)
    if not s:
        raise BuildError("no values for a grid factor range")
    pos = q / 100 * (len(s) - 1)
    i = math.floor(pos)
    j = min(i + 1, len(s) - 1)
    return s[i] + (pos - i) * (s[j] - s[i])


def _ratio(x: float) -> float:
    """A ratio rounded to four significant digits (the tables' precision)."""
    return float(f"{x:.4g}")


def _series(grid: list[dict[str, str]], kinds: tuple[str, ...]) -> dict[str, dict[int, float]]:
    out: dict[str, dict[int, float]] = defaultdict(dict)
    for row in grid:
        if row["kind"] in kinds:
            out[row["zone"]][int(row["year"])] = float(row["g_per_kwh"])
    return out


def year_gap_params(grid: list[dict[str, str]]) -> list[Param]:
    """``grid_range:year_gap_<g>``: P90 of |ln(f(y + g) / f(y))| over the countries."""
    countries = _series(grid, ("country",))
    params, widest = [], 0.0
    for gap in range(1, MAX_GAP + 1):
        changes = [
            abs(math.log(years[y + gap] / f))
            for years in countries.values()
            for y, f in years.items()
            if y >= SINCE and y + gap in years and f >= FLOOR_G and years[y + gap] >= FLOOR_G
        ]
        # never narrower than a shorter gap (a percentile of fewer pairs can dip)
        widest = max(widest, _percentile(changes, 90))
        high = _ratio(math.exp(widest))
        params.append(
            Param(
                f"grid_range:year_gap_{gap}",
                1.0,
                _ratio(1 / high),
                high,
                UNIT,
                f"a grid factor of a year {gap} year{'s' if gap > 1 else ''} away from the "
                "activity's (no figure for its year)"
                + ("; also longer gaps" if gap == MAX_GAP else ""),
                f"{OWN}: Ember via Our World in Data country series",
                "2023",
                "CC BY 4.0",
                f"Spread of the zone's factors over the years, from the table itself: the "
                f"90th percentile of how much a country's factor moved over {gap} "
                f"year{'s' if gap > 1 else ''} ({len(changes):,} pairs of years, {SINCE} "
                f"onwards, factors of {FLOOR_G:g} g/kWh or more; absolute change in log "
                "terms, so the range is symmetric as a ratio), kept at least as wide as for "
                "a shorter gap. Combined with grid_range:exact (and a place fallback's "
                "range) in quadrature of the log widths.",
            )
        )
    return params


def country_fallback_param(grid: list[dict[str, str]]) -> Param:
    """``grid_range:country_fallback``: sub-national factors around their country's."""
    countries = _series(grid, ("country",))
    logs = []
    for row in grid:
        if row["kind"] != "subnational":
            continue
        zone, year, value = row["zone"], int(row["year"]), float(row["g_per_kwh"])
        country = countries.get(zone[:2], {})
        if year in country and value > 0 and country[year] > 0:
            logs.append(math.log(value / country[year]))
    low, high = math.exp(_percentile(logs, 5)), math.exp(_percentile(logs, 95))
    return Param(
        "grid_range:country_fallback",
        1.0,
        _ratio(min(low, 1.0)),
        _ratio(max(high, 1.0)),
        UNIT,
        "the parent country's grid factor used for a sub-national or cloud zone the table "
        "does not have",
        f"{OWN}: EPA eGRID2023 states and MEE/NBS 2023 Chinese provinces (via CodeCarbon "
        "3.3.2) against Ember via Our World in Data",
        "2023",
        "MIT; CC BY 4.0",
        f"Spread of the table's sub-national factors around their country's factor of the "
        f"same year: 5th and 95th percentiles of the ratio ({len(logs)} zones with a "
        "country figure for their year; zones of 0 g/kWh left out). A zone can lie "
        "anywhere in its country's range, so the range is wide and asymmetric.",
    )


def world_fallback_param(grid: list[dict[str, str]]) -> Param:
    """``grid_range:world_fallback``: the countries' factors around the world average."""
    world = _series(grid, ("world",)).get("WORLD", {})
    if not world:
        raise BuildError("no world average in the grid factors")
    last = max(world)
    logs = []
    for years in _series(grid, ("country",)).values():
        usable = [y for y in years if y <= last and y in world and years[y] > 0]
        if usable:
            y = max(usable)
            logs.append(math.log(years[y] / world[y]))
    low, high = math.exp(_percentile(logs, 5)), math.exp(_percentile(logs, 95))
    return Param(
        "grid_range:world_fallback",
        1.0,
        _ratio(min(low, 1.0)),
        _ratio(max(high, 1.0)),
        UNIT,
        "the world average grid factor used for a site with no known zone or country",
        f"{OWN}: Ember via Our World in Data",
        str(last),
        "CC BY 4.0",
        f"Spread of the countries' factors around the world average: 5th and 95th "
        f"percentiles of the ratio of each country's latest factor (up to {last}) to the "
        f"world average of the same year ({len(logs)} countries, unweighted). An unknown "
        "place can be almost any grid, so the range is very wide.",
    )


def grid_range_params(grid: list[dict[str, str]]) -> list[Param]:
    """Every ``grid_range:*`` parameter, from the grid rows being shipped."""
    exact = Param(
        "grid_range:exact",
        1.0,
        0.9,
        1.1,
        UNIT,
        "a grid factor of the site's own zone and the activity's year",
        "Documented judgement from the methodology notes and the project's cases file",
        "2018; 2019",
        CITED,
        EXACT_NOTE,
        EXACT_CHECKS,
    )
    return [
        exact,
        *year_gap_params(grid),
        country_fallback_param(grid),
        world_fallback_param(grid),
    ]
