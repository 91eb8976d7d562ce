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
            lines,
            line,
            values["location_kgco2e"],
            group_key,
            n_groups,
            self.assumptions,
            self.sites,
            samples,
            seed,
        )
        loc = values["location_kgco2e"]
        kinds = _dominant_per_group(lines.kind[line], len(engine.KINDS), group_key, n_groups, loc)
        scopes = _dominant_per_group(self._scope(line), len(SCOPES), group_key, n_groups, loc)
        tiers = _dominant_per_group(lines.tier[line], len(engine.TIERS), group_key, n_groups, loc)
        rows = [
            EstimateRow(
                id=info["id"],
                name=info["name"],
                kind=info["kind"] or engine.KINDS[kinds[g]],
                scope=info["scope"] or SCOPES[scopes[g]],
                method_tier=engine.TIERS[tiers[g]],
                energy_kwh=float(sums["energy_kwh"][g]),
                location_kgco2e=float(sums["location_kgco2e"][g]),
                market_kgco2e=float(sums["market_kgco2e"][g]),
                savings_kgco2e=float(sums["location_kgco2e"][g] - sums["market_kgco2e"][g]),
                water_l=float(sums["water_l"][g]),
                low_kgco2e=float(low[g]),
                high_kgco2e=float(high[g]),
            )
            for g, info in enumerate(group_info)
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
        fallbacks = sorted(
            {
                lk.fallback
                for lk, k in zip(p.lookups, keep, strict=True)
                if k and lk is not None and lk.fallback
            }
        )
        notes.extend(f"Grid factor: {f}." for f in fallbacks)
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


def _monte_carlo(
    lines: engine.Lines,
    line: np.ndarray,
    kg: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    a: engine.Assumptions,
    sites: engine.SiteTable,
    samples: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, float, float, list[dict]]:
    """P5/P95 of location-based kgCO2e per group and in total, and the groups that drive
    the total's uncertainty (share of its variance)."""
    if samples <= 0 or not len(kg):
        zeros = np.zeros(n_groups)
        total = float(kg.sum())
        return (
            zeros + np.bincount(group, kg, n_groups),
            zeros + np.bincount(group, kg, n_groups),
            total,
            total,
            [],
        )
    # units: lines of one group with the same shared bits and own range
    shared = lines.shared[line]
    lo, hi = lines.rel_low[line], lines.rel_high[line]
    pue_lo, pue_hi = sites.pue_range[lines.site[line], 0], sites.pue_range[lines.site[line], 1]
    # factorise (group, shared bits, own range, PUE range) into unit codes without
    # np.unique(axis=0), which sorts rows of floats slowly
    code = group.astype(np.int64) * 64 + shared
    for column in (lo, hi, pue_lo, pue_hi):
        values, inverse = np.unique(np.round(column * 1000).astype(np.int64), return_inverse=True)
        code = code * len(values) + inverse.ravel()
        code = np.unique(code, return_inverse=True)[1].ravel()  # keep the codes small
    first = np.unique(code, return_index=True)[1]
    unit = code
    central = np.bincount(unit, weights=kg, minlength=len(first))
    u_group = group[first].astype(np.int64)
    u_shared = shared[first].astype(np.int64)
    u_lo, u_hi = lo[first], hi[first]
    u_plo, u_phi = pue_lo[first], pue_hi[first]
    ranges = _shared_ranges(a)
    rng = np.random.default_rng(seed)
    shared_u = {bit: rng.random(samples) for bit in _SAMPLED_SHARED}
    chunk_seeds = np.random.SeedSequence(seed).spawn(1 + len(central) // 2000)

    def unit_samples(sl: slice, chunk: int) -> np.ndarray:
        r = np.random.default_rng(chunk_seeds[chunk])
        m = _triangular(r.random((sl.stop - sl.start, samples)), u_lo[sl, None], u_hi[sl, None])
        for bit in _SAMPLED_SHARED:
            uses = (u_shared[sl] & bit) > 0
            if not uses.any():
                continue
            if bit == engine.PUE_DEF:
                f = _triangular(shared_u[bit][None, :], u_plo[sl, None], u_phi[sl, None])
            else:
                blo, bhi = ranges[bit]
                f = _triangular(shared_u[bit][None, :], np.array([[blo]]), np.array([[bhi]]))
            m *= np.where(uses[:, None], f, 1.0)
        return central[sl, None] * m

    bounds = [slice(s, min(s + 2000, len(central))) for s in range(0, len(central), 2000)]
    total = np.zeros(samples)
    group_samples = np.zeros((n_groups, samples)) if n_groups <= 5000 else None
    low, high = np.zeros(n_groups), np.zeros(n_groups)
    for c, sl in enumerate(bounds):
        x = unit_samples(sl, c)
        total += x.sum(axis=0)
        if group_samples is not None:
            np.add.at(group_samples, u_group[sl], x)
    if group_samples is not None:
        low, high = np.percentile(group_samples, [5, 95], axis=1)
        var = total.var()
        cov = (
            (group_samples - group_samples.mean(axis=1, keepdims=True)) @ (total - total.mean())
        ) / samples
        share = cov / var if var > 0 else np.zeros(n_groups)
        top = np.argsort(-share)[:10]
        drivers = [
            {"group": int(g), "share_of_variance": float(share[g])} for g in top if share[g] > 0.001
        ]
    else:  # very many groups: per-group ranges from each group's own units only
        drivers = []
        for g_lo, g_hi, g in _group_ranges(u_group, central, u_lo, u_hi):
            low[g], high[g] = g_lo, g_hi
    t_lo, t_hi = np.percentile(total, [5, 95])
    return low, high, float(t_lo), float(t_hi), drivers


def _group_ranges(
    u_group: np.ndarray, central: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> list[tuple[float, float, int]]:
    """Approximate P5/P95 per group from its units' own ranges (for >5,000 groups)."""
    g_c = np.bincount(u_group, weights=central)
    g_lo = np.bincount(u_group, weights=central * (lo + 1) / 2)
    g_hi = np.bincount(u_group, weights=central * (hi + 1) / 2)
    return [(float(g_lo[g]), float(g_hi[g]), g) for g in range(len(g_c))]
