"""Reports of closed periods (``core.closing``): :func:`reprint` gives a closed period's
report from its snapshot, with the restatements since listed; a filtered report of a
closed period is computed from the current data and reconciled with the snapshot's
figures (:class:`Reconciliation`, :func:`snapshot_reconciliation`); a closing keeps each
entry's figures for that (:func:`_entry_figures`).

Units as ``closing.FIGURES``: energy in kWh, emissions in kgCO2e, water in litres.
Part of :mod:`core.report`, which re-exports the public names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core import closing
from core import engine as eng
from core.estimate import Engine, EstimateRow
from core.inventory import Inventory
from core.report_model import (
    Column,
    Paragraph,
    Report,
    Section,
    Table,
    format_number,
    format_percent,
    format_signed,
)
from core.report_options import ReportOptions
from core.report_tables import _change, _restatement_table, _stamp

if TYPE_CHECKING:
    from core.report_sections import _Builder


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
        # in the snapshot's order: a set's order changes from one run to the next, and
        # so would the last digits of the sums
        for entry_id in (e for e in kept if e in ids):
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
