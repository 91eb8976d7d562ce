"""Reporting periods and splitting activity across them by date overlap.

Dates are whole days; a record running from ``start`` to ``end`` covers both days
(inclusive), and its activity is spread evenly over those days. Arrays of days are numpy
``datetime64[D]``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

import numpy as np

from core.errors import PeriodError

__all__ = ["MonthPieces", "Period", "PeriodError", "parse_period", "split_by_month"]


@dataclass(frozen=True)
class Period:
    """An inclusive range of days with a label such as ``2026-Q3``."""

    start: dt.date
    end: dt.date
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same kind just before this one (quarter, year or range);
        :class:`PeriodError` for a period that starts on the calendar's first day."""
        if self.start == dt.date.min:
            raise PeriodError(
                f"'{self.label}' has no period before it to compare with: it starts on "
                "0001-01-01, the first day a date can hold."
            )
        if re.fullmatch(r"\d{4}-Q[1-4]", self.label):
            year, q = int(self.label[:4]), int(self.label[-1])
            return parse_period(f"{year - 1}-Q4" if q == 1 else f"{year}-Q{q - 1}")
        if re.fullmatch(r"\d{4}", self.label):
            return parse_period(str(int(self.label) - 1))
        end = self.start - dt.timedelta(days=1)
        start = dt.date.fromordinal(max(end.toordinal() - (self.days - 1), 1))
        return Period(start, end, f"{start.isoformat()}..{end.isoformat()}")


def parse_period(text: str) -> Period:
    """``2026-Q3``, ``2026``, ``2026-05`` or ``2026-01-01..2026-03-31`` as a :class:`Period`.

    Years run from 1 to 9999 (what a date can hold); anything else raises
    :class:`PeriodError` with a message that says what to write."""
    raw = text.strip()
    if m := re.fullmatch(r"(\d{4})(?:-?Q([1-4])|-(\d{2}))?", raw, re.I):
        year = int(m[1])
        if not dt.MINYEAR <= year <= dt.MAXYEAR:
            raise PeriodError(
                f"'{text}' is not a period: years run from {dt.MINYEAR:04d} to {dt.MAXYEAR}."
            )
    if m := re.fullmatch(r"(\d{4})-?Q([1-4])", raw, re.I):
        year, q = int(m[1]), int(m[2])
        start = dt.date(year, 3 * q - 2, 1)
        end = _month_end(year, 3 * q)
        return Period(start, end, f"{year:04d}-Q{q}")
    if re.fullmatch(r"\d{4}", raw):
        year = int(raw)
        return Period(dt.date(year, 1, 1), dt.date(year, 12, 31), raw)
    if m := re.fullmatch(r"(\d{4})-(\d{2})", raw):
        year, month = int(m[1]), int(m[2])
        if 1 <= month <= 12:
            return Period(dt.date(year, month, 1), _month_end(year, month), raw)
    if ".." in raw:
        a, _, b = raw.partition("..")
        start, end = _date(a.strip(), text), _date(b.strip(), text)
        if end < start:
            raise PeriodError(f"'{text}': the period ends before it starts.")
        return Period(start, end, f"{start.isoformat()}..{end.isoformat()}")
    raise PeriodError(
        f"'{text}' is not a period: write a quarter (2026-Q3), a year (2026), a month "
        "(2026-05) or a date range (2026-01-01..2026-03-31)."
    )


def _date(part: str, text: str) -> dt.date:
    """One end of a date range: written YYYY-MM-DD, and a day the calendar has."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", part)
    if m is None:
        raise PeriodError(f"'{text}': dates must be written YYYY-MM-DD..YYYY-MM-DD.")
    year, month, day = (int(g) for g in m.groups())
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        why = f"years run from {dt.MINYEAR:04d} to {dt.MAXYEAR}"
    elif not 1 <= month <= 12:
        why = "a year has months 01 to 12"
    else:
        last = calendar.monthrange(year, month)[1]
        if 1 <= day <= last:
            return dt.date(year, month, day)
        why = f"{year:04d}-{month:02d} has days 01 to {last}"
    raise PeriodError(f"'{text}': the date {part} does not exist ({why}).")


def _month_end(year: int, month: int) -> dt.date:
    """The last day of a month (December 9999 included: no day after it is needed)."""
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def to_days(iso: list[str | None] | np.ndarray) -> np.ndarray:
    """ISO date strings (``None`` allowed) as ``datetime64[D]`` (``NaT`` for missing)."""
    return np.array([d if d else "NaT" for d in iso], dtype="datetime64[D]")


@dataclass(frozen=True)
class MonthPieces:
    """Each dated record cut into calendar-month pieces.

    ``record[i]`` is the index of the record piece ``i`` belongs to; ``month[i]`` its
    month (``datetime64[M]``); ``start[i]``/``end[i]`` the days it covers (inclusive);
    ``share[i]`` the fraction of the record's days it holds (shares of one record sum
    to 1).
    """

    record: np.ndarray
    month: np.ndarray
    start: np.ndarray
    end: np.ndarray
    share: np.ndarray

    def __len__(self) -> int:
        return len(self.record)

    def share_in(self, period: Period, record_days: np.ndarray) -> np.ndarray:
        """Fraction of each piece's record that falls inside ``period`` (0 outside)."""
        lo = np.maximum(self.start, np.datetime64(period.start, "D"))
        hi = np.minimum(self.end, np.datetime64(period.end, "D"))
        overlap = (hi - lo).astype(np.int64) + 1
        return np.clip(overlap, 0, None) / record_days[self.record]


#: below this many values numpy's own calendar conversion is as quick as a table
_TABLE_FROM = 1_000
#: widest span (in days or months) a conversion table is built over
_TABLE_SPAN = 2_000_000


def _through_table(values: np.ndarray, convert: str, unit: str) -> np.ndarray:
    """``values.astype(convert)`` computed through a table over the values' span: one
    calendar conversion per distinct day (or month) and a gather, instead of one per
    value (numpy's calendar conversion is ~10x slower than a gather). Falls back to
    ``astype`` for few values, NaT or spans too wide for a table."""
    if len(values) < _TABLE_FROM:
        return values.astype(convert)
    raw = values.view(np.int64)
    lo, hi = int(raw.min()), int(raw.max())
    if lo == np.iinfo(np.int64).min or hi - lo > _TABLE_SPAN:  # NaT, or millennia apart
        return values.astype(convert)
    table = np.arange(lo, hi + 1).astype(unit).astype(convert)
    return table[raw - lo]


def months_of(days: np.ndarray) -> np.ndarray:
    """The month (``datetime64[M]``) of each day (``datetime64[D]``)."""
    return _through_table(days.astype("datetime64[D]"), "datetime64[M]", "datetime64[D]")


def years_of(days: np.ndarray) -> np.ndarray:
    """The calendar year (int64) of each day (``datetime64[D]``, no NaT)."""
    return months_of(days).view(np.int64) // 12 + 1970


def first_days(months: np.ndarray) -> np.ndarray:
    """The first day (``datetime64[D]``) of each month (``datetime64[M]``)."""
    return _through_table(months.astype("datetime64[M]"), "datetime64[D]", "datetime64[M]")


def split_by_month(start: np.ndarray, end: np.ndarray) -> MonthPieces:
    """Cut records ``[start, end]`` (``datetime64[D]``, no NaT) into month pieces."""
    start = start.astype("datetime64[D]")
    end = end.astype("datetime64[D]")
    first = months_of(start)
    last = months_of(end)
    counts = (last - first).astype(np.int64) + 1
    single = counts == 1
    if single.any() and not single.all():
        # most records (monthly usage) lie in one month: they are their own piece;
        # only the others go through the general cut (pieces come single ones first)
        one = np.flatnonzero(single)
        many = np.flatnonzero(~single)
        a = split_by_month(start[one], end[one])
        b = split_by_month(start[many], end[many])
        return MonthPieces(
            np.concatenate([one[a.record], many[b.record]]),
            np.concatenate([a.month, b.month]),
            np.concatenate([a.start, b.start]),
            np.concatenate([a.end, b.end]),
            np.concatenate([a.share, b.share]),
        )
    if len(start) and single.all():
        return MonthPieces(np.arange(len(start)), first, start, end, np.ones(len(start)))
    record = np.repeat(np.arange(len(start)), counts)
    offsets = np.arange(len(record)) - np.repeat(np.cumsum(counts) - counts, counts)
    month = first[record] + offsets.astype("timedelta64[M]")
    month_start = first_days(month)
    month_end = first_days(month + np.timedelta64(1, "M")) - np.timedelta64(1, "D")
    piece_start = np.maximum(start[record], month_start)
    piece_end = np.minimum(end[record], month_end)
    days = (end - start).astype(np.int64) + 1
    share = ((piece_end - piece_start).astype(np.int64) + 1) / days[record]
    return MonthPieces(record, month, piece_start, piece_end, share)


def record_days(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Number of days each record covers (inclusive)."""
    return (end.astype("datetime64[D]") - start.astype("datetime64[D]")).astype(np.int64) + 1


def quarter_label(month: np.datetime64) -> str:
    """``2026-Q3`` for any month of that quarter."""
    year = int(str(month)[:4])
    m = int(str(month)[5:7])
    return f"{year:04d}-Q{(m - 1) // 3 + 1}"
