from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import periods
from core.periods import PeriodError, parse_period, record_days, split_by_month, to_days


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        ("2026-Q3", "2026-07-01", "2026-09-30", "2026-Q3"),
        ("2026q1", "2026-01-01", "2026-03-31", "2026-Q1"),
        ("2024", "2024-01-01", "2024-12-31", "2024"),
        ("2024-02", "2024-02-01", "2024-02-29", "2024-02"),
        ("2026-01-15..2026-02-14", "2026-01-15", "2026-02-14", "2026-01-15..2026-02-14"),
    ],
)
def test_periods_parse(text, start, end, label):
    p = parse_period(text)
    assert (p.start.isoformat(), p.end.isoformat(), p.label) == (start, end, label)


@pytest.mark.parametrize("text", ["Q3", "2026-Q5", "2026-13", "2026-03-01..2026-02-01", "soon"])
def test_bad_periods_say_what_to_write(text):
    with pytest.raises(PeriodError, match=text.split("..")[0][:4]):
        parse_period(text)


def test_previous_periods():
    assert parse_period("2026-Q1").previous().label == "2025-Q4"
    assert parse_period("2026-Q3").previous().label == "2026-Q2"
    assert parse_period("2026").previous().label == "2025"
    r = parse_period("2026-03-01..2026-03-10").previous()
    assert (r.start, r.end) == (dt.date(2026, 2, 19), dt.date(2026, 2, 28))


def test_split_by_month_by_day_overlap():
    pieces = split_by_month(to_days(["2026-01-30"]), to_days(["2026-03-02"]))
    # 2 days of January, 28 of February, 2 of March, out of 32
    assert [str(m) for m in pieces.month] == ["2026-01", "2026-02", "2026-03"]
    np.testing.assert_allclose(pieces.share, [2 / 32, 28 / 32, 2 / 32])
    days = record_days(to_days(["2026-01-30"]), to_days(["2026-03-02"]))
    q1 = pieces.share_in(parse_period("2026-Q1"), days)
    assert q1.sum() == pytest.approx(1.0)
    feb = pieces.share_in(parse_period("2026-02"), days)
    assert feb.sum() == pytest.approx(28 / 32)


days_strategy = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31))


@given(st.lists(st.tuples(days_strategy, st.integers(0, 800)), min_size=1, max_size=30))
def test_splitting_conserves_every_record(records):
    start = np.array([a for a, _ in records], dtype="datetime64[D]")
    end = start + np.array([n for _, n in records]).astype("timedelta64[D]")
    pieces = split_by_month(start, end)
    totals = np.bincount(pieces.record, weights=pieces.share, minlength=len(records))
    np.testing.assert_allclose(totals, 1.0)
    assert (pieces.share > 0).all()


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("9999-Q4", "9999-10-01", "9999-12-31"),
        ("9999-12", "9999-12-01", "9999-12-31"),
        ("0001-Q1", "0001-01-01", "0001-03-31"),
        ("2024-02-29..2024-03-01", "2024-02-29", "2024-03-01"),
    ],
)
def test_periods_at_the_ends_of_the_calendar(text, start, end):
    p = parse_period(text)
    assert (p.start.isoformat(), p.end.isoformat()) == (start, end)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0000", "years run from 0001 to 9999"),
        ("0000-Q1", "years run from 0001 to 9999"),
        ("0000-05", "years run from 0001 to 9999"),
        (
            "2026-02-30..2026-03-01",
            "the date 2026-02-30 does not exist (2026-02 has days 01 to 28)",
        ),
        ("2026-01-01..2026-13-01", "the date 2026-13-01 does not exist"),
        ("0000-12-31..2026-01-01", "the date 0000-12-31 does not exist"),
        ("2026-1-1..2026-03-01", "dates must be written YYYY-MM-DD"),
    ],
)
def test_impossible_dates_say_why(text, message):
    with pytest.raises(PeriodError) as caught:
        parse_period(text)
    assert message in str(caught.value)


def test_no_period_before_the_first_day_and_ranges_stop_there():
    with pytest.raises(PeriodError, match="no period before it"):
        parse_period("0001-Q1").previous()
    r = parse_period("0001-01-05..0001-01-20").previous()
    assert (r.start, r.end) == (dt.date(1, 1, 1), dt.date(1, 1, 4))


@given(
    first=st.integers(-800_000, 800_000),
    offsets=st.lists(st.integers(0, 3_000_000), min_size=1, max_size=40),
    repeat=st.sampled_from([1, 60]),
)
def test_calendar_conversions_through_a_table_equal_numpys_own(first, offsets, repeat):
    # repeat=60 takes the table path (>= 1,000 values); spans over 2,000,000 days and
    # few values take numpy's conversion: every path must give numpy's own answer
    days = (np.array(offsets * repeat, dtype=np.int64) + first).astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    assert np.array_equal(periods.months_of(days), months)
    assert np.array_equal(
        periods.years_of(days), days.astype("datetime64[Y]").astype(np.int64) + 1970
    )
    assert np.array_equal(periods.first_days(months), months.astype("datetime64[D]"))


def test_calendar_conversions_keep_nat():
    days = np.array(["2026-03-05", "NaT"] * 600, dtype="datetime64[D]")
    assert np.array_equal(periods.months_of(days), days.astype("datetime64[M]"), equal_nan=True)
