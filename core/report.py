"""The quarterly report's content, built from the engine: :func:`build_report`.

The result is a :class:`core.report_model.Report` (plain data). Figures come from
:meth:`core.estimate.Engine.estimate` for the period; comparisons use the previous
period and the same period a year earlier; charts cover the quarters up to the period's
end. A closed period (``core.closing``) is reprinted from its snapshot instead, so its
figures stay as reported; the restatements recorded since are listed with it.

A report of a closed period limited to some entries (a scope filter) cannot come from
the snapshot, which holds the reported report, not a database to filter. What an auditor
needs is to know that, and by how much it matters, so such a report is computed from the
current data, says so on its cover, and reconciles its figures with the snapshot's
figures for the same entries (a closing keeps each entry's figures for this).

The renewable share is the engine's ``renewable_kwh`` (consumption covered by renewable
instruments) over ``energy_kwh``. Building can be cancelled (``cancelled`` callables are
polled between steps; :class:`ReportCancelled`).

Units: energy in kWh (facility, PUE included), emissions in kgCO2e, water in litres.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import numpy as np

from core import __version__, closing
from core import engine as eng
from core.errors import LedgerError
from core.estimate import Engine, Estimate, EstimateRow
from core.inventory import Inventory, os_user
from core.periods import Period, parse_period, quarter_label
from core.report_model import (
    SECTIONS,
    Chart,
    Column,
    KeyFigure,
    Paragraph,
    Report,
    Section,
    Series,
    SignOff,
    Table,
    format_number,
    format_percent,
    format_signed,
)

#: progress callback: (fraction done 0..1, what is being done)
Progress = Callable[[float, str], None]
#: polled between steps: True when the user cancelled
Cancelled = Callable[[], bool]

PHASE_LABELS = {
    "training": "Training",
    "inference": "Inference (own and cloud)",
    "api": "API usage",
    "embodied": "Embodied hardware",
}
SCOPE_CATEGORIES = {
    "Scope 2": "Purchased electricity of own and colocation sites",
    "Scope 3 cat. 1": "Purchased goods and services: cloud and API providers",
    "Scope 3 cat. 2": "Capital goods: hardware of own sites",
}
TIER_TEXT = {
    "measured": "Measured energy (meters, CodeCarbon)",
    "activity-based": "Activity-based (device-hours × power, requests × energy)",
    "token-based": "Token-based (tokens × energy per token)",
    "default": "Defaults only",
}
TOP_N = 10


@dataclass
class ReportOptions:
    """What to report: ``period``; the organisation and preparer for the cover; a scope
    filter (``filter_text``: only entries whose name, model or site contains it; empty
    for the whole inventory); Monte Carlo ``samples`` and ``seed`` for the range."""

    period: Period
    organisation: str = ""
    preparer: str = ""
    filter_text: str = ""
    samples: int = 1000
    seed: int = 0


def matching_entries(inv: Inventory, text: str) -> list[tuple[int, int]]:
    """Entries ``(table index, id)`` whose name, model or site name contains ``text``
    (case-insensitive)."""
    like = f"%{text.strip()}%"
    out: list[tuple[int, int]] = []
    for index, table in enumerate(eng.ENTRY_TABLES):
        rows = inv.conn.execute(
            f"SELECT e.id FROM {table} e JOIN models m ON m.id = e.model_id "
            "LEFT JOIN sites s ON s.id = e.site_id "
            "WHERE e.name LIKE ? OR m.name LIKE ? OR coalesce(s.name, '') LIKE ?",
            (like, like, like),
        )
        out.extend((index, int(r[0])) for r in rows)
    return out


def year_before(period: Period) -> Period:
    """The same period one year earlier (29 February becomes the 28th)."""
    if re.fullmatch(r"\d{4}-Q[1-4]", period.label):
        return parse_period(f"{int(period.label[:4]) - 1}{period.label[4:]}")
    if re.fullmatch(r"\d{4}(-\d{2})?", period.label):
        return parse_period(f"{int(period.label[:4]) - 1}{period.label[4:]}")

    def back(d: dt.date) -> dt.date:
        return d.replace(year=d.year - 1, day=min(d.day, 28) if d.month == 2 else d.day)

    start, end = back(period.start), back(period.end)
    return Period(start, end, f"{start.isoformat()}..{end.isoformat()}")


def trend_quarters(period: Period, count: int = 6) -> list[Period]:
    """The ``count`` quarters ending with the one holding the period's last day (more
    when the period itself spans more, at most 12)."""
    last = parse_period(quarter_label(np.datetime64(period.end, "M")))
    first = parse_period(quarter_label(np.datetime64(period.start, "M")))
    quarters = [last]
    while len(quarters) < 12 and (len(quarters) < count or quarters[0].start > first.start):
        quarters.insert(0, quarters[0].previous())
    return quarters


class ReportCancelled(LedgerError):
    """The user cancelled building or writing a report; nothing was written."""

    def __init__(self, message: str = "Cancelled; nothing was written."):
        super().__init__(message)


def build_report(
    inv: Inventory,
    options: ReportOptions,
    engine: Engine | None = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
    reprint_closed: bool = True,
    cancelled: Cancelled | None = None,
) -> Report:
    """The report for ``options``.

    A closed period without a scope filter is reprinted from its snapshot
    (``reprint_closed``). With a scope filter the figures can only come from the current
    data (a snapshot is not a database): the report says so on its cover and reconciles
    the filtered figures with the closed snapshot's figures for the same entries (see
    :func:`snapshot_reconciliation`).

    ``cancelled`` is polled between steps (each estimate of the engine is one step);
    when it returns True, :class:`ReportCancelled` is raised.
    """
    now = now or dt.datetime.now().astimezone()
    report_progress = progress or (lambda _f, _t: None)
    closed = closing.in_force(inv, options.period.label)
    filtered = bool(options.filter_text.strip())
    if closed is not None and reprint_closed and not filtered:
        report_progress(0.5, "Reading the closed report")
        report = reprint(inv, closed, options, now)
        report_progress(1.0, "Done")
        return report
    engine = engine or Engine(inv)
    builder = _Builder(inv, engine, options, now, report_progress, cancelled)
    report, _ = builder.build()
    if closed is not None and filtered:
        _mark_filtered_closed(report, builder, closed)
    return report


def build_for_closing(
    inv: Inventory,
    options: ReportOptions,
    engine: Engine | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> tuple[Report, list[dict[str, Any]]]:
    """The report and factors a closing keeps (always computed now, whole inventory).

    The report also keeps each entry's figures (``Report.entry_figures``), so that a
    filtered report of the closed period can be reconciled with what was closed.
    """
    options = dataclasses.replace(options, filter_text="")
    now = dt.datetime.now().astimezone()
    builder = _Builder(
        inv, engine or Engine(inv), options, now, progress or (lambda _f, _t: None), cancelled
    )
    report, factors = builder.build()
    report.entry_figures = _entry_figures(builder.entry.rows)
    return report, factors


def _entry_figures(rows: list[EstimateRow]) -> dict[str, dict[str, float]]:
    """Each entry's closing figures (its phases summed): ``{"deployments:12": {...}}``."""
    out: dict[str, dict[str, float]] = {}
    for r in rows:
        figures = out.setdefault(r.id, dict.fromkeys(closing.FIGURE_KEYS, 0.0))
        for key in closing.FIGURE_KEYS:
            figures[key] += float(getattr(r, key))
    return out


@dataclass
class Reconciliation:
    """A filtered report's figures against a closed snapshot (units as ``closing.FIGURES``).

    ``closed`` is the snapshot's figures for the same entries (``per_entry``) or, when
    the snapshot keeps no per-entry figures, for the whole inventory as reported, and
    then ``current`` is the whole inventory now too."""

    label: str
    closed_at: str
    closed_by: str
    per_entry: bool
    closed: dict[str, float]
    current: dict[str, float]
    entries: int = 0
    missing: int = 0  # entries in the snapshot that no longer match (deleted or renamed)

    @property
    def differs(self) -> bool:
        return any(closing.differs(self.closed[k], self.current[k]) for k in closing.FIGURE_KEYS)

    def sentence(self) -> str:
        """One sentence for the cover."""
        key = "market_kgco2e"
        closed, now = self.closed[key], self.current[key]
        whom = (
            f"For these {self.entries:,} entries the closed snapshot has"
            if self.per_entry
            else "The closed snapshot keeps no per-entry figures; for the whole inventory it has"
        )
        if not self.differs:
            return (
                f"{whom} {format_number(closed)} kgCO2e market-based; the current data "
                "give the same figures."
            )
        change = _change(now, closed)
        pct = f", {format_percent(change, signed=True)}" if change is not None else ""
        return (
            f"{whom} {format_number(closed)} kgCO2e market-based; the current data give "
            f"{format_number(now)} kgCO2e ({format_signed(now - closed)} kgCO2e{pct})."
        )


def snapshot_reconciliation(
    inv: Inventory,
    closed: closing.Closing,
    entries: Collection[tuple[int, int]],
    current: dict[str, float],
    engine: Engine,
) -> Reconciliation:
    """Compare a filtered report's ``current`` totals for ``entries`` with the closed
    snapshot ``closed``: per entry when the snapshot keeps entry figures, else for the
    whole inventory (re-estimated now, without uncertainty draws)."""
    kept = closed.report.get("entry_figures") or {}
    if kept:
        ids = {f"{eng.ENTRY_TABLES[t]}:{i}" for t, i in entries}
        sums = dict.fromkeys(closing.FIGURE_KEYS, 0.0)
        for entry_id in ids & set(kept):
            for key in closing.FIGURE_KEYS:
                sums[key] += float(kept[entry_id].get(key, 0.0))
        now = {k: float(current[k]) for k in closing.FIGURE_KEYS}
        gone = set(kept) - {f"{eng.ENTRY_TABLES[t]}:{i}" for t, i in _all_entries(inv)}
        return Reconciliation(
            closed.label,
            closed.closed_at,
            closed.closed_by,
            True,
            sums,
            now,
            len(ids),
            len(gone),
        )
    whole = engine.estimate(closing.period_of(closed), by="phase", samples=0).totals
    return Reconciliation(
        closed.label,
        closed.closed_at,
        closed.closed_by,
        False,
        closing.reported_totals(inv, closed),
        {k: float(whole[k]) for k in closing.FIGURE_KEYS},
    )


def _all_entries(inv: Inventory) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for index, table in enumerate(eng.ENTRY_TABLES):
        out.extend((index, int(r[0])) for r in inv.conn.execute(f"SELECT id FROM {table}"))
    return out


def _mark_filtered_closed(report: Report, builder: _Builder, closed: closing.Closing) -> None:
    """A filtered report of a closed period: say on the cover that its figures are the
    current data, and reconcile them with the closed snapshot in the summary."""
    rec = snapshot_reconciliation(
        builder.inv, closed, builder.entries or [], report.totals, builder.engine
    )
    report.meta["status"] = (
        f"Closed on {closed.closed_at[:10]} by {closed.closed_by}. Filtered view: the "
        "figures are computed from the current data, not taken from the closed snapshot"
    )
    report.meta["header_status"] = (
        f"Closed {closed.closed_at[:10]}; filtered view of the current data"
    )
    report.meta["snapshot"] = rec.sentence()
    whose = "these entries" if rec.per_entry else "the whole inventory"
    note = (
        f"{rec.label} is closed, but a report limited to some entries cannot be reprinted "
        "from the closed snapshot: its figures are computed from the current data. The "
        f"table compares them, for {whose}, with the figures kept when {rec.label} was "
        f"closed on {rec.closed_at[:10]} by {rec.closed_by}."
    )
    if rec.per_entry and rec.missing:
        note += f" {rec.missing:,} entries of the snapshot no longer exist and are not compared."
    table = Table(
        "reconciliation",
        f"Filtered figures against the closed snapshot of {rec.label}",
        [
            Column("Figure", width=2.2),
            Column("Closed snapshot", "", "number"),
            Column("Current data", "", "number"),
            Column("Difference", "", "delta"),
            Column("Change", "", "change", 0.8),
        ],
        [
            [
                f"{label} ({unit})",
                rec.closed[k],
                rec.current[k],
                rec.current[k] - rec.closed[k],
                _change(rec.current[k], rec.closed[k]),
            ]
            for k, label, unit in closing.FIGURES
        ],
    )
    blocks: list[Any] = [Paragraph(note), table]
    summary = report.section("summary")
    if summary is not None:
        summary.blocks[0:0] = blocks
    else:
        report.sections.insert(0, Section("summary", "Executive summary", blocks))


def reprint(
    inv: Inventory, closed: closing.Closing, options: ReportOptions, now: dt.datetime
) -> Report:
    """A closed period's report as it was closed, with the restatements since listed."""
    report = Report.from_json(closed.report)
    report.entry_figures = {}  # kept for reconciliation, not printed
    report.meta["generated"] = _stamp(now)
    report.meta["status"] = (
        f"Closed on {closed.closed_at[:10]} by {closed.closed_by}; reprinted, figures as closed"
    )
    report.meta["header_status"] = f"Closed {closed.closed_at[:10]}; figures as closed"
    if options.organisation:
        report.meta["organisation"] = options.organisation
    if options.preparer:
        report.meta["preparer"] = options.preparer
    later = [r for r in closing.restatements(inv) if r.closing_id == closed.id]
    pending = [r for r in closing.differences(inv) if r.closing_id == closed.id]
    if later or pending:
        blocks: list[Any] = [
            Paragraph(
                "The figures in this report are those of the closing. These changes to "
                "them were made afterwards; the current figures are in the restated values.",
            ),
            _restatement_table(later, pending),
        ]
        report.sections.insert(
            1 if report.sections and report.sections[0].key == "summary" else 0,
            Section("changes", "Restatements since closing", blocks),
        )
    return report


def _stamp(now: dt.datetime) -> str:
    return now.strftime("%Y-%m-%d %H:%M %Z").strip()


def _number_columns(share: bool = True) -> list[Column]:
    cols = [
        Column("Energy", "kWh", "number"),
        Column("Location", "kgCO2e", "number"),
        Column("Market", "kgCO2e", "number"),
        Column("Savings", "kgCO2e", "number"),
        Column("Water", "L", "number", 0.85),
    ]
    if share:
        cols.append(Column("Market share", "%", "percent", 0.85))
    return cols


def _figures(r: EstimateRow | dict[str, float], market_total: float, share: bool = True) -> list:
    get = r.get if isinstance(r, dict) else lambda k: getattr(r, k)
    values = [
        get("energy_kwh"),
        get("location_kgco2e"),
        get("market_kgco2e"),
        get("savings_kgco2e"),
        get("water_l"),
    ]
    if share:
        values.append(get("market_kgco2e") / market_total if market_total else None)
    return values


def _change(now: float, before: float) -> float | None:
    return (now - before) / before if before else None


class _Builder:
    def __init__(
        self,
        inv: Inventory,
        engine: Engine,
        options: ReportOptions,
        now: dt.datetime,
        progress: Progress,
        cancelled: Cancelled | None = None,
    ):
        self.inv, self.engine, self.o, self.now = inv, engine, options, now
        self._progress = progress
        self.cancelled = cancelled or (lambda: False)
        self.period = options.period
        text = options.filter_text.strip()
        self.entries = matching_entries(inv, text) if text else None

    def check(self) -> None:
        """Raise :class:`ReportCancelled` if the user cancelled."""
        if self.cancelled():
            raise ReportCancelled

    def progress(self, fraction: float, text: str) -> None:
        self.check()
        self._progress(fraction, text)

    def est(self, period: Period, by: str, samples: int = 0) -> Estimate:
        self.check()  # before each estimate: the steps that take time
        return self.engine.estimate(
            period, by=by, samples=samples, seed=self.o.seed, entries=self.entries
        )

    def build(self) -> tuple[Report, list[dict[str, Any]]]:
        o, p = self.o, self.period
        self.progress(0.05, "Estimating the period")
        entry = self.est(p, "entry", o.samples)
        self.totals = entry.totals
        self.entry = entry
        self.progress(0.3, "Estimating the comparisons")
        self.previous = self.est(p.previous(), "phase").totals
        last_year = year_before(p)
        self.last_year_period = last_year
        self.last_year = self.est(last_year, "phase").totals
        self.progress(0.45, "Estimating the trend")
        self.quarters = trend_quarters(p)
        self.trend = [self.est(q, "phase") for q in self.quarters]
        self.progress(0.6, "Building the tables")
        self.factors = factors_used(self.engine, p, self.entries, entry)
        closed = closing.in_force(self.inv, p.label)
        meta = {
            "title": "AI greenhouse-gas emissions report",
            "organisation": o.organisation or "",
            "preparer": o.preparer or os_user(),
            "period": p.label,
            "period_dates": f"{p.start.isoformat()} to {p.end.isoformat()}",
            "inventory": self.inv.path.name,
            "scope": (
                f"Entries whose name, model or site contains \u201c{o.filter_text.strip()}\u201d "
                f"({len(self.entries or []):,} entries)"
                if self.entries is not None
                else "Whole inventory"
            ),
            "app_version": __version__,
            "generated": _stamp(self.now),
            "status": (
                f"Closed on {closed.closed_at[:10]} by {closed.closed_by}"
                if closed is not None
                else "Draft: the period is not closed"
            ),
            "convention": self.engine.convention,
            "uncertainty": f"{o.samples:,} Monte Carlo samples, seed {o.seed}",
        }
        sections = [
            Section("summary", "Executive summary", self.summary()),
            Section("charts", "Trends and top emitters", self.charts()),
            Section("breakdown", "Emissions by phase, scope, model, deployment and site", []),
            Section("top", "Top emitters", [self.top_table()]),
            Section("quality", "Data quality", self.quality()),
            Section("methodology", "Methodology and emission factors", self.methodology()),
            Section("changes", "Changes since the last report and assumptions", self.changes()),
            Section("signoff", "Sign-off", self.signoff()),
        ]
        self.progress(0.75, "Building the tables")
        sections[2].blocks = self.breakdown()
        titles = dict(SECTIONS)
        for s in sections:
            s.title = titles.get(s.key, s.title) if s.key != "charts" else s.title
        self.progress(1.0, "Done")
        totals = {k: float(v) for k, v in self.totals.items()}
        return Report(meta, totals, sections), self.factors

    # -- sections -------------------------------------------------------------------

    def summary(self) -> list[Any]:
        t, prev, ly = self.totals, self.previous, self.last_year
        p = self.period
        market, loc = t["market_kgco2e"], t["location_kgco2e"]
        renewable = renewable_share(t)
        blocks: list[Any] = [
            KeyFigure(
                "Market-based emissions",
                market,
                "kgCO2e",
                _vs(market, prev["market_kgco2e"], ly["market_kgco2e"], p, self.last_year_period),
            ),
            KeyFigure(
                "Location-based emissions",
                loc,
                "kgCO2e",
                _vs(loc, prev["location_kgco2e"], ly["location_kgco2e"], p, self.last_year_period),
            ),
            KeyFigure(
                "Savings from renewable sourcing",
                t["savings_kgco2e"],
                "kgCO2e",
                f"{format_percent(t['savings_kgco2e'] / loc if loc else None)} of location-based; "
                f"renewable electricity {format_percent(renewable)} of energy "
                f"({format_number(t.get('renewable_kwh', 0.0))} kWh)",
            ),
            KeyFigure(
                "Uncertainty range (P5–P95, location-based)",
                None,
                "",
                f"{format_number(t['low_kgco2e'])} – {format_number(t['high_kgco2e'])} kgCO2e",
            ),
            KeyFigure(
                "Energy (facility, PUE included)",
                t["energy_kwh"],
                "kWh",
                _vs(
                    t["energy_kwh"], prev["energy_kwh"], ly["energy_kwh"], p, self.last_year_period
                ),
            ),
            KeyFigure(
                "Water (on-site cooling)",
                t["water_l"],
                "L",
                _vs(t["water_l"], prev["water_l"], ly["water_l"], p, self.last_year_period),
            ),
        ]
        blocks.append(Paragraph(self._summary_text(renewable)))
        comparison = Table(
            "comparison",
            "Comparison with earlier periods",
            [
                Column("Figure", width=2.2),
                Column(p.label, "", "number"),
                Column(p.previous().label, "", "number"),
                Column(f"Change vs {p.previous().label}", "", "change", 0.9),
                Column(self.last_year_period.label, "", "number"),
                Column(f"Change vs {self.last_year_period.label}", "", "change", 0.9),
            ],
            [
                [
                    f"{label} ({unit})",
                    t[k],
                    prev[k],
                    _change(t[k], prev[k]),
                    ly[k],
                    _change(t[k], ly[k]),
                ]
                for k, label, unit in closing.FIGURES
            ],
        )
        blocks.append(comparison)
        if self.entry.equivalences:
            eq = Table(
                "equivalences",
                "What the location-based emissions are comparable to",
                [
                    Column("Equivalent", width=2.4),
                    Column("Amount", "", "number", 0.9),
                    Column("Factor", width=1.2),
                    Column("Source", width=2.6),
                ],
                [
                    [
                        q["what"][:1].upper() + q["what"][1:],
                        q["value"],
                        f"{_g(q['factor'])} {q['unit']}",
                        f"{q['source']}, {q['year']}",
                    ]
                    for q in self.entry.equivalences
                ],
            )
            blocks.append(eq)
        return blocks

    def _summary_text(self, renewable: float | None) -> str:
        t, prev, p = self.totals, self.previous, self.period
        org = self.o.organisation.strip() or "the organisation"
        change = _change(t["market_kgco2e"], prev["market_kgco2e"])
        trend = (
            f"{'up' if change > 0 else 'down'} {format_percent(abs(change))} on "
            f"{p.previous().label}"
            if change is not None
            else f"with no emissions recorded in {p.previous().label}"
        )
        phases = self.trend[-1].rows if self.trend else []
        top_phase = max(phases, key=lambda r: r.market_kgco2e, default=None)
        text = (
            f"In {p.label} ({p.start.day} {p.start:%B %Y} to {p.end.day} {p.end:%B %Y}) "
            f"{org}'s AI caused "
            f"{format_number(t['market_kgco2e'])} kgCO2e market-based and "
            f"{format_number(t['location_kgco2e'])} kgCO2e location-based emissions, the "
            f"market-based figure {trend}. "
        )
        if top_phase is not None and len(self.quarters) and self.quarters[-1] == p:
            phase = PHASE_LABELS.get(top_phase.id, top_phase.name).split(" (")[0]
            phase = phase if phase.startswith("API") else phase.lower()
            text += (
                f"The largest phase was {phase}"
                f" ({format_number(top_phase.market_kgco2e)} kgCO2e market-based). "
            )
        if renewable is not None:
            text += (
                f"Renewable instruments covered {format_percent(renewable)} of the "
                f"energy ({format_number(t.get('renewable_kwh', 0.0))} kWh) and avoided "
                f"{format_number(t['savings_kgco2e'])} kgCO2e. "
            )
        text += (
            f"Facility energy was {format_number(t['energy_kwh'])} kWh and on-site water "
            f"{format_number(t['water_l'])} L. The location-based figure lies between "
            f"{format_number(t['low_kgco2e'])} and {format_number(t['high_kgco2e'])} kgCO2e "
            "with 90 % probability (P5–P95)."
        )
        return text

    def charts(self) -> list[Any]:
        labels = [q.label for q in self.quarters]
        phase_series = [
            Series(
                PHASE_LABELS[k],
                k,
                [next((r.location_kgco2e for r in e.rows if r.id == k), 0.0) for e in self.trend],
            )
            for k in eng.KINDS
        ]
        top = self._top_rows()[:TOP_N]
        return [
            Chart(
                "trend",
                "Location-based emissions by phase, by quarter",
                "stacked",
                "kgCO2e",
                labels,
                phase_series,
            ),
            Chart(
                "savings",
                "Location-based and market-based emissions, and savings from renewable sourcing",
                "grouped",
                "kgCO2e",
                labels,
                [
                    Series(
                        "Location-based",
                        "location",
                        [e.totals["location_kgco2e"] for e in self.trend],
                    ),
                    Series(
                        "Market-based", "market", [e.totals["market_kgco2e"] for e in self.trend]
                    ),
                    Series("Savings", "savings", [e.totals["savings_kgco2e"] for e in self.trend]),
                ],
            ),
            Chart(
                "top",
                f"Top {len(top)} emitters in {self.period.label} (location-based)",
                "bars",
                "kgCO2e",
                [r["name"] for r in top],
                [Series("Location-based", "location", [r["location_kgco2e"] for r in top])],
                [r["kind"] for r in top],
            ),
        ]

    def _top_rows(self) -> list[dict[str, Any]]:
        """Entries (phases of one entry merged), largest location-based first."""
        merged: dict[str, dict[str, Any]] = {}
        for r in self.entry.rows:
            m = merged.get(r.id)
            if m is None:
                merged[r.id] = m = {
                    "id": r.id,
                    "name": r.name,
                    "kind": r.kind,
                    "kinds": [],
                    "scope": r.scope,
                    "energy_kwh": 0.0,
                    "location_kgco2e": 0.0,
                    "market_kgco2e": 0.0,
                    "savings_kgco2e": 0.0,
                    "water_l": 0.0,
                }
            m["kinds"].append(r.kind)
            for k in (
                "energy_kwh",
                "location_kgco2e",
                "market_kgco2e",
                "savings_kgco2e",
                "water_l",
            ):
                m[k] += getattr(r, k)
        return sorted(merged.values(), key=lambda m: -m["location_kgco2e"])

    def top_table(self) -> Table:
        loc_total = self.totals["location_kgco2e"]
        rows = [
            [
                i + 1,
                m["name"],
                ", ".join(PHASE_LABELS[k].split(" (")[0].lower() for k in m["kinds"]),
                m["scope"],
                m["location_kgco2e"],
                m["market_kgco2e"],
                m["location_kgco2e"] / loc_total if loc_total else None,
            ]
            for i, m in enumerate(self._top_rows()[:TOP_N])
        ]
        return Table(
            "top_emitters",
            f"Top {len(rows)} emitters (training runs and deployments)",
            [
                Column("#", "", "int", 0.35),
                Column("Entry", width=3.0),
                Column("Phases", width=1.6),
                Column("Scope", width=1.2),
                Column("Location", "kgCO2e", "number"),
                Column("Market", "kgCO2e", "number"),
                Column("Location share", "%", "percent", 0.85),
            ],
            rows,
        )

    def breakdown(self) -> list[Any]:
        p, t = self.period, self.totals
        market = t["market_kgco2e"]
        total_row = ["Total", *_figures(t, market)]
        phase = self.est(p, "phase")
        scope = self.est(p, "scope")
        model = self.est(p, "model")
        site = self.est(p, "site")
        order = {k: i for i, k in enumerate(eng.KINDS)}
        blocks: list[Any] = [
            Table(
                "by_phase",
                "By lifecycle phase",
                [Column("Phase", width=2.2), *_number_columns()],
                [
                    [PHASE_LABELS.get(r.id, r.name), *_figures(r, market)]
                    for r in sorted(phase.rows, key=lambda r: order.get(r.id, 9))
                ],
                total_row,
            ),
            Table(
                "by_scope",
                "By GHG Protocol scope and category",
                [Column("Scope", width=1.2), Column("Category", width=2.6), *_number_columns()],
                [
                    [r.name, SCOPE_CATEGORIES.get(r.name, ""), *_figures(r, market)]
                    for r in scope.rows
                ],
                ["Total", "", *_figures(t, market)],
            ),
            Table(
                "by_model",
                "By model",
                [Column("Model", width=2.6), *_number_columns()],
                [[r.name, *_figures(r, market)] for r in model.rows],
                total_row,
            ),
        ]
        sites = _site_regions(self.inv)
        deployment_sites = _entry_sites(self.inv, "deployments")
        run_sites = _entry_sites(self.inv, "training_runs")
        entries = self._top_rows()
        for table, title, where in (
            ("deployments", "By deployment", deployment_sites),
            ("training_runs", "By training run", run_sites),
        ):
            rows = [
                [m["name"], where.get(int(m["id"].split(":")[1]), ""), *_figures(m, market)]
                for m in entries
                if m["id"].startswith(table + ":")
            ]
            if not rows:
                continue
            sums = [sum(r[i] or 0.0 for r in rows) for i in range(2, 8)]
            blocks.append(
                Table(
                    f"by_{table}",
                    title,
                    [
                        Column(title.split()[-1].capitalize(), width=2.4),
                        Column("Site", width=1.8),
                        *_number_columns(),
                    ],
                    rows,
                    ["Total", "", *sums],
                    note="Embodied emissions of an entry's hardware are included in its row.",
                )
            )
        blocks.append(
            Table(
                "by_site",
                "By site and region",
                [
                    Column("Site", width=1.8),
                    Column("Region", width=1.15),
                    *_number_columns(),
                    Column("Renewable share", "%", "percent", 1.15),
                ],
                [
                    [r.name, sites.get(r.id, ""), *_figures(r, market), renewable_share(r)]
                    for r in site.rows
                ],
                ["Total", "", *_figures(t, market), renewable_share(t)],
                note="Renewable share: the site's energy covered by renewable instruments "
                "(renewable kWh / energy kWh).",
            )
        )
        return blocks

    def quality(self) -> list[Any]:
        rows = self.entry.rows
        loc_total = sum(r.location_kgco2e for r in rows)
        tiers = []
        for tier in eng.TIERS:
            mine = [r for r in rows if r.method_tier == tier]
            if not mine:
                continue
            kg = sum(r.location_kgco2e for r in mine)
            tiers.append(
                [
                    tier,
                    TIER_TEXT[tier],
                    len({r.id for r in mine}),
                    kg,
                    kg / loc_total if loc_total else None,
                ]
            )
        widest = sorted(
            (r for r in rows if r.location_kgco2e > 0),
            key=lambda r: -(r.high_kgco2e - r.low_kgco2e),
        )[:TOP_N]
        blocks: list[Any] = [
            Paragraph(
                "Each entry's figures come from the best data it has: measured energy first, "
                "then activity (device-hours, requests), then tokens, then defaults. The "
                "share of emissions by method tier shows how much of the total rests on "
                "estimates."
            ),
            Table(
                "method_tiers",
                "Share of location-based emissions by method tier",
                [
                    Column("Tier", width=1.2),
                    Column("Method", width=3.2),
                    Column("Entries", "", "int", 0.7),
                    Column("Location", "kgCO2e", "number"),
                    Column("Location share", "%", "percent", 0.9),
                ],
                tiers,
            ),
            Table(
                "largest_uncertainty",
                "Entries with the largest uncertainty (P5–P95 of location-based emissions)",
                [
                    Column("Entry", width=2.6),
                    Column("Phase", width=1.2),
                    Column("Tier", width=1.3),
                    Column("Location", "kgCO2e", "number"),
                    Column("P5", "kgCO2e", "number"),
                    Column("P95", "kgCO2e", "number"),
                    Column("(P95 − P5) / location", "%", "percent", 1.05),
                ],
                [
                    [
                        r.name,
                        PHASE_LABELS.get(r.kind, r.kind).split(" (")[0],
                        r.method_tier,
                        r.location_kgco2e,
                        r.low_kgco2e,
                        r.high_kgco2e,
                        (r.high_kgco2e - r.low_kgco2e) / r.location_kgco2e,
                    ]
                    for r in widest
                ],
                note="Largest P5–P95 range in kgCO2e first; one row per entry and phase.",
            ),
        ]
        if self.entry.drivers:
            blocks.append(
                Paragraph(
                    "Largest contributors to the total's uncertainty: "
                    + "; ".join(
                        f"{d['name']} ({format_percent(d['share_of_variance'])} of the variance)"
                        for d in self.entry.drivers[:5]
                    )
                    + ".",
                    "note",
                )
            )
        return blocks

    def methodology(self) -> list[Any]:
        convention = self.engine.convention
        embodied = (
            "Embodied emissions of hardware are amortised: each device's manufacturing "
            "emissions (plus a server share per accelerator) are spread over its lifetime "
            "and counted by the hours it is used (kgCO2e = device-hours × embodied / "
            "(lifetime × 8,760 h)), as AI footprint tools do."
            if convention == "amortised"
            else "Embodied emissions of self-hosted hardware are counted as capital goods: "
            "in full in the quarter the hardware came into use (GHG Protocol Scope 3 "
            "category 2); cloud and API hardware stays amortised within the service."
        )
        return [
            Paragraph(
                "Energy is facility energy: IT energy times the site's power usage "
                "effectiveness (PUE). Each entry uses the best data it has:"
            ),
            Paragraph(
                "measured: energy (kWh) as metered, converted by its boundary to IT energy",
                "formula",
            ),
            Paragraph(
                "activity: device-hours × power (W) / 1000 × (1 + host overhead) = IT kWh",
                "formula",
            ),
            Paragraph(
                "per request or token: count × energy per unit (published measurements)", "formula"
            ),
            Paragraph(
                "facility kWh = IT kWh × PUE;  water (L) = IT kWh × on-site WUE (L/kWh)", "formula"
            ),
            Paragraph(
                "Location-based emissions multiply facility energy by the grid's average "
                "intensity for the site's zone and year (GHG Protocol Scope 2 guidance). "
                "Market-based emissions use the factor of contractual instruments (PPAs, "
                "green tariffs, certificates, supplier factors) for the energy they cover "
                "and the location factor for the rest; savings are the difference."
            ),
            Paragraph("kgCO2e = facility kWh × grid factor (gCO2e/kWh) / 1000", "formula"),
            Paragraph(f"Embodied convention: {convention}. {embodied}"),
            Paragraph(
                "Uncertainty: a seeded Monte Carlo "
                f"({self.o.samples:,} samples, seed {self.o.seed}) over each input's "
                "published range; shared assumptions are drawn once per sample. Grid "
                "factors carry no published range and are not varied."
            ),
            Table(
                "factors",
                "Emission factors and parameters used",
                [
                    Column("Factor", width=2.0),
                    Column("Value", width=1.3),
                    Column("Applies to", width=1.6),
                    Column("Source", width=2.8),
                    Column("Year", width=0.55),
                    Column("Licence", width=0.95),
                ],
                [
                    [
                        f["factor"],
                        _value_text(f),
                        f["applies_to"],
                        f["source"],
                        f["year"],
                        f["licence"],
                    ]
                    for f in self.factors
                ],
            ),
        ]

    def changes(self) -> list[Any]:
        closings = [c for c in closing.closed_periods(self.inv) if c.label != self.period.label]
        earlier = [c for c in closings if c.start < self.period.start.isoformat()]
        since = max((c.closed_at for c in earlier), default=None)
        recorded = closing.restatements(self.inv, since)
        pending = closing.differences(self.inv, self.engine)
        blocks: list[Any] = []
        if earlier:
            blocks.append(
                Paragraph(
                    "Restatements of closed periods recorded since the last closing ("
                    f"{earlier[-1].label}, closed {since[:10] if since else ''}):"
                )
            )
        if recorded or pending:
            blocks.append(_restatement_table(recorded, pending))
        else:
            blocks.append(Paragraph("No closed period has been restated since the last report."))
        blocks.append(Paragraph("Assumptions and notes", "heading"))
        notes = list(self.entry.notes)
        for name in ("utilisation_training", "utilisation_inference", "host_overhead_ratio"):
            f = self.engine.assumptions.params.get(name)
            if f is not None:
                notes.append(
                    f"Default {name.replace('_', ' ')}: {_g(f.value)} {f.unit} ({f.source})."
                )
        blocks.extend(Paragraph(n, "bullet") for n in notes)
        return blocks

    def signoff(self) -> list[Any]:
        return [
            Paragraph(
                "The undersigned confirm that this report was prepared from the inventory "
                "named on the cover with the method and factors stated above."
            ),
            SignOff(
                [
                    ("Prepared by", self.o.preparer or os_user()),
                    ("Reviewed by", ""),
                    ("Approved by", ""),
                ]
            ),
        ]


def _vs(now: float, prev: float, last_year: float, p: Period, ly: Period) -> str:
    parts = []
    for value, label in ((prev, p.previous().label), (last_year, ly.label)):
        change = _change(now, value)
        parts.append(
            f"{format_percent(change, signed=True)} vs {label}"
            if change is not None
            else f"none in {label}"
        )
    return "; ".join(parts)


def _value_text(f: dict[str, Any]) -> str:
    return f["unit"] if f["value"] is None else f"{_g(f['value'])} {f['unit']}"


def _g(value: float) -> str:
    return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"


def renewable_share(figures: EstimateRow | dict[str, float]) -> float | None:
    """Share of the energy (facility kWh) covered by renewable instruments (PPAs, green
    tariffs, certificates): ``renewable_kwh / energy_kwh`` as the engine gives them;
    None without energy."""
    get = figures.get if isinstance(figures, dict) else lambda k, d=0.0: getattr(figures, k, d)
    energy = float(get("energy_kwh", 0.0))
    return float(get("renewable_kwh", 0.0)) / energy if energy > 0 else None


def _restatement_table(
    recorded: list[closing.Restatement], pending: list[closing.Restatement]
) -> Table:
    rows = [
        [
            r.period_label,
            f"{r.label} ({r.unit})",
            r.old_value,
            r.new_value,
            _change(r.new_value, r.old_value),
            r.reason,
            f"{r.at[:10]} {r.os_user}",
        ]
        for r in recorded
    ] + [
        [
            r.period_label,
            f"{r.label} ({r.unit})",
            r.old_value,
            r.new_value,
            _change(r.new_value, r.old_value),
            "Not recorded: changed outside a confirmed edit (reference data or settings)",
            "",
        ]
        for r in pending
    ]
    return Table(
        "restatements",
        "Restatements of closed periods",
        [
            Column("Period", width=0.8),
            Column("Figure", width=1.9),
            Column("Reported", "", "number", 0.9),
            Column("Restated", "", "number", 0.9),
            Column("Change", "", "change", 0.75),
            Column("Reason", width=2.2),
            Column("Recorded", width=1.2),
        ],
        rows,
    )


def _site_regions(inv: Inventory) -> dict[str, str]:
    rows = inv.conn.execute(
        "SELECT id, coalesce(region_code, grid_region, country, '') FROM sites"
    ).fetchall()
    return {f"sites:{r[0]}": r[1] or "" for r in rows}


def _entry_sites(inv: Inventory, table: str) -> dict[int, str]:
    rows = inv.conn.execute(
        f"SELECT e.id, coalesce(s.name, '') FROM {table} e LEFT JOIN sites s ON s.id = e.site_id"
    ).fetchall()
    return {int(r[0]): r[1] for r in rows}


# -- factors used ---------------------------------------------------------------------


def factors_used(
    engine: Engine,
    period: Period,
    entries: Collection[tuple[int, int]] | None = None,
    estimate: Estimate | None = None,
) -> list[dict[str, Any]]:
    """The factors behind the period's figures, each with value, unit, what it applied
    to, source, year and licence: grid factors by zone and year, shared parameters,
    default PUEs, embodied-emission figures, inference-energy datasets and the
    equivalence factors."""
    p, lines, a = engine.pieces, engine.lines, engine.assumptions
    keep = p.weights(period) > 0
    if entries is not None:
        wanted = np.array([t * 10**12 + i for t, i in entries], dtype=np.int64)
        key = lines.entry_table[p.line].astype(np.int64) * 10**12 + lines.entry_id[p.line]
        keep &= np.isin(key, wanted)
    out: list[dict[str, Any]] = []
    grid: dict[tuple[str, int], dict[str, Any]] = {}
    energy = keep & (p.facility_kwh > 0)
    # pieces priced with the site's own factor (no lookup): one row per site
    own = np.flatnonzero(energy & (p.lookup_code < 0))
    sites_seen, first = np.unique(lines.site[p.line[own]], return_index=True)
    for site, i in zip(sites_seen.tolist(), own[first].tolist(), strict=True):
        name = engine.sites.names[site]
        grid[(f"site:{name}", 0)] = _factor(
            "Grid factor (site's own)",
            float(p.factor_g_per_kwh[i]),
            "gCO2e/kWh",
            name,
            "stated on the site record",
            "",
            "",
        )
    codes = np.unique(p.lookup_code[energy])
    named: dict[tuple[str, int], set[str]] = {}
    for code in codes[codes >= 0].tolist():
        lk = p.lookup_table[code]
        k = (lk.zone, lk.year)
        applies = lk.requested_zone + (f" ({lk.fallback})" if lk.fallback else "")
        if k not in grid:
            f = lk.factor
            grid[k] = _factor(
                f"Grid factor {lk.zone} {lk.year}",
                lk.value,
                f"g{lk.gas}/kWh",
                applies,
                f.source,
                f.year,
                f.licence,
            )
            named[k] = {applies}
        elif applies not in named[k]:
            # one factor serves several requested zones (a cloud region priced with its
            # country's factor): every one of them is named
            named[k].add(applies)
            grid[k]["applies_to"] += f"; {applies}"
    out.extend(grid[k] for k in sorted(grid, key=lambda k: (k[0], k[1])))
    used = int(np.bitwise_or.reduce(lines.shared[p.line[keep]])) if keep.any() else 0
    for bit, name in enumerate(eng.SHARED):
        if used & (1 << bit) and name != "pue_default" and name in a.params:
            f = a.param(name)
            out.append(
                _factor(
                    _param_label(name),
                    f.value,
                    f.unit,
                    "default where not stated",
                    f.source,
                    f.year,
                    f.licence,
                )
            )
    if used & eng.PUE_DEF:
        sites = sorted(
            {
                int(s)
                for s in lines.site[p.line[keep]][(lines.shared[p.line[keep]] & eng.PUE_DEF) > 0]
            }
        )
        by_source: dict[str, list[str]] = {}
        for s in sites:
            by_source.setdefault(
                f"{engine.sites.pue[s]:.3g}|{engine.sites.pue_source[s]}", []
            ).append(engine.sites.names[s])
        for k, names in by_source.items():
            value, source = k.split("|", 1)
            param = next((f for f in a.params.values() if f.source == source), None)
            out.append(
                _factor(
                    "PUE (default)",
                    float(value),
                    "ratio",
                    _few(names),
                    source,
                    param.year if param else "",
                    param.licence if param else "",
                )
            )
    embodied = keep & (lines.kind[p.line] == eng.EMBODIED)
    if embodied.any():
        hw = engine.hardware
        for h in sorted({int(x) for x in lines.hardware[p.line[embodied]]}):
            if h < len(hw.names) and not np.isnan(hw.embodied[h]):
                source = _hardware_source(engine, hw.names[h])
                out.append(
                    _factor(
                        f"Embodied {hw.names[h]}",
                        float(hw.embodied[h]),
                        "kgCO2e per unit",
                        "hardware manufacturing",
                        source,
                        "",
                        "",
                    )
                )
    tiers = {int(x) for x in lines.tier[p.line[keep & (lines.kind[p.line] != eng.EMBODIED)]]}
    families = set()
    if eng.TOKEN in tiers:
        families.add("ecologits:")
    if eng.ACTIVITY in tiers or eng.DEFAULT in tiers:
        families.update({"php:", "mlenergy:"})
    sources: dict[str, dict[str, Any]] = {}
    for key, row in a.inference.items():
        if any(key.startswith(f) for f in families):
            src = str(row.get("source", ""))
            sources.setdefault(
                src, {"keys": 0, "year": row.get("year", ""), "licence": row.get("licence", "")}
            )
            sources[src]["keys"] += 1
    for src, info in sorted(sources.items()):
        out.append(
            _factor(
                "Inference energy dataset",
                None,
                f"{info['keys']} figures",
                "estimated inference energy",
                src,
                info["year"],
                info["licence"],
            )
        )
    for q in estimate.equivalences if estimate else []:
        out.append(
            _factor(
                f"Equivalence: {q['what']}",
                q["factor"],
                q["unit"],
                "summary only",
                q["source"],
                q["year"],
                "",
            )
        )
    return out


def _factor(
    name: str, value: float | None, unit: str, applies: str, source: str, year: Any, licence: str
) -> dict[str, Any]:
    return {
        "factor": name,
        "value": value,
        "unit": unit,
        "applies_to": applies,
        "source": source or "",
        "year": "" if year is None else str(year),
        "licence": licence or "",
    }


def _param_label(name: str) -> str:
    """A shared parameter's name for people: ``embodied_lifetime_years`` ->
    ``Embodied lifetime`` (the unit is printed with the value)."""
    words = name.split("_")
    while len(words) > 1 and words[-1] in ("kgco2e", "years", "kwh", "w", "ratio"):
        words.pop()
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _few(names: list[str], n: int = 3) -> str:
    return ", ".join(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "")


def _hardware_source(engine: Engine, name: str) -> str:
    row = engine.inv.conn.execute("SELECT source FROM hardware WHERE name = ?", (name,)).fetchone()
    return row[0] if row and row[0] else "hardware record"
