"""Uncertainty ranges of estimates: a seeded, vectorised Monte Carlo.

Each *unit* is the set of lines of one entry and kind that share the same shared
assumptions, own relative range and PUE range. Shared assumptions (training and inference
utilisation, host overhead, default PUE, hardware lifetime) are drawn once per sample for
all units, so their errors add up across the inventory as they would in reality; each
unit's own input error (measured +-5 %, stated power +-10 %, per-request or per-token
energy over the published spread, embodied +-30 %) is drawn independently. Draws are
triangular in log space between the low, central and high values. Grid factors vary only
through the lines' own ranges (the engine folds a grid factor's range into them, where it
gives one).

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
) -> Ranges:
    """P5/P50/P95 of location-based kgCO2e per group and in total, and the entries that
    drive the total's uncertainty (:func:`entry_drivers`, whatever the groups are).

    ``unit`` is the uncertainty unit of each piece, ``kg`` its central location-based
    kgCO2e in the period and ``group`` its group. Every unit's own error is drawn
    ``samples`` times from its triangular-in-log distribution (through a table of 65,536
    / n quantiles per range: inverse-CDF sampling at that resolution); each shared
    assumption is drawn once per sample for all units that use it. Without samples (or
    units) every percentile is the central figure; groups whose central figure is zero
    have zero percentiles (a zero stays zero whatever its multiplier).
    """
    if units is None or samples <= 0 or not len(kg):
        central = np.bincount(group, kg, n_groups)
        total = float(kg.sum())
        return Ranges(central, central.copy(), central.copy(), total, total, total, [])
    # central kg per (unit, group); most groupings put each unit in one group
    pairs_key = unit.astype(np.int64) * n_groups + group
    ug, ug_inverse = np.unique(pairs_key, return_inverse=True)
    c = np.bincount(ug_inverse.ravel(), weights=kg, minlength=len(ug))
    nonzero = c != 0
    if not nonzero.any():  # every figure is zero (no hardware, no energy): so is the range
        zeros = np.zeros(n_groups)
        return Ranges(zeros, zeros.copy(), zeros.copy(), 0.0, 0.0, 0.0, [])
    ug, c = ug[nonzero], c[nonzero]
    u_of, g_of = ug // n_groups, ug % n_groups
    split = len(np.unique(u_of)) < len(u_of)  # a unit in several groups (by quarter)
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
    own = _OwnTable(units, dtype)
    r = _sample(
        u_of, g_of, c * scale, split, n_groups, units, m_shared.astype(dtype), own, samples, seed
    )
    drivers = entry_drivers(units, ug // n_groups, c, m_shared, own)
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
) -> list[dict]:
    """The entries with the largest shares of the variance of the total, largest first:
    ``{"entry": entry key, "kind": KINDS index, "share_of_variance": s,
    "location_kgco2e": central kg}`` each, at most ``top``, each share over 0.1 %.

    ``unit`` and ``kg`` are units and their central kgCO2e (repeats are summed). The
    total is T = sum over units u of c_u o_u s_k(u): central kg c_u, own error o_u
    (independent between units) and the product s_k of the shared assumptions of the
    unit's combination k. An entry's share is the sum over its units of Cov(X_u, T) /
    Var(T), where

        Cov(X_u, T) = c_u E[o_u] (S A)_k(u) + c_u^2 Var(o_u) E[s_k(u)^2],

    S is the covariance of the shared multipliers between combinations (over the same
    seeded draws as the ranges), A_k = sum of c_v E[o_v] over the units v of k, and the
    moments of o are those of its quantile table. The shares add up to 1 over all
    entries, do not depend on how the estimate is grouped, and cost a few operations per
    unit: no draw is kept per entry.
    """
    if not len(units.entry) or not len(kg):
        return []
    n_units = len(units.pair)
    c = np.bincount(unit, weights=kg, minlength=n_units)
    peak = float(np.abs(c).max()) if len(c) else 0.0
    if not 0 < peak < np.inf:
        return []
    central = c
    c = c / peak  # shares do not depend on the scale; squares of 1e200 kg would overflow
    mu, var_own = own.mean[units.pair], own.var[units.pair]
    n_combo = len(m_shared)
    a_k = np.bincount(units.combo, weights=c * mu, minlength=n_combo)
    centred = m_shared - m_shared.mean(axis=1, keepdims=True)
    cov_shared = centred @ centred.T / m_shared.shape[1]
    second = (m_shared * m_shared).mean(axis=1)
    contribution = c * mu * (cov_shared @ a_k)[units.combo] + c * c * var_own * second[units.combo]
    total_var = float(contribution.sum())
    if not total_var > 0:
        return []
    entry = units.entry
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


def _sample(
    u_of: np.ndarray,
    g_of: np.ndarray,
    c: np.ndarray,
    split: bool,
    n_groups: int,
    units: Units,
    m_shared: np.ndarray,
    own: _OwnTable,
    samples: int,
    seed: int,
) -> Ranges:
    """The Monte Carlo of :func:`monte_carlo` on central kg ``c`` per (unit ``u_of``,
    group ``g_of``) pair, with the shared multipliers ``m_shared`` (of the samples'
    type) and the own-error table ``own``. Its ``drivers`` are left empty."""
    table, level_bits, index_dtype = own.table, own.level_bits, own.index_dtype
    dtype = table.dtype
    if split:  # each unit is drawn once and shared out over its groups
        return _monte_carlo_split(
            u_of,
            g_of,
            c,
            n_groups,
            units,
            m_shared,
            table,
            level_bits,
            index_dtype,
            samples,
            seed,
        )
    order = np.argsort(g_of, kind="stable")
    u_of, g_of, c = u_of[order], g_of[order], c[order]
    pair_of, combo_of = units.pair[u_of], units.combo[u_of]
    step = max(_CHUNK_ELEMENTS // samples, 1)
    seeds = np.random.SeedSequence(seed).spawn(1 + len(c) // step)
    # many groups, or so many samples that a row per group would not fit in memory
    many = n_groups > _MANY_GROUPS or n_groups * samples > _MANY_GROUPS * 10_000

    def draws(lo: int, hi: int, chunk: int) -> np.ndarray:
        """Unit x sample multipliers (own error x shared assumptions) for rows lo:hi."""
        idx = _levels(seeds[chunk], (hi - lo, samples), level_bits, index_dtype)
        idx |= (pair_of[lo:hi].astype(index_dtype) << level_bits)[:, None]
        x = table[idx]
        x *= m_shared[combo_of[lo:hi]]
        return x

    if not many:

        def group_sums(k: int) -> tuple[np.ndarray, np.ndarray]:
            lo, hi = k * step, min((k + 1) * step, len(c))
            x = draws(lo, hi, k)
            x *= c[lo:hi, None].astype(dtype)
            starts = np.flatnonzero(np.r_[True, g_of[lo + 1 : hi] != g_of[lo : hi - 1]])
            return g_of[lo:hi][starts], _sum_runs(x, starts)

        g_samples = np.zeros((n_groups, samples))
        for gid, sums in _in_order(group_sums, range(-(-len(c) // step))):  # chunks
            g_samples[gid] += sums
        return _summarise(g_samples)
    # many small groups: chunks end on group boundaries; each group is finished in its
    # chunk, and only its percentiles and its part of the total are kept
    bounds = np.flatnonzero(np.r_[True, g_of[1:] != g_of[:-1], True])
    # chunk ends: the last group boundary within ``step`` units of the chunk start
    ends = np.searchsorted(bounds, bounds + step, side="right") - 1
    chunks = []  # (chunk number, first bound, last bound)
    k, lo_b = 0, 0
    while lo_b < len(bounds) - 1:
        hi_b = max(int(ends[lo_b]), lo_b + 1)
        chunks.append((min(k, len(seeds) - 1), lo_b, hi_b))
        k, lo_b = k + 1, hi_b

    def finish_groups(chunk: tuple[int, int, int]) -> tuple:
        k, lo_b, hi_b = chunk
        lo, hi = int(bounds[lo_b]), int(bounds[hi_b])
        x = draws(lo, hi, k)
        x *= c[lo:hi, None].astype(dtype)
        starts = bounds[lo_b:hi_b] - lo
        g = _sum_runs(x, starts)
        total = g.sum(axis=0, dtype=np.float64)
        g.sort(axis=1)
        gid = g_of[lo:hi][starts]
        return gid, _pct_sorted(g, 5), _pct_sorted(g, 50), _pct_sorted(g, 95), total

    total = np.zeros(samples)
    low, mid, high = np.zeros(n_groups), np.zeros(n_groups), np.zeros(n_groups)
    for gid, g_low, g_mid, g_high, g_total in _in_order(finish_groups, chunks):
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
    g_of: np.ndarray,
    c: np.ndarray,
    n_groups: int,
    units: Units,
    m_shared: np.ndarray,
    table: np.ndarray,
    level_bits: int,
    index_dtype: type,
    samples: int,
    seed: int,
) -> Ranges:
    """Monte Carlo when a unit falls in several groups (by quarter): one draw per unit,
    shared out over its groups in proportion to its central kg in each."""
    unique_u, u_row = np.unique(u_of, return_inverse=True)
    pair_of, combo_of = units.pair[unique_u], units.combo[unique_u]
    step = max(_CHUNK_ELEMENTS // samples, 1)
    seeds = np.random.SeedSequence(seed).spawn(1 + len(unique_u) // step)
    by_row = np.argsort(u_row, kind="stable")
    row_bounds = np.searchsorted(u_row[by_row], np.arange(0, len(unique_u) + step, step))

    def group_sums(k: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = k * step, min((k + 1) * step, len(unique_u))
        idx = _levels(seeds[k], (hi - lo, samples), level_bits, index_dtype)
        idx |= (pair_of[lo:hi].astype(index_dtype) << level_bits)[:, None]
        x = table[idx]
        x *= m_shared[combo_of[lo:hi]]
        rows = by_row[row_bounds[k] : row_bounds[k + 1]]
        rows = rows[np.argsort(g_of[rows], kind="stable")]  # this chunk's (unit, group) rows
        part = x[u_row[rows] - lo] * c[rows, None].astype(table.dtype)
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
