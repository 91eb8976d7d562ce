from __future__ import annotations

import pytest

from core import schema
from core.validation import parse_value, record_problems

PUE = schema.SITES.field("pue")
DEVICES = schema.TRAINING_RUNS.field("device_count")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1.2", 1.2),
        (" 1,25 ", 1.25),
        ("1,234.5", 1234.5),
        ("1 234", 1234.0),
        ("", None),
        ("1,234", 1234.0),
    ],
)
def test_numbers_parse_in_common_spellings(text, value):
    assert parse_value(PUE, text) == value


@pytest.mark.parametrize(
    ("text", "reason"), [("abc", "must be a number"), ("nan", "finite"), ("inf", "finite")]
)
def test_bad_numbers_say_why(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_value(PUE, text)


def test_integers_must_be_whole():
    assert parse_value(DEVICES, "8") == 8
    with pytest.raises(ValueError, match="whole number"):
        parse_value(DEVICES, "2.5")


def test_dates_and_choices():
    start = schema.TRAINING_RUNS.field("start_date")
    assert parse_value(start, "2026-03-01") == "2026-03-01"
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_value(start, "03/01/2026")
    kind = schema.SITES.field("kind")
    assert parse_value(kind, "Cloud region") == "cloud"
    with pytest.raises(ValueError, match="one of"):
        parse_value(kind, "moon base")


def test_record_rules_across_fields():
    problems = record_problems(
        "training_runs",
        {
            "name": "r",
            "model_id": 1,
            "kind": "fine-tuning",
            "energy_kwh": 12.0,
            "start_date": "2026-01-02",
            "end_date": "2026-01-01",
            "device_count": 0,
        },
    )
    assert problems == {
        "energy_boundary": "say what the measured energy covers",
        "end_date": "is before the start (2026-01-02)",
        "device_count": "must be at least 1",
    }
    assert record_problems(
        "sourcing",
        {"name": "GO", "kind": "eac", "period_start": "2026-01-01", "period_end": "2026-03-31"},
    ) == {
        "grid_region": "give a site or a grid region",
        "mwh": "give a volume in MWh or a share in %",
    }
    assert record_problems("hardware", {"name": "X", "kind": "accelerator", "tdp_w": 0}) == {
        "tdp_w": "must be more than 0 W"
    }
