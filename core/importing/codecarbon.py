"""CodeCarbon ``emissions.csv`` logs of any version, as training runs or usage rows.

Versions differ: 1.x files have 12-19 columns and no ``run_id``; 2.x/3.x have 30-38;
``.bak`` files are old logs CodeCarbon renamed after a schema change; task-level exports
start with ``task_name``. We read columns by name, so all of them work.

What a row becomes (see :func:`row_values`): the run's measured energy
(``energy_consumed``, kWh) with boundary "facility" when CodeCarbon applied a PUE above 1
(its energy already includes it: we never apply PUE again) and "it" otherwise (CPU + GPU
+ RAM); ``duration`` (s) as wall-clock hours; GPU model and count as hardware and
devices (CPU model when there is no GPU); the cloud region, else the country, as site;
``run_id`` (with ``task_name``) as the external id that makes a re-import update rather
than duplicate. ``experiment_id`` is the same default value across unrelated files and
is never used as a key; ``on_cloud`` and the geolocation are unreliable, so the user may
set one site for the whole file (``SheetMapping.defaults["site_id"]``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from core.importing.dates import parse_timestamp
from core.importing.units import parse_number

if TYPE_CHECKING:
    from core.importing.mapping import SheetMapping
    from core.importing.reading import SheetInfo

#: CodeCarbon columns we read (others are ignored)
USED_COLUMNS: tuple[str, ...] = (
    "timestamp",
    "project_name",
    "task_name",
    "run_id",
    "duration",
    "energy_consumed",
    "emissions",
    "country_name",
    "country_iso_code",
    "region",
    "cloud_provider",
    "cloud_region",
    "cpu_model",
    "gpu_model",
    "gpu_count",
    "pue",
    "codecarbon_version",
)
_SIGNATURE = {"timestamp", "duration", "emissions", "energy_consumed"}


def is_codecarbon(headers: list[str]) -> bool:
    """Whether a sheet's headers are those of a CodeCarbon log."""
    names = {h.strip().lower() for h in headers}
    return names >= _SIGNATURE and ("project_name" in names or "run_id" in names)


def propose(sheet: SheetInfo) -> SheetMapping:
    from core.importing.mapping import ColumnMapping, SheetMapping

    cols = []
    for i, header in enumerate(sheet.headers):
        name = header.strip().lower()
        used = name if name in USED_COLUMNS else None
        cols.append(ColumnMapping(i, header, used, None, 1.0 if used else 0.0))
    into = "training_runs"
    return SheetMapping(
        "codecarbon",
        cols,
        defaults={"kind": "experiments"},
        into=into,
        sheet=sheet.name,
        # a CodeCarbon project is a model the inventory may not list yet; the machine's
        # reported GPU/CPU and location are facts of the run: keep them as new records
        create_missing=["model_id", "hardware_id", "site_id"],
    )


def _num(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return parse_number(str(value))


def row_values(get: dict[str, Any], into: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Field values (refs as raw text) and problems for one CodeCarbon row.

    ``get`` maps CodeCarbon column names to cells. Raises nothing: problems are
    returned by field name.
    """
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    project = str(get.get("project_name") or "").strip() or "codecarbon"
    task = str(get.get("task_name") or "").strip()
    try:
        stamp = parse_timestamp(get.get("timestamp"))
    except ValueError as exc:
        problems["start_date"] = str(exc)
        stamp = None
    try:
        seconds = _num(get.get("duration"))
    except ValueError as exc:
        problems["wall_hours"] = f"duration {exc}"
        seconds = None
    try:
        energy = _num(get.get("energy_consumed"))
    except ValueError as exc:
        problems["energy_kwh"] = f"energy_consumed {exc}"
        energy = None
    try:
        pue = _num(get.get("pue"))
    except ValueError:
        pue = None
    try:
        gpus = _num(get.get("gpu_count"))
    except ValueError:
        gpus = None
    hours = seconds / 3600 if seconds is not None else None
    if stamp is not None:
        start = stamp - dt.timedelta(seconds=seconds or 0)
        start_date, end_date = start.date().isoformat(), stamp.date().isoformat()
    else:
        start_date = end_date = None
    gpu_model = str(get.get("gpu_model") or "").strip()
    cpu_model = str(get.get("cpu_model") or "").strip()
    count = int(gpus) if gpus and gpus > 0 else None
    hardware = gpu_model if (gpu_model and count) else (cpu_model or None)
    if get.get("cloud_provider") and get.get("cloud_region"):
        site = str(get["cloud_region"]).strip()
    else:
        site = str(get.get("country_name") or get.get("country_iso_code") or "").strip() or None
    boundary = "facility" if pue and pue > 1.0 else "it"
    run_id = str(get.get("run_id") or "").strip()
    external = run_id or f"{project}@{get.get('timestamp')}"
    if task:
        external = f"{external}/{task}"
    version = str(get.get("codecarbon_version") or "").strip()
    when = stamp.strftime("%Y-%m-%d %H:%M:%S") if stamp else ""
    if into == "usage":
        values.update(
            deployment_id=project,
            period_start=start_date,
            period_end=end_date,
            energy_kwh=energy,
            energy_boundary=boundary,
            device_hours=count * hours if (count and hours is not None) else None,
            notes=f"CodeCarbon run {external}",
        )
        if "start_date" in problems:
            problems["period_start"] = problems.pop("start_date")
        problems.pop("wall_hours", None)
        return values, problems
    values.update(
        name=f"{task or project} {when}".strip(),
        model_id=project,
        hardware_id=hardware,
        site_id=site,
        device_count=count,
        start_date=start_date,
        end_date=end_date,
        wall_hours=hours,
        device_hours=count * hours if (count and hours is not None) else None,
        energy_kwh=energy,
        energy_boundary=boundary,
        data_source=f"CodeCarbon {version}".strip(),
        external_id=external,
    )
    return values, problems
