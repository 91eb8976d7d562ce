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


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("pue_industry_average", 0.5, "must be at least 1 for pue_industry_average"),
        ("pue:aws", 0.9, "must be at least 1 for pue:aws"),
        ("utilisation_training", 30.0, "must be at most 1 for utilisation_training"),
        ("utilisation_inference", 0.0, "must be more than 0 for utilisation_inference"),
        ("wue:gcp", 25.0, "must be at most 20 for wue:gcp"),
        ("embodied_lifetime_years", 0.0, "must be more than 0 for embodied_lifetime_years"),
        ("host_overhead_ratio", 12.0, "must be at most 10 for host_overhead_ratio"),
        ("grid:FR:2026", 5000.0, "must be at most 2,000 for grid:FR:2026"),
        ("equiv:smartphone_charge_kwh", 0.0, "must be more than 0"),
    ],
)
def test_factor_overrides_must_be_physically_possible(key, value, reason):
    base = {"key": key, "value": 1.0, "reason": "r"}
    assert "value" not in record_problems("factor_overrides", base)
    problems = record_problems("factor_overrides", {**base, "value": value})
    assert problems["value"].startswith(reason)
    # the range's ends are held to the same bounds
    low_high = record_problems(
        "factor_overrides", {**base, "value": max(value, 1.0), "low": value, "high": value}
    )
    assert reason in low_high.get("low", "") + low_high.get("high", "")


def test_plausible_overrides_pass_the_bounds():
    for key, value in (
        ("pue_industry_average", 1.0),
        ("utilisation_training", 1.0),
        ("wue:aws", 0.0),
        ("embodied_lifetime_years", 6.0),
        ("grid:SE:2026", 0.0),
    ):
        assert (
            record_problems("factor_overrides", {"key": key, "value": value, "reason": "r"}) == {}
        )
