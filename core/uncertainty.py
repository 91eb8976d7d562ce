"""Uncertainty ranges of estimates: a seeded, vectorised Monte Carlo.

Each *unit* is the set of lines of one entry and kind that share the same shared
assumptions, own relative range and PUE range. Shared assumptions (training and inference
utilisation, host overhead, default PUE, hardware lifetime) are drawn once per sample for
all units, so their errors add up across the inventory as they would in reality; each
unit's own input error (measured +-5 %, stated power +-10 %, per-request or per-token
energy over the published spread, embodied +-30 %) is drawn independently. Draws are
triangular in log space between the low, central and high values. Grid factors carry no
published range and are not varied.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
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
    lo = np.round(lines.rel_low * 10_000).astype(np.int64)
    hi = np.round(lines.rel_high * 10_000).astype(np.int64)
    pair_code, pair_first = _factorise(lo * 10**9 + hi)
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
    )


def _pct_sorted(rows: np.ndarray, q: float) -> np.ndarray:
    """Percentile ``q`` (0-100) of each sorted row, interpolated like ``np.percentile``."""
    pos = q / 100 * (rows.shape[1] - 1)
    i = int(np.floor(pos))
    j = min(i + 1, rows.shape[1] - 1)
    return rows[:, i] + (pos - i) * (rows[:, j].astype(np.float64) - rows[:, i])


class Ranges(NamedTuple):
    """Percentiles of location-based kgCO2e from :func:`monte_carlo`: P5, P50 and P95
    per group (arrays) and of the total (floats), and the drivers of the total's
    uncertainty."""

    low: np.ndarray
    p50: np.ndarray
    high: np.ndarray
    total_low: float
    total_p50: float
    total_high: float
    drivers: list[dict]


_LEVELS_BITS = 16  # own-error draws: quantile tables indexed by a 16-bit random number
_CHUNK_ELEMENTS = 1_000_000  # unit x sample values per chunk (4 MB of float32)
_MANY_GROUPS = 2048


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
    """P5/P50/P95 of location-based kgCO2e per group and in total, and the groups that
    drive the total's uncertainty (share of its variance).

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
    wide = not (0 < peak < np.inf) or least < peak * 1e-30
    scale = 1.0 if wide else 2.0 ** -np.ceil(np.log2(peak))
    r = _sample(
        u_of,
        g_of,
        c * scale,
        split,
        n_groups,
        units,
        a,
        samples,
        seed,
        np.float64 if wide else np.float32,
    )
    return Ranges(
        r.low / scale,
        r.p50 / scale,
        r.high / scale,
        r.total_low / scale,
        r.total_p50 / scale,
        r.total_high / scale,
        r.drivers,
    )


def _sample(
    u_of: np.ndarray,
    g_of: np.ndarray,
    c: np.ndarray,
    split: bool,
    n_groups: int,
    units: Units,
    a: engine.Assumptions,
    samples: int,
    seed: int,
    dtype: type = np.float32,
) -> Ranges:
    """The Monte Carlo of :func:`monte_carlo` on central kg ``c`` per (unit ``u_of``,
    group ``g_of``) pair, with samples of type ``dtype``."""
    rng = np.random.default_rng(seed)
    shared_u = {bit: rng.random(samples) for bit in _SAMPLED_SHARED}
    ranges = _shared_ranges(a)
    # shared multipliers per combination of shared bits and PUE range: (n_combo, samples)
    m_shared = np.ones((len(units.combo_shared), samples))
    for k, bits in enumerate(units.combo_shared.tolist()):
        for bit in _SAMPLED_SHARED:
            if bits & bit:
                if bit == engine.PUE_DEF:
                    blo, bhi = units.combo_pue[k]
                else:
                    blo, bhi = ranges[bit]
                m_shared[k] *= _triangular(shared_u[bit], np.array(blo), np.array(bhi))
    m_shared = m_shared.astype(dtype)
    # own-error quantile tables, one per range, side by side in one 65,536-entry table
    n_pairs = len(units.pair_lo)
    slot_bits = max(int(np.ceil(np.log2(max(n_pairs, 1)))), 0)
    level_bits = _LEVELS_BITS - slot_bits
    if level_bits < 8:  # pragma: no cover - over 256 distinct ranges
        level_bits, slot_bits = 8, int(np.ceil(np.log2(n_pairs)))
    levels = (np.arange(2**level_bits) + 0.5) / 2**level_bits
    table = np.ones((2**slot_bits, 2**level_bits), dtype=dtype)
    table[:n_pairs] = _triangular(levels[None, :], units.pair_lo[:, None], units.pair_hi[:, None])
    table = table.ravel()
    index_dtype = np.uint16 if slot_bits + level_bits <= 16 else np.uint32

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
        r = np.random.Generator(np.random.PCG64DXSM(seeds[chunk]))
        idx = r.integers(0, 2**level_bits, size=(hi - lo, samples), dtype=index_dtype)
        idx |= (pair_of[lo:hi].astype(index_dtype) << level_bits)[:, None]
        x = table[idx]
        x *= m_shared[combo_of[lo:hi]]
        return x

    total = np.zeros(samples)
    low, mid, high = np.zeros(n_groups), np.zeros(n_groups), np.zeros(n_groups)
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
        return _summarise(g_samples, np.arange(n_groups), g_samples, samples)
    else:
        # many small groups: chunks end on group boundaries; each group is finished in
        # its chunk; the 256 groups with the widest spread are kept for the drivers
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
            s = np.sort(g, axis=1)
            g_low, g_mid, g_high = _pct_sorted(s, 5), _pct_sorted(s, 50), _pct_sorted(s, 95)
            # widest ranges first: a group's covariance with the total is at most its
            # spread times the total's, so the drivers are among them
            top = np.argsort(g_low - g_high)[:256]
            gid = g_of[lo:hi][starts]
            return gid, g_low, g_mid, g_high, g.sum(axis=0, dtype=np.float64), g[top], gid[top]

        keep_rows = np.zeros((0, samples), dtype=dtype)
        keep_groups = np.zeros(0, dtype=np.int64)
        for gid, g_low, g_mid, g_high, g_total, top_rows, top_groups in _in_order(
            finish_groups, chunks
        ):
            total += g_total
            low[gid], mid[gid], high[gid] = g_low, g_mid, g_high
            keep_rows = np.concatenate([keep_rows, top_rows])
            keep_groups = np.concatenate([keep_groups, top_groups])
            best = np.argsort(low[keep_groups] - high[keep_groups])[:256]
            keep_rows, keep_groups = keep_rows[best], keep_groups[best]
        return _drivers_and_totals(
            low, mid, high, total, keep_groups, keep_rows.astype(np.float64), samples
        )


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


def _summarise(
    g_samples: np.ndarray, candidates: np.ndarray, cand_rows: np.ndarray, samples: int
) -> Ranges:
    sorted_rows = np.sort(g_samples, axis=1)
    low, high = _pct_sorted(sorted_rows, 5), _pct_sorted(sorted_rows, 95)
    mid = _pct_sorted(sorted_rows, 50)
    return _drivers_and_totals(
        low, mid, high, g_samples.sum(axis=0), candidates, cand_rows, samples
    )


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
        r = np.random.Generator(np.random.PCG64DXSM(seeds[k]))
        idx = r.integers(0, 2**level_bits, size=(hi - lo, samples), dtype=index_dtype)
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
    return _summarise(g_samples, np.arange(n_groups), g_samples, samples)


def _drivers_and_totals(
    low: np.ndarray,
    mid: np.ndarray,
    high: np.ndarray,
    total: np.ndarray,
    candidates: np.ndarray,
    cand_rows: np.ndarray,
    samples: int,
) -> Ranges:
    """The total's P5/P50/P95 and the groups with the largest share of its variance
    (covariance with the total over its variance, among ``candidates``)."""
    var = total.var()
    cov = ((cand_rows - cand_rows.mean(axis=1, keepdims=True)) @ (total - total.mean())) / samples
    share = cov / var if var > 0 else np.zeros(len(candidates))
    top = np.argsort(-share)[:10]
    drivers = [
        {"group": int(candidates[i]), "share_of_variance": float(share[i])}
        for i in top
        if share[i] > 0.001
    ]
    t_lo, t_hi = np.percentile(total, [5, 95])
    t_mid = np.percentile(total, 50)
    return Ranges(low, mid, high, float(t_lo), float(t_mid), float(t_hi), drivers)
