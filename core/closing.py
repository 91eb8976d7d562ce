"""Closing a reported period, restatements, and reopening.

Closing a period keeps a snapshot in the inventory (table ``closed_periods``): its
totals (kWh, kgCO2e, L), the emission factors used (source, year, licence) and the
report's whole content as JSON. Reprinting a closed period shows the snapshot, so
updated reference data or later edits never change a reported figure silently.

A later edit that changes a closed period's figures is a *restatement*: the old value,
the new value and the reason are kept (table ``restatements``) and the next report lists
them. :class:`GuardedCommand` wraps any edit so that this happens before it is saved:
the edit runs inside an outer transaction, the closed periods are re-estimated on the
edited data, and ``confirm`` (the UI asks the user) either gives a reason, which is
recorded with the edit, or declines, which rolls everything back.

Reopening is deliberate: it needs a reason and is written to the change log. At most
one closing of a period is in force; a reopened closing keeps its row as history.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import LedgerError, ValidationError
from core.inventory import Inventory, now_iso, os_user
from core.periods import Period

if TYPE_CHECKING:
    from core.commands import Command
    from core.estimate import Engine
    from core.report_model import Report

#: the totals a closing keeps and restatements track: (key, label, unit)
FIGURES: tuple[tuple[str, str, str], ...] = (
    ("market_kgco2e", "Market-based emissions", "kgCO2e"),
    ("location_kgco2e", "Location-based emissions", "kgCO2e"),
    ("energy_kwh", "Energy", "kWh"),
    ("water_l", "Water", "L"),
)
FIGURE_LABELS = {k: (label, unit) for k, label, unit in FIGURES}
FIGURE_KEYS = tuple(k for k, _, _ in FIGURES)


class PeriodClosedError(ValidationError):
    """The period is already closed (reopen it first)."""


class PeriodNotClosedError(ValidationError):
    """The period is not closed, so it cannot be reopened."""


class EditDeclinedError(LedgerError):
    """The user declined an edit that would restate a closed period; nothing was saved."""


@dataclass
class Closing:
    """One closing of a period (in force while ``reopened_at`` is None)."""

    id: int
    label: str
    start: str
    end: str
    closed_at: str
    closed_by: str
    app_version: str
    totals: dict[str, float]
    factors: list[dict[str, Any]]
    report: dict[str, Any]
    reopened_at: str | None = None
    reopened_by: str | None = None
    reopen_reason: str | None = None


@dataclass
class Restatement:
    """A closed period's figure changed after closing (values in the figure's unit)."""

    period_label: str
    figure: str
    old_value: float
    new_value: float
    reason: str = ""
    at: str = ""
    os_user: str = ""
    change: str = ""
    closing_id: int = 0

    @property
    def label(self) -> str:
        return FIGURE_LABELS.get(self.figure, (self.figure, ""))[0]

    @property
    def unit(self) -> str:
        return FIGURE_LABELS.get(self.figure, ("", ""))[1]


_COLUMNS = (
    "id, label, start_date, end_date, closed_at, closed_by, app_version, totals, factors, "
    "report, reopened_at, reopened_by, reopen_reason"
)


def _closing(row: tuple) -> Closing:
    return Closing(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        json.loads(row[7]),
        json.loads(row[8]),
        json.loads(row[9]),
        row[10],
        row[11],
        row[12],
    )


def in_force(inv: Inventory, label: str) -> Closing | None:
    """The closing of period ``label`` in force, if it is closed."""
    row = inv.conn.execute(
        f"SELECT {_COLUMNS} FROM closed_periods WHERE label = ? AND reopened_at IS NULL",
        (label,),
    ).fetchone()
    return _closing(row) if row else None


def closed_periods(inv: Inventory) -> list[Closing]:
    """Every closing in force, oldest period first."""
    rows = inv.conn.execute(
        f"SELECT {_COLUMNS} FROM closed_periods WHERE reopened_at IS NULL ORDER BY start_date"
    ).fetchall()
    return [_closing(r) for r in rows]


def history(inv: Inventory) -> list[Closing]:
    """Every closing ever made, reopened ones included, in the order they were made."""
    rows = inv.conn.execute(f"SELECT {_COLUMNS} FROM closed_periods ORDER BY id").fetchall()
    return [_closing(r) for r in rows]


def period_of(closing: Closing) -> Period:
    return Period(
        dt.date.fromisoformat(closing.start), dt.date.fromisoformat(closing.end), closing.label
    )


def has_closed_periods(inv: Inventory) -> bool:
    row = inv.conn.execute(
        "SELECT 1 FROM closed_periods WHERE reopened_at IS NULL LIMIT 1"
    ).fetchone()
    return row is not None


def close_period(
    inv: Inventory, period: Period, report: Report, factors: list[dict[str, Any]]
) -> Closing:
    """Close ``period`` with ``report`` (built for the whole inventory) as its snapshot.

    Raises :class:`PeriodClosedError` if the period is closed already.
    """
    from core import __version__

    existing = in_force(inv, period.label)
    if existing is not None:
        raise PeriodClosedError(
            f"{period.label} was already closed on {existing.closed_at} by "
            f"{existing.closed_by}; reopen it first to close it again."
        )
    totals = {k: float(report.totals[k]) for k, _, _ in FIGURES}
    at, user = now_iso(), os_user()
    with inv.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO closed_periods (label, start_date, end_date, closed_at, closed_by, "
            "app_version, totals, factors, report) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                period.label,
                period.start.isoformat(),
                period.end.isoformat(),
                at,
                user,
                __version__,
                json.dumps(totals),
                json.dumps(factors, ensure_ascii=False),
                json.dumps(report.to_json(), ensure_ascii=False),
            ),
        )
        closing_id = int(cur.lastrowid)
        inv.log(
            inv.next_log_batch(),
            [
                (
                    "insert",
                    "closed_periods",
                    closing_id,
                    None,
                    None,
                    {"label": period.label, **totals},
                )
            ],
            f"Close {period.label}",
        )
    closing = in_force(inv, period.label)
    assert closing is not None and closing.id == closing_id
    return closing


def reopen_period(inv: Inventory, period: Period, reason: str) -> Closing:
    """Reopen closed ``period``; ``reason`` is required and goes to the change log."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(f"Give a reason for reopening {period.label}.")
    closing = in_force(inv, period.label)
    if closing is None:
        raise PeriodNotClosedError(f"{period.label} is not closed, so it cannot be reopened.")
    at, user = now_iso(), os_user()
    with inv.transaction() as conn:
        conn.execute(
            "UPDATE closed_periods SET reopened_at = ?, reopened_by = ?, reopen_reason = ? "
            "WHERE id = ?",
            (at, user, reason, closing.id),
        )
        inv.log(
            inv.next_log_batch(),
            [("update", "closed_periods", closing.id, "reopened_at", None, at)],
            f"Reopen {period.label}: {reason}",
        )
    closing.reopened_at, closing.reopened_by, closing.reopen_reason = at, user, reason
    return closing


def restatements(inv: Inventory, recorded_after: str | None = None) -> list[Restatement]:
    """Recorded restatements (oldest first), only those from ``recorded_after`` (ISO
    time) when given."""
    sql = (
        "SELECT period_label, figure, old_value, new_value, reason, at, os_user, change, "
        "closing_id FROM restatements"
    )
    args: tuple = ()
    if recorded_after:
        sql += " WHERE at >= ?"
        args = (recorded_after,)
    rows = inv.conn.execute(sql + " ORDER BY id", args).fetchall()
    return [Restatement(*r) for r in rows]


def reported_totals(inv: Inventory, closing: Closing) -> dict[str, float]:
    """A closed period's figures as last reported: closed values with the restatements
    recorded since applied."""
    totals = dict(closing.totals)
    for r in inv.conn.execute(
        "SELECT figure, new_value FROM restatements WHERE closing_id = ? ORDER BY id",
        (closing.id,),
    ):
        totals[r[0]] = float(r[1])
    return totals


def differs(a: float, b: float) -> bool:
    """Whether two figures differ beyond floating-point noise."""
    return not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


def differences(inv: Inventory, engine: Engine | None = None) -> list[Restatement]:
    """How the current data would restate each closed period (empty when it would not).

    Re-estimates the closed periods (without uncertainty draws) and compares with their
    reported figures. ``engine`` must be over ``inv`` as it is now; by default a new one.
    """
    closings = closed_periods(inv)
    if not closings:
        return []
    from core.estimate import Engine

    engine = engine or Engine(inv)
    out = []
    for c in closings:
        period = period_of(c)
        now = engine.estimate(period, by="phase", samples=0).totals
        before = reported_totals(inv, c)
        for key, _, _ in FIGURES:
            if key in before and differs(before[key], now[key]):
                out.append(Restatement(c.label, key, before[key], float(now[key]), closing_id=c.id))
    return out


def record(inv: Inventory, changes: list[Restatement], reason: str, change: str = "") -> None:
    """Record ``changes`` as restatements with ``reason`` (required), in one transaction."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Give a reason for restating a closed period.")
    at, user = now_iso(), os_user()
    with inv.transaction() as conn:
        conn.executemany(
            "INSERT INTO restatements (closing_id, period_label, at, os_user, figure, "
            "old_value, new_value, reason, change) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    r.closing_id,
                    r.period_label,
                    at,
                    user,
                    r.figure,
                    r.old_value,
                    r.new_value,
                    reason,
                    change or r.change or None,
                )
                for r in changes
            ],
        )


#: asked before saving an edit that restates closed periods: the reason, or None to
#: cancel the edit
Confirm = Callable[[list[Restatement]], str | None]


class GuardedCommand:
    """An edit that warns before it restates a closed period (see the module docstring).

    Behaves as the wrapped :class:`core.commands.Command` (``tables``, ``description``,
    ``apply`` returning the inverse, itself guarded so undo and redo are checked too).
    Raises :class:`EditDeclinedError` when ``confirm`` declines; nothing is saved then.
    """

    def __init__(self, command: Command, confirm: Confirm):
        self.command = command
        self.confirm = confirm

    @property
    def tables(self) -> frozenset[str]:
        return self.command.tables

    @property
    def description(self) -> str:
        return self.command.description

    def apply(self, inv: Inventory) -> GuardedCommand:
        if not has_closed_periods(inv):
            return GuardedCommand(self.command.apply(inv), self.confirm)
        with inv.transaction():
            inverse = self.command.apply(inv)
            changes = differences(inv)
            if changes:
                reason = self.confirm(changes)
                if not reason or not reason.strip():
                    raise EditDeclinedError(
                        "Not saved: the edit would change the reported figures of "
                        + ", ".join(sorted({c.period_label for c in changes}))
                        + " and no reason was given."
                    )
                record(inv, changes, reason, self.command.description)
        return GuardedCommand(inverse, self.confirm)


# -- quarters of an inventory (the Reports page) -----------------------------------------

#: at most this many quarters are listed (the newest)
MAX_QUARTERS = 60


@dataclass
class QuarterStatus:
    """A quarter of the inventory and its closing: ``closing`` is the closing in force
    (None when open); ``reported`` its figures as last reported (closed values with the
    restatements since applied); ``restatements`` how many were recorded since it was
    closed; ``history`` every closing of the quarter, reopened ones included."""

    period: Period
    closing: Closing | None
    reported: dict[str, float] | None
    restatements: int
    history: list[Closing]

    @property
    def label(self) -> str:
        return self.period.label

    @property
    def status(self) -> str:
        """``Open``, ``Closed on DATE by WHO`` or ``Open (reopened on DATE by WHO)``."""
        if self.closing is not None:
            return f"Closed on {self.closing.closed_at[:10]} by {self.closing.closed_by}"
        reopened = [c for c in self.history if c.reopened_at]
        if reopened:
            last = reopened[-1]
            return f"Open (reopened on {str(last.reopened_at)[:10]} by {last.reopened_by})"
        return "Open"


def quarter_of(day: dt.date) -> Period:
    """The quarter holding ``day``."""
    from core.periods import parse_period

    return parse_period(f"{day.year}-Q{(day.month - 1) // 3 + 1}")


def _activity_dates(inv: Inventory, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """The first and last day of activity: training runs, deployments and usage (an
    ongoing deployment without an end date runs until ``today``)."""
    spans = (
        ("training_runs", "start_date", "end_date"),
        ("deployments", "start_date", "end_date"),
        ("usage", "period_start", "period_end"),
    )
    days: list[dt.date] = []
    for table, start, end in spans:
        row = inv.conn.execute(
            f"SELECT min(nullif({start}, '')), max(nullif({end}, '')), "
            f"max(nullif({start}, '')) FROM {table}"
        ).fetchone()
        for value in row:
            try:
                days.append(dt.date.fromisoformat(str(value)[:10]))
            except (TypeError, ValueError):
                continue
    ongoing = inv.conn.execute(
        "SELECT 1 FROM deployments WHERE coalesce(end_date, '') = '' "
        "AND coalesce(start_date, '') <> '' AND start_date <= ? LIMIT 1",
        (today.isoformat(),),
    ).fetchone()
    if ongoing:
        days.append(today)
    return (min(days), max(days)) if days else None


def inventory_quarters(inv: Inventory, today: dt.date | None = None) -> list[QuarterStatus]:
    """The quarters of the inventory, newest first: every quarter from the first to the
    last day of activity, and every quarter ever closed; for an inventory without
    activity, the last complete quarter and the current one."""
    today = today or dt.date.today()
    span = _activity_dates(inv, today)
    first, last = span if span else (quarter_of(today).previous().start, today)
    history_all = history(inv)
    labels: dict[str, Period] = {}
    q = quarter_of(last)
    while len(labels) < MAX_QUARTERS and q.end >= first:
        labels[q.label] = q
        q = q.previous()
    for c in history_all:
        labels.setdefault(c.label, period_of(c))
    counts = dict(
        inv.conn.execute(
            "SELECT closing_id, count(*) FROM restatements GROUP BY closing_id"
        ).fetchall()
    )
    out = []
    for period in sorted(labels.values(), key=lambda p: p.start, reverse=True):
        mine = [c for c in history_all if c.label == period.label]
        current = next((c for c in mine if c.reopened_at is None), None)
        out.append(
            QuarterStatus(
                period,
                current,
                reported_totals(inv, current) if current else None,
                int(counts.get(current.id, 0)) if current else 0,
                mine,
            )
        )
    return out


def restatements_of(inv: Inventory, closing_id: int) -> list[Restatement]:
    """The restatements recorded against one closing, oldest first."""
    rows = inv.conn.execute(
        "SELECT period_label, figure, old_value, new_value, reason, at, os_user, change, "
        "closing_id FROM restatements WHERE closing_id = ? ORDER BY id",
        (closing_id,),
    ).fetchall()
    return [Restatement(*r) for r in rows]
