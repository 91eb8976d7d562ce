"""How one entry's figures were reached: formulas with the numbers, factors with sources.

``explain(engine, "training_runs:12", period)`` returns an :class:`Explanation`: titled
sections of plain lines, suitable for a terminal, a detail panel or a report appendix.

Each formula line is followed by its factor lines, which start with :data:`SUB` (two
spaces): one factor each, with its value and unit, its source, year and licence, and
whether it is a shipped default or the user's input (a record of the inventory, or an
override of a shipped factor). "Defaults used" lists every default the figures rest on.

Units: energy kWh, power W, emissions kgCO2e, grid factors g per kWh of the gas their
source states (CO2 or CO2e), water litres.
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core import engine as eng
from core import factors, schema
from core.assumptions import _PROVIDER_PARAM
from core.errors import RecordNotFoundError
from core.estimate import Engine
from core.factors import Factor, GridLookup
from core.periods import Period, parse_period
from core.reference import reference_dir

#: the start of a factor line: it belongs to the formula line above it
SUB = "  "
DEFAULT = "default"
USER = "your input"
#: what a factor counted as CO2e misses when its source gives CO2 only
CO2_ONLY = (
    "CO2 only: the source gives grams of CO2 per kWh, not CO2e; it is counted as CO2e "
    "here, so the other greenhouse gases of generation (methane, nitrous oxide) are not "
    "included (resources/reference/SOURCES.md)"
)


@dataclass
class Explanation:
    entry: str
    title: str
    period: str
    sections: list[tuple[str, list[str]]] = field(default_factory=list)

    def text(self) -> str:
        out = [f"{self.title}  [{self.entry}]", f"Period: {self.period}", ""]
        for heading, lines in self.sections:
            out.append(heading)
            out.extend(f"  {line}" for line in lines)
            out.append("")
        return "\n".join(out).rstrip() + "\n"

    def to_json(self) -> dict:
        return {
            "entry": self.entry,
            "title": self.title,
            "period": self.period,
            "sections": [{"heading": h, "lines": ls} for h, ls in self.sections],
        }


def _n(x: float, unit: str = "") -> str:
    """A number as people read it: grouped digits, 3 significant figures below 100."""
    if x != x:  # NaN
        return "—"
    text = f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.3g}"
    return f"{text} {unit}".rstrip()


def _source(f: Factor) -> str:
    year = f", {f.year}" if f.year else ""
    licence = f", {f.licence}" if f.licence else ""
    return f"{f.source}{year}{licence}"


def _is_override(source: str | None) -> bool:
    return (source or "").startswith("override:")


def _cite(source: str, year: Any, licence: str, origin: str) -> str:
    """``source, year, licence; origin`` (a user's override: its own reason and source)."""
    if _is_override(source):
        return f"{source}; {USER} (override of the shipped value)"
    year_text = str(year) if year not in (None, "") else "year not given"
    return f"{source or 'no source given'}, {year_text}, {licence or 'licence not given'}; {origin}"


def _param(f: Factor, name: str, label: str | None = None) -> str:
    """A shipped parameter (or its override): value, unit, range, source, year, licence
    (``label`` in front of the parameter's name)."""
    spread = f" (range {_n(f.low)}-{_n(f.high)})" if f.low != f.high else ""
    what = f"{label} ({name})" if label else name
    return f"{what} {_n(f.value)} {f.unit}{spread}: {_cite(f.source, f.year, f.licence, DEFAULT)}"


def parse_entry(entry: str) -> tuple[int, int]:
    """``training_runs:12`` or ``deployments:5`` as (table index, id)."""
    table, _, rid = entry.partition(":")
    aliases = {"run": "training_runs", "runs": "training_runs", "deployment": "deployments"}
    table = aliases.get(table, table)
    if table not in eng.ENTRY_TABLES or not rid.isdigit():
        raise RecordNotFoundError(
            f"'{entry}' is not an entry: write training_runs:ID or deployments:ID "
            "(ids are in the first column of 'list')."
        )
    return eng.ENTRY_TABLES.index(table), int(rid)


# -- shipped reference rows (hardware and sites) ---------------------------------------------


@functools.lru_cache(maxsize=4)
def _shipped(table: str) -> dict[str, dict[str, str]]:
    """Rows of the shipped ``<table>.csv`` (hardware or sites) by name, with their own
    ``source``, ``year`` and ``licence`` columns (empty when the file cannot be read:
    every figure then counts as the user's record)."""
    try:
        with (reference_dir() / f"{table}.csv").open(encoding="utf-8", newline="") as fh:
            return {row["name"]: row for row in csv.DictReader(fh) if row.get("name")}
    except (OSError, UnicodeDecodeError, csv.Error, KeyError):
        return {}


def _part(source: str, year: str, licence: str, label: str) -> tuple[str, str, str]:
    """The part about ``label`` of a combined source such as ``"TDP: A; embodied: B"``
    (years ``"2020; 2023"`` and licences in the same order when they have as many
    parts); the whole source when no part is labelled so."""
    parts = [s.strip() for s in source.split(";")]
    years = [s.strip() for s in year.split(";")]
    licences = [s.strip() for s in licence.split(";")]
    for i, part in enumerate(parts):
        head, colon, rest = part.partition(":")
        words = re.split(r"[ ,]+", head.strip().lower())
        if colon and len(head) <= 30 and label.lower() in words:
            y = years[i] if len(years) == len(parts) else year
            lic = licences[i] if len(licences) == len(parts) else licence
            return rest.strip(), y, lic
    return source, year, licence


def _same(text: str | None, value: float | None) -> bool:
    if value is None or value != value:
        return not text
    try:
        return abs(float(text or "nan") - value) <= 1e-9 * max(abs(value), 1.0)
    except ValueError:
        return False


def _record_figure(table: str, row: dict[str, Any], column: str, label: str) -> tuple[str, bool]:
    """(citation, is it a default) of a figure of a hardware or site record: the shipped
    file's source, year and licence while the record holds the shipped figure, else the
    user's record (with the source it names, if any)."""
    value = row.get(column)
    shipped = _shipped(table).get(str(row.get("name")))
    if shipped is not None and column in shipped and _same(shipped[column], value):
        src, year, lic = _part(shipped["source"], shipped["year"], shipped["licence"], label)
        return _cite(src, year, lic, f"{DEFAULT} (shipped {table} table)"), True
    singular = schema.table(table).singular
    own = row.get("source")
    where = f"{singular} '{row.get('name')}'"
    return f"{USER} ({where}; " + (f"its source: {own})" if own else "no source given)"), False


# -- the explanation --------------------------------------------------------------------------


class _Context:
    """What every section needs: the engine, the entry, and the defaults met so far."""

    def __init__(self, e: Engine, table: int, rid: int, record: dict[str, Any]):
        self.e, self.table, self.rid, self.record = e, table, rid, record
        self.a = e.assumptions
        self.defaults: dict[str, str] = {}
        self._model: dict[str, Any] | None = None

    def default(self, key: str, text: str) -> None:
        self.defaults.setdefault(key, text)

    def model(self) -> dict[str, Any]:
        if self._model is None:
            mid = self.record.get("model_id")
            try:
                self._model = self.e.inv.get("models", mid) if mid is not None else {}
            except RecordNotFoundError:
                self._model = {}
        return self._model

    def param(self, name: str, label: str | None = None) -> str:
        """A shared parameter's factor line; a default is listed in "Defaults used"."""
        f = self.a.param(name)
        if not _is_override(f.source):
            self.default(f"param:{name}", _default_param(f, name))
        return _param(f, name, label)

    def site_row(self, s: int) -> dict[str, Any]:
        rows = self.e.activity.site_rows
        return rows[s] if s < len(rows) else {"name": "(no site)"}

    def hardware_row(self, h: int) -> dict[str, Any]:
        rows = self.e.activity.hardware_rows
        return rows[h] if h < len(rows) else {"name": "(no hardware)"}

    def hardware_figure(self, h: int, column: str, label: str, what: str) -> str:
        """``what`` (a figure of hardware ``h``) with its citation."""
        row = self.hardware_row(h)
        cite, is_default = _record_figure("hardware", row, column, label)
        if is_default:
            self.default(f"hw:{h}:{column}", f"{what}: {cite}")
        return f"{what}: {cite}"

    def pue(self, s: int) -> str:
        """The PUE factor line of site ``s``: stated for the site, or a default."""
        e = self.e
        value = e.sites.pue[s]
        row = self.site_row(s)
        if row.get("pue") is not None:
            cite, is_default = _record_figure("sites", row, "pue", "PUE")
            line = f"PUE {_n(value)} of {row['name']}: {cite}"
            if is_default:
                self.default(f"pue:{s}", line)
            return line
        provider = _PROVIDER_PARAM.get((row.get("provider") or "").strip().lower())
        name = f"pue:{provider}" if provider and f"pue:{provider}" in self.a.params else None
        name = name or "pue_industry_average"
        f = self.a.params[name]
        why = "no PUE stated for the site" if s < len(e.activity.site_rows) else "no site given"
        if not _is_override(f.source):
            self.default(
                f"pue:{s}",
                f"PUE {_n(value)} ({name}, range {_n(f.low)}-{_n(f.high)}; {_source(f)})",
            )
        return f"PUE {_n(value)} ({why}): {_param(f, name)}"


def _default_param(f: Factor, name: str) -> str:
    return f"{name} = {_n(f.value)} {f.unit} (range {_n(f.low)}-{_n(f.high)}; {_source(f)})"


def explain(
    e: Engine, entry: str, period: Period | str | None = None, samples: int = 1000, seed: int = 0
) -> Explanation:
    """The explanation of one entry for ``period`` (all time when None)."""
    if isinstance(period, str):
        period = parse_period(period)
    table, rid = parse_entry(entry)
    table_name = eng.ENTRY_TABLES[table]
    record = e.inv.get(table_name, rid)  # raises RecordNotFoundError with a clear message
    lines, p = e.lines, e.pieces
    mine = (lines.entry_table == table) & (lines.entry_id == rid)
    w = p.weights(period) * mine[p.line]
    sel = w > 0
    # the weight of a line's own (whole-line) figures in each piece: the piece's share of
    # the line's days times the piece's weight in the period
    lw = np.zeros(len(w))
    lw[sel] = w[sel] * _piece_share(e, np.flatnonzero(sel))
    out = Explanation(
        f"{table_name}:{rid}", e.title(table, rid), period.label if period else "all time"
    )
    x = _Context(e, table, rid, record)
    kinds = sorted(set(lines.kind[p.line[sel]].tolist()))
    if not sel.any():
        result = ["No activity in this period."]
        result += [
            f"Not estimated: {eng.SKIPPED[n][1]}."
            for n in e.entry_notes(table_name, rid)
            if n in eng.SKIPPED and eng.SKIPPED[n][0] == "energy"
        ]
        out.sections.append(("Result", result))
    out.sections.append(("Inputs", _inputs(e, table, record)))
    for kind in (k for k in kinds if k != eng.EMBODIED):
        out.sections.append((f"Energy ({eng.KINDS[kind]})", _energy(x, kind, p.line[sel], lw[sel])))
    if sel.any():
        out.sections.append(("Location-based emissions", _location(x, sel, w)))
        out.sections.append(("Market-based emissions", _market(x, sel, w)))
    if eng.EMBODIED in kinds:
        out.sections.append(("Embodied emissions", _embodied(x, p.line[sel], lw[sel])))
    if sel.any():
        out.sections.append(("Water", _water(x, sel, w)))
    est = e.estimate(period, by="entry", samples=samples, seed=seed, entry=(table, rid))
    if est.rows:
        t = est.totals
        parts = "; ".join(
            f"{r.kind}: {_n(r.location_kgco2e, 'kgCO2e')} ({r.method_tier}, {r.scope})"
            for r in est.rows
        )
        out.sections.append(
            (
                "Range",
                [
                    f"Location-based {_n(t['location_kgco2e'], 'kgCO2e')} (all parts), "
                    f"P5-P95 {_n(t['low_kgco2e'])}-{_n(t['high_kgco2e'], 'kgCO2e')} "
                    f"({samples:,} samples, seed {seed})",
                    f"By part: {parts}",
                ],
            )
        )
    out.sections.append(("Defaults used", _defaults_used(x, sel, p.line[sel])))
    out.sections.append(("Notes", e.entry_notes(table_name, rid) or ["none"]))
    return out


def _piece_share(e: Engine, pieces: np.ndarray) -> np.ndarray:
    """Per piece (indices), its share of its line's days (1 for the single piece of an
    undated line): the line's own figures (device-hours, accelerator energy) times this
    are the piece's."""
    p, lines = e.pieces, e.lines
    line = p.line[pieces]
    start, end = lines.start[line], lines.end[line]
    dated = ~np.isnat(start) & ~np.isnat(end)
    days = np.where(dated, (end - start).astype("timedelta64[D]").astype(np.int64) + 1, 1)
    first = p.first_day[pieces].astype(np.int64)
    piece_days = p.last_day[pieces].astype(np.int64) - first + 1
    return np.where(dated, piece_days / np.maximum(days, 1), 1.0)


def _defaults_used(x: _Context, sel: np.ndarray, line: np.ndarray) -> list[str]:
    """The defaults the figures rest on: shared parameters (by the lines' flags), then
    the defaults the sections met (PUE, hardware figures, inference energy, model size,
    grid factors)."""
    if not sel.any():
        return ["none: no activity in this period, so nothing was estimated"]
    used = int(np.bitwise_or.reduce(x.e.lines.shared[line]))
    out = []
    for bit, name in enumerate(eng.SHARED):
        if used & (1 << bit) and name != "pue_default":
            f = x.a.param(name)
            if not _is_override(f.source):
                x.default(f"param:{name}", _default_param(f, name))
    params = [v for k, v in x.defaults.items() if k.startswith("param:")]
    out = params + [v for k, v in x.defaults.items() if not k.startswith("param:")]
    return out or ["none: every input was given"]


def _inputs(e: Engine, table: int, record: dict) -> list[str]:
    spec_fields = [
        "kind",
        "site_id",
        "hardware_id",
        "device_count",
        "start_date",
        "end_date",
        "device_hours",
        "wall_hours",
        "avg_power_w",
        "energy_kwh",
        "energy_boundary",
    ]
    spec = schema.table(eng.ENTRY_TABLES[table])
    out = [f"Model: {e.inv.title('models', record['model_id'])}"]
    for f in spec_fields:
        value = record.get(f)
        if value is None or f not in spec.field_names:
            continue
        field = spec.field(f)
        if f == "site_id":
            out.append(f"{field.label}: {e.inv.title('sites', value)}")
        elif f == "hardware_id":
            out.append(f"{field.label}: {e.inv.title('hardware', value)}")
        elif field.choices:
            out.append(f"{field.label}: {dict(field.choices).get(value, value)}")
        elif isinstance(value, int | float):
            unit = "" if field.unit.lower() == field.label.lower() else field.unit
            out.append(f"{field.label}: {_n(float(value), unit)}")
        else:
            out.append(f"{field.label}: {value}")
    return out


# -- energy -----------------------------------------------------------------------------------


def _energy(x: _Context, kind: int, line: np.ndarray, w: np.ndarray) -> list[str]:
    """Per method tier: the formula with its numbers, then its factors. ``w`` weighs
    each line's own figures (see :func:`_piece_share`)."""
    lines = x.e.lines
    sel = lines.kind[line] == kind
    ln, wt = line[sel], w[sel]
    out: list[str] = []
    for tier in sorted(set(lines.tier[ln].tolist())):
        t = lines.tier[ln] == tier
        lt, wtt = ln[t], wt[t]
        dev_h = float(np.nansum(lines.device_hours[lt] * wtt))
        device = float(np.nansum(lines.device_kwh[lt] * wtt))
        it = float((lines.it_kwh[lt] * wtt).sum())
        fac = float((lines.facility_kwh[lt] * wtt).sum())
        n = len(np.unique(lines.source_row[lt]))
        what = "record" if x.table == 0 else "usage record"
        what += "" if n == 1 else "s"
        head = f"{eng.TIERS[tier]} ({n} {what}):"
        if tier == eng.MEASURED:
            out += _measured(x, head, lt, wtt)
        elif device > 0 and dev_h > 0 and not _per_unit_lines(x.e, x.table, tier, lt):
            out += _activity(x, head, lt, wtt, dev_h, device, it, fac)
        elif x.table == 0 or (it == 0 and fac == 0):
            # nothing to estimate from (no hours, no power or TDP, 0 hours): say why
            why = [
                eng.SKIPPED[n][1]
                for n in x.e.entry_notes(eng.ENTRY_TABLES[x.table], x.rid)
                if n in eng.SKIPPED and eng.SKIPPED[n][0] != "embodied emissions"
            ]
            out.append(
                f"{head} no energy estimated"
                + (f" ({'; '.join(why)})" if why else "")
                + f": {_n(fac, 'kWh')}"
            )
        else:
            out += _per_unit(x, head, lt, wtt)
    return out


def _pue_lines(x: _Context, line: np.ndarray) -> list[str]:
    return [SUB + x.pue(int(s)) for s in np.unique(x.e.lines.site[line]).tolist()]


def _pue_text(it: float, fac: float) -> str:
    return _n(fac / it) if it else "—"


def _measured(x: _Context, head: str, line: np.ndarray, w: np.ndarray) -> list[str]:
    """Measured energy by its boundary: devices x (1 + host overhead) x PUE; IT x PUE;
    facility as it is."""
    lines = x.e.lines
    rows = x.e.activity.training_runs if x.table == 0 else x.e.activity.usage
    pos = rows.index_of(lines.source_row[line])
    found = pos >= 0
    boundary = np.where(found, rows["energy_boundary"][np.where(found, pos, 0)], -1)
    measured = np.where(found, rows["energy_kwh"][np.where(found, pos, 0)], np.nan)
    where = "the training run" if x.table == 0 else "usage records"
    out = []
    for code, name in ((0, "devices"), (1, "IT"), (-1, "IT"), (2, "facility")):
        m = boundary == code
        if not m.any():
            continue
        kwh = float(np.nansum(measured[m] * w[m]))
        it = float((lines.it_kwh[line[m]] * w[m]).sum())
        fac = float((lines.facility_kwh[line[m]] * w[m]).sum())
        given = f"{_n(kwh, 'kWh')} measured at the {name} boundary ({USER}: {where})"
        if code == 0:
            out.append(
                f"{head} {given} x (1 + host overhead "
                f"{_n(x.a.param('host_overhead_ratio').value)}) = {_n(it, 'kWh')} IT; "
                f"x PUE {_pue_text(it, fac)} = {_n(fac, 'kWh')}"
            )
            out.append(SUB + x.param("host_overhead_ratio"))
            out += _pue_lines(x, line[m])
        elif code == 2:
            out.append(f"{head} {given}: the facility's energy, PUE included = {_n(fac, 'kWh')}")
        else:
            unknown = " (no boundary given: taken as IT)" if code < 0 else ""
            out.append(f"{head} {given}{unknown} x PUE {_pue_text(it, fac)} = {_n(fac, 'kWh')}")
            out += _pue_lines(x, line[m])
    return out


def _activity(
    x: _Context,
    head: str,
    line: np.ndarray,
    w: np.ndarray,
    dev_h: float,
    device: float,
    it: float,
    fac: float,
) -> list[str]:
    """Device-hours x power per device / 1000 x (1 + host overhead) x PUE."""
    lines, a = x.e.lines, x.a
    watts = device * 1000 / dev_h
    host = a.param("host_overhead_ratio").value
    out = [
        f"{head} {_n(dev_h, 'device-hours')} x {_n(watts, 'W')} / 1000 = "
        f"{_n(device, 'kWh')} on the accelerators; x (1 + host overhead "
        f"{_n(host)}) = {_n(it, 'kWh')} IT; x PUE {_pue_text(it, fac)} = {_n(fac, 'kWh')}"
    ]
    shared = int(np.bitwise_or.reduce(lines.shared[line]))
    out.append(SUB + _hours_origin(x, line))
    util = "utilisation_training" if shared & eng.U_TRAIN else "utilisation_inference"
    if shared & (eng.U_TRAIN | eng.U_INF):
        hw = [int(h) for h in np.unique(lines.hardware[line]).tolist()]
        for h in hw:
            tdp = x.e.hardware.tdp[h]
            name = x.e.hardware.names[h]
            out.append(
                f"{SUB}{_n(tdp * a.param(util).value, 'W')} per device = TDP {_n(tdp, 'W')} "
                f"of {name} x {util} {_n(a.param(util).value)}"
            )
            out.append(SUB + x.hardware_figure(h, "tdp_w", "TDP", f"TDP {_n(tdp, 'W')} of {name}"))
        out.append(SUB + x.param(util))
    else:
        out.append(f"{SUB}average power {_n(watts, 'W')} per device: {USER} (the training run)")
    out.append(SUB + x.param("host_overhead_ratio"))
    out += _pue_lines(x, line)
    return out


def _hours_origin(x: _Context, line: np.ndarray) -> str:
    """Where the device-hours come from."""
    if x.table == 1:
        if (x.e.lines.source_row[line] > 0).all():
            return f"device-hours: {USER} (usage records)"
        return (
            "device-hours = devices x 24 h a day between the deployment's dates: no usage "
            "records, so it is assumed to run all the time (a default)"
        )
    r = x.record
    if r.get("device_hours") is not None:
        return f"device-hours: {USER} (the training run)"
    if r.get("wall_hours") is not None and r.get("device_count") is not None:
        return (
            f"device-hours = {_n(float(r['device_count']), 'devices')} x "
            f"{_n(float(r['wall_hours']), 'wall-clock hours')} ({USER})"
        )
    return f"device-hours = devices x 24 h a day between the run's dates ({USER})"


def _embodied_hours(x: _Context, line: np.ndarray) -> str:
    """Where the device-hours that amortise the hardware come from."""
    if x.table == 0:
        return _hours_origin(x, line)
    rows = x.e.lines.source_row[line]
    if not (rows > 0).all():
        return _hours_origin(x, line)
    u = x.e.activity.usage
    pos = u.index_of(rows)
    given = (pos >= 0) & ~np.isnan(u["device_hours"][np.where(pos >= 0, pos, 0)])
    if given.all():
        return f"device-hours: {USER} (usage records)"
    devices = x.record.get("device_count")
    if devices is not None:
        how = (
            f"{_n(float(devices), 'devices')} x 24 h a day over the periods of the usage "
            f"records ({USER})"
        )
    else:
        how = (
            "the hours implied by the estimated accelerator energy at TDP x "
            "utilisation_inference (no device count given)"
        )
    if given.any():
        return f"device-hours: {USER} where usage records give them, else {how}"
    return f"device-hours = {how}"


def _per_unit_lines(e: Engine, table: int, tier: int, line: np.ndarray) -> bool:
    """Whether usage lines got their energy from requests or tokens: their device-hours
    (kept for embodied amortisation) are then not what the energy was computed from."""
    return (
        table == 1
        and tier in (eng.TOKEN, eng.DEFAULT)
        and bool((e.lines.source_row[line] > 0).all())
    )


def _inference_row(
    x: _Context, prefix: str, suffix: str, value: float, prefer: str | None = None
) -> tuple[str, dict[str, Any]] | None:
    """The inference energy row (key, row) whose central value is ``value`` among the
    keys starting with ``prefix`` and ending with ``suffix`` (``prefer`` first)."""
    rows = x.a.inference
    if prefer in rows and _close(float(rows[prefer]["central"]), value):
        return prefer, rows[prefer]
    for key, row in rows.items():
        if key.startswith(prefix) and key.endswith(suffix) and _close(row["central"], value):
            return key, row
    return None


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1e-30)


def _inference_cite(x: _Context, key: str, row: dict[str, Any], what: str) -> str:
    low = row["low"] if row.get("low") is not None else row["central"]
    spread = f" (range {low:.4g}-{row['high']:.4g})" if low != row["high"] else ""
    cite = _cite(row["source"], row.get("year"), row.get("licence", ""), DEFAULT)
    text = f"{what} {row['central']:.4g} {row['unit']}{spread} ({key}): {cite}"
    if not _is_override(row["source"]):
        x.default(
            f"inference:{key}",
            f"{what} {row['central']:.4g} {row['unit']} ({key}; "
            f"{row['source']}, {row.get('year')}, {row.get('licence')})",
        )
    return text


def _model_size(x: _Context) -> tuple[float, float, str]:
    """(active and total parameters in billions as the engine takes them, the factor
    line): active falls back to total and total to active; unknown: the default size."""
    m = x.model()
    active, total = m.get("params_active_b"), m.get("params_total_b")
    if active is None and total is None:
        size = eng.UNKNOWN_PARAMS_B
        line = (
            f"model size {_n(size)} billion parameters: {DEFAULT} (the model's size is "
            "not given; the range runs from 8 to 405 billion)"
        )
        x.default("model-size", line)
        return size, size, line
    act = float(active if active is not None else total)
    tot = max(float(total if total is not None else active), act)
    given = (
        f"{_n(act)} billion active of {_n(tot)} billion"
        if active is not None and total is not None and act != tot
        else f"{_n(act)} billion"
    )
    what = "" if active is not None else " (no active count given: the total)"
    return act, tot, f"model size {given} parameters{what}: {USER} (model '{m.get('name')}')"


def _token_energy(x: _Context, active: float, total: float) -> tuple[float, float]:
    """(GPU Wh per output token of the whole model, GPUs holding it) as the engine
    computes them (one GPU where the engine counts none)."""
    per_model = getattr(eng, "token_energy_wh", None)
    if per_model is None:
        return float(eng.token_wh(active, x.a)), 1.0
    return float(per_model(active, total, x.a)), float(eng.token_gpus(total, x.a))


def _per_unit(x: _Context, head: str, line: np.ndarray, w: np.ndarray) -> list[str]:
    """Requests or tokens x energy per unit, with the numbers of these usage records and
    the published figure each used."""
    e, lines = x.e, x.e.lines
    u = e.activity.usage
    pos = u.index_of(lines.source_row[line])
    ok = pos >= 0
    line, w, pos = line[ok], w[ok], pos[ok]
    device = lines.device_kwh[line]
    it = lines.it_kwh[line]
    tokens = u["output_tokens"][pos]
    requests = u["requests"][pos]
    active, total, size_line = _model_size(x)
    per_token_wh, gpus = _token_energy(x, active, total)
    # which figure each record's energy came from (the engine's order: requests x the
    # Power Hungry Processing figure (IT energy, no accelerator figure); ML.ENERGY per
    # request or EcoLogits per token (accelerator energy))
    php = np.isnan(device) & (it > 0)
    by_tokens = ~php & (tokens > 0) & np.isclose(device, tokens * per_token_wh / 1000, rtol=1e-6)
    by_requests = ~php & ~by_tokens & (requests > 0) & (device > 0)
    out: list[str] = []

    def sums(m: np.ndarray) -> tuple[float, float, float, float, float]:
        return (
            float(np.nansum(requests[m] * w[m])),
            float(np.nansum(tokens[m] * w[m])),
            float(np.nansum(device[m] * w[m])),
            float((it[m] * w[m]).sum()),
            float((lines.facility_kwh[line[m]] * w[m]).sum()),
        )

    task = x.model().get("task")
    if php.any():
        reqs, _, _, it_kwh, fac = sums(php)
        per_1000 = it_kwh * 1000 / reqs if reqs else float("nan")
        out.append(
            f"{head} {_n(reqs, 'requests')} x {per_1000:.4g} kWh per 1,000 inferences / 1,000 "
            f"= {_n(it_kwh, 'kWh')} IT (Power Hungry Processing mean for the model's task"
            f"{f' {task!r}' if task else ''}); x PUE {_pue_text(it_kwh, fac)} = {_n(fac, 'kWh')}"
        )
        found = _inference_row(x, "php:", "", per_1000, getattr(eng, "_PHP_TASK", {}).get(task))
        if found:
            out.append(SUB + _inference_cite(x, *found, "energy per 1,000 inferences"))
        out += _pue_lines(x, line[php])
    if by_requests.any():
        reqs, _, dev, it_kwh, fac = sums(by_requests)
        joules = dev * 3.6e6 / reqs if reqs else float("nan")
        out.append(
            f"{head} {_n(reqs, 'requests')} x {joules:.4g} J per request / 3,600,000 J per kWh "
            f"= {_n(dev, 'kWh')} on the accelerators (ML.ENERGY chat measurement for the "
            f"model's size); x (1 + host overhead {_n(x.a.param('host_overhead_ratio').value)})"
            f" = {_n(it_kwh, 'kWh')} IT; x PUE {_pue_text(it_kwh, fac)} = {_n(fac, 'kWh')}"
        )
        found = _inference_row(x, "mlenergy:chat:h100:", ":request", joules)
        if found:
            out.append(SUB + _inference_cite(x, *found, "GPU energy per request"))
        out.append(SUB + size_line)
        out.append(SUB + x.param("host_overhead_ratio"))
        out += _pue_lines(x, line[by_requests])
    if by_tokens.any():
        _, toks, dev, it_kwh, fac = sums(by_tokens)
        out.append(
            f"{head} {_n(toks, 'output tokens')} x {per_token_wh:.3g} Wh per token / 1000 = "
            f"{_n(dev, 'kWh')} on the accelerators (EcoLogits formula for the model's "
            f"parameters); x (1 + host overhead {_n(x.a.param('host_overhead_ratio').value)})"
            f" = {_n(it_kwh, 'kWh')} IT; x PUE {_pue_text(it_kwh, fac)} = {_n(fac, 'kWh')}"
        )
        out += [SUB + s for s in _ecologits(x, active, total, per_token_wh, gpus)]
        out.append(SUB + size_line)
        out.append(SUB + x.param("host_overhead_ratio"))
        out += _pue_lines(x, line[by_tokens])
    rest = ~php & ~by_tokens & ~by_requests
    if rest.any():
        _, _, _, it_kwh, fac = sums(rest)
        out.append(
            f"{head} IT {_n(it_kwh, 'kWh')}; x PUE {_pue_text(it_kwh, fac)} = {_n(fac, 'kWh')}"
        )
        out += _pue_lines(x, line[rest])
    return out


def _ecologits(x: _Context, active: float, total: float, wh: float, gpus: float) -> list[str]:
    """The EcoLogits per-token formula with its coefficients, the GPUs that hold the
    model (when the engine counts them), and their source."""
    rows = x.a.inference
    keys = [f"ecologits:{k}" for k in ("a", "b", "c", "batch")]
    if not all(k in rows for k in keys):
        return []
    a, b, c, batch = (float(rows[k]["central"]) for k in keys)
    one = a * np.exp(b * batch) * active + c
    row = rows["ecologits:a"]
    cite = _cite(row["source"], row.get("year"), row.get("licence", ""), DEFAULT)
    x.default(
        "ecologits",
        f"EcoLogits per-token energy: a = {a:.5g}, b = {b:.4g}, c = {c:.4g}, batch {batch:g} "
        f"({row['source']}, {row.get('year')}, {row.get('licence')})",
    )
    out = []
    memory = [f"ecologits:{k}" for k in ("memory_overhead", "quantization_bits", "gpu_memory_gb")]
    if hasattr(eng, "token_gpus"):
        out.append(f"{wh:.3g} Wh per token = {gpus:g} GPU{'s' if gpus != 1 else ''} x {one:.3g} Wh")
        if all(k in rows for k in memory):
            over, bits, gb = (float(rows[k]["central"]) for k in memory)
            need = over * total * bits / 8
            out.append(
                f"{gpus:g} GPU{'s' if gpus != 1 else ''} holding the model = ceil({over:g} x "
                f"{_n(total)} billion parameters x {bits:g} bits / 8 / {gb:g} GB per GPU) = "
                f"ceil({need:.3g} GB / {gb:g} GB)"
            )
            mrow = rows[memory[0]]
            out.append(
                "EcoLogits memory overhead, bits per parameter and GPU memory: "
                + _cite(mrow["source"], mrow.get("year"), mrow.get("licence", ""), DEFAULT)
            )
            x.default(
                "ecologits-gpus",
                f"EcoLogits GPU count: memory overhead {over:g}, {bits:g} bits per parameter, "
                f"{gb:g} GB per GPU ({mrow['source']}, {mrow.get('year')}, "
                f"{mrow.get('licence')})",
            )
    out.append(
        f"{one:.3g} Wh per GPU per output token = a x exp(b x batch) x P + c = {a:.5g} x "
        f"exp({b:.4g} x {batch:g}) x {_n(active)} + {c:.4g} (P: billions of active parameters)"
    )
    out.append(f"EcoLogits coefficients a, b, c and batch size: {cite}")
    return out


# -- emissions --------------------------------------------------------------------------------


def _grid_name(lk: GridLookup) -> str:
    return f"grid factor {lk.zone} {lk.year}"


def _grid_label(lk: GridLookup, sep: str = ":") -> str:
    return f"{_grid_name(lk)}{sep} {_n(lk.value, 'g' + lk.gas + '/kWh')}"


def _grid_lines(x: _Context, lk: GridLookup) -> list[str]:
    """The factor lines of a grid lookup: value, source, year, licence, origin, the
    fallback taken, and whether it counts CO2 only."""
    f = lk.factor
    origin = f"{DEFAULT} (shipped grid factors)"
    cite = _cite(f.source, f.year, f.licence, origin)
    fallback = f"; {lk.fallback}" if lk.fallback else ""
    out = [f"{_grid_label(lk, ',')}: {cite}{fallback}"]
    if not _is_override(f.source):
        x.default(
            f"grid:{lk.zone}:{lk.year}",
            f"{_grid_label(lk)} ({_source(f)})" + (f"; {lk.fallback}" if lk.fallback else ""),
        )
    out += _grid_range_lines(x, lk)
    if lk.gas == "CO2":
        out.append(CO2_ONLY)
    if f.note and not _is_override(f.source):
        out.append(f"source note: {f.note}")
    return out


def _grid_range_lines(x: _Context, lk: GridLookup) -> list[str]:
    """The range the uncertainty draws give the factor, with the parameters it comes
    from (each a default listed with its source; none when the engine has no ranges)."""
    grid_range = getattr(factors, "grid_range", None)
    if grid_range is None:
        return []
    low, high, names = grid_range(lk, x.a.params)
    if low == high == 1.0:
        return []
    for name in names:
        x.param(name)
    used = " and ".join(names) if names else "the override's own range"
    return [
        f"range of this factor in the uncertainty draws: x {low:.3g} to x {high:.3g} "
        f"({used}; {DEFAULT}, listed under Defaults used)"
    ]


def _own_factor(x: _Context, s: int) -> tuple[str, list[str]]:
    """The label and factor lines of a site's own grid factor (the user's)."""
    row = x.site_row(s)
    value = x.e.sites.own_factor[s]
    label = f"the site's own factor {_n(value, 'gCO2e/kWh')}"
    src = row.get("grid_factor_source")
    where = f"site '{row.get('name')}'"
    return label, [
        f"{label}: {USER} ({where}; " + (f"its source: {src})" if src else "no source given)")
    ]


def _location(x: _Context, sel: np.ndarray, w: np.ndarray) -> list[str]:
    p = x.e.pieces
    groups: dict[Any, list[Any]] = {}
    for i in np.flatnonzero(sel & (p.facility_kwh > 0) & ~p.is_embodied).tolist():
        lk = p.lookup(i)
        key = ("own", int(x.e.lines.site[p.line[i]])) if lk is None else ("grid", lk)
        acc = groups.setdefault(key, [0.0, 0.0])
        acc[0] += p.facility_kwh[i] * w[i]
        acc[1] += p.location_kg[i] * w[i]
    out = []
    for (what, ref), (kwh, kg) in groups.items():
        if what == "own":
            _, factor_lines = _own_factor(x, ref)
            value, unit, name = x.e.sites.own_factor[ref], "gCO2e/kWh", "the site's own factor"
        else:
            factor_lines = _grid_lines(x, ref)
            value, unit, name = ref.value, f"g{ref.gas}/kWh", _grid_name(ref)
        out.append(f"{_n(kwh, 'kWh')} x {_n(value, unit)} / 1000 = {_n(kg, 'kgCO2e')} ({name})")
        out += [SUB + s for s in factor_lines]
    ops = float((p.location_kg[sel & ~p.is_embodied] * w[sel & ~p.is_embodied]).sum())
    emb = float((p.location_kg[sel & p.is_embodied] * w[sel & p.is_embodied]).sum())
    if emb:
        out.append(
            f"Total location-based: {_n(ops, 'kgCO2e')} operational + {_n(emb, 'kgCO2e')} "
            f"embodied (see Embodied emissions) = {_n(ops + emb, 'kgCO2e')}"
        )
    else:
        out.append(f"Total location-based: {_n(ops, 'kgCO2e')}")
    return out


def _coverage(x: _Context, ops: np.ndarray, w: np.ndarray, total: float) -> dict[int, float]:
    """kWh of the pieces ``ops`` covered by each renewable instrument (by position in
    the sourcing list). One instrument takes the whole; several are told apart by
    recomputing the market-based shares with the instruments up to each one, in the
    order they are applied (volume instruments are shared out over all consumption)."""
    p, src = x.e.pieces, x.e.activity.sourcing
    covering = [i for i in p.instruments_covering(ops) if src[i].get("kind") != "supplier-factor"]
    if total <= 0 or not covering:
        return {}
    if len(covering) == 1:
        return {covering[0]: total}
    order = sorted(
        range(len(src)),
        key=lambda i: (src[i]["kind"] == "supplier-factor", src[i]["period_start"], i),
    )
    cell_kwh = np.bincount(
        p.cell, weights=np.where(p.alive, p.facility_kwh, 0.0), minlength=len(p.cell_keys)
    )
    site_ids = np.array([s["id"] for s in x.e.activity.site_rows], dtype=np.int64)
    kwh = p.facility_kwh[ops] * w[ops]
    cells = p.cell[ops]

    def covered(upto: int) -> float:
        if upto < 0:
            return 0.0
        subset = [src[j] for j in sorted(order[: upto + 1])]
        share = _cell_market(x, cell_kwh, subset, site_ids)
        return float((kwh * share[cells]).sum())

    out = {}
    try:
        for i in covering:
            k = order.index(i)
            out[i] = covered(k) - covered(k - 1)
    except (TypeError, ValueError, KeyError, AttributeError):  # pragma: no cover
        return {}  # the engine's internals changed: the instruments are listed together
    return out


def _cell_market(
    x: _Context, cell_kwh: np.ndarray, sourcing: list[dict], site_ids: np.ndarray
) -> np.ndarray:
    """The renewable share of each cell's kWh with only ``sourcing`` applied."""
    from core import emissions

    return emissions._cell_market(x.e.pieces, cell_kwh, x.e.sites, sourcing, site_ids)[1]


def _market(x: _Context, sel: np.ndarray, w: np.ndarray) -> list[str]:
    """Consumption; what each instrument covered (kWh x its factor); the rest x the
    residual-mix factor (none is bundled: the location factor) or the provider's factor;
    embodied emissions, the same in both methods."""
    e = x.e
    p, src = e.pieces, e.activity.sourcing
    ops = sel & ~p.is_embodied & (p.facility_kwh > 0)
    consumption = float((p.facility_kwh[ops] * w[ops]).sum())
    market_ops = float((p.market_kg[ops] * w[ops]).sum())
    renewable = float((p.renewable_kwh[ops] * w[ops]).sum())
    emb = float((p.market_kg[sel & p.is_embodied] * w[sel & p.is_embodied]).sum())
    loc = float((p.location_kg[sel] * w[sel]).sum())
    out = [f"Consumption: {_n(consumption, 'kWh')} (facility energy, from the energy above)"]
    covered = _coverage(x, ops, w, renewable)
    covered_kg = 0.0
    kinds = dict(schema.SOURCING_KINDS)
    for i, kwh in covered.items():
        s = src[i]
        factor = float(s.get("factor_g_per_kwh") or 0.0)
        covered_kg += kwh * factor / 1000
        out.append(
            f"covered by '{s['name']}': {_n(kwh, 'kWh')} x {_n(factor, 'gCO2e/kWh')} = "
            f"{_n(kwh * factor / 1000, 'kgCO2e')}"
        )
        out.append(
            f"{SUB}{kinds.get(s['kind'], s['kind'])}, {s['period_start']}..{s['period_end']}, "
            f"factor {_n(factor, 'gCO2e/kWh')}: {USER} (sourcing record)"
        )
    if renewable > 0 and not covered:
        out.append(f"covered by renewable instruments: {_n(renewable, 'kWh')}")
    residual = consumption - renewable
    if residual > consumption * 1e-9:
        out += _residual(x, ops, w, covered_kg, market_ops)
    elif consumption > 0:
        out.append("not covered: 0 kWh")
    if emb:
        out.append(
            f"Embodied hardware: {_n(emb, 'kgCO2e')}, the same in both methods (not electricity)"
        )
    total = market_ops + emb
    formula = f"{_n(market_ops, 'kgCO2e')} + {_n(emb, 'kgCO2e')} embodied = " if emb else ""
    out.append(
        f"Total market-based: {formula}{_n(total, 'kgCO2e')}; savings from renewable "
        f"sourcing: {_n(loc - total, 'kgCO2e')} (location-based minus market-based)"
    )
    return out


def _residual(
    x: _Context, ops: np.ndarray, w: np.ndarray, covered_kg: float, market_ops: float
) -> list[str]:
    """Consumption no renewable instrument covers, by the factor it takes."""
    e = x.e
    p, src = e.pieces, e.activity.sourcing
    idx = np.flatnonzero(ops)
    own = e.sites.scope2[e.lines.site[p.line[idx]]]
    supplier_of = np.full(len(idx), -1)
    for i, s in enumerate(src):  # the last supplier-specific factor in order wins
        if s.get("kind") == "supplier-factor" and len(p.instrument_cells[i]):
            supplier_of[np.isin(p.cell[idx], p.instrument_cells[i])] = i
    rest_kwh = (p.facility_kwh[idx] - p.renewable_kwh[idx]) * w[idx]
    covered_share = p.renewable_kwh[idx] * w[idx]
    total_covered = covered_share.sum()
    per_kwh = covered_kg / total_covered if total_covered > 0 else 0.0
    rest_kg = p.market_kg[idx] * w[idx] - covered_share * per_kwh
    groups: dict[Any, list[float]] = {}
    for j in np.flatnonzero(rest_kwh > 0).tolist():
        i = int(idx[j])
        if supplier_of[j] >= 0:
            key: Any = ("supplier", int(supplier_of[j]))
        else:
            lk = p.lookup(i)
            site = int(e.lines.site[p.line[i]])
            key = ("own-site", site) if lk is None else ("grid", lk, bool(own[j]))
        acc = groups.setdefault(key, [0.0, 0.0])
        acc[0] += rest_kwh[j]
        acc[1] += rest_kg[j]
    out = []
    for key, (kwh, kg) in groups.items():
        rate = kg * 1000 / kwh if kwh else 0.0
        if key[0] == "supplier":
            s = src[key[1]]
            out.append(
                f"not covered: {_n(kwh, 'kWh')} x {_n(rate, 'gCO2e/kWh')} supplier-specific "
                f"factor = {_n(kg, 'kgCO2e')}"
            )
            out.append(f"{SUB}supplier-specific factor '{s['name']}': {USER} (sourcing record)")
        elif key[0] == "own-site":
            label, lines = _own_factor(x, key[1])
            out.append(f"not covered: {_n(kwh, 'kWh')} x {label} = {_n(kg, 'kgCO2e')}")
            out += [SUB + s for s in lines]
        else:
            lk, own_site = key[1], key[2]
            out.append(
                f"not covered: {_n(kwh, 'kWh')} x {_n(rate, 'g' + lk.gas + '/kWh')} "
                f"location factor ({lk.zone} {lk.year}) = {_n(kg, 'kgCO2e')}"
            )
            if own_site:
                out.append(
                    f"{SUB}no residual-mix factor is bundled: the location factor stands in "
                    "for it (flagged; GHG Protocol Scope 2 Guidance)"
                )
            else:
                out.append(
                    f"{SUB}cloud and API electricity is the provider's (your Scope 3 cat. 1): "
                    "its market-based figure is the provider's (a supplier-specific factor "
                    "given for the site, else the site's own factor, else the location "
                    "factor); your own PPAs, certificates and tariffs cover only your own "
                    "and colocation sites (GHG Protocol Scope 2 Guidance)"
                )
            out += [SUB + s for s in _grid_lines(x, lk)[:1]]
    return out


def _water(x: _Context, sel: np.ndarray, w: np.ndarray) -> list[str]:
    """On-site water: IT energy x the site's WUE (stated, or the provider's default)."""
    e = x.e
    p, lines, sites = e.pieces, e.lines, e.sites
    out = []
    site_of = lines.site[p.line]
    for s in sorted(set(site_of[sel].tolist())):
        m = sel & (site_of == s)
        it = float((p.it_kwh[m] * w[m]).sum())
        water = float((p.water_l[m] * w[m]).sum())
        wue = sites.wue[s]
        if np.isnan(wue):
            if it > 0:
                out.append(
                    f"{sites.names[s]}: IT energy {_n(it, 'kWh')}; no WUE stated for the site "
                    "or its provider: on-site water not counted"
                )
            continue
        out.append(
            f"{sites.names[s]}: IT energy {_n(it, 'kWh')} x WUE {_n(wue, 'L/kWh')} "
            f"= {_n(water, 'L')}"
        )
        out.append(SUB + _wue_line(x, s, wue))
    out.append("Off-site water of electricity generation is not included: no factor is bundled.")
    return out


def _wue_line(x: _Context, s: int, wue: float) -> str:
    row = x.site_row(s)
    if row.get("wue") is not None:
        cite, is_default = _record_figure("sites", row, "wue", "WUE")
        line = f"WUE {_n(wue, 'L/kWh')} of {row.get('name')}: {cite}"
        if is_default:
            x.default(f"wue:{s}", line)
        return line
    provider = (row.get("provider") or "").strip().lower()
    key = _PROVIDER_PARAM.get(provider)
    f = x.a.params.get(f"wue:{key}") if key else None
    if f is None:
        return f"WUE {_n(wue, 'L/kWh')}: provider default"
    if not _is_override(f.source):
        x.default(f"wue:{s}", _default_param(f, f"wue:{key}"))
    return f"WUE (no WUE stated for the site): {_param(f, f'wue:{key}')}"


def _embodied(x: _Context, line: np.ndarray, w: np.ndarray) -> list[str]:
    """Per hardware: device-hours x (embodied + server share) / lifetime hours, or the
    whole hardware in the quarter it came into use (capital goods)."""
    e, a = x.e, x.a
    lines, hw = e.lines, e.hardware
    sel = lines.kind[line] == eng.EMBODIED
    out = []
    server = a.param("embodied_server_per_accelerator_kgco2e")
    for h in sorted(set(lines.hardware[line[sel]].tolist())):
        m = sel & (lines.hardware[line] == h)
        kg = float((lines.embodied_kg[line[m]] * w[m]).sum())
        dev_h = float(np.nansum(lines.device_hours[line[m]] * w[m]))
        name = hw.names[h]
        own = hw.embodied[h]
        accelerator = bool(hw.accelerator[h])
        share = server.value if accelerator else 0.0
        own_text = _n(own, "kgCO2e") if not np.isnan(own) else "0 kgCO2e (no figure)"
        per_device = (
            f"({own_text} accelerator + {_n(share, 'kgCO2e')} server share)"
            if accelerator
            else f"{own_text} per device"
        )
        factors: list[str] = []
        if np.isnan(own):
            factors.append(
                f"no embodied figure for {name} in its hardware record: only the server "
                "share is counted"
            )
        else:
            factors.append(
                x.hardware_figure(
                    h, "embodied_kgco2e", "embodied", f"embodied {_n(own, 'kgCO2e')} per {name}"
                )
            )
        if accelerator:
            factors.append(x.param("embodied_server_per_accelerator_kgco2e", "server share"))
        if e.convention == "capital-goods" and np.isnan(lines.device_hours[line[m]]).all():
            devices = x.record.get("device_count")
            count = f"{_n(float(devices), 'devices')} x " if devices is not None else ""
            out.append(
                f"{name}: {count}{per_device} = {_n(kg, 'kgCO2e')}, counted in full in the "
                "quarter the deployment started (capital goods, GHG Protocol Scope 3 cat. 2)"
            )
            out += [SUB + f for f in factors]
            continue
        if np.isnan(hw.lifetime[h]):
            life = a.param("embodied_lifetime_years").value
            factors.append(x.param("embodied_lifetime_years"))
        else:
            life = hw.lifetime[h]
            factors.append(
                x.hardware_figure(
                    h, "lifetime_years", "lifetime", f"lifetime {_n(life, 'years')} of {name}"
                )
            )
        out.append(
            f"{name}: {_n(dev_h, 'device-hours')} x {per_device} / "
            f"({_n(life)} years x 8,760 h) = {_n(kg, 'kgCO2e')}"
        )
        out.append(SUB + _embodied_hours(x, line[m]))
        out += [SUB + f for f in factors]
    return out
