"""Grid factor ranges per line (ratios to the factor, from ``core.factors.grid_range``)
and their folding into each operational line's own uncertainty range."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from core import factors
from core.assumptions import Assumptions, SiteTable, site_grid_lookup
from core.engine_lines import Lines


def grid_ranges(
    site: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    sites: SiteTable,
    a: Assumptions,
    today: dt.date | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per line: the range of its location-based grid factor as ratios to the factor
    (low, high), from :func:`core.factors.grid_range` (exact, year gap, country or world
    fallback); the wider of the factors of its first and last year (years between are no
    further from the data). Undated lines take this year's factor, as their month piece
    does. A site's own factor (and an override without a range) is taken as known: 1, 1."""
    lo_w, hi_w = _grid_log_widths(site, start, end, sites, a, today)
    return np.exp(-lo_w), np.exp(hi_w)


def _years(days: np.ndarray, dated: np.ndarray, now: int) -> np.ndarray:
    """Calendar year of each day (``datetime64[D]``); ``now`` where not ``dated``. Through a
    day -> year table over the days' span (a gather instead of a date conversion)."""
    d = days.view(np.int64)
    if not dated.any():
        return np.full(len(d), now, dtype=np.int32)
    first, last = int(d[dated].min()), int(d[dated].max())
    if last - first > 2_000_000:  # pragma: no cover - dates thousands of years apart
        years = days.astype("datetime64[Y]").astype(np.int64) + 1970
        return np.where(dated, years, now)
    span = np.arange(first, last + 1).astype("datetime64[D]")
    table = (span.astype("datetime64[Y]").astype(np.int64) + 1970).astype(np.int32)
    if dated.all():
        return table[d - first]
    return np.where(dated, table[np.where(dated, d - first, 0)], now)


def _grid_log_widths(
    site: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    sites: SiteTable,
    a: Assumptions,
    today: dt.date | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per line: -ln(low) and ln(high) of :func:`grid_ranges`. Each distinct site and
    year is looked up once (a table over sites x years, or the distinct pairs when that
    table would be large)."""
    n = len(site)
    if not n:
        return np.zeros(0), np.zeros(0)
    now = (today or dt.date.today()).year
    dated = ~np.isnat(start) & ~np.isnat(end)
    first, last = _years(start, dated, now), _years(end, dated, now)
    y0 = int(min(first.min(), last.min()))
    span = int(max(first.max(), last.max())) - y0 + 1
    if len(sites.names) * span <= 4_000_000:  # keys fit in int32: half the memory traffic
        base = site.astype(np.int32) * np.int32(span) - np.int32(y0)
        k0, k1 = base + first, base + last
        same = bool(np.array_equal(k0, k1))  # most lines start and end in one year
        present = np.zeros(len(sites.names) * span, dtype=bool)
        present[k0] = True
        if not same:
            present[k1] = True
        keys = np.flatnonzero(present)
        where = np.zeros(len(present), dtype=np.int32)
        where[keys] = np.arange(len(keys), dtype=np.int32)
        i0 = where[k0]
        i1 = i0 if same else where[k1]
    else:  # pragma: no cover - dates over thousands of years at thousands of sites
        base = site.astype(np.int64) * span - y0
        k0, k1 = base + first, base + last
        same = False
        keys, inverse = np.unique(np.concatenate([k0, k1]), return_inverse=True)
        i0, i1 = inverse[:n], inverse[n:]
    lo, hi = np.zeros(len(keys)), np.zeros(len(keys))
    for i, key in enumerate(keys.tolist()):
        found = site_grid_lookup(sites, key // span, y0 + key % span, a)
        if found is not None:
            low, high, _ = factors.grid_range(found, a.params)
            lo[i], hi[i] = -math.log(low), math.log(high)
    if same:
        return lo[i0], hi[i0]
    return np.maximum(lo[i0], lo[i1]), np.maximum(hi[i0], hi[i1])


def _widen_by_grid_range(lines: Lines, sites: SiteTable, a: Assumptions) -> None:
    """Fold each operational line's grid factor range (:func:`grid_ranges`) into its own
    range, in place: the log widths add in quadrature (independent errors).

    The Monte Carlo draws a line's own range once per entry, so a grid factor's error is
    drawn per entry too, not shared by every entry on the same grid."""
    if not len(lines):
        return
    g_lo, g_hi = _grid_log_widths(lines.site, lines.start, lines.end, sites, a)
    wider = (g_lo > 0) | (g_hi > 0)
    if not wider.any():
        return
    for rel, g, sign in ((lines.rel_low, g_lo, -1.0), (lines.rel_high, g_hi, 1.0)):
        own = np.log(np.clip(rel, 1e-12, 1.0) if sign < 0 else np.maximum(rel, 1.0))
        own *= own
        own += g * g
        np.sqrt(own, out=own)
        own *= sign
        np.exp(own, out=own)
        if wider.all():
            rel[:] = own
        else:
            rel[:] = np.where(wider, own, rel)
