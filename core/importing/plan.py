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

import contextlib
import datetime as dt
import gc
import itertools
import math
import operator
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from core import schema
from core.errors import ImportCancelled
from core.importing import codecarbon, matching, units
from core.importing.dates import parse_date
from core.importing.mapping import SheetMapping
from core.importing.reading import (
    MAX_CELL_CHARS,
    SheetInfo,
    iter_chunks,
    iter_rows,
    normalise_cells,
)
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
#: whether scanners use the column-wise fast path unless told (tests compare both)
FAST_PATH = True
#: rows read and converted at a time (memory stays bounded whatever the file's size)
CHUNK_ROWS = 10_000
#: distinct values remembered per column before starting again (free text rarely repeats)
MEMO_SIZE = 50_000
#: tables whose rows the fast path converts (the others have cross-field rules of their
#: own and are small: every row goes through the row path)
FAST_TABLES = frozenset({"models", "training_runs", "deployments", "usage", "sites", "hardware"})

#: a cell the fast path leaves to the row path (a problem, or something unusual)
_NEEDS_ROW = object()
#: what a column of plain numbers written as text may hold
_PLAIN_CHARS = frozenset("0123456789.+-eE \n")
#: "5." or "5.e3": Python's float reads them, the unit-aware reader does not
_LOOSE_POINT = re.compile(r"\.(?![0-9])")
#: a plain number that Python's float and units.parse_number read alike
_PLAIN = re.compile(r"\s*[-+]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\s*")


class _Memo(dict):
    """raw cell -> converted value, computed once per distinct cell."""

    def __init__(self, compute: Callable[[Any], Any]):
        super().__init__()
        self.compute = compute

    def __missing__(self, key: Any) -> Any:
        value = self[key] = self.compute(key)
        return value


def _memo_safe(col: list[Any]) -> bool:
    """Whether cells can be looked up by value: 1, 1.0 and True are equal as dict keys
    but not as cells ("1" vs "1.0" as text), so a column mixing them is converted cell
    by cell."""
    types = set(map(type, col))
    return len(types & {int, float, bool}) <= 1


def _before(end: Any, start: Any) -> bool:
    """Whether an end date is before its start (both ISO text; anything else: no)."""
    return end.__class__ is str and start.__class__ is str and bool(end and start and end < start)


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
            self._titles = matching.prepare_titles(self._options)

    def _matches(self, text: str) -> list[tuple[int, str, float]]:
        if self.table == "hardware":
            return matching.match_hardware(text, self._hw)
        if self.table == "sites":
            return matching.match_site(text, self._sites)
        return matching.match_title(text, self._options, self._titles)

    def resolve(self, raw: Any) -> tuple[int | None, int, str | None]:
        """``(id or None, device count written with it, problem)``; counts the use."""
        text, hit = self.lookup(raw)
        if text is not None:
            self.counts[text] = self.counts.get(text, 0) + 1
        return hit

    def count(self, text: str, n: int) -> None:
        """Count ``n`` uses of ``text`` (looked up before with :meth:`lookup`)."""
        self.counts[text] = self.counts.get(text, 0) + n

    def lookup(self, raw: Any) -> tuple[str | None, tuple[int | None, int, str | None]]:
        """``(normalised text or None for ids, resolve's answer)`` without counting."""
        if isinstance(raw, int) and not isinstance(raw, bool):
            return None, (raw, 1, None)  # already an id (defaults)
        text = " ".join(str(raw).split())
        hit = self.cache.get(text)
        if hit is not None:
            return text, hit
        count = 1
        name = text
        if self.table == "hardware":
            parts = matching.split_multi(text)
            distinct = {p.lower() for _, p in parts}
            if len(distinct) > 1:
                hit = (None, 1, "names several hardware types; a record has one: split the row")
                self.cache[text] = hit
                return text, hit
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
        return text, hit

    def text_of(self, placeholder: int) -> str:
        """The raw text a placeholder id (negative) stands for."""
        return next(t for t, p in self.created.items() if p == placeholder)

    def unresolved(self) -> list[Unresolved]:
        out = []
        for text, (rid, _, reason) in self.cache.items():
            if not self.counts.get(text):
                continue  # looked up for rows that were then checked one by one elsewhere
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


@dataclass
class NewRows:
    """Consecutive valid new rows from the fast path: ``rows`` are value tuples in the
    order of the table's fields (ready for ``executemany``), ``cells`` the raw rows."""

    scanner: RowScanner
    numbers: list[int]
    rows: list[tuple]
    cells: list[list[Any]]

    def __len__(self) -> int:
        return len(self.rows)

    def scanned(self) -> Iterator[ScannedRow]:
        """The same rows as the row path gives them."""
        names = self.scanner.spec.field_names
        for number, values, cells in zip(self.numbers, self.rows, self.cells, strict=True):
            yield ScannedRow(
                number, "new", dict(zip(names, values, strict=True)), {}, self.scanner._raw(cells)
            )


def _natural_keys(table: str, cols: dict[str, list[Any]], n: int) -> list[tuple | None]:
    """:func:`natural_key` of every row of a chunk given as columns."""
    if table == "models":
        return [
            None if a is None else (a, b or "")
            for a, b in zip(cols["name"], cols["version"], strict=True)
        ]
    if table == "training_runs":
        return [
            ("ext", e) if e else (None if m is None else ("name", m))
            for e, m in zip(cols["external_id"], cols["name"], strict=True)
        ]
    if table == "usage":
        return [
            None if d is None or a is None or b is None else (d, a, b)
            for d, a, b in zip(
                cols["deployment_id"], cols["period_start"], cols["period_end"], strict=True
            )
        ]
    if table == "deployments":
        return [
            None if a is None or b is None else (a, b)
            for a, b in zip(cols["name"], cols["model_id"], strict=True)
        ]
    names = _key_columns(table)
    return [
        natural_key(table, dict(zip(names, vals, strict=True)))
        for vals in zip(*(cols[k] for k in names), strict=True)
    ]


class RowScanner:
    """Converts and checks the rows of one sheet; used by planning and committing alike."""

    def __init__(
        self,
        inv: Inventory,
        sheet: SheetInfo,
        mapping: SheetMapping,
        resolutions: Resolutions | None = None,
        edits: dict[tuple[int, str], Any] | None = None,
        *,
        fast: bool | None = None,
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
        self.fields = {f.name: f for f in self.spec.fields}
        self.given = [n for n in self.fields_given if n in self.fields]
        self.cc_index = {c.field: c.index for c in self.columns} if self.codecarbon else {}
        #: the column-wise fast path (off: every row field by field, the reference)
        fast = FAST_PATH if fast is None else fast
        self.fast = fast and not self.codecarbon and self.table in FAST_TABLES
        self._edited_rows = {number for number, _ in self.edits}
        self._memos: dict[str, _Memo] = {}
        self._existing: tuple[np.ndarray, np.ndarray] | None = None
        #: look records up one query per key instead of indexing the table (previews)
        self.query_existing = False
        # natural-key hashes seen: this chunk's in a dict, earlier ones in sorted arrays
        self._seen_chunk: dict[int, int] = {}
        self._seen_blocks: list[tuple[np.ndarray, np.ndarray]] = []
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

    def _existing_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """Sorted 64-bit hashes of the natural keys of the records already in the table,
        and their ids (the first record of a key wins, as before): 16 bytes a record
        rather than every record as Python objects."""
        if self._existing is None:
            names = [n for n in _key_columns(self.table) if n in self.spec.field_names]
            hashes: list[int] = []
            ids: list[int] = []
            cur = self.inv.conn.execute(f"SELECT id, {', '.join(names)} FROM {self.spec.name}")
            for row in cur:
                rec = dict(zip(names, row[1:], strict=True))
                key = natural_key(self.table, rec)
                if key is not None:
                    hashes.append(hash(key))
                    ids.append(row[0])
                if self.table == "training_runs" and rec.get("external_id") and rec.get("name"):
                    hashes.append(hash(("name", rec["name"])))
                    ids.append(row[0])
            h = np.array(hashes, dtype=np.int64)
            first = np.unique(h, return_index=True)[1]  # sorted, first occurrence of each
            self._existing = (h[first], np.array(ids, dtype=np.int64)[first])
        return self._existing

    def _existing_many(self, keys: list[tuple | None]) -> list[tuple[int, dict[str, Any]] | None]:
        """``(id, stored values)`` of the record with each natural key, or None."""
        out: list[tuple[int, dict[str, Any]] | None] = [None] * len(keys)
        if self.query_existing:
            return [None if k is None else self._existing_by_query(k) for k in keys]
        hashes, ids = self._existing_keys()
        if not len(hashes):
            return out
        wanted = [(i, hash(k)) for i, k in enumerate(keys) if k is not None]
        if not wanted:
            return out
        h = np.array([w[1] for w in wanted], dtype=np.int64)
        pos = np.minimum(np.searchsorted(hashes, h), len(hashes) - 1)
        hit = hashes[pos] == h
        found = {wanted[j][0]: int(ids[pos[j]]) for j in np.flatnonzero(hit)}
        if not found:
            return out
        names = list(self.spec.field_names)
        records: dict[int, dict[str, Any]] = {}
        id_list = sorted(set(found.values()))
        for start in range(0, len(id_list), 500):
            part = id_list[start : start + 500]
            cur = self.inv.conn.execute(
                f"SELECT id, {', '.join(names)} FROM {self.spec.name} "
                f"WHERE id IN ({', '.join('?' * len(part))})",
                part,
            )
            for row in cur:
                records[row[0]] = dict(zip(names, row[1:], strict=True))
        for i, rid in found.items():
            rec = records.get(rid)
            if rec is None:
                continue
            key = keys[i]
            # a 64-bit hash collision is possible in principle: check the key itself
            if natural_key(self.table, rec) == key or (
                self.table == "training_runs" and key == ("name", rec.get("name"))
            ):
                out[i] = (rid, rec)
        return out

    def _existing_by_query(self, key: tuple) -> tuple[int, dict[str, Any]] | None:
        """The record with natural key ``key`` by one query (for a few rows: no index of
        the whole table is built). The lowest id wins, as in :meth:`_existing_keys`."""
        names = list(self.spec.field_names)
        if self.table == "training_runs":
            where, params = ("external_id = ?" if key[0] == "ext" else "name = ?"), [key[1]]
        else:
            cols = [n for n in _key_columns(self.table) if n in self.spec.field_names]
            where = " AND ".join(f"{c} = ?" for c in cols)
            params = list(key)
        row = self.inv.conn.execute(
            f"SELECT id, {', '.join(names)} FROM {self.spec.name} WHERE {where} "
            "ORDER BY id LIMIT 1",
            params,
        ).fetchone()
        return None if row is None else (row[0], dict(zip(names, row[1:], strict=True)))

    def _first_seen(self, h: int) -> int | None:
        """The row that first had key hash ``h`` in this sheet, or None."""
        first = self._seen_chunk.get(h)
        if first is not None:
            return first
        for hashes, numbers in self._seen_blocks:
            pos = int(np.searchsorted(hashes, h))
            if pos < len(hashes) and hashes[pos] == h:
                return int(numbers[pos])
        return None

    def _seen_before(self, h: np.ndarray) -> np.ndarray:
        """Whether each key hash was seen in an earlier chunk (a sorted search a block)."""
        out = np.zeros(len(h), dtype=bool)
        for hashes, _ in self._seen_blocks:
            pos = np.minimum(np.searchsorted(hashes, h), len(hashes) - 1)
            out |= hashes[pos] == h
        return out

    def _merge_seen(self) -> None:
        """Move the keys of the chunk just scanned into sorted blocks (16 bytes a row, not
        a dict entry); blocks of similar size are merged, so each key is moved about
        log2(rows / chunk) times and a search looks at a few blocks."""
        if not self._seen_chunk:
            return
        h = np.fromiter(self._seen_chunk.keys(), np.int64, len(self._seen_chunk))
        n = np.fromiter(self._seen_chunk.values(), np.int64, len(self._seen_chunk))
        order = np.argsort(h, kind="stable")
        self._seen_blocks.append((h[order], n[order]))
        self._seen_chunk = {}
        blocks = self._seen_blocks
        while len(blocks) > 1 and len(blocks[-1][0]) * 2 >= len(blocks[-2][0]):
            (h2, n2), (h1, n1) = blocks.pop(), blocks.pop()
            h = np.concatenate([h1, h2])
            n = np.concatenate([n1, n2])
            order = np.argsort(h, kind="stable")
            blocks.append((h[order], n[order]))

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
                        if not units.converts_to(f.unit):  # e.g. "1+5": never a unit
                            where = f" in {f.unit}" if f.unit else ""
                            raise ValueError(
                                f"has '{unit}' after the number: write the number alone{where}"
                            )
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

    # -- scanning ------------------------------------------------------------------------

    def scan(
        self, progress: Progress | None = None, cancel: Cancel | None = None
    ) -> Iterator[ScannedRow]:
        """Every data row, converted and classified. Raises ImportCancelled on cancel."""
        for item in self.scan_items(progress, cancel):
            if isinstance(item, NewRows):
                yield from item.scanned()
            else:
                yield item

    def scan_items(
        self, progress: Progress | None = None, cancel: Cancel | None = None
    ) -> Iterator[ScannedRow | NewRows]:
        """Every data row in file order: runs of clean new rows as :class:`NewRows`
        (column-wise fast path), every other row as a :class:`ScannedRow`.

        Rows are read :data:`CHUNK_ROWS` at a time. With ``fast`` the chunk's columns
        are converted and checked whole (numpy for numbers, one conversion per distinct
        value for text, dates, choices and references); a row with anything unusual (a
        problem, a unit in a cell, an edit, a name giving a device count...) is then
        scanned alone by :meth:`_scan_row`, the reference path, which gives the
        per-cell reasons. Both give the same values (tested).
        Raises ImportCancelled when ``cancel()`` returns True.
        """
        total = self.sheet.n_rows
        done = 0
        was_enabled = gc.isenabled()
        # the scan allocates millions of short-lived objects and no cycles: pausing the
        # cycle collector avoids repeated scans of everything alive (about 30% here)
        gc.disable()
        try:
            for numbers, rows in iter_chunks(self.sheet, CHUNK_ROWS):
                if cancel and cancel():
                    raise ImportCancelled("The import was cancelled; nothing was written.")
                if self.fast:
                    yield from self._scan_chunk(numbers, rows)
                else:
                    for number, cells in zip(numbers, rows, strict=True):
                        yield self._scan_row(number, cells)
                self._merge_seen()
                done += len(rows)
                if progress:
                    progress(done, total)
        finally:
            if was_enabled:
                gc.enable()
        if progress:
            progress(done, done)

    def _scan_row(self, number: int, cells: list[Any]) -> ScannedRow:
        """One row, field by field: the reference path (and the one with the reasons)."""
        cells = normalise_cells(cells)
        spec, table = self.spec, self.table
        defaults = self.mapping.defaults
        fields = self.fields
        edits = self.edits
        values: dict[str, Any] = {}
        problems: dict[str, str] = {}
        raw: dict[str, Any] = {}
        if self.codecarbon:
            get = {name: cells[i] for name, i in self.cc_index.items()}
            cc_values, problems = codecarbon.row_values(get, table)
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
            return ScannedRow(number, "invalid", values, problems, raw)
        key = natural_key(table, values)
        existing = self._existing_many([key])[0] if key is not None else None
        return self._classify(number, values, raw, key, existing)

    def _classify(
        self,
        number: int,
        values: dict[str, Any],
        raw: dict[str, Any],
        key: tuple | None,
        existing: tuple[int, dict[str, Any]] | None,
    ) -> ScannedRow:
        """A valid row: a repeat of an earlier row's key (invalid), new, changed or
        unchanged (``existing``: the stored record with the same key)."""
        if key is None:
            return ScannedRow(number, "new", values, {}, raw)
        h = hash(key)
        first = self._first_seen(h)
        if first is not None:
            col = next((k for k in _key_columns(self.table) if values.get(k) is not None), "name")
            problems = {col: f"repeats row {first} (same {self._key_text()})"}
            return ScannedRow(number, "invalid", values, problems, raw)
        self._seen_chunk[h] = number
        if existing is not None:
            rid, old = existing
            if all(_same(old.get(n), values.get(n)) for n in self.given):
                return ScannedRow(number, "unchanged", values, {}, raw, rid, old)
            return ScannedRow(number, "changed", values, {}, raw, rid, old)
        return ScannedRow(number, "new", values, {}, raw)

    # -- the column-wise fast path -------------------------------------------------------

    def _scan_chunk(self, numbers: list[int], rows: list[list[Any]]) -> list[ScannedRow | NewRows]:
        """Convert and check a chunk column by column; see :meth:`scan_items`."""
        n = len(rows)
        fields = self.fields
        need = np.zeros(n, dtype=bool)  # rows for the row path
        if self.edits:
            rows = list(rows)
            for i, number in enumerate(numbers):
                if number in self._edited_rows:
                    need[i] = True
                    cells = list(rows[i])
                    for c in self.columns:
                        if (number, c.field) in self.edits:
                            cells[c.index] = self.edits[(number, c.field)]
                    rows[i] = cells
        columns = list(zip(*rows, strict=True))  # one transpose, not a pass per column
        cols: dict[str, list[Any]] = {}
        refs: dict[str, list[Any]] = {}  # reference fields: (text, (id, count, reason)) or None
        for c in self.columns:
            name = c.field
            f = fields.get(name)  # type: ignore[arg-type]
            if f is None or name not in self.factors:
                continue
            col = columns[c.index]
            if f.kind == "ref":
                resolver = self.resolvers[name]
                memo = self._memo(name, lambda x, r=resolver: self._ref_cell(r, x))
                if _memo_safe(col):
                    refs[name] = list(map(memo.__getitem__, col))
                else:
                    refs[name] = [self._ref_cell(resolver, x) for x in col]
                cols.pop(name, None)
            elif f.is_number:
                cols[name], bad = self._numbers(f, col, self.factors[name])
                need |= bad
                refs.pop(name, None)
            else:
                fac = self.factors[name]
                memo = self._memo(name, lambda x, f=f, fac=fac: self._cell(f, x, fac))
                if _memo_safe(col):
                    cols[name] = list(map(memo.__getitem__, col))
                else:
                    cols[name] = [self._cell(f, x, fac) for x in col]
                if _NEEDS_ROW in cols[name]:
                    need |= np.array([v is _NEEDS_ROW for v in cols[name]], dtype=bool)
                refs.pop(name, None)
        for name, value in self.mapping.defaults.items():
            f = fields.get(name)
            if f is None:
                continue
            if f.kind == "ref":
                hit = self._ref_cell(self.resolvers[name], value)
                col = refs.setdefault(name, [None] * n)
                for i in range(n):
                    if col[i] is None:
                        col[i] = hit
                continue
            try:
                converted = self._convert(f, value, 1.0)
                ok = True
            except ValueError:
                ok = False
            col = cols.setdefault(name, [f.blank] * n)
            for i in range(n):
                if col[i] is None or col[i] == "":
                    if not ok or f.is_number:
                        need[i] = True  # the row path gives the reason or checks the range
                    col[i] = converted if ok else None
        for name, col in refs.items():
            distinct = set(col)
            cols[name] = [None if h is None else h[1][0] for h in col]
            if any(h is not None and (h[1][2] is not None or h[1][1] > 1) for h in distinct):
                need |= np.array(
                    [h is not None and (h[1][2] is not None or h[1][1] > 1) for h in col],
                    dtype=bool,
                )
        for f in self.spec.fields:
            col = cols.get(f.name)
            if col is None:
                cols[f.name] = col = [f.blank] * n
            if f.required and (None in col or "" in col):
                need |= np.array([v is None or v == "" for v in col], dtype=bool)
        for start, end in self.spec.date_order:
            starts, ends = cols[start], cols[end]
            if set(map(type, starts)) == {str} == set(map(type, ends)) and "" not in starts:
                need |= np.fromiter(map(operator.lt, ends, starts), bool, n)
            else:
                need |= np.array(list(map(_before, ends, starts)), dtype=bool)
        boundary = cols.get("energy_boundary")
        if self.table in ("training_runs", "usage") and (None in boundary or "" in boundary):
            need |= np.array(
                [
                    e is not None and not b
                    for e, b in zip(cols["energy_kwh"], boundary, strict=True)
                ],
                dtype=bool,
            )
        if self.table == "training_runs":
            for i, (p, hw) in enumerate(zip(cols["avg_power_w"], cols["hardware_id"], strict=True)):
                if p is not None:
                    tdp = self._hardware_tdp(hw)
                    if tdp and p > MAX_POWER_OVER_TDP * tdp:
                        need[i] = True
        good = ~need
        good_list = good.tolist()
        for name, col in refs.items():  # count the uses the row path would have counted
            resolver = self.resolvers[name]
            for hit, k in Counter(itertools.compress(col, good_list)).items():
                if hit is not None and hit[0] is not None:
                    resolver.count(hit[0], k)
        names = self.spec.field_names
        tuples = list(zip(*(cols[f] for f in names), strict=True))
        # keys of every row (a row for the row path may still become new, and be the
        # first of its key: the rows after it with that key are then handled alone)
        all_keys = _natural_keys(self.table, cols, n)
        keys = [k if ok else None for k, ok in zip(all_keys, good_list, strict=True)]
        hashes = list(map(hash, all_keys))
        h_arr = np.array(hashes, dtype=np.int64)
        special = need | self._seen_before(h_arr)  # rows after one with the same key
        repeat = np.ones(n, dtype=bool)
        repeat[np.unique(h_arr, return_index=True)[1]] = False
        special |= repeat
        if None in keys:
            special |= np.array([k is None for k in keys], dtype=bool)
        existing = self._existing_many(keys)
        if any(e is not None for e in existing):
            special |= np.array([e is not None for e in existing], dtype=bool)
        out: list[ScannedRow | NewRows] = []
        seen = self._seen_chunk
        start = 0
        for i in [*np.flatnonzero(special).tolist(), n]:
            if i > start:  # a run of clean new rows with keys not seen before
                seen.update(zip(hashes[start:i], numbers[start:i], strict=True))
                out.append(NewRows(self, numbers[start:i], tuples[start:i], rows[start:i]))
            start = i + 1
            if i == n:
                break
            if not good_list[i]:
                out.append(self._scan_row(numbers[i], rows[i]))
                continue
            key = keys[i]
            if key is not None:
                h = hashes[i]
                if existing[i] is not None or self._first_seen(h) is not None:
                    values = dict(zip(names, tuples[i], strict=True))
                    out.append(
                        self._classify(numbers[i], values, self._raw(rows[i]), key, existing[i])
                    )
                    continue
                seen[h] = numbers[i]
            out.append(NewRows(self, [numbers[i]], [tuples[i]], [rows[i]]))
        return out

    def _memo(self, name: str, compute: Callable[[Any], Any]) -> _Memo:
        memo = self._memos.get(name)
        if memo is None or len(memo) > MEMO_SIZE:  # bounded: free text rarely repeats
            memo = self._memos[name] = _Memo(compute)
        return memo

    @staticmethod
    def _ref_cell(
        resolver: _Resolver, x: Any
    ) -> tuple[str | None, tuple[int | None, int, str | None]] | None:
        """A reference cell: None when blank, else its resolver's answer (uncounted)."""
        if x is None or str(x).strip() == "":
            return None
        return resolver.lookup(x)

    def _cell(self, f: schema.FieldSpec, x: Any, fac: float) -> Any:
        """One text, date or choice cell, or :data:`_NEEDS_ROW` when it has a problem."""
        if isinstance(x, str) and not x.strip():
            return f.blank
        try:
            return self._convert(f, x, fac)
        except ValueError:
            return _NEEDS_ROW

    def _numbers(
        self, f: schema.FieldSpec, col: list[Any], fac: float
    ) -> tuple[list[Any], np.ndarray]:
        """A number column converted whole: ``(values, rows needing the row path)``.

        Only plain numbers take this path (number cells, or text such as "12", "-0.5",
        "1.5e3" that Python's ``float`` and :func:`units.parse_number` read alike); a
        cell with a unit, a thousands separator, a percent sign or a decimal comma is
        left to the row path, as are NaN, infinity, fractions in whole-number fields and
        values out of range.
        """
        n = len(col)
        types = set(map(type, col))
        blank = None
        arr = None
        if types <= {float, int}:
            arr = np.array(col, dtype=np.float64)
        elif types <= {float, int, type(None)}:
            blank = np.fromiter((x is None for x in col), bool, n)
            arr = np.array([0.0 if x is None else x for x in col], dtype=np.float64)
        elif types == {str} and not self.decimal_comma:
            joined = "\n".join(col)
            if set(joined) <= _PLAIN_CHARS and not _LOOSE_POINT.search(joined):
                with contextlib.suppress(ValueError):
                    arr = np.array(col, dtype=np.float64)
        if arr is None:  # blanks or unusual cells: cell by cell, unusual ones to the row path
            blank = np.zeros(n, dtype=bool)
            bad = np.zeros(n, dtype=bool)
            values = np.zeros(n, dtype=np.float64)
            for i, x in enumerate(col):
                if x is None or (x.__class__ is str and not x.strip()):
                    blank[i] = True
                elif x.__class__ is float or x.__class__ is int:
                    values[i] = x
                elif x.__class__ is str and not self.decimal_comma and _PLAIN.fullmatch(x):
                    values[i] = float(x)
                else:
                    bad[i] = True
            arr = values
        else:
            bad = np.zeros(n, dtype=bool)
        with np.errstate(all="ignore"):
            bad |= ~np.isfinite(arr)
            if fac != 1.0:
                arr = arr * fac
                bad |= ~np.isfinite(arr)
            if f.kind == "int":
                r = np.rint(arr)
                bad |= np.abs(arr - r) > 1e-9 * np.maximum(1.0, np.abs(arr))
                arr = r
            if f.minimum is not None:
                bad |= (arr <= f.minimum) if f.min_exclusive else (arr < f.minimum)
            if f.maximum is not None:
                bad |= arr > f.maximum
        if blank is not None:
            bad &= ~blank
        if f.kind == "int":
            values_list = np.where(bad, 0, arr).astype(np.int64).tolist()
        else:
            values_list = arr.tolist()
        if blank is not None and blank.any():
            for i in np.flatnonzero(blank).tolist():
                values_list[i] = f.blank
        return values_list, bad

    def _raw(self, cells: list[Any]) -> dict[str, Any]:
        """The raw cells of a row from the fast path, as the row path records them."""
        raw: dict[str, Any] = {}
        for c in self.columns:
            if c.field in self.factors:
                x = cells[c.index]
                raw[c.field] = None if isinstance(x, str) and not x.strip() else x
        for name, value in self.mapping.defaults.items():
            if name in self.fields:
                raw.setdefault(name, value)
        return raw

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
    for item in scanner.scan_items(progress, cancel):
        if isinstance(item, NewRows):
            plan.new += len(item)
            if len(plan.preview) < PREVIEW_ROWS:
                for row in item.scanned():
                    plan.preview.append(_preview_row(row))
                    if len(plan.preview) >= PREVIEW_ROWS:
                        break
            continue
        row = item
        if row.status == "invalid":
            plan.invalid += 1
            for p in scanner.problem_rows(row):
                plan.problem_count += 1
                if len(plan.problems) < MAX_PROBLEMS:
                    plan.problems.append(p)
        else:
            setattr(plan, row.status, getattr(plan, row.status) + 1)
        if len(plan.preview) < PREVIEW_ROWS:
            plan.preview.append(_preview_row(row))
    plan.unresolved = scanner.unresolved()
    return plan


def _preview_row(row: ScannedRow) -> dict[str, Any]:
    """A row as ``ImportPlan.preview`` holds it: row number, converted ``values``,
    ``problems`` by field, ``status``, and ``raw``: the cells as the file gives them, by
    field (what the file said where a reference was not matched)."""
    return {
        "row": row.number,
        "values": dict(row.values),
        "problems": dict(row.problems),
        "status": row.status,
        "raw": dict(row.raw),
    }


def preview_import(
    inv: Inventory,
    sheet: SheetInfo,
    mapping: SheetMapping,
    n: int = 50,
    *,
    resolutions: Resolutions | None = None,
) -> ImportPlan:
    """The first ``n`` rows of ``sheet`` converted through ``mapping``, for a live
    mapping preview: an :class:`ImportPlan` whose ``preview`` holds those rows (as
    :func:`plan_import` gives them, with ``raw``) and whose ``problems`` are those of
    the mapping as a whole (a required field without a column, a unit that does not
    fit). Reads only about ``n`` rows; the counts cover the previewed rows only. Writes
    nothing.
    """
    scanner = RowScanner(inv, sheet, mapping, resolutions)
    scanner.query_existing = True
    plan = ImportPlan(sheet, mapping, scanner.table, resolutions=dict(resolutions or {}))
    plan.problems = scanner.sheet_problems()
    plan.problem_count = len(plan.problems)
    rows = iter_rows(sheet)
    try:
        for number, cells in rows:
            row = scanner._scan_row(number, cells)
            if row.status == "invalid":
                plan.invalid += 1
            else:
                setattr(plan, row.status, getattr(plan, row.status) + 1)
            plan.preview.append(_preview_row(row))
            if len(plan.preview) >= n:
                break
    finally:
        rows.close()
    return plan
