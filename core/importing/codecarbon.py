"""CodeCarbon ``emissions.csv`` logs of any version, as training runs or usage rows.

Versions differ: 1.x files have 12-19 columns and no ``run_id``; 2.x/3.x have 30-38;
``.bak`` files are old logs CodeCarbon renamed after a schema change; task-level exports
start with ``task_name``. We read columns by name, so all of them work.

What a row becomes (see :func:`row_values`): the run's measured energy
(``energy_consumed``, kWh) with boundary "facility" when CodeCarbon applied a PUE above 1
(its energy already includes it: we never apply PUE again) and "it" otherwise (CPU + GPU
+ RAM); ``duration`` (s) as wall-clock hours; GPU model and count as hardware and
devices (CPU model when there is no GPU); as site the cloud region, else the ``region``
when the reference grid data knows it as a sub-national zone of the country ("california"
in the USA is the grid zone "US-CA"), else the country (with a note on the row saying
the region was not used); ``run_id`` (with ``task_name``) as the external id that makes
a re-import update rather than duplicate. ``experiment_id`` is the same default value
across unrelated files and is never used as a key; ``on_cloud`` and the geolocation are
unreliable, so the user may set one site for the whole file
(``SheetMapping.defaults["site_id"]``). Problems of a row are those of the log's own
columns (:data:`SOURCE_COLUMNS` says which column each field comes from).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from core.errors import ImportReadError
from core.importing.dates import parse_timestamp
from core.importing.matching import grid_zone
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
_SIGNATURE = ("timestamp", "duration", "emissions", "energy_consumed")

#: inventory field -> the CodeCarbon columns its value comes from, first present first:
#: problems of a field are the problems of that column of the file
SOURCE_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("task_name", "project_name", "timestamp"),
    "model_id": ("project_name",),
    "deployment_id": ("project_name",),
    "hardware_id": ("gpu_model", "cpu_model"),
    "device_count": ("gpu_count",),
    "site_id": ("cloud_region", "region", "country_name", "country_iso_code"),
    "start_date": ("timestamp",),
    "end_date": ("timestamp",),
    "period_start": ("timestamp",),
    "period_end": ("timestamp",),
    "wall_hours": ("duration",),
    "device_hours": ("duration", "gpu_count"),
    "energy_kwh": ("energy_consumed",),
    "energy_boundary": ("pue",),
    "data_source": ("codecarbon_version",),
    "external_id": ("run_id", "task_name", "project_name", "timestamp"),
}


def missing_columns(headers: list[str]) -> list[str]:
    """The columns every CodeCarbon log has that ``headers`` lack (none: it is one)."""
    names = {h.strip().lower() for h in headers}
    missing = [c for c in _SIGNATURE if c not in names]
    if "project_name" not in names and "run_id" not in names:
        missing.append("project_name (or run_id)")
    return missing


def is_codecarbon(headers: list[str]) -> bool:
    """Whether a sheet's headers are those of a CodeCarbon log."""
    return not missing_columns(headers)


def problem_column(
    field: str, header_of: dict[str, str], sources: dict[str, str] | None = None
) -> str | None:
    """The file's column to name for a problem of inventory field ``field`` of a row
    read from a CodeCarbon log (``header_of``: CodeCarbon column -> the file's header,
    for the columns the file has; ``sources``: the row's :func:`row_sources`); None when
    no column of the file gives the field."""
    chosen = (sources or {}).get(field)
    if chosen in header_of:
        return header_of[chosen]
    for column in SOURCE_COLUMNS.get(field, ()):
        if column in header_of:
            return header_of[column]
    return None


def propose(sheet: SheetInfo) -> SheetMapping:
    """The mapping of a CodeCarbon log: its columns read by name.

    Raises :class:`ImportReadError` when the sheet is not a CodeCarbon log (naming the
    columns it lacks), rather than reading every row as a run without a timestamp.
    """
    from core.importing.mapping import ColumnMapping, SheetMapping

    missing = missing_columns(sheet.headers)
    if missing:
        columns = ", ".join(missing)
        raise ImportReadError(
            f"{sheet.label}: this is not a CodeCarbon log (emissions.csv): it lacks the "
            f"column{'s' if len(missing) > 1 else ''} {columns}. "
            "Import it as an inventory table instead."
        )
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
        shown = str(get.get("timestamp") or "").strip()[:40]
        problems["start_date"] = f"timestamp '{shown}' {exc}" if shown else "timestamp is empty"
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
    # the problem of a duration reaching past the calendar from the timestamp (damaged)
    past_calendar = None
    if stamp is not None:
        try:
            start = stamp - dt.timedelta(seconds=seconds or 0)
        except OverflowError:  # before year 1 or after 9999, or past what timedelta holds
            shown = str(get.get("duration")).strip()[:40]
            past_calendar = (
                f"duration '{shown}' s would start the run before year 1 or after 9999 "
                "(counted back from its timestamp): give the run's length in seconds"
            )
            problems["wall_hours"] = past_calendar
            start, hours = stamp, None
        start_date, end_date = start.date().isoformat(), stamp.date().isoformat()
    else:
        start_date = end_date = None
    count = int(gpus) if gpus and gpus > 0 else None
    hardware = str(get.get(_hardware_column(get, count)) or "").strip() or None
    site, site_note, _ = _site(get)
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
        if past_calendar:  # usage rows have no wall hours: the duration gives device-hours
            problems["device_hours"] = past_calendar
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
    if site_note:
        values["notes"] = site_note
    return values, problems


def _hardware_column(get: dict[str, Any], gpus: int | None) -> str:
    """The column a run's hardware is read from: its GPU model when it used GPUs (a
    model and a count above 0), else its CPU model."""
    return "gpu_model" if (str(get.get("gpu_model") or "").strip() and gpus) else "cpu_model"


def _site(get: dict[str, Any]) -> tuple[str | None, str | None, str]:
    """``(site text, note, the column it comes from)`` of a run: the cloud region; else
    the grid zone of its ``region`` ("california" in the USA: "US-CA"); else the country,
    with a note when a region was given but is not a zone the reference data knows."""
    if get.get("cloud_provider") and get.get("cloud_region"):
        return str(get["cloud_region"]).strip(), None, "cloud_region"
    from_name = bool(get.get("country_name"))  # as read before: a blank-looking name counts
    country_column = "country_name" if from_name else "country_iso_code"
    country = str(get.get(country_column) or "").strip() or None
    region = str(get.get("region") or "").strip()
    if not region:
        return country, None, country_column
    zone = grid_zone(region, str(get.get("country_iso_code") or "").strip() or country)
    if zone:
        return zone, None, "region"
    if country is None:
        return None, None, "region"  # a place name without its country: not a site to guess
    return (
        country,
        (
            f"CodeCarbon region '{region}' is not a grid region of the reference data: "
            f"the site is the country ({country})."
        ),
        country_column,
    )


def row_sources(get: dict[str, Any]) -> dict[str, str]:
    """For the fields a run reads from one of several columns (hardware, site), the
    CodeCarbon column this row's value came from: a problem with the value names that
    column (see :func:`problem_column`)."""
    try:
        gpus = _num(get.get("gpu_count"))
    except ValueError:
        gpus = None
    count = int(gpus) if gpus and gpus > 0 else None
    return {"hardware_id": _hardware_column(get, count), "site_id": _site(get)[2]}
