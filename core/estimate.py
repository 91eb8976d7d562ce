"""Estimates for any period and grouping, with uncertainty ranges and equivalences.

:class:`Engine` reads an inventory once into columns (``core.activity``), builds its
activity lines (``core.engine``) and their month pieces (``core.emissions``), and answers
:meth:`Engine.estimate` from those cached arrays. Call :meth:`Engine.refresh` after edits.

Uncertainty ranges come from the seeded Monte Carlo in ``core.uncertainty``, with each
grid factor's error shared by the pieces that use it (:meth:`Engine.grid_keys`). After an
edit, :meth:`Engine.apply_changes` updates only the entries the edit touched.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from core import activity as activity_mod
from core import columns, emissions, engine, uncertainty
from core.engine_grid import GridErrors, grid_errors
from core.inventory import Inventory
from core.periods import Period, parse_period

#: Replaced lines kept (as dead weight) before the engine compacts its arrays.
COMPACT_AFTER_LINES = 10_000
#: Tables whose edits touch only the entries that refer to the edited rows.
_ENTRY_LEVEL = {"training_runs", "deployments", "usage", "models"}
PHASE_NAMES = ("Training", "Inference (own and cloud)", "API usage", "Embodied hardware")
GROUPINGS = ("entry", "model", "phase", "scope", "site", "quarter", "month")
SCOPES = ("Scope 2", "Scope 3 cat. 1", "Scope 3 cat. 2")
FIELDS = (
    "energy_kwh",
    "location_kgco2e",
    "market_kgco2e",
    "savings_kgco2e",
    "water_l",
    "low_kgco2e",
    "p50_kgco2e",
    "high_kgco2e",
)
#: the value of a row's ``kind``, ``part``, ``scope`` or ``method_tier`` when the lines
#: of an aggregate group (a model, site, scope, phase, quarter or month) differ in it
MIXED = "mixed"
PARTS = ("operational", "embodied")
#: groupings whose rows are periods: listed in date order, not by emissions
_DATED = ("quarter", "month")


@dataclass
class EstimateRow:
    """One group's figures. Energy in kWh (facility), emissions in kgCO2e, water in L.

    ``location_kgco2e`` is the central figure: the deterministic estimate from the
    central value of every input. ``low``/``p50``/``high`` are the P5/P50/P95 of the
    Monte Carlo draws of it; with ranges skewed to one side the P50 differs from the
    central figure (and a sum of several such entries may even leave it outside P5-P95).

    With ``by="entry"`` there is one row per entry and part: ``id`` is the entry id
    (``training_runs:12``), ``part`` is ``operational`` or ``embodied``. For aggregate
    groups ``kind``, ``part``, ``scope`` and ``method_tier`` are :data:`MIXED` when the
    group's lines differ in them.
    """

    id: str
    name: str
    kind: str
    part: str
    scope: str
    method_tier: str
    energy_kwh: float
    location_kgco2e: float
    market_kgco2e: float
    savings_kgco2e: float
    water_l: float
    low_kgco2e: float
    p50_kgco2e: float
    high_kgco2e: float
    renewable_kwh: float = 0.0  # consumption covered by renewable instruments


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

    def catch_up(self) -> bool:
        """Apply every edit recorded in the change log since this engine read the
        inventory (edits made through the app or the CLI; a file changed by another
        program needs :meth:`refresh`). True when anything changed."""
        with self.inv.snapshot() as conn:
            changes, mark = activity_mod.changes_since(conn, self.activity.log_mark)
        if not changes:
            return False
        self.apply_changes(changes)
        self.activity.log_mark = max(self.activity.log_mark, mark)
        return True

    def apply_changes(self, changes: Mapping[str, Iterable[int]]) -> None:
        """Bring the engine up to date after edits of the records ``changes`` names
        (table name -> record ids inserted, updated or deleted).

        Edits of training runs, deployments, usage and models re-read just those rows
        and rebuild just the entries they touch, with the same code as a full build;
        market-based figures are then recomputed for all consumption (instruments are
        shared out over it). Anything else (sites, hardware, sourcing, settings,
        overrides) or very many rows: a full refresh.
        """
        changes = {
            t: np.unique(np.asarray(list(ids), dtype=np.int64)) for t, ids in changes.items()
        }
        changes = {t: ids for t, ids in changes.items() if len(ids)}
        if not changes:
            return
        act = self.activity
        sizes = {t: len(getattr(act, t)) for t in _ENTRY_LEVEL if t in changes}
        if set(changes) - _ENTRY_LEVEL or any(
            len(changes[t]) > max(1000, sizes[t] // 20) for t in sizes
        ):
            self.refresh()
            return
        touched: set[int] = set()  # entry keys
        if "usage" in changes:
            pos = act.usage.index_of(changes["usage"])
            touched.update(engine.entry_key(1, act.usage["deployment_id"][pos[pos >= 0]]).tolist())
        with self.inv.snapshot() as conn:
            for table, ids in changes.items():
                fresh = activity_mod.read_table(conn, table, ids)
                setattr(act, table, getattr(act, table).patched(ids, fresh))
                if table == "usage":
                    touched.update(engine.entry_key(1, fresh["deployment_id"]).tolist())
        for t, table in enumerate(engine.ENTRY_TABLES):
            if table in changes:
                touched.update(engine.entry_key(t, changes[table]).tolist())
                self._titles.pop(t, None)
        if "models" in changes:
            for t, table in enumerate(engine.ENTRY_TABLES):
                rows = getattr(act, table)
                uses = np.isin(rows["model_id"], changes["models"])
                touched.update(engine.entry_key(t, rows.ids[uses]).tolist())
        self._rebuild_entries(np.array(sorted(touched), dtype=np.int64))

    def _rebuild_entries(self, keys: np.ndarray) -> None:
        """Replace the lines (and pieces) of the entries ``keys`` by freshly built ones."""
        act, a = self.activity, self.assumptions
        runs = act.training_runs.index_of(keys[keys < 2**40])
        deps = act.deployments.index_of(keys[keys >= 2**40] - 2**40)
        dep_ids = act.deployments.ids[deps[deps >= 0]]
        sub = dataclasses.replace(
            act,
            training_runs=act.training_runs.take(runs[runs >= 0]),
            deployments=act.deployments.take(deps[deps >= 0]),
            usage=act.usage.take(np.flatnonzero(np.isin(act.usage["deployment_id"], dep_ids))),
        )
        new_lines, new_notes = engine.build_lines(
            sub, a, self.sites, self.hardware, self.convention
        )
        dead = np.isin(self.lines.entry_keys(), keys) & self._line_alive
        first = len(self.lines)
        self.lines = self.lines.appended(new_lines)
        self._line_alive &= ~dead
        self._line_alive = columns.append(self._line_alive, np.ones(len(new_lines), bool))
        for key in keys.tolist():
            self.notes.pop((key >> 40, key & (2**40 - 1)), None)
        self.notes.update(new_notes)
        self.pieces = emissions.replace_lines(
            self.pieces,
            dead,  # over the old lines; the new ones are numbered from ``first``
            new_lines,
            first,
            self.sites,
            a,
            act.sourcing,
            self._site_ids,
            self.today,
        )
        self._units = None
        if (~self._line_alive).sum() > max(len(self.lines) // 4, COMPACT_AFTER_LINES):
            self._compute(act)  # compact: drop the replaced lines and pieces

    def _compute(self, act: activity_mod.Activity) -> None:
        self.activity = act
        a = self.assumptions = self.shipped.with_overrides(self.activity.overrides)
        self.sites = engine.site_table(self.activity, a)
        self.hardware = engine.hardware_table(self.activity)
        self.convention = self.activity.settings.get("embodied_convention", "amortised")
        self.lines, self.notes = engine.build_lines(
            self.activity, a, self.sites, self.hardware, self.convention
        )
        self._site_ids = np.array([s["id"] for s in act.site_rows], dtype=np.int64)
        self._line_alive = np.ones(len(self.lines), dtype=bool)
        self.pieces = emissions.compute(
            self.lines, self.sites, a, act.sourcing, self._site_ids, self.today
        )
        self._titles: dict[int, dict[int, str]] = {}
        self._units: uncertainty.Units | None = None
        self._grid_cache: tuple | None = None

    def units(self) -> uncertainty.Units:
        """The lines' uncertainty units, computed on first use."""
        if self._units is None:
            self._units = uncertainty.build_units(self.lines, self.sites)
        return self._units

    def grid_keys(self) -> tuple[GridErrors, np.ndarray]:
        """The grid factor errors the Monte Carlo draws (``core.engine_grid.grid_errors``
        of the pieces' grid lookups) and each piece's key among them: -1 for embodied
        pieces (no electricity) and pieces at a site with a factor of its own (taken as
        known). Kept until the pieces change (an edit appends pieces and lookups)."""
        p = self.pieces
        cached = self._grid_cache
        if (
            cached is not None
            and cached[0] is p
            and cached[1] == len(p.line)
            and cached[2] == len(p.lookup_table)
        ):
            return cached[3], cached[4]
        errors, key_of_code = grid_errors(p.lookup_table, self.assumptions.params)
        key_of_code = np.r_[np.int64(-1), key_of_code]  # code -1: the site's own factor
        key = key_of_code[p.lookup_code + 1]
        key[p.is_embodied] = -1
        self._grid_cache = (p, len(p.line), len(p.lookup_table), errors, key)
        return errors, key

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
        keep, w = p.select(period)  # piece indices and their weights in the period
        if entry is not None or entries is not None:
            chosen = [entry] if entry is not None else list(entries or [])
            pairs = np.array(chosen, dtype=np.int64).reshape(-1, 2)
            wanted = engine.entry_key(pairs[:, 0], pairs[:, 1])
            inside = np.isin(lines.entry_keys()[p.line[keep]], wanted)
            keep, w = keep[inside], w[inside]
        line = p.line[keep]
        kind_l = lines.kind[line]  # each line's kind and scope, gathered once
        scope_l = self._scope(line, kind_l)
        values = {
            "energy_kwh": p.facility_kwh[keep] * w,
            "location_kgco2e": p.location_kg[keep] * w,
            "market_kgco2e": p.market_kg[keep] * w,
            "water_l": p.water_l[keep] * w,
            "renewable_kwh": p.renewable_kwh[keep] * w,
        }
        group_key, group_info = self._groups(
            by, line, p.start[keep], p.dated[keep], kind_l, scope_l
        )
        n_groups = len(group_info)
        sums = {k: np.bincount(group_key, weights=v, minlength=n_groups) for k, v in values.items()}
        grid, grid_key = self.grid_keys() if samples > 0 else (None, None)
        ranges = uncertainty.monte_carlo(
            self.units() if samples > 0 else None,
            self.units().of_line[line] if samples > 0 else line,
            values["location_kgco2e"],
            group_key,
            n_groups,
            self.assumptions,
            samples,
            seed,
            grid,
            grid_key[keep] if grid_key is not None else None,
        )
        loc = values["location_kgco2e"]
        # what the lines of each group are: one value, or "mixed" (an entry's part is
        # one kind at one site; its tier may differ by month: the one carrying most kg)
        present = (loc != 0) | (values["energy_kwh"] != 0)
        kinds = _per_group(kind_l, engine.KINDS, group_key, n_groups, present)
        parts = _per_group(
            (kind_l == engine.EMBODIED).astype(np.int64),
            PARTS,
            group_key,
            n_groups,
            present,
        )
        scopes = _per_group(scope_l, SCOPES, group_key, n_groups, present)
        if by == "entry":
            codes = _dominant_per_group(
                lines.tier[line], len(engine.TIERS), group_key, n_groups, loc
            )
            tiers = [engine.TIERS[t] for t in codes.tolist()]
        else:
            tiers = _per_group(lines.tier[line], engine.TIERS, group_key, n_groups, present)
        # plain Python lists first: one conversion per column, not one per cell
        loc_kg, mkt_kg = sums["location_kgco2e"], sums["market_kgco2e"]
        rows = [
            EstimateRow(
                info["id"],
                info["name"],
                info["kind"] or kind,
                part,
                info["scope"] or scope,
                tier,
                *numbers,
            )
            for info, kind, part, scope, tier, *numbers in zip(
                group_info,
                kinds,
                parts,
                scopes,
                tiers,
                sums["energy_kwh"].tolist(),
                loc_kg.tolist(),
                mkt_kg.tolist(),
                (loc_kg - mkt_kg).tolist(),
                sums["water_l"].tolist(),
                np.asarray(ranges.low, dtype=np.float64).tolist(),
                np.asarray(ranges.p50, dtype=np.float64).tolist(),
                np.asarray(ranges.high, dtype=np.float64).tolist(),
                sums["renewable_kwh"].tolist(),
                strict=True,
            )
        ]
        if by in _DATED:  # periods in date order (their ids, 2026-Q3 or 2026-07, sort so)
            rows.sort(key=lambda r: r.id)
        else:
            rows.sort(key=lambda r: -r.location_kgco2e)
        totals = {k: float(v.sum()) for k, v in values.items()}
        totals["savings_kgco2e"] = totals["location_kgco2e"] - totals["market_kgco2e"]
        totals["low_kgco2e"] = float(ranges.total_low)
        totals["p50_kgco2e"] = float(ranges.total_p50)
        totals["high_kgco2e"] = float(ranges.total_high)
        totals = {k: totals[k] for k in (*FIELDS, "renewable_kwh")}
        drivers = self._drivers(ranges.drivers)
        notes = self._period_notes(period, keep)
        if ((scope_l == 1) & (values["energy_kwh"] > 0)).any():  # as emissions.market_notes
            notes.append(emissions.CLOUD_MARKET_NOTE)  # cloud or API electricity
        # supplier-specific factors of one site covering the same days: which one was used
        notes += emissions.supplier_overlap_notes(p, keep, self.sites)
        notes += engine.not_estimated(
            self.notes, self.activity, period, [entry] if entry is not None else entries
        )
        if samples > 0:
            notes.extend(_central_outside_range_notes(rows, totals))
        return Estimate(
            period,
            by,
            totals,
            rows,
            notes,
            drivers,
            equivalences(totals, self.assumptions),
            samples,
            seed,
        )

    def _drivers(self, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The entries that drive the total's uncertainty, as the JSON lists them: ``id``
        (``training_runs:12``), ``name``, ``kind`` (the entry's phase: training,
        inference or api; embodied when it has nothing else), ``share_of_variance`` (of
        the total's variance, 0-1) and ``location_kgco2e`` (its central figure in the
        estimate). Entries whatever the grouping (``uncertainty.entry_drivers``)."""
        out = []
        for d in found:
            table, rid = divmod(d["entry"], 2**40)
            out.append(
                {
                    "id": f"{engine.ENTRY_TABLES[table]}:{rid}",
                    "name": self.title(table, rid),
                    "kind": engine.KINDS[d["kind"]],
                    "share_of_variance": d["share_of_variance"],
                    "location_kgco2e": d["location_kgco2e"],
                }
            )
        return out

    def _scope(self, line: np.ndarray, kind: np.ndarray | None = None) -> np.ndarray:
        """Scope code per line: 0 Scope 2, 1 Scope 3 cat. 1, 2 Scope 3 cat. 2 (``kind``:
        the lines' kinds, when already gathered)."""
        own = self.sites.scope2[self.lines.site[line]]
        embodied = (self.lines.kind[line] if kind is None else kind) == engine.EMBODIED
        return np.where(embodied, np.where(own, 2, 1), np.where(own, 0, 1))

    def _groups(
        self,
        by: str,
        line: np.ndarray,
        start: np.ndarray,
        dated: np.ndarray,
        kind: np.ndarray,
        scope: np.ndarray,
    ) -> tuple[np.ndarray, list[dict[str, str]]]:
        lines = self.lines
        if by == "entry":
            keys, code = self._entry_kinds()
            present = np.flatnonzero(np.bincount(code[line], minlength=len(keys)))
            remap = np.zeros(len(keys), dtype=np.int64)
            remap[present] = np.arange(len(present))
            chosen = keys[present]
            return remap[code[line]], self._entry_group_infos(chosen)
        if by in _DATED:  # undated activity is one "undated" group, not today's quarter
            group, labels = emissions.calendar_groups(start, dated, by)
            return group, [{"id": t, "name": t, "kind": "", "scope": ""} for t in labels]
        if by == "model":
            raw = self._model_of(line)
        elif by == "phase":
            raw = kind
        elif by == "scope":
            raw = scope
        else:
            raw = lines.site[line]
        unique, inverse = emissions.factorise(raw.astype(np.int64))  # few distinct: no sort
        return inverse, [self._group_info(by, int(u)) for u in unique.tolist()]

    def _entry_group_infos(self, keys: np.ndarray) -> list[dict[str, str]]:
        """:meth:`_group_info` of entry-and-kind keys (``entry_keys() * 4 + kind``), all
        at once: a by-entry estimate has one per entry and phase (77,000 on the large
        inventory), and a call each cost a quarter of a second."""
        tables = (keys // 4 // 2**40).tolist()
        titles = {t: self._table_titles(t) for t in set(tables)}
        table_names, kind_names = engine.ENTRY_TABLES, engine.KINDS
        return [
            {
                "id": f"{table_names[t]}:{r}",
                "name": titles[t].get(r, f"#{r}"),
                "kind": kind_names[k],
                "scope": "",
            }
            for t, r, k in zip(
                tables, (keys // 4 % 2**40).tolist(), (keys % 4).tolist(), strict=True
            )
        ]

    def _entry_kinds(self) -> tuple[np.ndarray, np.ndarray]:
        """(distinct entry-and-kind keys, key index per line), kept until lines change."""
        cached = getattr(self, "_entry_kind_cache", None)
        if cached is None or cached[0] is not self.lines:
            key = self.lines.entry_keys() * 4 + self.lines.kind
            keys, code = np.unique(key, return_inverse=True)
            cached = self._entry_kind_cache = (self.lines, keys, code.ravel())
        return cached[1], cached[2]

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
        # by == "site" (months and quarters are labelled by emissions.calendar_groups)
        return {
            "id": f"sites:{self._site_id(key)}",
            "name": self.sites.names[key],
            "kind": "",
            "scope": "",
        }

    def _site_id(self, index: int) -> int:
        rows = self.activity.site_rows
        return int(rows[index]["id"]) if index < len(rows) else 0

    def title(self, table: int, rid: int) -> str:
        """An entry's name; all names of a table are read in one query the first time."""
        return self._table_titles(table).get(rid, f"#{rid}")

    def _table_titles(self, table: int) -> dict[int, str]:
        if table not in self._titles:
            name = engine.ENTRY_TABLES[table]
            self._titles[table] = dict(self.inv.ref_options(name))
        return self._titles[table]

    def _period_notes(self, period: Period | None, keep: np.ndarray) -> list[str]:
        notes = []
        p = self.pieces
        undated = ~p.dated & p.alive  # replaced lines' pieces are not counted
        if period is not None and undated.any():
            n = len(np.unique(p.line[undated]))
            notes.append(
                f"{n} activity line(s) have no dates and are left out of period "
                "totals; they count in all-time totals only."
            )
        if p.residual_fallback[keep].any():
            notes.append(
                "No residual-mix factors are bundled: market-based figures use the "
                "location-based factor for consumption no instrument covers."
            )
        notes.extend(f"Grid factor: {f}." for f in p.fallbacks(keep))
        notes.append(
            "Grid factors vary in the uncertainty range by +-10 % for the site's own zone and "
            "year, more where a fallback year, country or world factor stood in; each "
            "grid's factor has one error, shared by every entry that uses it, so entries on "
            "the same grid are wrong the same way."
        )
        return notes

    def entry_notes(self, table: str, rid: int) -> list[str]:
        return list(self.notes.get((engine.ENTRY_TABLES.index(table), rid), []))


def _dominant_per_group(
    codes: np.ndarray, n_codes: int, group: np.ndarray, n_groups: int, weights: np.ndarray
) -> np.ndarray:
    """Per group, the code carrying the most emissions (ties: the smallest code)."""
    w = np.abs(weights) + 1e-12
    table = np.bincount(group * n_codes + codes, weights=w, minlength=n_groups * n_codes)
    return table.reshape(n_groups, n_codes).argmax(axis=1)


def _per_group(
    codes: np.ndarray,
    names: tuple[str, ...],
    group: np.ndarray,
    n_groups: int,
    present: np.ndarray,
) -> list[str]:
    """Per group, the name of its lines' code when they all share one, else
    :data:`MIXED`. Lines with neither energy nor emissions (a usage row with nothing to
    estimate from) do not count, unless a group has no other."""
    n = len(names)
    cell = group * n + codes
    seen = np.bincount(cell, weights=present, minlength=n_groups * n).reshape(n_groups, n) > 0
    idle = ~seen.any(axis=1)
    if idle.any():
        every = np.bincount(cell, minlength=n_groups * n).reshape(n_groups, n) > 0
        seen[idle] = every[idle]
    count = seen.sum(axis=1)
    first = seen.argmax(axis=1)
    return [
        names[c] if k == 1 else MIXED for c, k in zip(first.tolist(), count.tolist(), strict=True)
    ]


def _central_outside_range_notes(rows: list[EstimateRow], totals: dict[str, float]) -> list[str]:
    """A note for the rows (and total) whose central figure lies outside their P5-P95:
    honest when ranges are skewed (a sum of many entries whose defaults span 0.4x-23x
    has its P5 above the sum of the central figures), but surprising unless said."""
    tol = 1e-3  # float32 draws: a range of width zero may sit a hair off its centre
    out = []
    figures = [(r.name, r.location_kgco2e, r.low_kgco2e, r.p50_kgco2e, r.high_kgco2e) for r in rows]
    figures.append(
        (
            "Total",
            totals["location_kgco2e"],
            totals["low_kgco2e"],
            totals["p50_kgco2e"],
            totals["high_kgco2e"],
        )
    )
    for name, c, lo, mid, hi in figures:
        scale = abs(c) * tol
        if lo > c + scale or hi < c - scale:
            side, far, near = ("below", "above", "below") if lo > c else ("above", "below", "above")
            out.append(
                f"{name}: the central figure {_n(c)} kgCO2e (the estimate from the central "
                f"value of every input) is {side} its P5-P95 range (P5 {_n(lo)}, P50 "
                f"{_n(mid)}, P95 {_n(hi)} kgCO2e): its default ranges reach further {far} "
                f"their central values than {near}, and the draws of several entries, "
                f"summed, rarely all fall {near} them."
            )
    return out


def _n(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.3g}"


def equivalences(totals: dict[str, float], a: engine.Assumptions) -> list[dict[str, Any]]:
    """Everyday equivalents of a total, each with its cited factor."""
    kg, kwh = totals["location_kgco2e"], totals["energy_kwh"]
    out = []
    for key, label, base in (
        ("equiv:smartphone_charge_kwh", "smartphone charges", kwh),
        ("equiv:car_km_kgco2e_eu", "km driven by an average EU car", kg),
        ("equiv:car_km_kgco2e_us", "km driven by an average US car", kg),
        ("equiv:car_lifetime_kgco2e", "car lifetimes (incl. fuel)", kg),
        ("equiv:home_electricity_year_kwh", "years of a US home's electricity", kwh),
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
