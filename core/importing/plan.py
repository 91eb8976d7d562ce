"""Reading a whole sheet through its mapping: converted rows, problems, what would change.

:func:`plan_import` streams the sheet once and writes nothing; :mod:`.commit` streams it
again through the same :class:`RowScanner`, so what is committed is exactly what was
checked. Each row is converted (units, dates, references), validated with the rules of
:mod:`core.validation` (required, ranges, end before start, power above 10x TDP), checked
for a repeat of an earlier row's natural key, and compared with the inventory by that
key: new, changed or unchanged.

Natural keys: model name + version; training run external id (CodeCarbon run id), else
its name; deployment name + model; usage deployment + period; sites and hardware by
name; sourcing name + period start; factor overrides by key.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core import schema
from core.errors import ImportCancelled
from core.importing import codecarbon, matching, units
from core.importing.dates import parse_date
from core.importing.mapping import SheetMapping
from core.importing.reading import MAX_CELL_CHARS, SheetInfo, iter_rows
from core.validation import MAX_POWER_OVER_TDP, parse_value, record_problems

if TYPE_CHECKING:
    from core.inventory import Inventory

Progress = Callable[[int, int | None], None]
Cancel = Callable[[], bool]
Resolutions = dict[tuple[str, str], "int | str"]

#: how many converted rows a plan keeps for the preview
PREVIEW_ROWS = 200
#: how many problems a plan keeps in memory (the errors file gets all of them)
MAX_PROBLEMS = 10_000
#: characters that make a spreadsheet program run a cell as a formula
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Problem:
    """One problem cell. ``row`` as the user sees it in the file (the header row for
    problems of the whole sheet); ``column`` is the header text."""

    file: str
    sheet: str
    row: int
    column: str
    value: str
    reason: str

    def text(self) -> str:
        where = self.file if self.sheet in ("", self.file) else f"{self.file}, sheet {self.sheet}"
        value = f" '{self.value}'" if self.value else ""
        return f"{where}, row {self.row}, column '{self.column}'{value}: {self.reason}"


@dataclass
class Unresolved:
    """A reference nobody could match: ``value`` of ``field`` in ``count`` rows, with the
    closest records ``(id, display name, confidence)``, best first."""

    field: str
    value: str
    count: int
    suggestions: list[tuple[int, str, float]]
    #: created on commit (the mapping creates missing records of this field)
    will_create: bool = False


@dataclass
class ImportPlan:
    """What importing one sheet would do. Counts are rows; ``invalid`` rows have problems."""

    sheet: SheetInfo
    mapping: SheetMapping
    table: str
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    invalid: int = 0
    problems: list[Problem] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)
    resolutions: Resolutions = field(default_factory=dict)
    edits: dict[tuple[int, str], Any] = field(default_factory=dict)
    #: problems found in all (``problems`` keeps the first MAX_PROBLEMS)
    problem_count: int = 0


def unescape_text(text: str) -> str:
    """Undo the export's formula neutralisation: "'=x" -> "=x", "''x" stays "''x"."""
    if text[:1] == "'" and text[1:2] and (text[1] in FORMULA_START or text[1] == "'"):
        return text[1:]
    return text


def escape_text(text: str) -> str:
    """Prefix "'" so spreadsheet programs show ``text`` instead of running it."""
    if text[:1] in FORMULA_START or (
        text[:1] == "'" and text[1:2] and text[1] in (*FORMULA_START, "'")
    ):
        return "'" + text
    return text


def natural_key(table: str, v: dict[str, Any]) -> tuple | None:
    """The key that identifies a record of ``table`` across imports (None: incomplete)."""
    if table == "models":
        key: tuple = (v.get("name"), v.get("version") or "")
    elif table == "training_runs":
        key = ("ext", v["external_id"]) if v.get("external_id") else ("name", v.get("name"))
    elif table == "deployments":
        key = (v.get("name"), v.get("model_id"))
    elif table == "usage":
        key = (v.get("deployment_id"), v.get("period_start"), v.get("period_end"))
    elif table == "sourcing":
        key = (v.get("name"), v.get("period_start"))
    elif table == "factor_overrides":
        key = (v.get("key"),)
    else:
        key = (v.get("name"),)
    return None if any(k is None for k in key) else key


def _key_columns(table: str) -> tuple[str, ...]:
    return {
        "models": ("name", "version"),
        "training_runs": ("external_id", "name"),
        "deployments": ("name", "model_id"),
        "usage": ("deployment_id", "period_start", "period_end"),
        "sourcing": ("name", "period_start"),
        "factor_overrides": ("key",),
    }.get(table, ("name",))


def _same(a: Any, b: Any) -> bool:
    if a == b:
        return True
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)
    return False


_REF_LABEL = {
    "hardware": "hardware",
    "sites": "site",
    "models": "model",
    "deployments": "deployment",
}


class _Resolver:
    """Free text -> record id for one referenced table, cached per distinct text."""

    def __init__(
        self, inv: Inventory, table: str, fld: str, resolutions: Resolutions, create: bool
    ):
        self.inv, self.table, self.field = inv, table, fld
        self.create_missing = create
        self.resolutions = resolutions
        self.cache: dict[str, tuple[int | None, int, str | None]] = {}
        self.counts: dict[str, int] = {}
        self.suggestions: dict[str, list[tuple[int, str, float]]] = {}
        # raw text -> placeholder id (negative) for records created on commit
        self.created: dict[str, int] = {}
        if table == "hardware":
            self._hw = matching.hardware_candidates(inv.ref_options("hardware"))
        elif table == "sites":
            rows = inv.conn.execute(
                "SELECT id, name, coalesce(region_code,''), coalesce(country,''), "
                "coalesce(grid_region,'') FROM sites"
            ).fetchall()
            self._sites = [matching.SiteRow(*r) for r in rows]
        else:
            self._options = inv.ref_options(table)

    def _matches(self, text: str) -> list[tuple[int, str, float]]:
        if self.table == "hardware":
            return matching.match_hardware(text, self._hw)
        if self.table == "sites":
            return matching.match_site(text, self._sites)
        return matching.match_title(text, self._options)

    def resolve(self, raw: Any) -> tuple[int | None, int, str | None]:
        """``(id or None, device count written with it, problem)``."""
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw, 1, None  # already an id (defaults)
        text = " ".join(str(raw).split())
        hit = self.cache.get(text)
        if hit is not None:
            self.counts[text] += 1
            return hit
        self.counts[text] = 1
        count = 1
        name = text
        if self.table == "hardware":
            parts = matching.split_multi(text)
            distinct = {p.lower() for _, p in parts}
            if len(distinct) > 1:
                hit = (None, 1, "names several hardware types; a record has one: split the row")
                self.cache[text] = hit
                return hit
            count, name = sum(c for c, _ in parts), parts[0][1]
        chosen = self.resolutions.get((self.field, text))
        if isinstance(chosen, int) and not isinstance(chosen, bool):
            hit = (chosen, count, None)
        else:
            matches = self._matches(name)
            self.suggestions[text] = matches
            rid = matching.decide(matches)
            exact = matches[0][0] if matches and matches[0][2] >= 1.0 else None
            if chosen == "create" or (rid is None and self.create_missing):
                if exact is not None:  # created by an earlier import: use it
                    hit = (exact, count, None)
                else:
                    if text not in self.created:
                        self.created[text] = -(len(self.created) + 1)
                    hit = (self.created[text], count, None)
            elif rid is None:
                closest = ", ".join(f"{n} ({c:.0%})" for _, n, c in matches[:3])
                what = _REF_LABEL.get(self.table, self.table)
                reason = f"unknown {what}" + (f"; closest: {closest}" if closest else "")
                if self.table in ("hardware", "sites", "models"):
                    reason += "; pick one or create it"
                hit = (None, count, reason)
            else:
                hit = (rid, count, None)
        self.cache[text] = hit
        return hit

    def text_of(self, placeholder: int) -> str:
        """The raw text a placeholder id (negative) stands for."""
        return next(t for t, p in self.created.items() if p == placeholder)

    def unresolved(self) -> list[Unresolved]:
        out = []
        for text, (rid, _, reason) in self.cache.items():
            if rid is None and reason and reason.startswith("unknown"):
                out.append(
                    Unresolved(self.field, text, self.counts[text], self.suggestions.get(text, []))
                )
            elif rid is not None and rid < 0:
                out.append(
                    Unresolved(
                        self.field,
                        text,
                        self.counts[text],
                        self.suggestions.get(text, []),
                        will_create=True,
                    )
                )
        return out


@dataclass
class ScannedRow:
    number: int
    status: str  # "new", "changed", "unchanged", "invalid"
    values: dict[str, Any]
    problems: dict[str, str]
    raw: dict[str, Any]
    existing_id: int | None = None
    old: dict[str, Any] | None = None


class RowScanner:
    """Converts and checks the rows of one sheet; used by planning and committing alike."""

    def __init__(
        self,
        inv: Inventory,
        sheet: SheetInfo,
        mapping: SheetMapping,
        resolutions: Resolutions | None = None,
        edits: dict[tuple[int, str], Any] | None = None,
    ):
        self.inv, self.sheet, self.mapping = inv, sheet, mapping
        self.table = mapping.target
        self.spec = schema.table(self.table)
        self.resolutions = dict(resolutions or {})
        self.edits = dict(edits or {})
        #: "" for text files (the file is the sheet)
        self.sheet_name = "" if sheet.is_text else sheet.name
        self.decimal_comma = bool(sheet.dialect and sheet.dialect.decimal_comma)
        self.codecarbon = mapping.table == "codecarbon"
        self.columns = [c for c in mapping.columns if c.field]
        self.header_of = {c.field: c.header for c in self.columns}
        self.factors: dict[str, float] = {}
        self.column_problems: list[tuple[str, str]] = []
        if not self.codecarbon:
            for c in self.columns:
                if c.field not in self.spec.field_names:
                    self.column_problems.append(
                        (c.header, f"'{c.field}' is not a field of {self.spec.label.lower()}")
                    )
                    continue
                f = self.spec.field(c.field)
                try:
                    self.factors[c.field] = units.factor(c.unit, f.unit) if c.unit else 1.0
                except ValueError as exc:
                    self.column_problems.append((c.header, str(exc)))
        self.fields_given = self._fields_given()
        for f in self.spec.fields:
            if f.required and f.name not in self.fields_given:
                self.column_problems.append(
                    (
                        f.header,
                        f"no column is mapped to the required field '{f.label}': "
                        "add the column, map one to it or give a value for the whole sheet",
                    )
                )
        self.resolvers = {
            f.name: _Resolver(
                inv, f.ref, f.name, self.resolutions, f.name in mapping.create_missing
            )
            for f in self.spec.fields
            if f.kind == "ref" and f.ref
        }
        self._existing: dict[tuple, tuple[int, dict[str, Any]]] | None = None
        self._seen: dict[int, int] = {}
        self._tdp: dict[int, float | None] = {}

    def _fields_given(self) -> set[str]:
        if self.codecarbon:
            names = {"name", "model_id", "hardware_id", "site_id", "device_count", "start_date",
                     "end_date", "wall_hours", "device_hours", "energy_kwh", "energy_boundary",
                     "data_source", "external_id", "deployment_id", "period_start",
                     "period_end", "notes"}  # fmt: skip
            return (names & set(self.spec.field_names)) | set(self.mapping.defaults)
        return {c.field for c in self.columns if c.field} | set(self.mapping.defaults)

    # -- existing records ----------------------------------------------------------------

    def _existing_index(self) -> dict[tuple, tuple[int, dict[str, Any]]]:
        if self._existing is None:
            names = list(self.spec.field_names)
            index: dict[tuple, tuple[int, dict[str, Any]]] = {}
            cur = self.inv.conn.execute(f"SELECT id, {', '.join(names)} FROM {self.spec.name}")
            for row in cur:
                rec = dict(zip(names, row[1:], strict=True))
                key = natural_key(self.table, rec)
                if key is not None and key not in index:
                    index[key] = (row[0], rec)
                if self.table == "training_runs" and rec.get("external_id") and rec.get("name"):
                    index.setdefault(("name", rec["name"]), (row[0], rec))
            self._existing = index
        return self._existing

    def _hardware_tdp(self, hw: int | None) -> float | None:
        if hw is None or hw < 0:
            return None
        if hw not in self._tdp:
            row = self.inv.conn.execute("SELECT tdp_w FROM hardware WHERE id = ?", (hw,)).fetchone()
            self._tdp[hw] = row[0] if row else None
        return self._tdp[hw]

    # -- conversion ----------------------------------------------------------------------

    def _convert(self, f: schema.FieldSpec, raw: Any, fac: float) -> Any:
        if raw is None:
            return f.blank
        kind = f.kind
        if kind in ("text", "longtext"):
            if isinstance(raw, float) and raw.is_integer():
                raw = int(raw)
            elif isinstance(raw, (dt.date, dt.datetime)):
                raw = raw.isoformat()
            text = unescape_text(str(raw).strip())
            if len(text) > MAX_CELL_CHARS:
                raise ValueError(f"is longer than {MAX_CELL_CHARS:,} characters")
            return text if text else f.blank
        if kind in ("int", "real"):
            if isinstance(raw, bool):
                raise ValueError("must be a number")
            if isinstance(raw, (int, float)):
                value = float(raw)
                if math.isnan(value) or math.isinf(value):
                    raise ValueError("must be a finite number")
            else:
                text = str(raw).strip()
                if f.unit == "%" and text.endswith("%"):
                    value = units.parse_number(text[:-1].strip(), self.decimal_comma)
                    fac = 1.0
                else:
                    number, unit = units.split_number_unit(text)
                    value = units.parse_number(number, self.decimal_comma)
                    if unit and unit.strip().lower() not in (f.unit.lower(), f.unit.lower() + "s"):
                        fac = units.factor(unit, f.unit)
            value *= fac
            if kind == "int":
                if abs(value - round(value)) > 1e-9 * max(1.0, abs(value)):
                    raise ValueError("must be a whole number")
                return round(value)
            return value
        if kind == "date":
            return parse_date(raw, self.mapping.date_order)
        if kind == "choice":
            return parse_value(f, str(raw))
        return raw

    def scan(
        self, progress: Progress | None = None, cancel: Cancel | None = None
    ) -> Iterator[ScannedRow]:
        """Every data row, converted and classified. Raises ImportCancelled on cancel."""
        spec, table = self.spec, self.table
        defaults = self.mapping.defaults
        fields = {f.name: f for f in spec.fields}
        total = self.sheet.n_rows
        done = 0
        cc_index = {c.field: c.index for c in self.columns} if self.codecarbon else {}
        into = self.table
        edits = self.edits
        for number, cells in iter_rows(self.sheet):
            done += 1
            if done % 2000 == 0:
                if cancel and cancel():
                    raise ImportCancelled("The import was cancelled; nothing was written.")
                if progress:
                    progress(done, total)
            values: dict[str, Any] = {}
            problems: dict[str, str] = {}
            raw: dict[str, Any] = {}
            if self.codecarbon:
                get = {name: cells[i] for name, i in cc_index.items()}
                cc_values, problems = codecarbon.row_values(get, into)
                for name, value in cc_values.items():
                    if name in fields:
                        raw[name] = value
                for name, value in defaults.items():
                    if name in fields and (value is not None or name not in raw):
                        raw[name] = value
                for name, value in raw.items():
                    f = fields[name]
                    if f.kind == "ref" or value is None:
                        values[name] = value
                    elif f.kind == "choice":
                        try:
                            values[name] = parse_value(f, str(value))
                        except ValueError as exc:
                            problems[name] = str(exc)
                    else:
                        values[name] = value
            else:
                for c in self.columns:
                    name = c.field
                    f = fields.get(name)  # type: ignore[arg-type]
                    if f is None or name not in self.factors:
                        continue
                    cell = cells[c.index]
                    if edits and (number, name) in edits:
                        cell = edits[(number, name)]
                    raw[name] = cell
                    if f.kind == "ref":
                        values[name] = None if cell is None or str(cell).strip() == "" else cell
                        continue
                    try:
                        values[name] = self._convert(f, cell, self.factors[name])
                    except ValueError as exc:
                        problems[name] = str(exc)
                        values[name] = None
                for name, value in defaults.items():
                    f = fields.get(name)
                    if f is None or values.get(name) not in (None, ""):
                        continue
                    raw.setdefault(name, value)
                    if f.kind == "ref":
                        values[name] = value
                    else:
                        try:
                            values[name] = self._convert(f, value, 1.0)
                        except ValueError as exc:
                            problems[name] = str(exc)
            for name, resolver in self.resolvers.items():
                value = values.get(name)
                if value is None or name in problems:
                    continue
                rid, count, reason = resolver.resolve(value)
                values[name] = rid
                if reason:
                    problems[name] = reason
                elif count > 1 and values.get("device_count") is None and "device_count" in fields:
                    values["device_count"] = count
            for f in spec.fields:
                if f.name not in values:
                    values[f.name] = f.blank
            for name, reason in record_problems(table, values).items():
                if name not in problems and not (values.get(name) is None and name in problems):
                    problems.setdefault(name, reason)
            if table == "training_runs" and values.get("avg_power_w") is not None:
                tdp = self._hardware_tdp(values.get("hardware_id"))
                if tdp and values["avg_power_w"] > MAX_POWER_OVER_TDP * tdp:
                    problems.setdefault(
                        "avg_power_w",
                        f"is more than {MAX_POWER_OVER_TDP:g} x the hardware's TDP ({tdp:,g} W): "
                        "give the average power of one device, in W",
                    )
            if problems:
                yield ScannedRow(number, "invalid", values, problems, raw)
                continue
            key = natural_key(table, values)
            if key is not None:
                h = hash(key)
                first = self._seen.get(h)
                if first is not None:
                    col = next(
                        (k for k in _key_columns(table) if values.get(k) is not None), "name"
                    )
                    problems[col] = f"repeats row {first} (same {self._key_text()})"
                    yield ScannedRow(number, "invalid", values, problems, raw)
                    continue
                self._seen[h] = number
                existing = self._existing_index().get(key)
                if existing is not None:
                    rid, old = existing
                    given = [n for n in self.fields_given if n in fields]
                    if all(_same(old.get(n), values.get(n)) for n in given):
                        yield ScannedRow(number, "unchanged", values, {}, raw, rid, old)
                    else:
                        yield ScannedRow(number, "changed", values, {}, raw, rid, old)
                    continue
            yield ScannedRow(number, "new", values, {}, raw)
        if progress:
            progress(done, done)

    def _key_text(self) -> str:
        return {
            "models": "name and version",
            "training_runs": "run id or name",
            "deployments": "name and model",
            "usage": "deployment and period",
            "sourcing": "name and period start",
            "factor_overrides": "factor",
        }.get(self.table, "name")

    def problem_rows(self, row: ScannedRow) -> list[Problem]:
        out = []
        for name, reason in row.problems.items():
            header = self.header_of.get(name)
            if header is None:
                header = self.spec.field(name).header if name in self.spec.field_names else name
            value = row.raw.get(name)
            out.append(
                Problem(
                    self.sheet.file.name,
                    self.sheet_name,
                    row.number,
                    header,
                    "" if value is None else str(value)[:200],
                    reason,
                )
            )
        return out

    def sheet_problems(self) -> list[Problem]:
        return [
            Problem(
                self.sheet.file.name, self.sheet_name, self.sheet.header_row + 1, col, "", reason
            )
            for col, reason in self.column_problems
        ]

    def unresolved(self) -> list[Unresolved]:
        out = []
        for resolver in self.resolvers.values():
            out.extend(resolver.unresolved())
        out.sort(key=lambda u: (-u.count, u.field, u.value))
        return out


def plan_import(
    inv: Inventory,
    sheet: SheetInfo,
    mapping: SheetMapping,
    *,
    resolutions: Resolutions | None = None,
    edits: dict[tuple[int, str], Any] | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> ImportPlan:
    """Read all of ``sheet`` through ``mapping`` and say what importing it would do.

    Writes nothing. ``resolutions[(field, raw text)]`` is a record id, or ``"create"`` to
    create a hardware type, site or model of that name on commit. ``edits[(row, field)]``
    replaces a cell's raw value (fixes typed in the preview). ``progress(rows done,
    total or None)`` is called every few thousand rows; ``cancel()`` returning True
    stops with :class:`core.errors.ImportCancelled`.
    """
    scanner = RowScanner(inv, sheet, mapping, resolutions, edits)
    plan = ImportPlan(
        sheet, mapping, scanner.table, resolutions=dict(resolutions or {}), edits=dict(edits or {})
    )
    sheet_problems = scanner.sheet_problems()
    if sheet_problems:
        plan.problems = sheet_problems
        plan.problem_count = len(sheet_problems)
        plan.invalid = sum(1 for _ in iter_rows(sheet))
        return plan
    for row in scanner.scan(progress, cancel):
        if row.status == "invalid":
            plan.invalid += 1
            for p in scanner.problem_rows(row):
                plan.problem_count += 1
                if len(plan.problems) < MAX_PROBLEMS:
                    plan.problems.append(p)
        else:
            setattr(plan, row.status, getattr(plan, row.status) + 1)
        if len(plan.preview) < PREVIEW_ROWS:
            plan.preview.append(
                {
                    "row": row.number,
                    "values": dict(row.values),
                    "problems": dict(row.problems),
                    "status": row.status,
                }
            )
    plan.unresolved = scanner.unresolved()
    return plan
