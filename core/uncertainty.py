"""Uncertainty ranges of estimates: a seeded, vectorised Monte Carlo.

Each *unit* is the set of lines of one entry and kind that share the same shared
assumptions, own relative range and PUE range. Shared assumptions (training and inference
utilisation, host overhead, default PUE, hardware lifetime) are drawn once per sample for
all units, so their errors add up across the inventory as they would in reality; each
unit's own input error (measured +-5 %, stated power +-10 %, per-request or per-token
energy over the published spread, embodied +-30 %) is drawn independently. Grid factors
are drawn like shared assumptions: each grid zone's published factor has one error per
sample for every piece of operational activity that uses it, whatever its entry (so two
entries on the same grid in the same year are wrong the same way), over the range of
``core.factors.grid_range`` for the piece's zone and year (wider for a year gap or a
country or world fallback; see ``core.engine_grid.grid_errors``); a site's own factor
and embodied emissions take none. Draws are triangular in log space between the low,
central and high values.

The *drivers* of the total's uncertainty are entries (training runs and deployments),
whatever the grouping of the estimate: each entry's share of the variance of the total
(:func:`entry_drivers`).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import NamedTuple, TypeVar

import numpy as np

from core import engine
from core.engine_grid import GridErrors

_SAMPLED_SHARED = (engine.U_TRAIN, engine.U_INF, engine.HOST, engine.PUE_DEF, engine.LIFETIME)

#: threads drawing chunks at once: numpy's generators, gathers, sums and sorts release
#: the interpreter lock, so chunks run side by side on several cores
_WORKERS = max(1, min(4, os.cpu_count() or 1))

_T = TypeVar("_T")
_R = TypeVar("_R")


def _in_order(fn: Callable[[_T], _R], items: Iterable[_T]) -> Iterator[_R]:
    """``fn`` of each item, computed on :data:`_WORKERS` threads, yielded in the items'
    order (so that sums come out the same bit for bit as one thread's). At most two
    results per thread wait to be taken, which bounds the memory held."""
    if _WORKERS == 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(_WORKERS) as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= 2 * _WORKERS:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _triangular(u: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Relative multipliers from a triangular distribution in log space between ``lo``
    and ``hi`` with its mode at 1 (the central value), by inverse CDF of ``u``.

    Log space keeps ratios symmetric (x2 and /2 are equally likely), so the central
    value stays inside the P5-P95 range even for ranges as skewed as 0.4x-30x.
    """
    a = np.log(np.minimum(lo, 1.0))
    b = np.log(np.maximum(hi, 1.0))
    width = np.maximum(b - a, 1e-12)
    cut = -a / width
    left = a + np.sqrt(u * width * -a)
    right = b - np.sqrt((1.0 - u) * width * b)
    return np.exp(np.where(b - a < 1e-12, 0.0, np.where(u < cut, left, right)))


def _shared_ranges(a: engine.Assumptions) -> dict[int, tuple[float, float]]:
    def rel(name: str) -> tuple[float, float]:
        f = a.param(name)
        return f.low / f.value, f.high / f.value

    host = a.param("host_overhead_ratio")
    life = a.param("embodied_lifetime_years")
    return {
        engine.U_TRAIN: rel("utilisation_training"),
        engine.U_INF: rel("utilisation_inference"),
        engine.HOST: ((1 + host.low) / (1 + host.value), (1 + host.high) / (1 + host.value)),
        engine.LIFETIME: (life.value / life.high, life.value / life.low),  # kg ~ 1/lifetime
    }


@dataclass
class Units:
    """Uncertainty units of an engine's lines, independent of any grouping or period.

    A unit is the set of lines of one entry and kind that share the same shared
    assumptions, own relative range and PUE range: its own input error is one draw (the
    same per-token or per-request figure applies to all of them), independent of every
    other unit's. Defining units per entry, never per group, keeps the total's range the
    same whatever the grouping.
    """

    of_line: np.ndarray  # unit per line
    pair: np.ndarray  # per unit: index into pair_lo/pair_hi (own relative range)
    combo: np.ndarray  # per unit: index into combo_shared/combo_pue
    pair_lo: np.ndarray
    pair_hi: np.ndarray
    combo_shared: np.ndarray
    combo_pue: np.ndarray  # (n, 2) relative PUE range
    #: per unit: its entry (``engine.entry_key``) and kind (``engine.KINDS`` index); empty
    #: when unknown (then no drivers are ranked)
    entry: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    kind: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def _factorise(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(code per row, index of each code's first row) for rows of integer columns."""
    code = np.zeros(len(columns[0]), dtype=np.int64)
    for col in columns:
        values, inverse = np.unique(col, return_inverse=True)
        code = code * len(values) + inverse.ravel()
        if len(values) > 1:
            code = np.unique(code, return_inverse=True)[1].ravel()  # keep the codes small
    first = np.unique(code, return_index=True)[1]
    return code, first


def build_units(lines: engine.Lines, sites: engine.SiteTable) -> Units:
    """The uncertainty units of ``lines`` (see :class:`Units`)."""
    # ranges whose ends differ by under about 1 % share a quantile table (the first
    # line's range stands for them): grid factors' ranges made hundreds of nearly equal
    # ranges, and more than 256 make every draw's table index twice as wide
    lo = np.round(np.log(np.maximum(lines.rel_low, 1e-300)) * _RANGE_STEPS).astype(np.int64)
    hi = np.round(np.log(np.maximum(lines.rel_high, 1e-300)) * _RANGE_STEPS).astype(np.int64)
    pair_code, pair_first = _factorise((lo + 2**30) * 2**31 + (hi + 2**30))
    pue = np.round(sites.pue_range * 10_000).astype(np.int64)
    site_pue = pue[:, 0] * 10**9 + pue[:, 1]
    combo_code, combo_first = _factorise(lines.shared, site_pue[lines.site])
    entry = lines.entry_table.astype(np.int64) * 2**40 + lines.entry_id
    unit_key = (entry * 4 + lines.kind) * (len(pair_first) * len(combo_first)) + (
        pair_code * len(combo_first) + combo_code
    )
    if len(pair_first) * len(combo_first) * 4 < 2**22:  # the key fits in int64
        _, first, unit_of_line = np.unique(unit_key, return_index=True, return_inverse=True)
        unit_of_line = unit_of_line.ravel()
    else:  # pragma: no cover - only with millions of distinct ranges
        unit_of_line, first = _factorise(entry, lines.kind, pair_code, combo_code)
    return Units(
        of_line=unit_of_line,
        pair=pair_code[first],
        combo=combo_code[first],
        pair_lo=lines.rel_low[pair_first],
        pair_hi=lines.rel_high[pair_first],
        combo_shared=lines.shared[combo_first],
        combo_pue=sites.pue_range[lines.site[combo_first]],
        entry=entry[first],
        kind=lines.kind[first].astype(np.int64),
    )


def _pct_sorted(rows: np.ndarray, q: float) -> np.ndarray:
    """Percentile ``q`` (0-100) of each sorted row, interpolated like ``np.percentile``."""
    pos = q / 100 * (rows.shape[1] - 1)
    i = int(np.floor(pos))
    j = min(i + 1, rows.shape[1] - 1)
    return rows[:, i] + (pos - i) * (rows[:, j].astype(np.float64) - rows[:, i])


class Ranges(NamedTuple):
    """Percentiles of location-based kgCO2e from :func:`monte_carlo`: P5, P50 and P95
    per group (arrays) and of the total (floats), and the entries that drive the
    total's uncertainty (:func:`entry_drivers`)."""

    low: np.ndarray
    p50: np.ndarray
    high: np.ndarray
    total_low: float
    total_p50: float
    total_high: float
    drivers: list[dict]


#: range ends are compared in steps of 1/_RANGE_STEPS in log space (1 %)
_RANGE_STEPS = 100
_LEVELS_BITS = 16  # own-error draws: quantile tables indexed by a 16-bit random number
_CHUNK_ELEMENTS = 1_000_000  # unit x sample values per chunk (4 MB of float32)
_MANY_GROUPS = 2048
#: entries listed as drivers: the largest shares, at most this many, each over 0.1 %
TOP_DRIVERS = 10
_MIN_DRIVER_SHARE = 0.001


def monte_carlo(
    units: Units | None,
    unit: np.ndarray,
    kg: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    a: engine.Assumptions,
    samples: int,
    seed: int,
    grid: GridErrors | None = None,
    grid_key: np.ndarray | None = None,
) -> Ranges:
    """P5/P50/P95 of location-based kgCO2e per group and in total, and the entries that
    drive the total's uncertainty (:func:`entry_drivers`, whatever the groups are).

    ``unit`` is the uncertainty unit of each piece, ``kg`` its central location-based
    kgCO2e in the period and ``group`` its group; ``grid_key`` its key in ``grid`` (-1:
    no grid error; both None: none at all). Every unit's own error is drawn ``samples``
    times from its triangular-in-log distribution (through a table of 65,536 / n
    quantiles per range: inverse-CDF sampling at that resolution), once for all its
    pieces; each shared assumption, and each grid factor's error, is drawn once per
    sample for all the pieces that use it. Without samples (or units) every percentile
    is the central figure; groups whose central figure is zero have zero percentiles (a
    zero stays zero whatever its multiplier).
    """
    if units is None or samples <= 0 or not len(kg):
        central = np.bincount(group, kg, n_groups)
        total = float(kg.sum())
        return Ranges(central, central.copy(), central.copy(), total, total, total, [])
    # each piece's multipliers: its unit's shared assumptions and PUE range (combo) and
    # its grid key, as one "raw combination" number
    n_keys = len(grid) if grid is not None and grid_key is not None else 0
    unit = unit.astype(np.int64)
    raw = units.combo[unit]
    if n_keys:
        raw = raw * (n_keys + 1) + (grid_key + 1)
    n_raw = len(units.combo_shared) * (n_keys + 1)
    # central kg per (unit, combination, group) row; most groupings put each unit in one
    # group, and most units have one grid key
    if len(units.pair) * n_raw * n_groups < 2**62:
        rows_key = (unit * n_raw + raw) * n_groups + group
        rows, rows_inverse = np.unique(rows_key, return_inverse=True)
        c = np.bincount(rows_inverse.ravel(), weights=kg, minlength=len(rows))
        nonzero = c != 0
        rows, c = rows[nonzero], c[nonzero]
        u_of, raw_of, g_of = rows // (n_raw * n_groups), rows // n_groups % n_raw, rows % n_groups
    else:  # pragma: no cover - only with billions of unit x combination x group keys
        code, first = _factorise(unit, raw, group)
        c = np.bincount(code, weights=kg, minlength=len(first))
        nonzero = c != 0
        first, c = first[nonzero], c[nonzero]
        u_of, raw_of, g_of = unit[first], raw[first], group[first].astype(np.int64)
        order = np.lexsort((g_of, raw_of, u_of))
        u_of, raw_of, g_of, c = u_of[order], raw_of[order], g_of[order], c[order]
    if not len(c):  # every figure is zero (no hardware, no energy): so is the range
        zeros = np.zeros(n_groups)
        return Ranges(zeros, zeros.copy(), zeros.copy(), 0.0, 0.0, 0.0, [])
    present = np.bincount(raw_of, minlength=n_raw) > 0
    raw_used = np.flatnonzero(present)
    k_of = (np.cumsum(present) - 1)[raw_of]  # index into the multipliers ``m``
    # a unit in several groups (by quarter): rows come by unit, then combination, group
    new_unit = np.r_[True, u_of[1:] != u_of[:-1]]
    split = bool((~new_unit & (g_of != np.r_[-1, g_of[:-1]])).any())
    # The samples are float32 (half the memory and time of float64), scaled by a power
    # of two (exact) so that the largest value is about 1: every value within 30 orders
    # of magnitude of it keeps float32's relative precision. Values spread wider than
    # that (1e-40 kg next to 1 kg) would underflow: those are sampled in float64.
    size = np.abs(c)
    peak, least = float(size.max()), float(size.min())
    # (a peak under 2^-1000 would need a scale 2^1000 or more: float64 and no scale)
    wide = not (2.0**-1000 < peak < np.inf) or least < peak * 1e-30
    scale = 1.0 if wide else 2.0 ** -np.ceil(np.log2(peak))
    dtype = np.float64 if wide else np.float32
    m_shared = _shared_multipliers(units, a, samples, seed)
    if n_keys:
        m_grid = np.vstack([np.ones((1, samples)), _grid_multipliers(grid, samples, seed)])
        m = m_shared[raw_used // (n_keys + 1)] * m_grid[raw_used % (n_keys + 1)]
    else:
        m = m_shared[raw_used]
    own = _OwnTable(units, dtype)
    r = _sample(
        u_of, k_of, g_of, c * scale, split, n_groups, units, m.astype(dtype), own, samples, seed
    )
    drivers = entry_drivers(units, u_of, c, m, own, combo=k_of)
    return Ranges(
        r.low / scale,
        r.p50 / scale,
        r.high / scale,
        r.total_low / scale,
        r.total_p50 / scale,
        r.total_high / scale,
        drivers,
    )


def _shared_multipliers(units: Units, a: engine.Assumptions, samples: int, seed: int) -> np.ndarray:
    """Multipliers of the shared assumptions per combination of shared bits and PUE
    range: (n_combo, samples), float64. Each shared assumption is one seeded draw per
    sample for every combination that uses it."""
    rng = np.random.default_rng(seed)
    shared_u = {bit: rng.random(samples) for bit in _SAMPLED_SHARED}
    ranges = _shared_ranges(a)
    m_shared = np.ones((len(units.combo_shared), samples))
    for k, bits in enumerate(units.combo_shared.tolist()):
        for bit in _SAMPLED_SHARED:
            if bits & bit:
                if bit == engine.PUE_DEF:
                    blo, bhi = units.combo_pue[k]
                else:
                    blo, bhi = ranges[bit]
                m_shared[k] *= _triangular(shared_u[bit], np.array(blo), np.array(bhi))
    return m_shared


#: the seed's second word for the grid factors' draws (a stream of their own, so that
#: adding a grid factor changes none of the shared assumptions' draws)
_GRID_STREAM = 0x67726964


def _grid_multipliers(grid: GridErrors, samples: int, seed: int) -> np.ndarray:
    """Multipliers of the grid factors per grid key: (n_keys, samples), float64. Each
    published factor is one seeded draw per sample for every key of it (the keys of one
    factor take the same quantile of their own ranges)."""
    rng = np.random.default_rng([seed, _GRID_STREAM])
    u = rng.random((grid.n_factors, samples))
    return _triangular(u[grid.factor], grid.low[:, None], grid.high[:, None])


class _OwnTable:
    """The own-error quantile tables, one per range side by side in one 65,536-entry
    table (``table[pair << level_bits | level]``), and each range's mean and variance
    over its levels (the moments of the distribution actually drawn)."""

    def __init__(self, units: Units, dtype: type):
        n_pairs = len(units.pair_lo)
        slot_bits = max(int(np.ceil(np.log2(max(n_pairs, 1)))), 0)
        level_bits = _LEVELS_BITS - slot_bits
        if level_bits < 8:  # pragma: no cover - over 256 distinct ranges
            level_bits, slot_bits = 8, int(np.ceil(np.log2(n_pairs)))
        levels = (np.arange(2**level_bits) + 0.5) / 2**level_bits
        exact = _triangular(levels[None, :], units.pair_lo[:, None], units.pair_hi[:, None])
        table = np.ones((2**slot_bits, 2**level_bits), dtype=dtype)
        table[:n_pairs] = exact
        drawn = table[:n_pairs].astype(np.float64)
        self.mean = drawn.mean(axis=1) if n_pairs else np.zeros(0)
        self.var = drawn.var(axis=1) if n_pairs else np.zeros(0)
        self.table = table.ravel()
        self.level_bits = level_bits
        self.index_dtype = np.uint16 if slot_bits + level_bits <= 16 else np.uint32


def entry_drivers(
    units: Units,
    unit: np.ndarray,
    kg: np.ndarray,
    m_shared: np.ndarray,
    own: _OwnTable,
    top: int = TOP_DRIVERS,
    combo: np.ndarray | None = None,
) -> list[dict]:
    """The entries with the largest shares of the variance of the total, largest first:
    ``{"entry": entry key, "kind": KINDS index, "share_of_variance": s,
    "location_kgco2e": central kg}`` each, at most ``top``, each share over 0.1 %.

    ``unit`` and ``kg`` are units and their central kgCO2e (repeats are summed);
    ``combo`` the row of ``m_shared`` that multiplies each (the shared assumptions and
    grid factor errors; None: the unit's combination of shared assumptions,
    ``units.combo``). The total is T = sum over rows r of c_r o_u(r) s_k(r): central kg
    c_r, own error o_u of its unit u (one draw for all the unit's rows, independent
    between units) and the multiplier s_k of its combination k. An entry's share is the
    sum over its units of Cov(X_u, T) / Var(T), where

        Cov(X_u, T) = E[o_u] sum_(r in u) c_r (S A)_k(r)
                      + Var(o_u) sum_(r, r' in u) c_r c_r' E[s_k(r) s_k(r')],

    S is the covariance of the multipliers between combinations (over the same seeded
    draws as the ranges), A_k = sum of c_r E[o_u(r)] over the rows r of k, and the
    moments of o are those of its quantile table. The shares add up to 1 over all
    entries, do not depend on how the estimate is grouped, and cost a few operations per
    unit: no draw is kept per entry.
    """
    if not len(units.entry) or not len(kg):
        return []
    n_units, n_combo = len(units.pair), len(m_shared)
    unit = np.asarray(unit, dtype=np.int64)
    if combo is None:  # one combination per unit
        row_unit = np.arange(n_units)
        row_k = units.combo
        c = np.bincount(unit, weights=kg, minlength=n_units)
    else:  # rows of (unit, combination), in unit order
        keys, inverse = np.unique(unit * n_combo + combo, return_inverse=True)
        row_unit, row_k = keys // n_combo, keys % n_combo
        c = np.bincount(inverse.ravel(), weights=kg, minlength=len(keys))
    peak = float(np.abs(c).max()) if len(c) else 0.0
    if not 0 < peak < np.inf:
        return []
    central = np.bincount(row_unit, weights=c, minlength=n_units)
    c = c / peak  # shares do not depend on the scale; squares of 1e200 kg would overflow
    mu, var_own = own.mean[units.pair], own.var[units.pair]
    a_k = np.bincount(row_k, weights=c * mu[row_unit], minlength=n_combo)
    centred = m_shared - m_shared.mean(axis=1, keepdims=True)
    s_a = centred @ (centred.T @ a_k) / m_shared.shape[1]  # (S A) without S itself
    second = _second_moments(row_unit, row_k, c, m_shared)
    contribution = np.bincount(
        row_unit, weights=c * mu[row_unit] * s_a[row_k], minlength=n_units
    ) + var_own * np.bincount(row_unit, weights=second, minlength=n_units)
    total_var = float(contribution.sum())
    if not total_var > 0:
        return []
    entry = units.entry
    c = central
    if len(entry) > 1 and bool((entry[1:] >= entry[:-1]).all()):  # units come by entry
        starts = np.flatnonzero(np.r_[True, entry[1:] != entry[:-1]])
        keys = entry[starts]
        per_entry = np.add.reduceat(contribution, starts)
        kg_entry = np.add.reduceat(central, starts)
        kind = np.minimum.reduceat(np.where(c != 0, units.kind, len(engine.KINDS)), starts)
    else:
        keys, inverse = np.unique(entry, return_inverse=True)
        inverse = inverse.ravel()
        per_entry = np.bincount(inverse, weights=contribution, minlength=len(keys))
        kg_entry = np.bincount(inverse, weights=central, minlength=len(keys))
        kind = np.full(len(keys), len(engine.KINDS))
        np.minimum.at(kind, inverse, np.where(c != 0, units.kind, len(engine.KINDS)))
    share = per_entry / total_var
    best = np.argsort(-share, kind="stable")[:top]
    return [
        {
            "entry": int(keys[i]),
            # the entry's operational kind (embodied only when it has nothing else)
            "kind": int(min(kind[i], engine.EMBODIED)),
            "share_of_variance": float(share[i]),
            "location_kgco2e": float(kg_entry[i]),
        }
        for i in best.tolist()
        if share[i] > _MIN_DRIVER_SHARE
    ]


def _second_moments(
    row_unit: np.ndarray, row_k: np.ndarray, c: np.ndarray, m: np.ndarray
) -> np.ndarray:
    """Per row r (rows sorted by unit): c_r times the sum over the rows r' of its unit of
    c_r' E[s_k(r) s_k(r')], the moments taken over the draws ``m`` (one row per
    combination). Summed over a unit's rows: its own error's variance factor."""
    diagonal = (m * m).mean(axis=1)
    out = c * c * diagonal[row_k]
    starts = np.flatnonzero(np.r_[True, row_unit[1:] != row_unit[:-1]])
    if len(starts) == len(row_unit):  # one row per unit
        return out
    lengths = np.diff(np.r_[starts, len(row_unit)])
    start_of = np.repeat(starts, lengths)
    length_of = np.repeat(lengths, lengths)
    here = np.arange(len(row_unit))
    for d in range(int(lengths.max())):  # the unit's d-th row as partner, where not itself
        rows = np.flatnonzero((length_of > d) & (start_of + d != here))
        partner = start_of[rows] + d
        n = len(m)
        pair, inverse = np.unique(row_k[rows] * n + row_k[partner], return_inverse=True)
        moment = np.einsum("ij,ij->i", m[pair // n], m[pair % n]) / m.shape[1]
        out[rows] += c[rows] * c[partner] * moment[inverse.ravel()]
    return out


def _chunks(bounds: np.ndarray, step: int) -> list[tuple[int, int]]:
    """Chunks of rows that end on ``bounds`` (sorted row positions, the first 0 and the
    last the number of rows): (first bound, last bound) each, as many rows as fit in
    ``step`` (at least one bound's span)."""
    ends = np.searchsorted(bounds, bounds + step, side="right") - 1
    chunks = []
    lo_b = 0
    while lo_b < len(bounds) - 1:
        hi_b = max(int(ends[lo_b]), lo_b + 1)
        chunks.append((lo_b, hi_b))
        lo_b = hi_b
    return chunks


def _sample(
    u_of: np.ndarray,
    k_of: np.ndarray,
    g_of: np.ndarray,
    c: np.ndarray,
    split: bool,
    n_groups: int,
    units: Units,
    m: np.ndarray,
    own: _OwnTable,
    samples: int,
    seed: int,
) -> Ranges:
    """The Monte Carlo of :func:`monte_carlo` on central kg ``c`` per (unit ``u_of``,
    combination ``k_of``, group ``g_of``) row, rows in unit order, with the multipliers
    ``m`` of the combinations (shared assumptions and grid factors, of the samples'
    type) and the own-error table ``own``. Its ``drivers`` are left empty."""
    table, level_bits, index_dtype = own.table, own.level_bits, own.index_dtype
    dtype = table.dtype
    if split:  # each unit is drawn once and shared out over its groups
        return _monte_carlo_split(
            u_of,
            k_of,
            g_of,
            c,
            n_groups,
            units,
            m,
            table,
            level_bits,
            index_dtype,
            samples,
            seed,
        )
    # by group; a unit's rows (one per combination) stay together, as each unit is in
    # one group
    order = np.argsort(g_of, kind="stable")
    u_of, k_of, g_of, c = u_of[order], k_of[order], g_of[order], c[order]
    pair_of = units.pair[u_of]
    # the first row of each row's unit: the unit's own error is drawn there, once
    here = np.arange(len(u_of))
    new_unit = np.r_[True, u_of[1:] != u_of[:-1]]
    first_row = np.maximum.accumulate(np.where(new_unit, here, 0))
    step = max(_CHUNK_ELEMENTS // samples, 1)
    # many groups, or so many samples that a row per group would not fit in memory
    many = n_groups > _MANY_GROUPS or n_groups * samples > _MANY_GROUPS * 10_000
    if many:  # chunks end on group boundaries: each group is finished in its chunk
        bounds = np.flatnonzero(np.r_[True, g_of[1:] != g_of[:-1], True])
    else:  # chunks end on unit boundaries
        bounds = np.flatnonzero(np.r_[new_unit, True])
    chunks = _chunks(bounds, step)
    seeds = np.random.SeedSequence(seed).spawn(len(chunks))
    c_t = c.astype(dtype)

    def draws(lo: int, hi: int, chunk: int) -> np.ndarray:
        """Row x sample values (central kg x own error x multipliers) for rows lo:hi."""
        idx = _levels(seeds[chunk], (hi - lo, samples), level_bits, index_dtype)
        again = np.flatnonzero(~new_unit[lo:hi])  # a unit's further rows: its first's
        if len(again):
            idx[again] = idx[first_row[lo:hi][again] - lo]
        idx |= (pair_of[lo:hi].astype(index_dtype) << level_bits)[:, None]
        x = table[idx]
        x *= m[k_of[lo:hi]]
        x *= c_t[lo:hi, None]
        return x

    if not many:

        def group_sums(k: int) -> tuple[np.ndarray, np.ndarray]:
            lo, hi = int(bounds[chunks[k][0]]), int(bounds[chunks[k][1]])
            x = draws(lo, hi, k)
            starts = np.flatnonzero(np.r_[True, g_of[lo + 1 : hi] != g_of[lo : hi - 1]])
            return g_of[lo:hi][starts], _sum_runs(x, starts)

        g_samples = np.zeros((n_groups, samples))
        for gid, sums in _in_order(group_sums, range(len(chunks))):
            g_samples[gid] += sums
        return _summarise(g_samples)
    # many small groups: each group is finished in its chunk, and only its percentiles
    # and its part of the total are kept

    def finish_groups(k: int) -> tuple:
        lo_b, hi_b = chunks[k]
        lo, hi = int(bounds[lo_b]), int(bounds[hi_b])
        x = draws(lo, hi, k)
        starts = bounds[lo_b:hi_b] - lo
        g = _sum_runs(x, starts)
        total = g.sum(axis=0, dtype=np.float64)
        g.sort(axis=1)
        gid = g_of[lo:hi][starts]
        return gid, _pct_sorted(g, 5), _pct_sorted(g, 50), _pct_sorted(g, 95), total

    total = np.zeros(samples)
    low, mid, high = np.zeros(n_groups), np.zeros(n_groups), np.zeros(n_groups)
    for gid, g_low, g_mid, g_high, g_total in _in_order(finish_groups, range(len(chunks))):
        total += g_total
        low[gid], mid[gid], high[gid] = g_low, g_mid, g_high
    return _with_totals(low, mid, high, total)


def _levels(
    seed: np.random.SeedSequence, shape: tuple[int, int], level_bits: int, dtype: type
) -> np.ndarray:
    """Uniform random levels 0 .. 2**level_bits - 1 of ``dtype`` (uint16 or uint32): the
    top bits of the generator's raw 64-bit outputs cut into 2 or 4 numbers, which is
    about five times faster than ``Generator.integers`` (the draws' largest cost)."""
    n = shape[0] * shape[1]
    width = np.dtype(dtype).itemsize * 8
    per_draw = 64 // width
    raw = np.random.PCG64DXSM(seed).random_raw(-(-n // per_draw))
    levels = raw.view(dtype)[:n].reshape(shape)
    levels >>= width - level_bits
    return levels


def _sum_runs(x: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Row sums of consecutive runs of rows of ``x`` starting at ``starts`` (like
    ``np.add.reduceat(x, starts, axis=0)``, which is slow along axis 0): runs are short
    (an entry's few units), so add their k-th rows for k = 1, 2, ..."""
    lengths = np.diff(np.r_[starts, len(x)])
    if len(lengths) == len(x):  # every run is one row
        return x
    if lengths.max() > 16 and len(starts) <= 64:  # a few long runs: sum each block
        ends = np.r_[starts[1:], len(x)]
        return np.stack([x[a:b].sum(axis=0) for a, b in zip(starts, ends, strict=True)])
    out = x[starts]
    for k in range(1, int(lengths.max())):
        longer = np.flatnonzero(lengths > k)
        out[longer] += x[starts[longer] + k]
    return out


def _summarise(g_samples: np.ndarray) -> Ranges:
    sorted_rows = np.sort(g_samples, axis=1)
    low, high = _pct_sorted(sorted_rows, 5), _pct_sorted(sorted_rows, 95)
    mid = _pct_sorted(sorted_rows, 50)
    return _with_totals(low, mid, high, g_samples.sum(axis=0))


def _monte_carlo_split(
    u_of: np.ndarray,
    k_of: np.ndarray,
    g_of: np.ndarray,
    c: np.ndarray,
    n_groups: int,
    units: Units,
    m: np.ndarray,
    table: np.ndarray,
    level_bits: int,
    index_dtype: type,
    samples: int,
    seed: int,
) -> Ranges:
    """Monte Carlo when a unit falls in several groups (by quarter): one draw of its own
    error per unit, shared out over its rows (groups and combinations) in proportion to
    their central kg, each row times its combination's multipliers."""
    unique_u, u_row = np.unique(u_of, return_inverse=True)
    u_row = u_row.ravel()
    pair_of = units.pair[unique_u]
    step = max(_CHUNK_ELEMENTS // samples, 1)
    seeds = np.random.SeedSequence(seed).spawn(1 + len(unique_u) // step)
    by_row = np.argsort(u_row, kind="stable")
    row_bounds = np.searchsorted(u_row[by_row], np.arange(0, len(unique_u) + step, step))

    def group_sums(k: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = k * step, min((k + 1) * step, len(unique_u))
        idx = _levels(seeds[k], (hi - lo, samples), level_bits, index_dtype)
        idx |= (pair_of[lo:hi].astype(index_dtype) << level_bits)[:, None]
        x = table[idx]
        rows = by_row[row_bounds[k] : row_bounds[k + 1]]
        rows = rows[np.argsort(g_of[rows], kind="stable")]  # this chunk's rows, by group
        part = x[u_row[rows] - lo]
        part *= m[k_of[rows]]
        part *= c[rows, None].astype(table.dtype)
        g = g_of[rows]
        starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
        return g[starts], _sum_runs(part, starts)

    g_samples = np.zeros((n_groups, samples))
    for gid, sums in _in_order(group_sums, range(-(-len(unique_u) // step))):  # chunks
        g_samples[gid] += sums
    return _summarise(g_samples)


def _with_totals(low: np.ndarray, mid: np.ndarray, high: np.ndarray, total: np.ndarray) -> Ranges:
    """Ranges of these groups' percentiles, with the total's P5/P50/P95 from its draws."""
    t_lo, t_hi = np.percentile(total, [5, 95])
    t_mid = np.percentile(total, 50)
    return Ranges(low, mid, high, float(t_lo), float(t_mid), float(t_hi), [])
