"""Reading a whole sheet through its mapping: converted rows, problems, what would change.

:func:`plan_import` streams the sheet once and writes nothing; :mod:`.commit` streams it
again through the same :class:`RowScanner`, so what is committed is exactly what was
checked. Each row is converted (units, dates, references), validated with the rules of
:mod:`core.validation` (required, ranges, end before start, power above 10x TDP), checked
for a repeat of an earlier row's natural key, and compared with the inventory by that
key: new, changed or unchanged.

The parts of :class:`RowScanner` live in their own modules: cell conversion in
:mod:`.convert`, the row-by-row path in :mod:`.rowpath`, the column-wise fast path in
:mod:`.fastpath`, natural keys and existing records in :mod:`.keys`, references in
:mod:`.resolving`, and the rows and problems it yields in :mod:`.scanned`. The names they
define that other modules use are re-exported here.

Several sheets imported together are planned with :func:`plan_sheets`: in
:func:`import_order` (referenced tables first, as the commit writes them), each seeing
the records the earlier ones will create.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from core import schema
from core.errors import ImportCancelled
from core.importing import codecarbon, units
from core.importing.convert import FORMULA_START, Conversion, escape_text, unescape_text
from core.importing.fastpath import MEMO_SIZE, FastPath, _Memo
from core.importing.keys import KeyTracking, natural_key
from core.importing.mapping import SheetMapping
from core.importing.reading import SheetInfo, iter_chunks, iter_rows
from core.importing.resolving import Pending, Resolutions, _Resolver
from core.importing.rowpath import RowPath
from core.importing.scanned import NewRows, Problem, ScannedRow, Unresolved

if TYPE_CHECKING:
    from core.inventory import Inventory

__all__ = [
    "CHUNK_ROWS",
    "FAST_PATH",
    "FAST_TABLES",
    "FORMULA_START",
    "MAX_PROBLEMS",
    "MEMO_SIZE",
    "PREVIEW_ROWS",
    "PROBLEM_PREVIEW_ROWS",
    "Cancel",
    "Edits",
    "ImportPlan",
    "NewRows",
    "Pending",
    "Problem",
    "Progress",
    "Resolutions",
    "RowScanner",
    "ScannedRow",
    "Unresolved",
    "escape_text",
    "import_order",
    "import_rank",
    "natural_key",
    "plan_import",
    "plan_sheets",
    "preview_import",
    "unescape_text",
]

Progress = Callable[[int, int | None], None]
Cancel = Callable[[], bool]
#: cells typed in the preview: ``(row number in the file, field)`` -> raw value
Edits = dict[tuple[int, str], Any]

#: how many converted rows a plan keeps for the preview
PREVIEW_ROWS = 200
#: how many rows with problems a plan keeps for the preview, wherever they are in the
#: file (the preview's first rows included), so that they can be fixed there
PROBLEM_PREVIEW_ROWS = 1_000
#: how many problems a plan keeps in memory (the errors file gets all of them)
MAX_PROBLEMS = 10_000
#: whether scanners use the column-wise fast path unless told (tests compare both)
FAST_PATH = True
#: rows read and converted at a time (memory stays bounded whatever the file's size)
CHUNK_ROWS = 10_000
#: tables whose rows the fast path converts (the others have cross-field rules of their
#: own and are small: every row goes through the row path)
FAST_TABLES = frozenset({"models", "training_runs", "deployments", "usage", "sites", "hardware"})


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
    #: rows with problems anywhere in the file, as ``preview`` holds them (the same
    #: objects for rows in ``preview`` too), in file order: the first
    #: PROBLEM_PREVIEW_ROWS invalid rows and, among them, every row valid now thanks
    #: to ``edits`` (so a fix stays in sight, and can be taken back, wherever the row is)
    problem_preview: list[dict[str, Any]] = field(default_factory=list)
    #: invalid rows left out of ``problem_preview`` (beyond PROBLEM_PREVIEW_ROWS, or all
    #: of them when the mapping itself has problems)
    problem_preview_omitted: int = 0


class RowScanner(Conversion, RowPath, FastPath, KeyTracking):
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
        pending: Pending | None = None,
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
                inv, f.ref, f.name, self.resolutions, f.name in mapping.create_missing, pending
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

    def problem_rows(self, row: ScannedRow) -> list[Problem]:
        out = []
        for name, reason in row.problems.items():
            header = self.header_of.get(name)
            if header is None and self.codecarbon:  # a field made from the log's columns
                header = codecarbon.problem_column(name, self.header_of, row.sources)
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
    pending: Pending | None = None,
) -> ImportPlan:
    """Read all of ``sheet`` through ``mapping`` and say what importing it would do.

    Writes nothing. ``resolutions[(field, raw text)]`` is a record id, or ``"create"`` to
    create a hardware type, site or model of that name on commit. ``edits[(row, field)]``
    replaces a cell's raw value (fixes typed in the preview). ``progress(rows done,
    total or None)`` is called every few thousand rows; ``cancel()`` returning True
    stops with :class:`core.errors.ImportCancelled`.

    ``pending``: the records earlier sheets of the same import will create; references
    are matched against them too, and this sheet's new records are added to it (see
    :func:`plan_sheets`, which does this for a whole import).
    """
    scanner = RowScanner(inv, sheet, mapping, resolutions, edits, pending=pending)
    # new records later sheets may refer to (only kept when someone can refer to them)
    note = pending.add if pending is not None and pending.wants(scanner.table) else None
    plan = ImportPlan(
        sheet, mapping, scanner.table, resolutions=dict(resolutions or {}), edits=dict(edits or {})
    )
    sheet_problems = scanner.sheet_problems()
    if sheet_problems:
        plan.problems = sheet_problems
        plan.problem_count = len(sheet_problems)
        plan.invalid = sum(1 for _ in iter_rows(sheet))
        plan.problem_preview_omitted = plan.invalid
        return plan
    edited = {number for number, _ in plan.edits}
    fixed = 0  # rows in problem_preview that are valid (fixed through edits)
    for item in scanner.scan_items(progress, cancel):
        if isinstance(item, NewRows):
            plan.new += len(item)
            if note is not None:
                for values in item.rows:
                    note(scanner.table, dict(zip(scanner.spec.field_names, values, strict=True)))
            if len(plan.preview) < PREVIEW_ROWS:
                for row in item.scanned():
                    plan.preview.append(_preview_row(row))
                    if len(plan.preview) >= PREVIEW_ROWS:
                        break
            continue
        row = item
        # invalid and edited rows come through the row path (the fast path keeps to
        # clean rows), so keeping them here costs the clean rows nothing
        keep = False
        if row.status == "invalid":
            plan.invalid += 1
            for p in scanner.problem_rows(row):
                plan.problem_count += 1
                if len(plan.problems) < MAX_PROBLEMS:
                    plan.problems.append(p)
            keep = len(plan.problem_preview) - fixed < PROBLEM_PREVIEW_ROWS
            if not keep:
                plan.problem_preview_omitted += 1
        else:
            setattr(plan, row.status, getattr(plan, row.status) + 1)
            if note is not None and row.status == "new":
                note(scanner.table, row.values)
            if row.number in edited:  # fixed in the preview: at most as many as edits
                keep = True
                fixed += 1
        shown = _preview_row(row) if keep or len(plan.preview) < PREVIEW_ROWS else None
        if shown is not None and len(plan.preview) < PREVIEW_ROWS:
            plan.preview.append(shown)
        if keep:
            plan.problem_preview.append(shown)
    plan.unresolved = scanner.unresolved()
    return plan


def import_rank(table: str) -> int:
    """Where sheets going to ``table`` come in an import: referenced tables before the
    tables that refer to them (the export's order,
    :data:`core.importing.exporting.EXPORT_ORDER`); anything else last."""
    from core.importing.exporting import EXPORT_ORDER  # exporting imports this module

    return EXPORT_ORDER.index(table) if table in EXPORT_ORDER else len(EXPORT_ORDER)


def import_order(
    sheets: Sequence[tuple[SheetInfo, SheetMapping]],
) -> list[tuple[SheetInfo, SheetMapping]]:
    """``(sheet, mapping)`` pairs in the order an import plans and writes them
    (:func:`import_rank` of each mapping's target table; the given order otherwise).
    :func:`commit_import <core.importing.commit.commit_import>` writes plans in the
    order it is given them, so plan (and commit) in this order."""
    return sorted(sheets, key=lambda pair: import_rank(pair[1].target))


def plan_sheets(
    inv: Inventory,
    sheets: Sequence[tuple[SheetInfo, SheetMapping]],
    *,
    resolutions: Resolutions | None = None,
    edits: Sequence[Edits | None] | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> list[ImportPlan]:
    """Plan several sheets as one import; the plans come in :func:`import_order`, ready
    for :func:`commit_import <core.importing.commit.commit_import>`.

    Each sheet is planned with :func:`plan_import`, seeing the records the sheets before
    it will create: a usage sheet naming a deployment that the deployments sheet of the
    same workbook adds links to that deployment (a placeholder id below
    :data:`core.importing.resolving.PENDING_FIRST` in the plan's preview), as the commit
    will, instead of to the closest existing one or to nothing. ``edits[i]`` are the
    edits of ``sheets[i]`` (same order as ``sheets``). ``progress(rows done, None)``
    counts the rows of all sheets. Writes nothing.
    """
    order = sorted(range(len(sheets)), key=lambda i: import_rank(sheets[i][1].target))
    pending = Pending()
    plans: list[ImportPlan] = []
    done = 0
    for i in order:
        sheet, mapping = sheets[i]
        report = None
        if progress is not None:

            def report(n: int, _total: int | None, base: int = done) -> None:
                progress(base + n, None)

        plan = plan_import(
            inv,
            sheet,
            mapping,
            resolutions=resolutions,
            edits=edits[i] if edits is not None else None,
            progress=report,
            cancel=cancel,
            pending=pending,
        )
        done += plan.new + plan.changed + plan.unchanged + plan.invalid
        plans.append(plan)
    return plans


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
