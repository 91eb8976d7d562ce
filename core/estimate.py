"""Estimates for any period and grouping, with uncertainty ranges and equivalences.

:class:`Engine` reads an inventory once into columns (``core.activity``), builds its
activity lines (``core.engine``) and their month pieces (``core.emissions``), and answers
:meth:`Engine.estimate` from those cached arrays. Call :meth:`Engine.refresh` after edits.

Uncertainty: a seeded Monte Carlo. Each group of lines that share an entry, a kind, a
method tier and the same shared assumptions is one *unit*. Shared assumptions (training and
inference utilisation, host overhead, default PUE, hardware lifetime) are drawn once per
sample for all units, so their errors add up across the inventory as they would in
reality; each unit's own input error (measured +-5 %, stated power +-10 %, per-request or
per-token energy over the published spread, embodied +-30 %) is drawn independently.
Draws are triangular in log space between the low, central and high values. Grid factors carry no
published range and are not varied.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from core import activity as activity_mod
from core import emissions, engine
from core.inventory import Inventory
from core.periods import Period, parse_period, quarter_label

PHASE_NAMES = ("Training", "Inference (own and cloud)", "API usage", "Embodied hardware")
GROUPINGS = ("entry", "model", "phase", "scope", "site", "quarter")
SCOPES = ("Scope 2", "Scope 3 cat. 1", "Scope 3 cat. 2")
FIELDS = (
    "energy_kwh",
    "location_kgco2e",
    "market_kgco2e",
    "savings_kgco2e",
    "water_l",
    "low_kgco2e",
    "high_kgco2e",
)


@dataclass
class EstimateRow:
    """One group's figures. Energy in kWh (facility), emissions in kgCO2e, water in L."""

    id: str
    name: str
    kind: str
    scope: str
    method_tier: str
    energy_kwh: float
    location_kgco2e: float
    market_kgco2e: float
    savings_kgco2e: float
    water_l: float
    low_kgco2e: float
    high_kgco2e: float


@dataclass
class Estimate:
    """The answer for one period: totals, rows and what the reader must know."""

    period: Period | None
    by: str
    totals: dict[str, float]
    rows: list[EstimateRow]
    notes: list[str] = field(default_factory=list)
    drivers: list[dict[str, Any]] = field(default_factory=list)
    equivalences: list[dict[str, Any]] = field(default_factory=list)
    samples: int = 0
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        """The documented JSON document (see README, "estimate")."""
        period = None
        if self.period is not None:
            period = {
                "label": self.period.label,
                "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(),
            }
        return {
            "period": period,
            "by": self.by,
            "totals": self.totals,
            "rows": [asdict(r) for r in self.rows],
            "uncertainty": {"samples": self.samples, "seed": self.seed, "drivers": self.drivers},
            "equivalences": self.equivalences,
            "notes": self.notes,
        }


class Engine:
    """Estimates over one open inventory, from cached columnar data."""

    def __init__(
        self,
        inv: Inventory,
        assumptions: engine.Assumptions | None = None,
        today: dt.date | None = None,
    ):
        self.inv = inv
        self.shipped = assumptions or engine.load_assumptions()
        self.assumptions = self.shipped
        self.today = today or dt.date.today()
        self.refresh()

    def refresh(self) -> None:
        """Re-read the inventory and recompute lines and month pieces."""
        self._compute(activity_mod.load(self.inv))

    def derive(self, transform: Callable[[activity_mod.Activity], Any]) -> Engine:
        """A what-if engine over a changed copy of this engine's activity.

        ``transform`` receives a deep copy of the activity (columns, sites, sourcing,
        settings) and changes it in place; the inventory is never touched. The new engine
        computes with exactly the same code path as this one.
        """
        other = Engine.__new__(Engine)
        other.inv, other.shipped, other.today = self.inv, self.shipped, self.today
        changed = copy.deepcopy(self.activity)
        transform(changed)
        other._compute(changed)
        return other

    def _compute(self, act: activity_mod.Activity) -> None:
        self.activity = act
        a = self.assumptions = self.shipped.with_overrides(self.activity.overrides)
        self.sites = engine.site_table(self.activity, a)
        self.hardware = engine.hardware_table(self.activity)
        self.convention = self.activity.settings.get("embodied_convention", "amortised")
        self.lines, self.notes = engine.build_lines(
            self.activity, a, self.sites, self.hardware, self.convention
        )
        site_ids = np.array([s["id"] for s in self.activity.site_rows], dtype=np.int64)
        self.pieces = emissions.compute(
            self.lines, self.sites, a, self.activity.sourcing, site_ids, self.today
        )
        self._titles: dict[int, dict[int, str]] = {}
        self._units: _Units | None = None

    def units(self) -> _Units:
        """The lines' uncertainty units, computed on first use."""
        if self._units is None:
            self._units = build_units(self.lines, self.sites)
        return self._units

    # -- estimates ----------------------------------------------------------------------

    def estimate(
        self,
        period: Period | str | None = None,
        by: str = "entry",
        samples: int = 1000,
        seed: int = 0,
        entry: tuple[int, int] | None = None,
        entries: Collection[tuple[int, int]] | None = None,
    ) -> Estimate:
        """Totals and one row per group for ``period`` (all time when None).

        ``entry`` (``(table index, id)``, table index into ``engine.ENTRY_TABLES``)
        restricts everything, the uncertainty draws included, to one training run or
        deployment; ``entries`` restricts it to several (a dashboard filter).
        """
        if isinstance(period, str):
            period = parse_period(period)
        if by not in GROUPINGS:
            raise ValueError(f"by must be one of {', '.join(GROUPINGS)}")
        p, lines = self.pieces, self.lines
        w = p.weights(period)
        keep = w > 0
        if entry is not None:
            table, rid = entry
            keep &= (lines.entry_table[p.line] == table) & (lines.entry_id[p.line] == rid)
        if entries is not None:
            wanted = np.array([t * 10**12 + i for t, i in entries], dtype=np.int64)
            key = lines.entry_table[p.line].astype(np.int64) * 10**12 + lines.entry_id[p.line]
            keep &= np.isin(key, wanted)
        line = p.line[keep]
        w = w[keep]
        values = {
            "energy_kwh": p.facility_kwh[keep] * w,
            "location_kgco2e": p.location_kg[keep] * w,
            "market_kgco2e": p.market_kg[keep] * w,
            "water_l": p.water_l[keep] * w,
        }
        group_key, group_info = self._groups(by, line, p.start[keep])
        n_groups = len(group_info)
        sums = {k: np.bincount(group_key, weights=v, minlength=n_groups) for k, v in values.items()}
        low, high, total_lo, total_hi, drivers = _monte_carlo(
            self.units() if samples > 0 else None,
            self.units().of_line[line] if samples > 0 else line,
            values["location_kgco2e"],
            group_key,
            n_groups,
            self.assumptions,
            samples,
            seed,
        )
        loc = values["location_kgco2e"]
        kinds = _dominant_per_group(lines.kind[line], len(engine.KINDS), group_key, n_groups, loc)
        scopes = _dominant_per_group(self._scope(line), len(SCOPES), group_key, n_groups, loc)
        tiers = _dominant_per_group(lines.tier[line], len(engine.TIERS), group_key, n_groups, loc)
        # plain Python lists first: one conversion per column, not one per cell
        loc_kg, mkt_kg = sums["location_kgco2e"], sums["market_kgco2e"]
        rows = [
            EstimateRow(
                info["id"],
                info["name"],
                info["kind"] or engine.KINDS[kind],
                info["scope"] or SCOPES[scope],
                engine.TIERS[tier],
                *numbers,
            )
            for info, kind, scope, tier, *numbers in zip(
                group_info,
                kinds.tolist(),
                scopes.tolist(),
                tiers.tolist(),
                sums["energy_kwh"].tolist(),
                loc_kg.tolist(),
                mkt_kg.tolist(),
                (loc_kg - mkt_kg).tolist(),
                sums["water_l"].tolist(),
                np.asarray(low, dtype=np.float64).tolist(),
                np.asarray(high, dtype=np.float64).tolist(),
                strict=True,
            )
        ]
        rows.sort(key=lambda r: -r.location_kgco2e)
        totals = {k: float(v.sum()) for k, v in values.items()}
        totals["savings_kgco2e"] = totals["location_kgco2e"] - totals["market_kgco2e"]
        totals["low_kgco2e"], totals["high_kgco2e"] = float(total_lo), float(total_hi)
        totals = {k: totals[k] for k in FIELDS}
        for d in drivers:
            d["name"] = rows_by_group_name(group_info, d.pop("group"))
        return Estimate(
            period,
            by,
            totals,
            rows,
            self._period_notes(period, keep),
            drivers,
            equivalences(totals, self.assumptions),
            samples,
            seed,
        )

    def _scope(self, line: np.ndarray) -> np.ndarray:
        """Scope code per line: 0 Scope 2, 1 Scope 3 cat. 1, 2 Scope 3 cat. 2."""
        own = self.sites.scope2[self.lines.site[line]]
        embodied = self.lines.kind[line] == engine.EMBODIED
        return np.where(embodied, np.where(own, 2, 1), np.where(own, 0, 1))

    def _groups(
        self, by: str, line: np.ndarray, start: np.ndarray
    ) -> tuple[np.ndarray, list[dict[str, str]]]:
        lines = self.lines
        if by == "entry":
            raw = (lines.entry_table[line] * 10**12 + lines.entry_id[line]) * 4 + lines.kind[line]
        elif by == "model":
            raw = self._model_of(line)
        elif by == "phase":
            raw = lines.kind[line]
        elif by == "scope":
            raw = self._scope(line)
        elif by == "site":
            raw = lines.site[line]
        else:
            raw = start.astype("datetime64[M]").astype(np.int64) // 3
        unique, inverse = np.unique(raw, return_inverse=True)
        return inverse, [self._group_info(by, int(u)) for u in unique]

    def _model_of(self, line: np.ndarray) -> np.ndarray:
        act = self.activity
        table, ids = self.lines.entry_table[line], self.lines.entry_id[line]
        runs = act.training_runs.index_of(ids)
        deps = act.deployments.index_of(ids)
        run_model = (
            act.training_runs["model_id"][np.clip(runs, 0, None)]
            if len(act.training_runs)
            else np.zeros(len(ids), dtype=np.int64)
        )
        dep_model = (
            act.deployments["model_id"][np.clip(deps, 0, None)]
            if len(act.deployments)
            else np.zeros(len(ids), dtype=np.int64)
        )
        return np.where(table == 0, run_model, dep_model)

    def _group_info(self, by: str, key: int) -> dict[str, str]:
        if by == "entry":
            kind = key % 4
            table, rid = divmod(key // 4, 10**12)
            name = self.title(table, rid)
            kind_name = engine.KINDS[kind]
            return {
                "id": f"{engine.ENTRY_TABLES[table]}:{rid}",
                "name": name,
                "kind": kind_name,
                "scope": "",
            }
        if by == "model":
            return {
                "id": f"models:{key}",
                "name": self.inv.title("models", key),
                "kind": "",
                "scope": "",
            }
        if by == "phase":
            return {
                "id": engine.KINDS[key],
                "name": PHASE_NAMES[key],
                "kind": engine.KINDS[key],
                "scope": "",
            }
        if by == "scope":
            return {"id": SCOPES[key], "name": SCOPES[key], "kind": "", "scope": SCOPES[key]}
        if by == "site":
            return {
                "id": f"sites:{self._site_id(key)}",
                "name": self.sites.names[key],
                "kind": "",
                "scope": "",
            }
        month = np.datetime64(key * 3, "M")
        label = quarter_label(month)
        return {"id": label, "name": label, "kind": "", "scope": ""}

    def _site_id(self, index: int) -> int:
        rows = self.activity.site_rows
        return int(rows[index]["id"]) if index < len(rows) else 0

    def title(self, table: int, rid: int) -> str:
        """An entry's name; all names of a table are read in one query the first time."""
        if table not in self._titles:
            name = engine.ENTRY_TABLES[table]
            self._titles[table] = dict(self.inv.ref_options(name))
        return self._titles[table].get(rid, f"#{rid}")

    def _period_notes(self, period: Period | None, keep: np.ndarray) -> list[str]:
        notes = []
        p = self.pieces
        if period is not None and (~p.dated).any():
            n = len(np.unique(p.line[~p.dated]))
            notes.append(
                f"{n} activity line(s) have no dates and are left out of period "
                "totals; they count in all-time totals only."
            )
        if (p.residual_fallback & keep).any():
            notes.append(
                "No residual-mix factors are bundled: market-based figures use the "
                "location-based factor for consumption no instrument covers."
            )
        notes.extend(f"Grid factor: {f}." for f in p.fallbacks(keep))
        notes.append(
            "Grid factors carry no published range and are not varied in the uncertainty range."
        )
        return notes

    def entry_notes(self, table: str, rid: int) -> list[str]:
        return list(self.notes.get((engine.ENTRY_TABLES.index(table), rid), []))


def rows_by_group_name(info: list[dict[str, str]], group: int) -> str:
    return info[group]["name"]


def _dominant_per_group(
    codes: np.ndarray, n_codes: int, group: np.ndarray, n_groups: int, weights: np.ndarray
) -> np.ndarray:
    """Per group, the code carrying the most emissions (ties: the smallest code)."""
    w = np.abs(weights) + 1e-12
    table = np.bincount(group * n_codes + codes, weights=w, minlength=n_groups * n_codes)
    return table.reshape(n_groups, n_codes).argmax(axis=1)


def equivalences(totals: dict[str, float], a: engine.Assumptions) -> list[dict[str, Any]]:
    """Everyday equivalents of a total, each with its cited factor."""
    kg, kwh = totals["location_kgco2e"], totals["energy_kwh"]
    out = []
    for key, label, base in (
        ("equiv:smartphone_charge_kwh", "smartphone charges", kwh),
        ("equiv:car_km_kgco2e_eu", "km driven by an average EU car", kg),
        ("equiv:car_km_kgco2e_us", "km driven by an average US car", kg),
        ("equiv:car_lifetime_kgco2e", "car lifetimes (incl. fuel)", kg),
        (
            "equiv:flight_ny_sf_passenger_kgco2e",
            "New York-San Francisco flights, one passenger",
            kg,
        ),
    ):
        f = a.params.get(key)
        if f is not None and f.value > 0:
            out.append(
                {
                    "what": label,
                    "value": base / f.value,
                    "factor": f.value,
                    "unit": f.unit,
                    "source": f.source,
                    "year": f.year,
                }
            )
    return out


# -- uncertainty ---------------------------------------------------------------------------

_SAMPLED_SHARED = (engine.U_TRAIN, engine.U_INF, engine.HOST, engine.PUE_DEF, engine.LIFETIME)


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
class _Units:
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


def build_units(lines: engine.Lines, sites: engine.SiteTable) -> _Units:
    """The uncertainty units of ``lines`` (see :class:`_Units`)."""
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
    return _Units(
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


_LEVELS_BITS = 16  # own-error draws: quantile tables indexed by a 16-bit random number
_CHUNK_ELEMENTS = 1_000_000  # unit x sample values per chunk (4 MB of float32)
_MANY_GROUPS = 2048


def _monte_carlo(
    units: _Units | None,
    unit: np.ndarray,
    kg: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    a: engine.Assumptions,
    samples: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, float, float, list[dict]]:
    """P5/P95 of location-based kgCO2e per group and in total, and the groups that drive
    the total's uncertainty (share of its variance).

    ``unit`` is the uncertainty unit of each piece, ``kg`` its central location-based
    kgCO2e in the period and ``group`` its group. Every unit's own error is drawn
    ``samples`` times from its triangular-in-log distribution (through a table of 65,536
    / n quantiles per range: inverse-CDF sampling at that resolution); each shared
    assumption is drawn once per sample for all units that use it.
    """
    if units is None or samples <= 0 or not len(kg):
        central = np.bincount(group, kg, n_groups)
        total = float(kg.sum())
        return central, central.copy(), total, total, []
    # central kg per (unit, group); most groupings put each unit in one group
    pairs_key = unit.astype(np.int64) * n_groups + group
    ug, ug_inverse = np.unique(pairs_key, return_inverse=True)
    c = np.bincount(ug_inverse.ravel(), weights=kg, minlength=len(ug))
    nonzero = c != 0
    ug, c = ug[nonzero], c[nonzero]
    u_of, g_of = ug // n_groups, ug % n_groups
    split = len(np.unique(u_of)) < len(u_of)  # a unit in several groups (by quarter)

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
    m_shared = m_shared.astype(np.float32)
    # own-error quantile tables, one per range, side by side in one 65,536-entry table
    n_pairs = len(units.pair_lo)
    slot_bits = max(int(np.ceil(np.log2(max(n_pairs, 1)))), 0)
    level_bits = _LEVELS_BITS - slot_bits
    if level_bits < 8:  # pragma: no cover - over 256 distinct ranges
        level_bits, slot_bits = 8, int(np.ceil(np.log2(n_pairs)))
    levels = (np.arange(2**level_bits) + 0.5) / 2**level_bits
    table = np.ones((2**slot_bits, 2**level_bits), dtype=np.float32)
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
    many = n_groups > _MANY_GROUPS and not split

    def draws(lo: int, hi: int, chunk: int) -> np.ndarray:
        """Unit x sample multipliers (own error x shared assumptions) for rows lo:hi."""
        r = np.random.Generator(np.random.PCG64DXSM(seeds[chunk]))
        idx = r.integers(0, 2**level_bits, size=(hi - lo, samples), dtype=index_dtype)
        idx |= (pair_of[lo:hi].astype(index_dtype) << level_bits)[:, None]
        x = table[idx]
        x *= m_shared[combo_of[lo:hi]]
        return x

    total = np.zeros(samples)
    low, high = np.zeros(n_groups), np.zeros(n_groups)
    if not many:
        g_samples = np.zeros((n_groups, samples))
        for k, lo in enumerate(range(0, len(c), step)):
            hi = min(lo + step, len(c))
            x = draws(lo, hi, k)
            x *= c[lo:hi, None].astype(np.float32)
            starts = np.flatnonzero(np.r_[True, g_of[lo + 1 : hi] != g_of[lo : hi - 1]])
            g_samples[g_of[lo:hi][starts]] += _sum_runs(x, starts)
        return _summarise(g_samples, np.arange(n_groups), g_samples, samples)
    else:
        # many small groups: chunks end on group boundaries; each group is finished in
        # its chunk; the 256 groups with the widest spread are kept for the drivers
        bounds = np.flatnonzero(np.r_[True, g_of[1:] != g_of[:-1], True])
        keep_rows: list[np.ndarray] = []
        keep_groups: list[np.ndarray] = []
        k, lo_b = 0, 0
        while lo_b < len(bounds) - 1:
            hi_b = lo_b + 1
            while hi_b < len(bounds) - 1 and bounds[hi_b + 1] - bounds[lo_b] <= step:
                hi_b += 1
            lo, hi = int(bounds[lo_b]), int(bounds[hi_b])
            x = draws(lo, hi, min(k, len(seeds) - 1))
            x *= c[lo:hi, None].astype(np.float32)
            starts = bounds[lo_b:hi_b] - lo
            g = _sum_runs(x, starts)
            total += g.sum(axis=0, dtype=np.float64)
            gid = g_of[lo:hi][starts]
            s = np.sort(g, axis=1)
            low[gid], high[gid] = _pct_sorted(s, 5), _pct_sorted(s, 95)
            # widest ranges first: a group's covariance with the total is at most its
            # spread times the total's, so the drivers are among them
            top = np.argsort(low[gid] - high[gid])[:256]
            keep_rows.append(g[top])
            keep_groups.append(gid[top])
            k, lo_b = k + 1, hi_b
        cand_rows = np.concatenate(keep_rows).astype(np.float64)
        candidates = np.concatenate(keep_groups)
        best = np.argsort(low[candidates] - high[candidates])[:256]
        return _drivers_and_totals(low, high, total, candidates[best], cand_rows[best], samples)


def _sum_runs(x: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Row sums of consecutive runs of rows of ``x`` starting at ``starts`` (like
    ``np.add.reduceat(x, starts, axis=0)``, which is slow along axis 0): runs are short
    (an entry's few units), so add their k-th rows for k = 1, 2, ..."""
    lengths = np.diff(np.r_[starts, len(x)])
    out = x[starts]
    for k in range(1, int(lengths.max()) if len(lengths) else 0):
        longer = np.flatnonzero(lengths > k)
        if len(longer) > len(starts) // 2:
            out += x[np.minimum(starts + k, len(x) - 1)] * (lengths > k)[:, None]
        else:
            out[longer] += x[starts[longer] + k]
    return out


def _summarise(
    g_samples: np.ndarray, candidates: np.ndarray, cand_rows: np.ndarray, samples: int
) -> tuple[np.ndarray, np.ndarray, float, float, list[dict]]:
    sorted_rows = np.sort(g_samples, axis=1)
    low, high = _pct_sorted(sorted_rows, 5), _pct_sorted(sorted_rows, 95)
    return _drivers_and_totals(low, high, g_samples.sum(axis=0), candidates, cand_rows, samples)


def _monte_carlo_split(
    u_of: np.ndarray,
    g_of: np.ndarray,
    c: np.ndarray,
    n_groups: int,
    units: _Units,
    m_shared: np.ndarray,
    table: np.ndarray,
    level_bits: int,
    index_dtype: type,
    samples: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, float, float, list[dict]]:
    """Monte Carlo when a unit falls in several groups (by quarter): one draw per unit,
    shared out over its groups by a (groups x units) weight matrix."""
    unique_u, u_row = np.unique(u_of, return_inverse=True)
    pair_of, combo_of = units.pair[unique_u], units.combo[unique_u]
    step = max(_CHUNK_ELEMENTS // samples, 1)
    seeds = np.random.SeedSequence(seed).spawn(1 + len(unique_u) // step)
    by_row = np.argsort(u_row, kind="stable")
    row_bounds = np.searchsorted(u_row[by_row], np.arange(0, len(unique_u) + step, step))
    g_samples = np.zeros((n_groups, samples))
    for k, lo in enumerate(range(0, len(unique_u), step)):
        hi = min(lo + step, len(unique_u))
        r = np.random.Generator(np.random.PCG64DXSM(seeds[k]))
        idx = r.integers(0, 2**level_bits, size=(hi - lo, samples), dtype=index_dtype)
        idx |= (pair_of[lo:hi].astype(index_dtype) << level_bits)[:, None]
        x = table[idx]
        x *= m_shared[combo_of[lo:hi]]
        rows = by_row[row_bounds[k] : row_bounds[k + 1]]
        w = np.zeros((n_groups, hi - lo), dtype=np.float32)
        np.add.at(w, (g_of[rows], u_row[rows] - lo), c[rows])
        g_samples += w @ x
    return _summarise(g_samples, np.arange(n_groups), g_samples, samples)


def _drivers_and_totals(
    low: np.ndarray,
    high: np.ndarray,
    total: np.ndarray,
    candidates: np.ndarray,
    cand_rows: np.ndarray,
    samples: int,
) -> tuple[np.ndarray, np.ndarray, float, float, list[dict]]:
    """The total's P5/P95 and the groups with the largest share of its variance
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
    return low, high, float(t_lo), float(t_hi), drivers
