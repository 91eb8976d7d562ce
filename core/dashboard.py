"""What the dashboard shows, computed from engine estimates only (nothing twice).

:func:`compute` turns a :class:`DashboardRequest` (period, filters, grouping of the top
emitters, trend step) into :class:`DashboardData`: key figures with their change against
the previous period, and one series per chart. Every number is an engine estimate or a
sum of engine rows; filters become the ``entries`` set the engine restricts itself to.

:class:`DashboardSession` keeps one engine (and the engines of what-if scenarios) for an
inventory file so that a worker thread can answer request after request without
re-reading the inventory; logged edits are applied incrementally (``Engine.catch_up``).

Units: emissions kgCO2e, energy kWh (facility), water litres, grid factors gCO2e/kWh,
shares 0-1. Periods are ``core.periods`` labels (``2026-Q3``, ``2026``, ranges).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from core.inventory import Inventory
from core.periods import Period, parse_period

if TYPE_CHECKING:
    from core.estimate import Engine, Estimate, EstimateRow
    from core.scenarios import Scenario

PHASES = ("training", "inference", "api", "embodied")
PHASE_LABELS = {
    "training": "Training",
    "inference": "Inference",
    "api": "API usage",
    "embodied": "Embodied hardware",
}
TIERS = ("measured", "activity-based", "token-based", "default")
TOP_GROUPINGS = {
    "deployment": "Training run / deployment",
    "model": "Model",
    "team": "Team / owner",
    "site": "Site",
    "provider": "Provider",
}
GRANULARITIES = ("quarter", "month")


# -- requests --------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """Which entries count: AND across kinds, OR within one kind; empty = no filter."""

    owners: tuple[str, ...] = ()
    model_ids: tuple[int, ...] = ()
    site_ids: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.owners or self.model_ids or self.site_ids or self.tags)


@dataclass(frozen=True)
class DashboardRequest:
    period: str
    filters: Filters = Filters()
    granularity: str = "quarter"
    top_by: str = "deployment"
    top_n: int = 15
    #: Monte Carlo samples and seed of the ranges: as the report and the command line
    samples: int = 1000
    seed: int = 0
    scenario: Scenario | None = None


# -- results ---------------------------------------------------------------------------


#: the key figures' names, in the order the dashboard shows them
FIGURE_LABELS = {
    "market": "Market-based emissions",
    "location": "Location-based emissions",
    "savings": "Savings from renewable sourcing",
    "renewable": "Renewable share of energy",
    "energy": "Energy (facility)",
    "water": "Water (on-site cooling)",
    "intensity": "Per 1,000 requests (location)",
    "range": "Uncertainty (P5–P95, location)",
}


@dataclass
class Figure:
    """One key figure: ``value`` in ``unit`` (``kg``, ``kWh``, ``L``, ``share``,
    ``kg/1000``), the previous period's value (None when not comparable)."""

    key: str
    label: str
    value: float
    unit: str
    previous: float | None = None
    low: float | None = None
    high: float | None = None
    note: str = ""

    @property
    def change(self) -> float | None:
        """Relative change against the previous period (None if it was zero or unknown)."""
        if self.previous is None or self.previous == 0:
            return None
        return (self.value - self.previous) / abs(self.previous)


@dataclass
class Trend:
    """Per time bucket (quarter or month): location kgCO2e per phase, the total's
    P5-P95 (NaN until the ranges are computed, and per month), market and savings, and
    the sourcing instruments in force."""

    labels: list[str]
    periods: list[Period]
    phases: dict[str, np.ndarray]
    location: np.ndarray
    market: np.ndarray
    savings: np.ndarray
    low: np.ndarray
    high: np.ndarray
    instruments: list[list[str]]
    selected: tuple[int, int]  # bucket indices of the selected period (inclusive)


@dataclass
class Bar:
    """A horizontal bar: one emitter, or one group of a breakdown."""

    id: str
    name: str
    location: float
    market: float
    kind: str = ""
    detail: str = ""
    #: (inventory table, record id) that clicking the bar opens; None when not an entry
    target: tuple[str, int] | None = None


@dataclass
class DashboardData:
    period: Period
    previous: Period
    filters: Filters
    figures: dict[str, Figure]
    trend: Trend
    top: list[Bar]
    top_by: str
    top_total: int
    scopes: list[Bar]
    sites: list[Bar]
    quality: dict[str, float]  # tier -> location kgCO2e
    equivalences: list[dict[str, Any]]
    notes: list[str]
    entries: frozenset[tuple[int, int]] | None
    #: the uncertainty ranges are in (``compute_ranges``); until then they are NaN/None
    ranges_ready: bool = False
    #: what the ranges leave out, for the reader (empty when nothing)
    range_note: str = ""


@dataclass
class Dashboard:
    """Baseline and, when a scenario is chosen, the scenario computed the same way."""

    baseline: DashboardData
    scenario: DashboardData | None = None
    scenario_name: str = ""
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    #: the session's engine version the figures come from (stale when it moved on)
    version: int = 0


# -- formatting (shared by the UI and the report) --------------------------------------


def mass_unit(kg: float) -> tuple[float, str]:
    """(divisor, unit) for a mass of CO2e: kgCO2e below 1,000 kg, else tCO2e."""
    return (1000.0, "tCO2e") if abs(kg) >= 1000 else (1.0, "kgCO2e")


def energy_unit(kwh: float) -> tuple[float, str]:
    if abs(kwh) >= 1e6:
        return 1e6, "GWh"
    if abs(kwh) >= 1000:
        return 1000.0, "MWh"
    return 1.0, "kWh"


def water_unit(litres: float) -> tuple[float, str]:
    return (1000.0, "m³") if abs(litres) >= 10_000 else (1.0, "L")


def number(value: float, digits: int = 3) -> str:
    """``value`` with thousands separators and about ``digits`` significant digits."""
    if value == 0 or not np.isfinite(value):
        return "0" if value == 0 else "–"
    magnitude = int(np.floor(np.log10(abs(value))))
    decimals = max(0, digits - 1 - magnitude)
    return f"{value:,.{decimals}f}"


def format_quantity(value: float, unit: str) -> str:
    """A key figure as text with a unit scaled by magnitude: ``"12.3 tCO2e"``."""
    if unit == "kg":
        div, u = mass_unit(value)
    elif unit == "kWh":
        div, u = energy_unit(value)
    elif unit == "L":
        div, u = water_unit(value)
    elif unit == "share":
        return f"{value * 100:.0f} %"
    elif unit == "kg/1000":
        div, u = (1.0, "kgCO2e") if value >= 1 else (0.001, "gCO2e")
        return f"{number(value / div)} {u}"
    else:
        div, u = 1.0, unit
    return f"{number(value / div)} {u}"


# -- filters -> entries ----------------------------------------------------------------


def filter_options(inv: Inventory) -> dict[str, list[tuple[Any, str]]]:
    """What the filter offers: owners, models, sites in use, and tags (value, label)."""
    conn = inv.conn
    owners = sorted(
        {str(o).strip() for (o,) in conn.execute("SELECT owner FROM models") if o and o.strip()},
        key=str.lower,
    )
    tags: set[str] = set()
    for (text,) in conn.execute("SELECT tags FROM models WHERE tags IS NOT NULL"):
        tags.update(t.strip() for t in str(text).split(",") if t.strip())
    used_sites = {
        int(s)
        for (s,) in conn.execute(
            "SELECT site_id FROM training_runs WHERE site_id IS NOT NULL "
            "UNION SELECT site_id FROM deployments WHERE site_id IS NOT NULL"
        )
    }
    return {
        "owners": [(o, o) for o in owners],
        "models": inv.ref_options("models"),
        "sites": [(i, t) for i, t in inv.ref_options("sites") if i in used_sites],
        "tags": [(t, t) for t in sorted(tags, key=str.lower)],
    }


def entries_for(engine: Engine, filters: Filters) -> frozenset[tuple[int, int]] | None:
    """The (table index, id) entries a filter keeps; None when nothing is filtered.

    Table index 0 is training runs, 1 deployments (``core.engine.ENTRY_TABLES``).
    """
    if not filters.active:
        return None
    act = engine.activity
    models = act.models.ids
    keep_model = np.ones(len(models), dtype=bool)
    if filters.model_ids:
        keep_model &= np.isin(models, np.array(filters.model_ids, dtype=np.int64))
    if filters.owners or filters.tags:
        meta = {
            int(i): (owner or "", tags or "")
            for i, owner, tags in engine.inv.conn.execute("SELECT id, owner, tags FROM models")
        }
        owners = {o.strip().lower() for o in filters.owners}
        wanted_tags = {t.strip().lower() for t in filters.tags}
        for pos, mid in enumerate(models.tolist()):
            owner, tags = meta.get(int(mid), ("", ""))
            if owners and owner.strip().lower() not in owners:
                keep_model[pos] = False
            model_tags = {t.strip().lower() for t in tags.split(",")}
            if wanted_tags and not (model_tags & wanted_tags):
                keep_model[pos] = False
    kept_models = models[keep_model]
    out: set[tuple[int, int]] = set()
    for index, table in enumerate((act.training_runs, act.deployments)):
        if not len(table):
            continue
        keep = np.isin(table["model_id"], kept_models)
        if filters.site_ids:
            keep &= np.isin(table["site_id"], np.array(filters.site_ids, dtype=np.int64))
        out.update((index, int(i)) for i in table.ids[keep].tolist())
    return frozenset(out)


# -- periods ---------------------------------------------------------------------------


def default_period(today: dt.date) -> str:
    """The last completed quarter: what a quarterly report covers."""
    q = (today.month - 1) // 3 + 1
    return f"{today.year - 1}-Q4" if q == 1 else f"{today.year}-Q{q - 1}"


def _quarter_start(d: dt.date) -> dt.date:
    return dt.date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def buckets(period: Period, granularity: str, count: int | None = None) -> list[Period]:
    """Time buckets for the trend: the ``count`` quarters (8) or months (12) up to the
    end of ``period``, extended back to cover all of it."""
    step = 3 if granularity == "quarter" else 1
    count = count or (8 if step == 3 else 12)
    end = period.end
    first = _quarter_start(end) if step == 3 else dt.date(end.year, end.month, 1)
    starts = [first]
    while len(starts) < count or starts[-1] > period.start:
        y, m = starts[-1].year, starts[-1].month - step
        if m < 1:
            y, m = y - 1, m + 12
        starts.append(dt.date(y, m, 1))
        if len(starts) > 240:  # 20 years of months at most
            break
    out = []
    for s in reversed(starts):
        label = f"{s.year}-Q{(s.month - 1) // 3 + 1}" if step == 3 else f"{s.year}-{s.month:02d}"
        out.append(parse_period(label))
    return out


# -- the computation -------------------------------------------------------------------


def _entry_ref(row_id: str) -> tuple[str, int] | None:
    table, _, rid = row_id.partition(":")
    return (table, int(rid)) if rid.lstrip("-").isdigit() else None


def _group_rows(rows: list[EstimateRow], key: Callable[[EstimateRow], str]) -> list[Bar]:
    bars: dict[str, Bar] = {}
    for r in rows:
        k = key(r)
        bar = bars.setdefault(k, Bar(k, k, 0.0, 0.0))
        bar.location += r.location_kgco2e
        bar.market += r.market_kgco2e
    return sorted(bars.values(), key=lambda b: -b.location)


def top_emitters(
    engine: Engine,
    period: Period,
    by: str,
    entries: frozenset[tuple[int, int]] | None,
    estimates: dict[str, Estimate] | None = None,
) -> list[Bar]:
    """Every emitter of ``period`` grouped ``by`` (see :data:`TOP_GROUPINGS`), largest
    first by location-based kgCO2e."""
    cache = estimates if estimates is not None else {}

    def est(group: str) -> Estimate:
        if group not in cache:
            cache[group] = engine.estimate(period, by=group, samples=0, entries=entries)
        return cache[group]

    if by == "deployment":
        bars: dict[str, Bar] = {}
        for r in est("entry").rows:
            bar = bars.get(r.id)
            if bar is None:
                bar = bars[r.id] = Bar(r.id, r.name, 0.0, 0.0, r.kind, target=_entry_ref(r.id))
            bar.location += r.location_kgco2e
            bar.market += r.market_kgco2e
            if r.kind != "embodied":
                bar.kind = r.kind  # colour by the operational phase
        return sorted(bars.values(), key=lambda b: -b.location)
    if by == "model":
        return [
            Bar(r.id, r.name, r.location_kgco2e, r.market_kgco2e, target=_entry_ref(r.id))
            for r in est("model").rows
        ]
    if by == "site":
        return [
            Bar(r.id, r.name, r.location_kgco2e, r.market_kgco2e, target=_entry_ref(r.id))
            for r in est("site").rows
        ]
    if by == "team":
        owners = {
            f"models:{i}": (o or "").strip() or "(no owner)"
            for i, o in engine.inv.conn.execute("SELECT id, owner FROM models")
        }
        return _group_rows(est("model").rows, lambda r: owners.get(r.id, "(no owner)"))
    if by == "provider":
        providers = {
            f"sites:{s['id']}": (s.get("provider") or "").strip() or "(no provider)"
            for s in engine.activity.site_rows
        }
        return _group_rows(est("site").rows, lambda r: providers.get(r.id, "(no site)"))
    raise ValueError(f"top emitters by one of {', '.join(TOP_GROUPINGS)}, not {by!r}")


def site_grid_factor(engine: Engine, site_id: int, year: int) -> tuple[str, float | None]:
    """(grid zone, gCO2e/kWh) the engine uses for a site in ``year``: the site's own
    published factor, else an override, else the shipped zone factor."""
    rows = engine.activity.site_rows
    index = next((i for i, s in enumerate(rows) if int(s["id"]) == site_id), None)
    if index is None:
        return "", None
    sites = engine.sites
    zone = sites.zone[index]
    own = sites.own_factor[index]
    if np.isfinite(own):
        return zone, float(own)
    from core.factors import normalise_zone

    override = engine.assumptions.grid_overrides.get((normalise_zone(zone), year))
    if override is not None:
        return zone, float(override.value)
    try:
        return zone, float(engine.assumptions.grid.lookup(zone, year, sites.country[index]).value)
    except Exception:  # an unknown zone: the engine reports it in its notes
        return zone, None


def requests_in(engine: Engine, period: Period, entries: frozenset | None) -> dict[int, float]:
    """Requests per deployment id inside ``period`` (usage spread evenly over its days)."""
    u = engine.activity.usage
    if not len(u) or "requests" not in u.columns:
        return {}
    start, end = u["period_start"], u["period_end"]
    lo = np.maximum(start, np.datetime64(period.start, "D"))
    hi = np.minimum(end, np.datetime64(period.end, "D"))
    days = (end - start).astype(np.int64) + 1
    share = np.clip((hi - lo).astype(np.int64) + 1, 0, None) / np.maximum(days, 1)
    req = np.nan_to_num(u["requests"]) * share
    deps = u["deployment_id"]
    if entries is not None:
        wanted = np.array([i for t, i in entries if t == 1], dtype=np.int64)
        req = np.where(np.isin(deps, wanted), req, 0.0)
    ids, inverse = np.unique(deps, return_inverse=True)
    sums = np.bincount(inverse.ravel(), weights=req, minlength=len(ids))
    return {int(i): float(s) for i, s in zip(ids.tolist(), sums.tolist(), strict=True) if s > 0}


def _renewable_share(totals: dict[str, float]) -> float:
    """Share of facility energy covered by renewable instruments (the engine's
    ``renewable_kwh`` over its ``energy_kwh``; embodied emissions carry no energy)."""
    energy = totals["energy_kwh"]
    return totals.get("renewable_kwh", 0.0) / energy if energy > 0 else 0.0


def _intensity(
    est: Estimates, period: Period, rows: list[EstimateRow] | None = None
) -> tuple[float | None, float]:
    """(location kgCO2e per 1,000 requests, requests) over deployments recording requests.

    With ``rows`` (the period's by-entry estimate) the emissions are the sum of those
    deployments' rows; without, one estimate restricted to them.
    """
    req = requests_in(est.engine, period, est.entries)
    total = sum(req.values())
    if total <= 0:
        return None, 0.0
    if rows is not None:
        wanted = {f"deployments:{i}" for i in req}
        kg = sum(r.location_kgco2e for r in rows if r.id in wanted)
    else:
        kg = est.engine.estimate(period, by="phase", samples=0, entries={(1, i) for i in req})
        kg = kg.totals["location_kgco2e"]
    return kg / total * 1000.0, total


def _instruments(engine: Engine, period: Period, site_ids: set[int] | None) -> list[str]:
    out = []
    for s in engine.activity.sourcing:
        start = dt.date.fromisoformat(str(s["period_start"]))
        end = dt.date.fromisoformat(str(s["period_end"]))
        if end < period.start or start > period.end:
            continue
        if site_ids is not None and s.get("site_id") is not None and s["site_id"] not in site_ids:
            continue
        out.append(str(s["name"]))
    return out


class Estimates:
    """Engine estimates of one engine state and one filter, memoised.

    The dashboard asks for the same small estimates again and again (the trend's
    quarters when the period moves by one, the previous period, which is also a trend
    bucket); they are kept. Estimates by entry are not: one row object per entry
    (59,000 on the large inventory) kept alive would make every full garbage collection
    of the process slower (~150 ms more), and a collection holds the UI thread too.
    Nothing here is computed: every figure is the engine's.
    """

    ENTRY_KEPT = 0
    SMALL_KEPT = 400

    def __init__(self, engine: Engine, entries: frozenset[tuple[int, int]] | None):
        self.engine = engine
        self.entries = entries
        self._wanted = None if entries is None else set(entries)
        self._small: OrderedDict[tuple, Estimate] = OrderedDict()
        self._large: OrderedDict[tuple, Estimate] = OrderedDict()

    def get(self, period: Period, by: str, samples: int = 0, seed: int = 0) -> Estimate:
        key = (period.start, period.end, by, samples, seed if samples else 0)
        store, kept = (
            (self._large, self.ENTRY_KEPT) if by == "entry" else (self._small, self.SMALL_KEPT)
        )
        if key in store:
            store.move_to_end(key)
            return store[key]
        out = self.engine.estimate(period, by=by, samples=samples, seed=seed, entries=self._wanted)
        store[key] = out
        while len(store) > kept:
            store.popitem(last=False)
        return out


Cancelled = Callable[[], bool]


def not_cancelled() -> bool:
    return False


def release_gradually(*lists: list, step: int = 2_000) -> None:
    """Empty ``lists`` a slice at a time.

    A by-entry estimate makes one row object per entry; freeing 59,000 of them at once
    (when the function holding them returns) keeps Python's interpreter lock for about
    40 ms, which the UI thread then waits for. Between slices another thread can run.
    """
    for items in lists:
        while items:
            del items[-step:]


def compute_central(
    engine: Engine, request: DashboardRequest, est: Estimates | None = None
) -> DashboardData:
    """Every central figure and series for ``request``, without uncertainty ranges
    (estimates with ``samples=0``: about a tenth of a second each on a large
    inventory). :func:`compute_ranges` adds the ranges."""
    period = parse_period(request.period)
    previous = period.previous()
    if est is None:
        est = Estimates(engine, entries_for(engine, request.filters))
    entries = est.entries

    current = est.get(period, "entry")
    before = est.get(previous, "phase")
    t, p = current.totals, before.totals
    intensity, n_requests = _intensity(est, period, current.rows)
    prev_intensity, _ = _intensity(est, previous)
    names = FIGURE_LABELS
    figures = {
        "market": Figure("market", names["market"], t["market_kgco2e"], "kg", p["market_kgco2e"]),
        "location": Figure(
            "location", names["location"], t["location_kgco2e"], "kg", p["location_kgco2e"]
        ),
        "savings": Figure(
            "savings", names["savings"], t["savings_kgco2e"], "kg", p["savings_kgco2e"]
        ),
        "renewable": Figure(
            "renewable", names["renewable"], _renewable_share(t), "share", _renewable_share(p)
        ),
        "energy": Figure("energy", names["energy"], t["energy_kwh"], "kWh", p["energy_kwh"]),
        "water": Figure("water", names["water"], t["water_l"], "L", p["water_l"]),
        "intensity": Figure(
            "intensity",
            names["intensity"],
            intensity if intensity is not None else float("nan"),
            "kg/1000",
            prev_intensity,
            note=f"{n_requests:,.0f} requests in the period"
            if n_requests
            else "no deployment records requests in the period",
        ),
        "range": Figure(
            "range",
            names["range"],
            float("nan"),
            "kg",
            None,
            note="computing",
        ),
    }

    # trend: one phase estimate per bucket (kept between requests)
    periods = buckets(period, request.granularity)
    site_filter = set(request.filters.site_ids) if request.filters.site_ids else None
    n = len(periods)
    phases = {k: np.zeros(n) for k in PHASES}
    location, market = np.zeros(n), np.zeros(n)
    instruments = []
    for i, bucket in enumerate(periods):
        e = est.get(bucket, "phase")
        for r in e.rows:
            phases[r.id][i] = r.location_kgco2e
        location[i], market[i] = e.totals["location_kgco2e"], e.totals["market_kgco2e"]
        instruments.append(
            _instruments(engine, bucket, site_filter) if e.totals["savings_kgco2e"] > 0 else []
        )
    # drop empty buckets before the first activity (keep the selected period's)
    sel = [i for i, b in enumerate(periods) if b.end >= period.start and b.start <= period.end]
    first = next((i for i in range(n) if location[i] > 0 or market[i] > 0), sel[0])
    first = min(first, sel[0])
    cut = slice(first, n)
    trend = Trend(
        [b.label for b in periods[cut]],
        periods[cut],
        {k: v[cut] for k, v in phases.items()},
        location[cut],
        market[cut],
        location[cut] - market[cut],
        np.full(n - first, np.nan),
        np.full(n - first, np.nan),
        instruments[cut],
        (sel[0] - first, sel[-1] - first),
    )

    cache: dict[str, Estimate] = {"entry": current}
    if request.top_by in ("model", "team"):
        cache["model"] = est.get(period, "model")
    cache["site"] = est.get(period, "site")
    site_rows = cache["site"].rows
    all_top = top_emitters(engine, period, request.top_by, entries, cache)
    scopes = [
        Bar(r.id, r.name, r.location_kgco2e, r.market_kgco2e) for r in est.get(period, "scope").rows
    ]
    sites = []
    for r in site_rows:
        ref = _entry_ref(r.id)
        zone, factor = site_grid_factor(engine, ref[1], period.start.year) if ref else ("", None)
        detail = (
            f"grid factor {factor:,.0f} gCO2e/kWh ({zone}, {period.start.year})"
            if factor is not None
            else ""
        )
        sites.append(
            Bar(
                r.id,
                r.name,
                r.location_kgco2e,
                r.market_kgco2e,
                detail=detail,
                target=ref if ref and ref[1] > 0 else None,
            )
        )
    quality = dict.fromkeys(TIERS, 0.0)
    for r in current.rows:
        quality[r.method_tier] = quality.get(r.method_tier, 0.0) + r.location_kgco2e
    top, top_total = all_top[: request.top_n], len(all_top)
    release_gradually(current.rows, all_top)
    return DashboardData(
        period=period,
        previous=previous,
        filters=request.filters,
        figures=figures,
        trend=trend,
        top=top,
        top_by=request.top_by,
        top_total=top_total,
        scopes=scopes,
        sites=sites,
        quality=quality,
        equivalences=current.equivalences,
        notes=current.notes,
        entries=entries,
    )


def compute_period_range(
    est: Estimates, request: DashboardRequest, data: DashboardData
) -> DashboardData:
    """``data`` with the P5-P95 of the period's total (one Monte Carlo run, grouped by
    phase: the total's range does not depend on the grouping; ``request.samples`` and
    ``seed`` as the report and the command line use)."""
    whole = est.get(data.period, "phase", request.samples, request.seed).totals
    figures = dict(data.figures)
    low, high = whole["low_kgco2e"], whole["high_kgco2e"]
    figures["location"] = dataclasses.replace(figures["location"], low=low, high=high)
    figures["range"] = dataclasses.replace(
        figures["range"], value=high - low, low=low, high=high, note=""
    )
    t = data.trend
    lo, hi = t.selected
    if lo == hi and (t.periods[lo].start, t.periods[lo].end) == (
        data.period.start,
        data.period.end,
    ):  # the selected quarter shows the period's range: card and chart agree
        t_low, t_high = t.low.copy(), t.high.copy()
        t_low[lo], t_high[lo] = low, high
        t = dataclasses.replace(t, low=t_low, high=t_high)
    return dataclasses.replace(data, figures=figures, trend=t)


def compute_trend_ranges(
    est: Estimates, request: DashboardRequest, data: DashboardData
) -> DashboardData:
    """``data`` with the P5-P95 of every trend bucket: one Monte Carlo run over the
    trend's quarters (or months) grouped by quarter (or month), whatever their number."""
    t = data.trend
    t_low, t_high = t.low.copy(), t.high.copy()
    note = ""
    if t.periods:
        span = Period(t.periods[0].start, t.periods[-1].end, "trend")
        rows = est.get(span, request.granularity, request.samples, request.seed).rows
        by_bucket = {r.name: r for r in rows}
        for i, label in enumerate(t.labels):
            if np.isfinite(t_low[i]):
                continue  # the selected period's bucket: the period's own range
            r = by_bucket.get(label)
            t_low[i], t_high[i] = (r.low_kgco2e, r.high_kgco2e) if r else (0.0, 0.0)
    trend = dataclasses.replace(t, low=t_low, high=t_high)
    return dataclasses.replace(data, trend=trend, ranges_ready=True, range_note=note)


def compute_ranges(
    est: Estimates,
    request: DashboardRequest,
    data: DashboardData,
    cancelled: Cancelled = not_cancelled,
) -> DashboardData | None:
    """``data`` with every uncertainty range: two Monte Carlo runs at most, whatever the
    number of buckets (:func:`compute_period_range`, :func:`compute_trend_ranges`).
    None when ``cancelled()`` turned true between them."""
    out = compute_period_range(est, request, data)
    if cancelled():
        return None
    return compute_trend_ranges(est, request, out)


def compute(engine: Engine, request: DashboardRequest) -> DashboardData:
    """All the dashboard's figures and series for ``request``, ranges included (baseline
    engine or a scenario's derived engine alike)."""
    est = Estimates(engine, entries_for(engine, request.filters))
    data = compute_central(engine, request, est)
    if request.samples <= 0:
        return data
    out = compute_ranges(est, request, data)
    assert out is not None
    return out
