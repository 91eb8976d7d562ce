"""What every part of an explanation shares: the text it is made of, and the context.

:class:`Explanation` (titled sections of plain lines); the number and citation helpers
(``_n``, ``_cite``, ``_param``); the shipped hardware and site rows whose source, year
and licence a record's figure cites while it holds the shipped figure; and
:class:`_Context`, which carries the engine and the entry through the sections and
collects the defaults they meet (listed under "Defaults used").

Units: energy kWh, power W, emissions kgCO2e, grid factors g per kWh of the gas their
source states (CO2 or CO2e), water litres.
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass, field
from typing import Any

from core import engine as eng
from core import schema
from core.assumptions import _PROVIDER_PARAM
from core.errors import RecordNotFoundError
from core.estimate import Engine
from core.factors import Factor
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


# -- the context of one explanation ----------------------------------------------------------


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
