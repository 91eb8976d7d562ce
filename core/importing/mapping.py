"""Which column goes to which inventory field, in which unit.

Headers are matched to fields by the field's own header and label (what an export
writes), its name, and synonyms people use ("No. of GPUs", "Accelerator", "Energy
[MWh]"). A unit in the header ("Power (kW)") is kept on the column and converted on
import. A sheet's table is proposed from its name and how many headers map.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

from core import schema
from core.importing import codecarbon, units
from core.importing.dates import order_evidence
from core.importing.reading import SheetInfo, iter_rows, preview_rows

#: tables a sheet can go to (hardware and factor overrides too, so an export re-imports)
IMPORT_TABLES: tuple[str, ...] = (
    "models",
    "training_runs",
    "deployments",
    "usage",
    "sites",
    "sourcing",
    "hardware",
    "factor_overrides",
)


@dataclass
class ColumnMapping:
    """Column ``index`` (header text ``header``) goes to ``field`` (None: ignored).

    ``unit`` is the unit the column's numbers are in ("MWh", "kW", "days", "%"), None
    when the field has no unit or the header names none (the field's stored unit then).
    """

    index: int
    header: str
    field: str | None
    unit: str | None
    confidence: float


@dataclass
class SheetMapping:
    """How one sheet maps to ``table``.

    ``date_order`` ("dmy"/"mdy") settles dates like 03/04/2026; ``ambiguous_dates`` is True
    when the whole column could not settle it (the user must choose). ``defaults`` gives
    values for fields the sheet lacks, for every row (e.g. ``{"kind": "fine-tuning",
    "site_id": 12}``; references as ids). ``into`` is the inventory table CodeCarbon rows
    become ("training_runs" or "usage") when ``table == "codecarbon"``.
    """

    table: str
    columns: list[ColumnMapping]
    date_order: str | None = None
    ambiguous_dates: bool = False
    defaults: dict[str, Any] = field(default_factory=dict)
    into: str | None = None
    sheet: str | None = None
    #: reference fields whose unmatched values are created on commit instead of refused
    create_missing: list[str] = field(default_factory=list)

    @property
    def target(self) -> str:
        """The inventory table rows are written to."""
        if self.table == "codecarbon":
            return self.into or "training_runs"
        return self.table

    def field_columns(self) -> dict[str, ColumnMapping]:
        return {c.field: c for c in self.columns if c.field}

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SheetMapping:
        cols = [ColumnMapping(**c) for c in data.get("columns", [])]
        return cls(
            table=data["table"],
            columns=cols,
            date_order=data.get("date_order"),
            ambiguous_dates=bool(data.get("ambiguous_dates", False)),
            defaults=dict(data.get("defaults") or {}),
            into=data.get("into"),
            sheet=data.get("sheet"),
            create_missing=list(data.get("create_missing") or []),
        )


#: header words (after removing units and punctuation) -> field, per table or for all ("*")
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "*": {
        "name": ("name", "title", "label", "nom", "bezeichnung"),
        "notes": ("notes", "note", "comment", "comments", "remarks", "description"),
        "start_date": ("start", "start date", "started", "from", "begin", "start time",
                       "debut", "date de debut", "beginn"),
        "end_date": ("end", "end date", "ended", "until", "to", "finish", "end time",
                     "fin", "date de fin", "ende"),
        "hardware_id": (
            "hardware", "gpu", "gpu type", "gpu model", "accelerator", "accelerator type",
            "device", "device type", "chip", "chip type", "hardware type", "instance gpu",
        ),
        "site_id": (
            "site", "data centre", "data center", "datacenter", "region", "cloud region",
            "location", "facility", "country",
        ),
        "model_id": ("model", "model name", "ai model"),
        "device_count": (
            "devices", "number of devices", "no of gpus", "no. of gpus", "gpus", "gpu count",
            "num gpus", "n gpus", "number of gpus", "# gpus", "# chips", "chips",
            "number of chips", "device count", "accelerators", "# devices", "count",
        ),
        "energy_kwh": ("energy", "measured energy", "energy consumed", "electricity",
                       "energy use", "consumption", "electricity consumption"),
        "device_hours": ("device hours", "gpu hours", "device-hours", "gpu-hours",
                         "accelerator hours", "chip hours", "compute hours", "device days",
                         "device-days", "gpu days", "gpu-days"),
        "energy_boundary": ("energy boundary", "boundary", "energy scope", "measured at"),
        "kind": ("kind", "type", "category"),
        "grid_region": ("grid region", "grid", "grid zone", "zone", "bidding zone",
                        "region reseau", "zone reseau"),
    },
    "models": {
        "name": ("model", "model name", "name"),
        "version": ("version", "model version", "release"),
        "owner": ("owner", "team", "owner / team", "owner team", "business unit"),
        "task": ("task", "use case", "purpose"),
        "params_total_b": ("parameters", "total parameters", "params", "size", "model size",
                           "parameter count", "# parameters"),
        "params_active_b": ("active parameters", "active params"),
        "provider": ("provider", "vendor", "developer", "built by"),
        "tags": ("tags", "labels"),
    },
    "training_runs": {
        "name": ("run", "run name", "training run", "job", "job name", "experiment"),
        "wall_hours": ("duration", "wall clock hours", "wall-clock hours", "wall time",
                       "runtime", "training time", "elapsed", "hours"),
        "avg_power_w": ("power", "average power", "avg power", "average power per device",
                        "power per gpu", "power draw", "gpu power"),
        "data_source": ("data source", "source", "measured by"),
        "external_id": ("external run id", "run id", "run_id", "external id", "job id"),
        "kind": ("kind", "type", "run type", "phase", "training type"),
    },
    "deployments": {
        "name": ("deployment", "deployment name", "endpoint", "service", "application", "app"),
    },
    "usage": {
        "deployment_id": ("deployment", "deployment name", "endpoint", "service", "application"),
        "period_start": ("period start", "start", "start date", "from", "month", "date", "day"),
        "period_end": ("period end", "end", "end date", "to", "until"),
        "requests": ("requests", "calls", "queries", "api calls", "number of requests",
                     "inferences", "# requests"),
        "input_tokens": ("input tokens", "prompt tokens", "tokens in"),
        "output_tokens": ("output tokens", "completion tokens", "generated tokens",
                          "tokens out"),
    },
    "sites": {
        "name": ("site", "site name", "data centre", "data center", "name"),
        "kind": ("kind", "type", "site type"),
        "provider": ("provider", "operator", "provider / operator", "cloud provider"),
        "region_code": ("region code", "region", "cloud region", "zone code"),
        "country": ("country", "country code", "iso code"),
        "pue": ("pue", "power usage effectiveness"),
        "wue": ("wue", "water usage effectiveness"),
        "grid_factor_g_per_kwh": ("own grid factor", "grid factor", "emission factor",
                                  "carbon intensity", "grid intensity", "gco2/kwh"),
        "grid_factor_source": ("grid factor source",),
        "source": ("source",),
    },
    "hardware": {
        "name": ("hardware", "name", "model"),
        "vendor": ("vendor", "manufacturer", "make"),
        "tdp_w": ("tdp", "thermal design power", "max power", "power"),
        "embodied_kgco2e": ("embodied", "embodied emissions", "manufacturing emissions"),
        "lifetime_years": ("lifetime", "service life", "life"),
        "source": ("source",),
    },
    "sourcing": {
        "name": ("name", "instrument name", "contract", "agreement"),
        "kind": ("instrument", "kind", "type", "instrument type"),
        "period_start": ("period start", "start", "from", "start date", "debut"),
        "period_end": ("period end", "end", "to", "end date", "fin"),
        "mwh": ("volume", "mwh", "energy", "quantity", "amount"),
        "share_pct": ("share", "share of consumption", "coverage", "percentage"),
        "factor_g_per_kwh": ("emission factor", "factor", "gco2/kwh", "carbon intensity",
                             "facteur", "facteur d emission"),
        "supplier": ("supplier", "project", "supplier / project", "generator"),
    },
    "factor_overrides": {
        "key": ("factor", "key", "parameter"),
        "value": ("value",),
        "low": ("low",),
        "high": ("high",),
        "reason": ("reason", "why"),
        "source": ("source",),
    },
}  # fmt: skip

#: sheet-name words -> table
_SHEET_WORDS = {
    "models": ("model",),
    "training_runs": ("training", "run", "runs", "train"),
    "deployments": ("deployment", "deploy", "endpoint", "service"),
    "usage": ("usage", "use", "traffic", "request", "inference", "monthly"),
    "sites": ("site", "datacenter", "data centre", "data center", "location"),
    "sourcing": ("sourcing", "renewable", "ppa", "certificate", "rec", "eac", "green"),
    "hardware": ("hardware", "gpu", "device", "accelerator"),
    "factor_overrides": ("override", "factor override"),
}


def clean_header(header: str, keep_unit: bool = False) -> str:
    """Lower-case header without its unit and punctuation: "Energy [MWh]" -> "energy".

    With ``keep_unit`` a trailing unit stays ("GPU-hours" -> "gpu-hours", where it is
    the whole header); units in brackets go either way.
    """
    header = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
    text = re.sub(r"[\(\[\{][^\)\]\}]*[\)\]\}]", " ", header.lower())
    unit = None if keep_unit else units.header_unit(header)
    if unit and text.strip().endswith(unit.lower()):
        text = text.strip()[: -len(unit)]
    text = re.sub(r"\b(in|per)\s*$", " ", text.strip())
    text = text.replace("_", " ").replace("*", " ")
    text = re.sub(r"[^a-z0-9#./\- ]+", " ", text)
    return " ".join(text.split()).strip(" .-")


def target_fields(table: str) -> list[tuple[str, str]]:
    """``(field name, label with unit)`` the user can map a column of ``table`` to."""
    if table == "codecarbon":
        return [(c, c) for c in codecarbon.USED_COLUMNS]
    spec = schema.table(table)
    return [(f.name, f.header) for f in spec.fields]


#: score of a header that is only a unit ("kWh", "Device-days") for the one field it fits
UNIT_ONLY_SCORE = 0.6


def header_scores(spec: schema.TableSpec, table: str, header: str) -> dict[str, float]:
    """field -> how well ``header`` names it (fields scoring 0 left out).

    The header is scored without its unit ("Energy [MWh]" -> "energy") and as written
    ("GPU-hours", "gCO2/kWh": headers that are only a unit, which is also a name). Only
    when the whole header names nothing are its trailing words scored, slightly lower:
    a joined two-row header ("Compute No. of GPUs"), longest tail first, so "GPU type"
    is the hardware, not a "type". A header that is only a unit and names nothing goes
    to the one field of the table that unit fits, if exactly one does (see
    :func:`_unit_only_field`).
    """
    cleaned = clean_header(header)
    whole = clean_header(header, keep_unit=True)
    texts = [(header, cleaned)] if whole == cleaned else [(header, cleaned), (header, whole)]
    out = _scores(spec, table, texts)
    words = cleaned.split()
    for n in range(1, min(3, len(words))):
        if out:
            break
        tail = " ".join(words[n:])
        out = {k: 0.9 * v for k, v in _scores(spec, table, [(tail, tail)]).items()}
    if not out and not cleaned:
        name = _unit_only_field(spec, header)
        if name:
            out[name] = UNIT_ONLY_SCORE
    return out


def _unit_only_field(spec: schema.TableSpec, header: str) -> str | None:
    """The field of ``spec`` that a header made only of a unit fits, by what the unit
    measures ("MWh" -> the table's one energy field; "GPU-hours", "Device-days" -> its
    device-hours). ``None`` when no field or several fit, and for words that are units
    but usually mean something else in a header: elapsed time ("Day", "Hours": a date,
    a time of day?) and one-letter units ("T", "W")."""
    unit = units.header_unit(header)
    if not unit or (len(units.normalise_unit(unit)) < 2 and unit != "%"):
        return None
    dim = units.dimension(unit)
    if dim is None or (dim == "time" and not units.is_device_time(unit)):
        return None
    fits = [
        f.name
        for f in spec.fields
        if f.is_number
        and units.stored_dimension(f.unit) == dim
        and (dim != "time" or f.name.startswith("device_"))
    ]
    return fits[0] if len(fits) == 1 else None


def _scores(spec: schema.TableSpec, table: str, texts: list[tuple[str, str]]) -> dict[str, float]:
    """field -> best score of the ``(header, cleaned)`` readings of one header."""
    out: dict[str, float] = {}
    for f in spec.fields:
        score = max(_field_score(table, f, header, cleaned) for header, cleaned in texts)
        if score:
            out[f.name] = score
    return out


def _field_score(table: str, f: schema.FieldSpec, header: str, cleaned: str) -> float:
    low = header.strip().lower()
    if low in (f.header.lower(), f.name):
        return 1.0
    if cleaned in (f.label.lower(), f.name.replace("_", " ")):
        return 0.95
    if cleaned in SYNONYMS.get(table, {}).get(f.name, ()):
        return 0.9
    if cleaned in SYNONYMS["*"].get(f.name, ()):
        return 0.8
    return 0.0


def propose_mapping(sheet: SheetInfo, table: str) -> SheetMapping:
    """Proposed target field and unit of every column of ``sheet`` for ``table``.

    Each field is used by at most one column (the best scoring). Percent columns whose
    sample values are all at most 1 are read as fractions. Date columns with numeric
    ``a/b/yyyy`` dates are scanned whole to settle day-month order.
    """
    if table == "codecarbon":
        return codecarbon.propose(sheet)
    spec = schema.table(table)
    candidates: list[tuple[float, int, str]] = []
    for i, header in enumerate(sheet.headers):
        for name, score in header_scores(spec, table, header).items():
            candidates.append((score, i, name))
    candidates.sort(key=lambda c: (-c[0], c[1]))
    chosen: dict[int, tuple[str, float]] = {}
    used: set[str] = set()
    for score, i, name in candidates:
        if i in chosen or name in used:
            continue
        chosen[i] = (name, score)
        used.add(name)
    sample = preview_rows(sheet, 50)
    columns = []
    for i, header in enumerate(sheet.headers):
        name, score = chosen.get(i, (None, 0.0))
        unit = None
        if name:
            f = spec.field(name)
            unit = _column_unit(f, header, [r[i] for r in sample])
        columns.append(ColumnMapping(i, header, name, unit, round(score, 2)))
    mapping = SheetMapping(table, columns, sheet=sheet.name)
    settle_date_order(sheet, mapping, sample)
    return mapping


def _column_unit(f: schema.FieldSpec, header: str, values: list[Any]) -> str | None:
    if not units.converts_to(f.unit):
        return None
    unit = units.header_unit(header)
    if unit:
        try:
            units.factor(unit, f.unit)
        except ValueError:
            return None
        return unit
    if f.unit == "%":
        numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if not numbers:
            numbers = []
            for v in values:
                if isinstance(v, str) and "%" not in v:
                    with contextlib.suppress(ValueError):
                        numbers.append(units.parse_number(v))
        if numbers and all(0 <= n <= 1 for n in numbers):
            return "fraction"
    return None


def settle_date_order(
    sheet: SheetInfo, mapping: SheetMapping, sample: list[list[Any]] | None = None
) -> None:
    """Set ``date_order``/``ambiguous_dates`` from every value of the date columns."""
    table = mapping.target
    spec = schema.table(table)
    date_cols = [
        c.index
        for c in mapping.columns
        if c.field and c.field in spec.field_names and spec.field(c.field).kind == "date"
    ]
    if not date_cols:
        return
    sample = sample if sample is not None else preview_rows(sheet, 50)
    if not any(isinstance(r[i], str) and order_evidence(r[i]) for r in sample for i in date_cols):
        return  # ISO dates or date cells: nothing to settle
    seen: set[str] = set()
    for _, cells in iter_rows(sheet):
        for i in date_cols:
            v = cells[i]
            if isinstance(v, str):
                e = order_evidence(v)
                if e in ("dmy", "mdy", "ambiguous"):
                    seen.add(e)
        if "dmy" in seen and "mdy" in seen:
            break
    if "dmy" in seen and "mdy" not in seen:
        mapping.date_order, mapping.ambiguous_dates = "dmy", False
    elif "mdy" in seen and "dmy" not in seen:
        mapping.date_order, mapping.ambiguous_dates = "mdy", False
    elif "ambiguous" in seen or ("dmy" in seen and "mdy" in seen):
        mapping.ambiguous_dates = mapping.date_order is None


def propose_table(sheet: SheetInfo) -> tuple[str | None, float]:
    """``(table, confidence)`` for a sheet from its name and headers.

    CodeCarbon logs are recognised by their columns. ``(None, 0.0)`` when nothing fits
    (a notes sheet, a chart's data).
    """
    if codecarbon.is_codecarbon(sheet.headers):
        return "codecarbon", 1.0
    name = sheet.name.lower().replace("_", " ")
    best: tuple[str | None, float] = (None, 0.0)
    for table in IMPORT_TABLES:
        spec = schema.table(table)
        mapped = propose_mapping_fast(spec, table, sheet.headers)
        if not mapped:
            continue
        required = [f.name for f in spec.fields if f.required]
        req_hit = sum(1 for r in required if r in mapped) / max(1, len(required))
        coverage = len(mapped) / max(1, len(sheet.headers))
        score = 0.5 * req_hit + 0.3 * coverage + 0.1 * sum(mapped.values()) / len(mapped)
        label = spec.label.lower()
        if label in name or table.replace("_", " ") in name:
            score += 0.4
        elif any(w in name for w in _SHEET_WORDS.get(table, ())):
            score += 0.25
        if score > best[1]:
            best = (table, score)
    if best[1] < 0.45:
        return None, 0.0
    return best[0], round(min(1.0, best[1]), 2)


def propose_mapping_fast(
    spec: schema.TableSpec, table: str, headers: list[str]
) -> dict[str, float]:
    """field -> best score over ``headers`` (no sample read)."""
    out: dict[str, float] = {}
    for header in headers:
        for name, s in header_scores(spec, table, header).items():
            if s > out.get(name, 0.0):
                out[name] = s
    return out
