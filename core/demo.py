"""The demo inventory: a realistic, fully fictional organisation to explore the app with.

:func:`build_demo` creates a new inventory (with the shipped reference data) and fills
it from ``resources/demo/demo_inventory.json``: models, own sites, training runs,
deployments, monthly usage and renewable-sourcing instruments. Usage rows are generated
from each deployment's monthly profile with a seeded random generator, so every build
gives identical content. Units are those of :mod:`core.schema` (parameters in billions,
power in W, energy in kWh, durations in hours, volumes in MWh).
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import math
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core import schema
from core.errors import LedgerError
from core.inventory import Inventory

#: First and last day covered by the demo's usage records (ISO dates, inclusive).
DEMO_PERIOD: tuple[str, str] = ("2025-01-01", "2026-10-31")

#: Seed of the usage generator; each deployment draws from its own stream.
USAGE_SEED = 2026

DEMO_DESCRIPTION = "Demo inventory"

#: JSON keys that name a referenced record instead of holding a field value.
_REF_KEYS = {"model": "model_id", "site": "site_id", "hardware": "hardware_id"}


class DemoDataError(LedgerError):
    """The demo definition is malformed or refers to a record that does not exist."""


def demo_file() -> Path:
    """The shipped demo definition (``resources/demo/demo_inventory.json``)."""
    return Path(__file__).resolve().parent.parent / "resources" / "demo" / "demo_inventory.json"


def load_definition(path: Path | None = None) -> dict[str, Any]:
    """The demo definition read from ``path`` (default: :func:`demo_file`)."""
    path = path or demo_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DemoDataError(f"{path}: the demo definition is missing.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DemoDataError(f"{path}: cannot read the demo definition ({exc}).") from exc
    if not isinstance(data, dict):
        raise DemoDataError(f"{path}: the demo definition must be a JSON object.")
    return data


def build_demo(path: str | os.PathLike[str], definition: Path | None = None) -> Inventory:
    """Create the demo inventory at ``path`` and return it open.

    ``definition`` defaults to the shipped JSON. Refuses to overwrite an existing file
    (like :meth:`Inventory.create`). If anything fails, the half-built file is removed
    and the error raised (a :class:`DemoDataError` naming the record for bad data).
    """
    data = load_definition(definition)
    source = definition or demo_file()
    inv = Inventory.create(path)
    try:
        _populate(inv, data, source)
    except BaseException:
        inv.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{inv.path}{suffix}").unlink(missing_ok=True)
        raise
    return inv


def _populate(inv: Inventory, data: dict[str, Any], source: Path) -> None:
    with inv.transaction():
        models = _section(data, "models", source)
        model_ids = dict(
            zip(
                (_model_title(m) for m in models),
                inv.insert_logged("models", models, DEMO_DESCRIPTION),
                strict=True,
            )
        )
        if len(model_ids) != len(models):
            raise DemoDataError(f"{source}: two models share a name and version.")
        inv.insert_logged("sites", _section(data, "sites", source), DEMO_DESCRIPTION)
        refs = {
            "model": model_ids,
            "site": _name_ids(inv, "sites"),
            "hardware": _name_ids(inv, "hardware"),
        }
        runs = [
            _resolve(r, "training_runs", refs, source)
            for r in _section(data, "training_runs", source)
        ]
        inv.insert_logged("training_runs", runs, DEMO_DESCRIPTION)
        deployments = _section(data, "deployments", source)
        records = [_resolve(d, "deployments", refs, source, extra={"usage"}) for d in deployments]
        deployment_ids = inv.insert_logged("deployments", records, DEMO_DESCRIPTION)
        usage = [
            row
            for dep, record, dep_id in zip(deployments, records, deployment_ids, strict=True)
            if "usage" in dep
            for row in monthly_usage(record, dep["usage"], dep_id)
        ]
        inv.insert_logged("usage", usage, DEMO_DESCRIPTION)
        sourcing = [
            _resolve(s, "sourcing", refs, source) for s in _section(data, "sourcing", source)
        ]
        inv.insert_logged("sourcing", sourcing, DEMO_DESCRIPTION)


def _section(data: dict[str, Any], key: str, source: Path) -> list[dict[str, Any]]:
    rows = data.get(key)
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise DemoDataError(f"{source}: {key!r} must be a list of objects.")
    return rows


def _model_title(model: dict[str, Any]) -> str:
    """A model as :data:`core.schema.MODELS` titles it: name, then version if any."""
    version = model.get("version") or ""
    return f"{model['name']} {version}" if version else str(model["name"])


def _name_ids(inv: Inventory, table: str) -> dict[str, int]:
    return {name: int(i) for i, name in inv.conn.execute(f"SELECT id, name FROM {table}")}


def _resolve(
    item: dict[str, Any],
    table: str,
    refs: dict[str, dict[str, int]],
    source: Path,
    extra: set[str] | None = None,
) -> dict[str, Any]:
    """A record of ``table`` from a JSON item whose references are given by name."""
    spec = schema.table(table)
    name = item.get("name")
    what = f"{source}: {spec.singular} {name!r}" if name else f"{source}: a {spec.singular}"
    unknown = set(item) - set(spec.field_names) - set(_REF_KEYS) - (extra or set())
    if unknown:
        raise DemoDataError(f"{what} has unknown key(s): {', '.join(sorted(unknown))}.")
    record = {k: v for k, v in item.items() if k in spec.field_names}
    for key, column in _REF_KEYS.items():
        if key not in item:
            continue
        if column not in spec.field_names:
            raise DemoDataError(f"{what}: a {spec.singular} has no {key}.")
        try:
            record[column] = refs[key][item[key]]
        except KeyError:
            table_name = schema.table(spec.field(column).ref or "").label.lower()
            raise DemoDataError(
                f"{what} refers to {key} {item[key]!r}, which is not in the {table_name} table."
            ) from None
    for f in spec.fields:
        if f.kind == "date" and record.get(f.name) is not None:
            try:
                dt.date.fromisoformat(record[f.name])
            except (TypeError, ValueError):
                raise DemoDataError(
                    f"{what}: {f.label} {record[f.name]!r} is not an ISO date."
                ) from None
    return record


def _months(start: dt.date, end: dt.date) -> Iterator[tuple[dt.date, dt.date]]:
    """``(first day, last day)`` of every calendar month touching ``start..end``."""
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        last = calendar.monthrange(year, month)[1]
        yield dt.date(year, month, 1), dt.date(year, month, last)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def monthly_usage(
    deployment: dict[str, Any], profile: dict[str, Any], deployment_id: int
) -> list[dict[str, Any]]:
    """Usage rows, one per month of ``deployment`` inside :data:`DEMO_PERIOD`.

    ``profile`` keys (all optional but ``requests_per_month``): ``growth_per_month``
    (fraction), ``seasonality`` (``amplitude`` fraction, ``peak_month`` 1-12),
    ``ramp_months``, ``noise`` (standard deviation, fraction), input/output tokens per
    request, ``device_hours`` (``"always-on"`` = devices x 24 h a day, or a number of
    device-hours per 1,000 requests) and ``measured_kwh_per_device_hour`` (kWh).
    Partial first and last months are clipped to the deployment's dates and scaled.
    Deterministic: the random stream depends only on :data:`USAGE_SEED` and the
    deployment's name.
    """
    rng = random.Random(f"{USAGE_SEED}:{deployment['name']}")
    period_start, period_end = (dt.date.fromisoformat(d) for d in DEMO_PERIOD)
    dep_start = dt.date.fromisoformat(deployment.get("start_date") or DEMO_PERIOD[0])
    dep_end = dt.date.fromisoformat(deployment.get("end_date") or DEMO_PERIOD[1])
    start, end = max(dep_start, period_start), min(dep_end, period_end)
    base = float(profile["requests_per_month"])
    growth = float(profile.get("growth_per_month", 0.0))
    season = profile.get("seasonality") or {}
    amplitude, peak = float(season.get("amplitude", 0.0)), int(season.get("peak_month", 1))
    ramp = int(profile.get("ramp_months", 0))
    noise = float(profile.get("noise", 0.0))
    tokens_in = profile.get("input_tokens_per_request")
    tokens_out = profile.get("output_tokens_per_request")
    hours_rule = profile.get("device_hours")
    kwh_per_hour = profile.get("measured_kwh_per_device_hour")
    devices = int(deployment.get("device_count") or 0)

    rows = []
    first_month = (dep_start.year, dep_start.month)
    for month_start, month_end in _months(start, end):
        p_start, p_end = max(month_start, start), min(month_end, end)
        days = (p_end - p_start).days + 1
        share = days / month_end.day
        age = (month_start.year - first_month[0]) * 12 + month_start.month - first_month[1]
        level = base * (1 + growth) ** age
        level *= 1 + amplitude * math.cos(2 * math.pi * (month_start.month - peak) / 12)
        if ramp:
            level *= min(1.0, (age + 1) / (ramp + 1))
        level *= max(0.5, rng.gauss(1.0, noise)) if noise else 1.0
        requests = round(level * share)
        row: dict[str, Any] = {
            "deployment_id": deployment_id,
            "period_start": p_start.isoformat(),
            "period_end": p_end.isoformat(),
            "requests": requests,
        }
        if tokens_in:
            row["input_tokens"] = round(requests * tokens_in * rng.uniform(0.97, 1.03))
        if tokens_out:
            row["output_tokens"] = round(requests * tokens_out * rng.uniform(0.97, 1.03))
        hours = None
        if hours_rule == "always-on":
            hours = float(devices * 24 * days)
        elif isinstance(hours_rule, int | float):
            hours = round(requests / 1000 * float(hours_rule), 1)
        if hours is not None:
            row["device_hours"] = hours
            if kwh_per_hour:
                row["energy_kwh"] = round(hours * kwh_per_hour * rng.uniform(0.94, 1.06), 2)
                row["energy_boundary"] = "it"  # metered at the servers' power supplies
        rows.append(row)
    return rows
