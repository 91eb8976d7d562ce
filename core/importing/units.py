"""Units written in headers ("Energy [MWh]") or cells ("350 W") and their conversion.

Each stored unit of :mod:`core.schema` belongs to a dimension; a value read in another
unit of the same dimension is multiplied by the ratio of the two. Units of different
dimensions never convert: "kg" in a power column is an error, not a guess.
"""

from __future__ import annotations

import math
import re

#: unit (lower case, spaces removed) -> (dimension, factor to the dimension's base unit)
#: bases: power W, energy kWh, time h, mass kgCO2e, intensity gCO2e/kWh, share %.
_UNITS: dict[str, tuple[str, float]] = {}


def _add(dimension: str, factor: float, *names: str) -> None:
    for name in names:
        _UNITS[name] = (dimension, factor)


_add("power", 1.0, "w", "watt", "watts")
_add("power", 1e3, "kw", "kilowatt", "kilowatts")
_add("power", 1e6, "mw", "megawatt", "megawatts")
_add("energy", 1e-3, "wh")
_add("energy", 1.0, "kwh")
_add("energy", 1e3, "mwh")
_add("energy", 1e6, "gwh")
_add("energy", 1e9, "twh")
_add("energy", 1 / 3.6e6, "j", "joule", "joules")
_add("energy", 1 / 3.6e3, "kj")
_add("energy", 1 / 3.6, "mj")
_add("energy", 1e3 / 3.6, "gj")
_add("time", 1 / 3600, "s", "sec", "secs", "second", "seconds")
_add("time", 1 / 60, "min", "mins", "minute", "minutes")
_add("time", 1.0, "h", "hr", "hrs", "hour", "hours")
_add("time", 24.0, "d", "day", "days")
_add("time", 168.0, "week", "weeks", "wk")
#: units that count device time ("GPU-hours", "device-days"): a time, summed over devices
_DEVICE_TIME: set[str] = set()
for _prefix in ("gpu", "device", "chip", "accelerator", "tpu", "node"):
    _names = (f"{_prefix}-hours", f"{_prefix}-hour", f"{_prefix}-h", f"{_prefix}hours")
    _add("time", 1.0, *_names)
    _DEVICE_TIME.update(_names)
    _names = (f"{_prefix}-days", f"{_prefix}-day", f"{_prefix}days")
    _add("time", 24.0, *_names)
    _DEVICE_TIME.update(_names)
_add("mass", 1e-3, "g", "gco2", "gco2e", "gco2eq")
_add("mass", 1.0, "kg", "kgco2", "kgco2e", "kgco2eq")
_add("mass", 1e3, "t", "tco2", "tco2e", "tco2eq", "tonne", "tonnes", "mtco2e")
_add("mass", 0.45359237, "lb", "lbs", "lbco2", "lbco2e", "lbsco2e")
for _mass, _mf in (("g", 1.0), ("kg", 1e3), ("t", 1e6), ("lb", 453.59237), ("lbs", 453.59237)):
    for _gas in ("", "co2", "co2e", "co2eq"):
        _add("intensity", _mf, f"{_mass}{_gas}/kwh")
        _add("intensity", _mf / 1e3, f"{_mass}{_gas}/mwh")
_add("share", 1.0, "%", "percent", "pct")
_add("share", 100.0, "fraction", "ratio(0-1)", "0-1")

#: the dimension of each stored unit in core.schema, with its factor from the base
_STORED: dict[str, tuple[str, float]] = {
    "W": ("power", 1.0),
    "kWh": ("energy", 1.0),
    "MWh": ("energy", 1e3),
    "h": ("time", 1.0),
    "kgCO2e": ("mass", 1.0),
    "gCO2e/kWh": ("intensity", 1.0),
    "%": ("share", 1.0),
}

_DIMENSION_NAMES = {
    "power": "a power",
    "energy": "an energy",
    "time": "a duration",
    "mass": "an amount of CO2e",
    "intensity": "an emission factor",
    "share": "a share",
}

_BRACKETED = re.compile(r"[\(\[\{]\s*([^\)\]\}]+?)\s*[\)\]\}]")
_TRAILING = re.compile(r"\b(?:in|per)\s+([A-Za-z%₂/\-]+)\s*$", re.IGNORECASE)


def normalise_unit(text: str) -> str:
    """Lower-case unit without spaces, "CO₂" as "co2" and "per" as "/"."""
    t = text.strip().lower().replace("₂", "2").replace("·", "-").replace("μ", "u")
    t = re.sub(r"\s*per\s*", "/", t)
    t = re.sub(r"\s+", "", t)
    return t.replace("_", "-")


def known_unit(text: str) -> bool:
    return normalise_unit(text) in _UNITS


def header_unit(header: str) -> str | None:
    """The unit a header states, as written: "Power (kW)" -> "kW", "gCO2/kWh" -> "gCO2/kWh".

    Looks in brackets first, then at a trailing "in X", then at the last word(s).
    Returns ``None`` if the header names no known unit.
    """
    for match in _BRACKETED.finditer(header):
        if known_unit(match.group(1)):
            return match.group(1).strip()
    match = _TRAILING.search(header)
    if match and known_unit(match.group(1)):
        return match.group(1)
    words = header.replace(",", " ").split()
    for n in (3, 2, 1):
        if len(words) >= n and known_unit(" ".join(words[-n:])):
            return " ".join(words[-n:])
    for word in words:  # "gCO2/kWh grid factor", "GPU-hours used"
        if "/" in word and known_unit(word):
            return word
    return None


def factor(from_unit: str | None, stored_unit: str) -> float:
    """Multiplier from ``from_unit`` to the field's ``stored_unit`` (1 when either is absent).

    Raises ``ValueError`` when the units measure different things.
    """
    if not from_unit or stored_unit not in _STORED:
        return 1.0
    key = normalise_unit(from_unit)
    if key not in _UNITS:
        raise ValueError(f"unknown unit '{from_unit}'")
    dim, f = _UNITS[key]
    want, g = _STORED[stored_unit]
    if dim != want:
        raise ValueError(
            f"'{from_unit}' is not a unit of {_DIMENSION_NAMES.get(want, want)} "
            f"(expected {stored_unit})"
        )
    return f / g


def dimension(unit: str) -> str | None:
    """What ``unit`` measures ("power", "energy", "time", "mass", "intensity", "share"),
    ``None`` for an unknown unit."""
    hit = _UNITS.get(normalise_unit(unit))
    return hit[0] if hit else None


def stored_dimension(stored_unit: str) -> str | None:
    """What a field stored in ``stored_unit`` (a :mod:`core.schema` unit) measures."""
    hit = _STORED.get(stored_unit)
    return hit[0] if hit else None


def is_device_time(unit: str) -> bool:
    """Whether ``unit`` counts device time ("GPU-hours", "device-days") rather than
    elapsed time ("hours", "days")."""
    return normalise_unit(unit) in _DEVICE_TIME


def converts_to(stored_unit: str) -> bool:
    """Whether values of a field stored in ``stored_unit`` can be given in other units."""
    return stored_unit in _STORED


_NUMBER_UNIT = re.compile(
    r"^\s*([-+]?(?:\d[\d\s\u00a0.,']*)?\d(?:[eE][-+]?\d+)?|[-+]?\.\d+)\s*([^\d\s].*?)?\s*$"
)


def split_number_unit(text: str) -> tuple[str, str | None]:
    """ "1.2 MWh" -> ("1.2", "MWh"); "350" -> ("350", None); text stays whole if no number."""
    match = _NUMBER_UNIT.match(text)
    if not match:
        return text, None
    return match.group(1), match.group(2)


def parse_number(text: str, decimal_comma: bool = False) -> float:
    """A number written by people: "1,234.5", "1.234,5" (``decimal_comma``), "1 234", "0,75".

    Raises ``ValueError("must be a number")``; NaN and infinity are refused.
    """
    try:
        value = float(text)  # the fast path: most cells are plain numbers
    except ValueError:
        cleaned = text.strip().replace(" ", "").replace("\u00a0", "").replace("'", "")
        cleaned = cleaned.replace("_", "")
        if decimal_comma:
            cleaned = cleaned.replace(".", "").replace(",", ".")
        elif "," in cleaned and "." in cleaned:
            cleaned = cleaned.replace(",", "")
        elif cleaned.count(",") == 1 and len(cleaned.split(",")[1]) != 3:
            cleaned = cleaned.replace(",", ".")
        else:
            cleaned = cleaned.replace(",", "")
        try:
            value = float(cleaned)
        except ValueError:
            raise ValueError("must be a number") from None
    else:
        if decimal_comma and "." in text and "e" not in text.lower():
            # "1.234" in a decimal-comma file is one thousand two hundred and thirty-four
            head, _, tail = text.strip().partition(".")
            if len(tail) == 3 and head.lstrip("+-").isdigit():
                value = float(head + tail)
    if math.isnan(value) or math.isinf(value):
        raise ValueError("must be a finite number")
    return value
