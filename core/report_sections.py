"""The report's content sections, built from the engine by :class:`_Builder`: executive
summary, charts, breakdown tables, top emitters, data quality, methodology and factors,
changes and assumptions, sign-off.

Units: energy in kWh (facility, PUE included), emissions in kgCO2e, water in litres.
Part of :mod:`core.report`; :func:`core.report.build_report` drives the builder.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from core import __version__, closing
from core import engine as eng
from core.estimate import Engine, Estimate
from core.inventory import Inventory, os_user
from core.periods import Period
from core.quiet_gc import quiet_gc
from core.report_factors import factors_used
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
)
from core.report_options import (
    Cancelled,
    Progress,
    ReportCancelled,
    ReportOptions,
    matching_entries,
    trend_quarters,
    year_before,
)
from core.report_tables import (
    PHASE_LABELS,
    SCOPE_CATEGORIES,
    TIER_TEXT,
    TOP_N,
    _change,
    _entry_sites,
    _figures,
    _g,
    _number_columns,
    _restatement_table,
    _site_regions,
    _stamp,
    _value_text,
    _vs,
    renewable_share,
)


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
        self._top: list[dict[str, Any]] | None = None

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
        """Entries (phases of one entry merged), largest location-based first.

        Merged once per report (the charts, the top table and the breakdown read it; the
        callers only read the dicts) and with the cyclic collector paused: at 10x the
        largest realistic inventory that is 577,000 rows, 15 s of a 79 s report build
        when each caller merged them again with collections running."""
        if self._top is None:
            with quiet_gc():
                self._top = self._merge_entries()
        return self._top

    def _merge_entries(self) -> list[dict[str, Any]]:
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
            "category 2), for each self-hosted deployment at an own or colocation site with "
            "a start date and a device count (the purchase record). Own hardware with no "
            "purchase record, such as a training cluster, stays amortised by the "
            "device-hours it is used, so that it is not left out. Cloud hardware stays "
            "amortised within the service; API providers' hardware is not included (not "
            "published)."
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
                "factors vary by +-10 % for the zone and year, more where a fallback year, "
                "country or world factor stood in (drawn per entry, not shared)."
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
