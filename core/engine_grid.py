"""Grid factor ranges (ratios to the factor, from ``core.factors.grid_range``) per grid
factor looked up (:func:`grid_errors`): what the Monte Carlo in ``core.uncertainty`` draws,
one error per grid zone's published factor, shared by every line that uses it. A line's
own uncertainty range leaves the grid factor out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core import factors


@dataclass(frozen=True)
class GridErrors:
    """The grid factor errors the Monte Carlo draws, per *grid key*: a distinct grid
    factor (the grid zone asked for, and the zone, year, value and source of the
    published factor used for it) with one range (ratios to the factor, from
    :func:`core.factors.grid_range`).

    Every key of one factor takes the same random draw in a sample (one error per
    factor, shared by every line that uses it, whatever its entry): keys of one factor
    differ only where it stood in for different years (a wider range for a larger year
    gap), and their multipliers are then the same quantile of their own ranges. Two
    zones that fall back to the same country or world factor have errors of their own:
    the fallback's range is mostly how far each zone lies from that average.
    """

    factor: np.ndarray  # per key: index of its factor (0 .. n_factors - 1)
    low: np.ndarray  # per key: low end of the range, as a ratio to the factor (<= 1)
    high: np.ndarray  # per key: high end of the range, as a ratio to the factor (>= 1)
    n_factors: int

    def __len__(self) -> int:
        return len(self.factor)


def grid_errors(
    lookups: Sequence[factors.GridLookup], params: dict[str, factors.Factor]
) -> tuple[GridErrors, np.ndarray]:
    """The grid keys of ``lookups`` (:class:`GridErrors`) and each lookup's key (-1: no
    error to draw, a factor taken as known: an override without a range).

    Lookups of the same factor for the same zone (two sites on one grid, or two activity
    years that fell back to the same year's figure) share its draw; those with the same
    range share a key too."""
    factor_of: dict[tuple, int] = {}
    key_of: dict[tuple, int] = {}
    key_factor: list[int] = []
    lows: list[float] = []
    highs: list[float] = []
    code_key = np.full(len(lookups), -1, dtype=np.int64)
    for i, lk in enumerate(lookups):
        low, high, _ = factors.grid_range(lk, params)
        if not (low < 1.0 or high > 1.0):
            continue
        ident = (lk.requested_zone, lk.zone, int(lk.year), lk.factor.value, lk.factor.source)
        f = factor_of.setdefault(ident, len(factor_of))
        k = key_of.get((f, low, high))
        if k is None:
            k = key_of[(f, low, high)] = len(key_factor)
            key_factor.append(f)
            lows.append(min(low, 1.0))
            highs.append(max(high, 1.0))
        code_key[i] = k
    errors = GridErrors(
        np.array(key_factor, dtype=np.int64),
        np.array(lows, dtype=np.float64),
        np.array(highs, dtype=np.float64),
        len(factor_of),
    )
    return errors, code_key
