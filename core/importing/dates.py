"""Dates as people and programs write them, turned into ISO ``YYYY-MM-DD``.

Accepted: date cells of a workbook, ISO dates and timestamps (with or without a time
zone; the date is taken as written, not shifted to UTC), Excel serial numbers
(1900 date system), ``dd/mm/yyyy`` or ``mm/dd/yyyy`` (also with ``.`` or ``-``), and
month names ("2 Jan 2026", "January 2, 2026"). Whether ``03/04/2026`` is the 3rd of
April or the 4th of March is decided for a whole column (:func:`order_evidence`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

_EXCEL_EPOCH = dt.date(1899, 12, 30)
#: serial numbers accepted as Excel dates: 1954-10-03 .. 2119-01-03
_SERIAL_RANGE = (20_000, 80_000)
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$")
_YMD_SLASH = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})(?:[T ].*)?$")
_NUMERIC = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?:[T ,].*)?$")
_MONTHS = {
    m: i
    for i, names in enumerate(
        (
            ("jan", "january", "janv", "januar"),
            ("feb", "february", "fev", "fevr", "februar"),
            ("mar", "march", "mars", "marz"),
            ("apr", "april", "avr", "avril"),
            ("may", "mai"),
            ("jun", "june", "juin", "juni"),
            ("jul", "july", "juil", "juli"),
            ("aug", "august", "aout"),
            ("sep", "sept", "september"),
            ("oct", "october", "okt", "oktober"),
            ("nov", "november"),
            ("dec", "december", "dez", "dezember"),
        ),
        1,
    )
    for m in names
}
_WORDS = re.compile(r"[a-z]+|\d+")


def order_evidence(text: str) -> str | None:
    """What one cell says about the column's order: "dmy", "mdy", "ambiguous" or None.

    None: the cell is not a numeric ``a/b/yyyy`` date, so it says nothing.
    """
    match = _NUMERIC.match(text.strip())
    if not match:
        return None
    a, b = int(match.group(1)), int(match.group(2))
    if a > 12 >= b:
        return "dmy"
    if b > 12 >= a:
        return "mdy"
    return "ambiguous" if a != b else "same"


def parse_date(value: Any, order: str | None = None) -> str:
    """ISO date for a cell; ``order`` ("dmy"/"mdy") settles ``a/b/yyyy`` dates.

    Raises ``ValueError`` with a reason (unreadable, ambiguous without an order, impossible
    date such as 31/02/2026).
    """
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        raise ValueError("must be a date")
    if isinstance(value, (int, float)):
        return _serial(float(value))
    text = str(value).strip()
    try:
        match = _ISO.match(text) or _YMD_SLASH.match(text)
        if match:
            return dt.date(
                int(match.group(1)), int(match.group(2)), int(match.group(3))
            ).isoformat()
        match = _NUMERIC.match(text)
        if match:
            a, b, y = int(match.group(1)), int(match.group(2)), int(match.group(3))
            if y < 100:
                y += 2000 if y < 70 else 1900
            if a > 12 >= b:
                day, month = a, b
            elif b > 12 >= a:
                month, day = a, b
            elif a == b or order == "dmy":
                day, month = a, b
            elif order == "mdy":
                month, day = a, b
            else:
                raise ValueError(
                    f"'{text}' could be dd/mm/yyyy or mm/dd/yyyy; choose the date order"
                )
            return dt.date(y, month, day).isoformat()
    except ValueError as exc:
        if "date order" in str(exc):
            raise
        raise ValueError(f"'{text}' is not a real date ({exc})") from None
    try:
        return _serial(float(text))
    except ValueError:
        pass
    parsed = _month_name(text)
    if parsed:
        return parsed
    raise ValueError("must be a date (YYYY-MM-DD, dd/mm/yyyy or a date cell)")


def _serial(number: float) -> str:
    if not (_SERIAL_RANGE[0] <= number <= _SERIAL_RANGE[1]):
        raise ValueError("must be a date (a number here is not an Excel date serial)")
    return (_EXCEL_EPOCH + dt.timedelta(days=int(number))).isoformat()


def _month_name(text: str) -> str | None:
    words = _WORDS.findall(text.lower().replace("é", "e").replace("û", "u").replace("ä", "a"))
    months = [_MONTHS[w] for w in words if w in _MONTHS]
    numbers = [int(w) for w in words if w.isdigit()]
    if len(months) != 1 or len(numbers) != 2:
        return None
    year = next((n for n in numbers if n > 31), None)
    day = next((n for n in numbers if n <= 31), None)
    if year is None or day is None:
        return None
    try:
        return dt.date(year, months[0], day).isoformat()
    except ValueError:
        return None


def parse_timestamp(value: Any) -> dt.datetime:
    """A timestamp cell as a ``datetime`` (aware if the text had a zone)."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    text = str(value).strip().replace("Z", "+00:00")
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("must be a timestamp (YYYY-MM-DDTHH:MM:SS)") from None
