"""Turning what people type into stored values, and checking records before they are saved.

The forms in ``ui`` and the importers call the same functions, so a value refused in
one place is refused everywhere, with the same reason.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from typing import Any

from core import schema
from core.errors import ValidationError


def parse_value(spec: schema.FieldSpec, text: Any) -> Any:
    """Convert user input for ``spec`` into its stored value (``None`` when blank).

    Numbers accept spaces, underscores and thousands separators ("1,234.5", "1 234"),
    and a lone decimal comma ("0,75"). Raises ``ValueError`` with a reason people can act
    on.
    """
    if text is None:
        return spec.blank
    if not isinstance(text, str):
        return _check_number(spec, text) if spec.is_number else text
    raw = text.strip()
    if raw == "":
        return spec.blank
    if spec.kind in ("text", "longtext"):
        return raw
    if spec.kind == "choice":
        for stored, label in spec.choices:
            if raw.lower() in (stored.lower(), label.lower()):
                return stored
        allowed = ", ".join(label for _, label in spec.choices)
        raise ValueError(f"must be one of: {allowed}")
    if spec.kind == "date":
        try:
            return dt.date.fromisoformat(raw).isoformat()
        except ValueError:
            raise ValueError("must be a date written YYYY-MM-DD") from None
    if spec.kind == "ref":
        try:
            return int(raw)
        except ValueError:
            raise ValueError("must be chosen from the list") from None
    return _check_number(spec, _parse_number(raw))


def _parse_number(raw: str) -> float:
    cleaned = raw.replace(" ", "").replace("_", "").replace("\u00a0", "")
    if "," in cleaned and "." in cleaned:
        cleaned = cleaned.replace(",", "")  # 1,234.5
    elif cleaned.count(",") == 1 and len(cleaned.split(",")[1]) != 3:
        cleaned = cleaned.replace(",", ".")  # 0,75 (a decimal comma)
    elif "," in cleaned:
        cleaned = cleaned.replace(",", "")  # 1,234 or 1,234,567
    try:
        return float(cleaned)
    except ValueError:
        raise ValueError("must be a number") from None


def _check_number(spec: schema.FieldSpec, value: Any) -> int | float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError("must be a number") from None
    if math.isnan(number) or math.isinf(number):
        raise ValueError("must be a finite number")
    if spec.kind == "int":
        if number != int(number):
            raise ValueError("must be a whole number")
        return int(number)
    return number


def field_problem(spec: schema.FieldSpec, value: Any) -> str | None:
    """Why ``value`` (already parsed) is not acceptable for ``spec``, or ``None``."""
    if value is None or value == "":
        return "is required" if spec.required else None
    if spec.is_number:
        # physical units read well after a bound ("at least 1 W"); counts do not
        unit = f" {spec.unit}" if spec.kind == "real" and spec.unit not in ("", "ratio") else ""
        if spec.minimum is not None:
            if spec.min_exclusive and value <= spec.minimum:
                return f"must be more than {_fmt(spec.minimum)}{unit}"
            if value < spec.minimum:
                return f"must be at least {_fmt(spec.minimum)}{unit}"
        if spec.maximum is not None and value > spec.maximum:
            return f"must be at most {_fmt(spec.maximum)}{unit}"
    if spec.kind == "choice" and value not in {c for c, _ in spec.choices}:
        return "is not one of the allowed values"
    return None


def _fmt(number: float) -> str:
    return f"{number:,.0f}" if number == int(number) else f"{number:,g}"


def record_problems(table: str, values: dict[str, Any]) -> dict[str, str]:
    """Problems of a whole record, by field name; empty when it can be saved.

    Checks each field, then rules across fields: an end date not before its start, and
    a measured energy that says what it covers.
    """
    spec = schema.table(table)
    problems: dict[str, str] = {}
    for f in spec.fields:
        reason = field_problem(f, values.get(f.name))
        if reason:
            problems[f.name] = reason
    for start, end in spec.date_order:
        a, b = values.get(start), values.get(end)
        if a and b and b < a and end not in problems:
            problems[end] = f"is before the {spec.field(start).label.lower()} ({a})"
    if (
        table in ("training_runs", "usage")
        and values.get("energy_kwh") is not None
        and not values.get("energy_boundary")
    ):
        problems.setdefault("energy_boundary", "say what the measured energy covers")
    if table == "factor_overrides":
        reason = override_key_problem(values.get("key"))
        if reason:
            problems.setdefault("key", reason)
        value = values.get("value")
        if "key" not in problems:
            for name in ("value", "low", "high"):
                reason = override_value_problem(values.get("key"), values.get(name))
                if reason and name not in problems:
                    problems[name] = reason
        if value is not None:
            if values.get("low") is not None and values["low"] > value:
                problems.setdefault("low", "must not be above the value")
            if values.get("high") is not None and values["high"] < value:
                problems.setdefault("high", "must not be below the value")
    if table == "sourcing":
        if not values.get("site_id") and not values.get("grid_region"):
            problems.setdefault("grid_region", "give a site or a grid region")
        # a supplier-specific factor covers all supply; other instruments need a size
        if (
            values.get("kind") != "supplier-factor"
            and values.get("mwh") is None
            and values.get("share_pct") is None
        ):
            problems.setdefault("mwh", "give a volume in MWh or a share in %")
    return problems


_GRID_KEY = re.compile(r"grid:([A-Za-z0-9:-]+):(\d{4})")

#: Physical bounds of overridable factors: key (or prefix ending in ":") -> (minimum,
#: minimum excluded, maximum or None, what the factor is). The shipped values and their
#: ranges all lie inside; the limits match those of the same figures on sites and
#: hardware (PUE 1-5, WUE 0-20 L/kWh, lifetime up to 20 years, grid 0-2,000 g/kWh).
#: Utilisation is a fraction of TDP: average draw above TDP is not sustained, so at most 1.
#: Host overhead is the host's power as a multiple of the accelerators': at most 10 (a
#: large CPU host around one small inference card is about 4).
OVERRIDE_BOUNDS: dict[str, tuple[float, bool, float | None, str]] = {
    "pue_industry_average": (1.0, False, 5.0, "a PUE (facility energy / IT energy)"),
    "pue:": (1.0, False, 5.0, "a PUE (facility energy / IT energy)"),
    "wue:": (0.0, False, 20.0, "a WUE in L/kWh"),
    "utilisation_training": (0.0, True, 1.0, "a fraction of TDP"),
    "utilisation_inference": (0.0, True, 1.0, "a fraction of TDP"),
    "host_overhead_ratio": (0.0, False, 10.0, "a ratio to the accelerators' power"),
    "embodied_lifetime_years": (0.0, True, 20.0, "a lifetime in years"),
    "embodied_server_per_accelerator_kgco2e": (0.0, False, 100_000.0, "kgCO2e per accelerator"),
    "equiv:": (0.0, True, None, "an equivalence factor"),
    "grid:": (0.0, False, 2000.0, "a grid factor in gCO2e/kWh"),
    "inference:ecologits:batch": (1.0, False, None, "a batch size"),
}


def override_value_problem(key: str | None, value: float | None) -> str | None:
    """Why ``value`` is physically impossible for the factor ``key``, or ``None``
    (the message names the factor: "must be at least 1 for pue_industry_average, ...")."""
    if not key or value is None:
        return None
    bounds = OVERRIDE_BOUNDS.get(key)
    if bounds is None:
        prefix = next((p for p in OVERRIDE_BOUNDS if p.endswith(":") and key.startswith(p)), None)
        bounds = OVERRIDE_BOUNDS[prefix] if prefix else None
    if bounds is None:
        return None
    low, exclusive, high, what = bounds
    if exclusive and value <= low:
        return f"must be more than {_fmt(low)} for {key} ({what})"
    if value < low:
        return f"must be at least {_fmt(low)} for {key} ({what})"
    if high is not None and value > high:
        return f"must be at most {_fmt(high)} for {key} ({what})"
    return None


def override_key_problem(key: str | None) -> str | None:
    """Why ``key`` names no overridable factor, or ``None``.

    Parameter names come from the shipped ``parameters.csv``; grid factors are written
    ``grid:ZONE:YEAR`` and inference energy rows ``inference:KEY``.
    """
    if not key:
        return None
    if _GRID_KEY.fullmatch(key):
        return None
    if key in _parameter_names():
        return None
    if key.startswith("inference:") and key[len("inference:") :] in _inference_keys():
        return None
    return "is not a parameter name, grid:ZONE:YEAR or inference:KEY (see the Reference data page)"


@functools.cache
def _inference_keys() -> frozenset[str]:
    """Keys of the shipped ``inference_energy.csv``, read once."""
    from core.factors import load_inference_energy  # deferred: only override forms need it

    return frozenset(str(r["key"]) for r in load_inference_energy())


@functools.cache
def _parameter_names() -> frozenset[str]:
    """Names in the shipped ``parameters.csv``, read once (forms validate per keystroke)."""
    from core.factors import load_parameters  # deferred: only override forms need it

    return frozenset(load_parameters())


def normalise(table: str, values: dict[str, Any]) -> dict[str, Any]:
    """Every field of ``table`` with blanks stored as the field's blank value."""
    spec = schema.table(table)
    out = {}
    for f in spec.fields:
        value = values.get(f.name)
        out[f.name] = f.blank if value is None or value == "" else value
    return out


#: the most a device may draw, as a multiple of its hardware's TDP, before it is refused
MAX_POWER_OVER_TDP = 10.0


def power_problem(values: dict[str, Any], tdp_w: float | None) -> str | None:
    """Why a training run's average power per device is impossible for its hardware."""
    power = values.get("avg_power_w")
    if power is None or not tdp_w or power <= MAX_POWER_OVER_TDP * tdp_w:
        return None
    return (
        f"is more than {MAX_POWER_OVER_TDP:g} x the hardware's TDP ({tdp_w:,g} W): "
        "give the average power of one device, in W"
    )


def check_record(table: str, values: dict[str, Any], tdp_w: float | None = None) -> None:
    """Raise :class:`ValidationError` listing every problem of the record, if any.

    ``tdp_w`` is the TDP of the record's hardware, when it has one (power check).
    """
    problems = record_problems(table, values)
    if table == "training_runs" and "avg_power_w" not in problems:
        reason = power_problem(values, tdp_w)
        if reason:
            problems["avg_power_w"] = reason
    if problems:
        spec = schema.table(table)
        parts = [f"{spec.field(k).label} {v}" for k, v in problems.items()]
        raise ValidationError(
            f"The {spec.singular} cannot be saved: " + "; ".join(parts) + ".", problems
        )
