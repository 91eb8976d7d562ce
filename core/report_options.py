"""What a report covers and how building it is driven: :class:`ReportOptions`, the
scope filter (:func:`matching_entries`), the comparison periods (:func:`year_before`,
:func:`trend_quarters`), progress and cancellation (:class:`ReportCancelled`).

Part of :mod:`core.report`, which re-exports these names.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core import engine as eng
from core.errors import LedgerError
from core.inventory import Inventory
from core.periods import Period, parse_period, quarter_label

#: progress callback: (fraction done 0..1, what is being done)
Progress = Callable[[float, str], None]
#: polled between steps: True when the user cancelled
Cancelled = Callable[[], bool]


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
