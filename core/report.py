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

The pieces live in domain modules and are re-exported here: options, scope filter and
comparison periods in :mod:`core.report_options`; the content sections in
:mod:`core.report_sections`; closed-period reprints and reconciliation in
:mod:`core.report_closed`; the factors used in :mod:`core.report_factors`; labels and
table helpers in :mod:`core.report_tables`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from core import closing
from core.estimate import Engine
from core.inventory import Inventory
from core.report_closed import (
    Reconciliation,
    _entry_figures,
    _mark_filtered_closed,
    reprint,
    snapshot_reconciliation,
)
from core.report_factors import factors_used
from core.report_model import Report
from core.report_options import (
    Cancelled,
    Progress,
    ReportCancelled,
    ReportOptions,
    matching_entries,
    trend_quarters,
    year_before,
)
from core.report_sections import _Builder
from core.report_tables import (
    PHASE_LABELS,
    SCOPE_CATEGORIES,
    TIER_TEXT,
    TOP_N,
    renewable_share,
)

__all__ = [
    "PHASE_LABELS",
    "SCOPE_CATEGORIES",
    "TIER_TEXT",
    "TOP_N",
    "Cancelled",
    "Progress",
    "Reconciliation",
    "ReportCancelled",
    "ReportOptions",
    "build_for_closing",
    "build_report",
    "factors_used",
    "matching_entries",
    "renewable_share",
    "reprint",
    "snapshot_reconciliation",
    "trend_quarters",
    "year_before",
]


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
