"""Location- and market-based emissions of activity lines, month by month.

Every dated line is cut into calendar-month pieces (``core.periods``). Each piece's
facility energy gets the grid factor of its site's zone for the piece's year
(location-based). Market-based accounting follows the GHG Protocol Scope 2 Guidance:
renewable and low-carbon instruments (PPA, on-site, green tariff, certificates,
supplier-specific factor) cover consumption in the same market boundary (the site, or the
grid region or country it names) and period; volume instruments are spread over the
consumption they cover in proportion to it. Consumption no instrument covers would take
the residual-mix factor; none is bundled, so the location factor is used and flagged.

Units: energy kWh, factors g CO2e per kWh, emissions kg CO2e, water litres.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np

from core import factors
from core.engine import EMBODIED, Assumptions, Lines, SiteTable
from core.periods import Period, split_by_month

SOURCING_KINDS = ("ppa", "onsite", "green-tariff", "eac", "supplier-factor")


@dataclass
class PieceResults:
    """Per month piece: which line, which days, and its all-time results."""

    line: np.ndarray
    start: np.ndarray  # datetime64[D]
    end: np.ndarray
    dated: np.ndarray  # False for the single piece of an undated line
    facility_kwh: np.ndarray
    it_kwh: np.ndarray
    location_kg: np.ndarray
    market_kg: np.ndarray
    water_l: np.ndarray
    embodied_kg: np.ndarray
    factor_g_per_kwh: np.ndarray
    lookup_code: np.ndarray  # index into lookup_table; -1: the site's own factor
    lookup_table: list[factors.GridLookup]
    instrument_pieces: list[np.ndarray]  # per sourcing row: the pieces it covered
    residual_fallback: np.ndarray  # uncovered consumption priced at the location factor

    def lookup(self, piece: int) -> factors.GridLookup | None:
        """The grid factor lookup of one piece (None: the site's own factor)."""
        code = int(self.lookup_code[piece])
        return None if code < 0 else self.lookup_table[code]

    def fallbacks(self, keep: np.ndarray) -> list[str]:
        """The distinct fallback notes of the grid lookups of the pieces in ``keep``."""
        codes = np.unique(self.lookup_code[keep])
        return sorted({self.lookup_table[c].fallback for c in codes[codes >= 0].tolist()} - {""})

    def weights(self, period: Period | None) -> np.ndarray:
        """Fraction of each piece inside ``period`` (all-time: 1; undated pieces: only
        in all-time totals)."""
        if period is None:
            return np.ones(len(self.line))
        lo = np.maximum(self.start, np.datetime64(period.start, "D"))
        hi = np.minimum(self.end, np.datetime64(period.end, "D"))
        inside = np.clip((hi - lo).astype(np.int64) + 1, 0, None)
        days = (self.end - self.start).astype(np.int64) + 1
        return np.where(self.dated, inside / np.maximum(days, 1), 0.0)


def pieces_for(lines: Lines, today: dt.date | None = None) -> tuple[np.ndarray, ...]:
    """(line, start, end, share, dated) for every month piece of every line."""
    dated = ~np.isnat(lines.start) & ~np.isnat(lines.end)
    idx = np.flatnonzero(dated)
    p = split_by_month(lines.start[idx], lines.end[idx])
    undated = np.flatnonzero(~dated)
    year_start = np.datetime64(f"{(today or dt.date.today()).year}-01-01", "D")
    line = np.concatenate([idx[p.record], undated])
    start = np.concatenate([p.start, np.full(len(undated), year_start)])
    end = np.concatenate([p.end, np.full(len(undated), year_start)])
    share = np.concatenate([p.share, np.ones(len(undated))])
    is_dated = np.concatenate([np.ones(len(p.record), bool), np.zeros(len(undated), bool)])
    return line, start, end, share, is_dated


def compute(
    lines: Lines,
    sites: SiteTable,
    a: Assumptions,
    sourcing: list[dict],
    site_ids: np.ndarray,
    today: dt.date | None = None,
) -> PieceResults:
    """All-time results per month piece (select a period with ``PieceResults.weights``).

    ``site_ids`` maps site indices to inventory ids (for instruments naming a site).
    """
    line, start, end, share, dated = pieces_for(lines, today)
    facility = lines.facility_kwh[line] * share
    it = lines.it_kwh[line] * share
    embodied = lines.embodied_kg[line] * share
    site = lines.site[line]
    years = start.astype("datetime64[Y]").astype(np.int64) + 1970
    factor, lookup_code, lookup_table = _grid(site, years, sites, a)
    location = facility * factor / 1000.0
    market, instrument_pieces, fallback = _market(
        site, start, end, facility, factor, sites, sourcing, site_ids
    )
    is_embodied = lines.kind[line] == EMBODIED
    location = np.where(is_embodied, embodied, location)
    market = np.where(is_embodied, embodied, market)
    water = it * np.nan_to_num(sites.wue[site])
    return PieceResults(
        line,
        start,
        end,
        dated,
        facility,
        it,
        location,
        market,
        water,
        embodied,
        factor,
        lookup_code,
        lookup_table,
        instrument_pieces,
        fallback & ~is_embodied,
    )


def _grid(
    site: np.ndarray, years: np.ndarray, sites: SiteTable, a: Assumptions
) -> tuple[np.ndarray, np.ndarray, list[factors.GridLookup]]:
    """Location factor (g/kWh) per piece: the site's own published factor, else the grid
    factor of its zone for the year (with the reported fallback chain); and per piece
    the index of its lookup in the returned list (-1 for a site's own factor)."""
    if not len(site):
        return np.zeros(0), np.zeros(0, dtype=np.int64), []
    key = site.astype(np.int64) * 10_000 + years
    unique, inverse = np.unique(key, return_inverse=True)
    u_site, u_year = unique // 10_000, unique % 10_000
    values, found = a.grid.lookup_many(
        [sites.zone[s] for s in u_site], u_year, [sites.country[s] for s in u_site]
    )
    found = list(found)
    for i, (s, y) in enumerate(zip(u_site.tolist(), u_year.tolist(), strict=True)):
        override = a.grid_overrides.get((factors.normalise_zone(sites.zone[s]), int(y)))
        if override is not None:
            values[i] = override.value
            found[i] = replace(
                found[i],
                value=override.value,
                zone=sites.zone[s],
                year=int(y),
                factor=override,
                fallback="",
            )
    own = sites.own_factor[u_site]
    values = np.where(np.isnan(own), values, own)
    codes = np.where(np.isnan(own), np.arange(len(found)), -1)
    return values[inverse], codes[inverse.ravel()], found


def _overlap_fraction(start: np.ndarray, end: np.ndarray, a: dt.date, b: dt.date) -> np.ndarray:
    lo = np.maximum(start, np.datetime64(a, "D"))
    hi = np.minimum(end, np.datetime64(b, "D"))
    days = (end - start).astype(np.int64) + 1
    return np.clip((hi - lo).astype(np.int64) + 1, 0, None) / np.maximum(days, 1)


def _matches(
    instrument: dict, site: np.ndarray, sites: SiteTable, site_ids: np.ndarray
) -> np.ndarray:
    """Pieces inside the instrument's market boundary: its site, or its grid region."""
    if instrument.get("site_id") is not None:
        positions = np.flatnonzero(site_ids == instrument["site_id"])
        return np.isin(site, positions)
    region = factors.normalise_zone(instrument.get("grid_region"))
    in_region = np.array([region in (z, c) for z, c in zip(sites.zone, sites.country, strict=True)])
    return in_region[site]


def _market(
    site: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    kwh: np.ndarray,
    location_factor: np.ndarray,
    sites: SiteTable,
    sourcing: list[dict],
    site_ids: np.ndarray,
) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """Market-based kg per piece, the pieces each instrument covered, and the pieces
    whose uncovered consumption took the location factor (no residual mix bundled)."""
    remaining = kwh.copy()
    market = np.zeros(len(kwh))
    supplier = np.full(len(kwh), np.nan)
    covered_by: list[np.ndarray] = [np.empty(0, dtype=np.int64) for _ in sourcing]
    order = sorted(
        range(len(sourcing)),
        key=lambda i: (sourcing[i]["kind"] == "supplier-factor", sourcing[i]["period_start"], i),
    )
    for i in order:
        inst = sourcing[i]
        frac = _overlap_fraction(
            start,
            end,
            dt.date.fromisoformat(inst["period_start"]),
            dt.date.fromisoformat(inst["period_end"]),
        )
        frac = frac * _matches(inst, site, sites, site_ids)
        eligible = remaining * frac
        if not eligible.any():
            continue
        factor = float(inst.get("factor_g_per_kwh") or 0.0)
        if inst["kind"] == "supplier-factor":
            supplier = np.where(frac > 0, factor, supplier)
            covered_by[i] = np.flatnonzero(frac > 0)
            continue
        if inst.get("share_pct") is not None:
            cover = eligible * float(inst["share_pct"]) / 100.0
        else:
            volume_kwh = float(inst.get("mwh") or 0.0) * 1000.0
            total = float(eligible.sum())
            # the volume covers what it can; never divide a large volume by a tiny total
            cover = eligible if volume_kwh >= total else eligible * (volume_kwh / total)
        cover = np.minimum(cover, remaining)
        remaining -= cover
        market += cover * factor / 1000.0
        covered_by[i] = np.flatnonzero(cover > 0)
    rest_factor = np.where(np.isnan(supplier), location_factor, supplier)
    market += remaining * rest_factor / 1000.0
    fallback = (remaining > 0) & np.isnan(supplier)
    return market, covered_by, fallback
