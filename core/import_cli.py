"""The ``import`` and ``export`` commands.

``import INVENTORY FILE [FILE ...]``: every file is read and every sheet mapped (by
proposal, ``--kind``, or a ``--mapping`` preset or JSON file; then ``--date-order``,
``--set`` and ``--create-missing`` as the wizard's choices), then all sheets are
planned or committed together, referenced tables first (``import_order``), so a sheet
may name records an earlier sheet adds. Exit 0 when everything was imported; 1 when rows
are invalid (nothing written unless ``--skip-invalid``; problems listed with file, row,
column and reason; the counts say what the import would do, as a dry run's do); 2 when a
file cannot be read or an option is wrong (an unknown preset, a bad mapping file, a
``--set`` value that does not fit its field). With ``--format json`` every outcome,
errors included, is one JSON document on standard output.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from core import schema
from core.errors import ImportInvalidError, ImportReadError, LedgerError
from core.importing import (
    ImportPlan,
    SheetInfo,
    SheetMapping,
    commit_import,
    export_inventory,
    open_source,
    propose_mapping,
    propose_table,
)
from core.importing.commit import write_errors
from core.importing.convert import Conversion
from core.importing.mapping import IMPORT_TABLES
from core.importing.plan import Problem, import_order, import_rank, plan_sheets
from core.importing.presets import (
    apply_preset,
    list_presets,
    load_preset,
    load_preset_resolutions,
    read_mapping_file,
)
from core.importing.resolving import CREATABLE, Resolutions
from core.inventory import Inventory

KINDS = ("auto", *IMPORT_TABLES, "codecarbon")
#: problems printed in text output before "... and N more"
SHOWN_PROBLEMS = 50
#: exit codes (as ``core.cli``): rows invalid; a file that cannot be read or a wrong option
EXIT_INVALID, EXIT_USAGE = 1, 2
#: how the core asks for the day-month order; the command names its option
_DATE_ORDER_ASK = "choose the date order"
_DATE_ORDER_OPTION = "choose the date order with --date-order dmy or --date-order mdy"


class ImportUsageError(ImportReadError):
    """An option of the ``import`` command that cannot be used (an unknown preset, a
    mapping that fits no sheet, a ``--set`` that names no field or whose value does not
    fit it): exit 2, as for a file that cannot be read."""


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``import`` and ``export`` on the CLI's subparsers."""
    p = sub.add_parser(
        "import", help="import spreadsheets (XLSX, XLS, ODS, CSV) and CodeCarbon logs"
    )
    p.add_argument("inventory", metavar="INVENTORY", help="inventory file to import into")
    p.add_argument("files", metavar="FILE", nargs="+", help="files to import")
    p.add_argument(
        "--kind",
        choices=KINDS,
        default="auto",
        help="what the rows are (default: auto, proposed per sheet from its name and headers)",
    )
    p.add_argument("--sheet", help="import only the sheet of this name")
    p.add_argument(
        "--mapping",
        metavar="PRESET_OR_FILE",
        help="a mapping preset saved in the inventory, or a mapping JSON file",
    )
    p.add_argument(
        "--date-order",
        choices=("dmy", "mdy"),
        help="how to read dates such as 03/04/2026 that could be either: dmy (3 April) "
        "or mdy (March 4); dates that can only be one are read as they are",
    )
    p.add_argument(
        "--set",
        dest="set_values",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help='a value for every row of the file, e.g. site="Paris DC", '
        "energy_boundary=facility, kind=fine-tuning (instead of a column of that field, "
        "and of a CodeCarbon log's own value); checked as a cell would be; "
        "TABLE.FIELD=VALUE for one table's sheets only; repeatable",
    )
    p.add_argument(
        "--create-missing",
        action="store_true",
        help="create the hardware types, sites and models that no record matches "
        "(instead of refusing their rows)",
    )
    p.add_argument("--dry-run", action="store_true", help="check and report; write nothing")
    p.add_argument(
        "--skip-invalid", action="store_true", help="import the valid rows, skip the others"
    )
    p.add_argument("--errors", metavar="OUT.csv", help="write the problems to this CSV file")
    p.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )
    p = sub.add_parser("export", help="export the inventory to XLSX, CSV or JSON")
    p.add_argument("inventory", metavar="INVENTORY", help="inventory file to read")
    p.add_argument(
        "out",
        metavar="OUT",
        help="OUT.xlsx (one sheet per table), OUT.json, or OUT.csv (one OUT-TABLE.csv per table)",
    )


def _mappings(inv: Inventory, spec: str | None) -> tuple[list[SheetMapping] | None, Resolutions]:
    """The mappings of ``--mapping`` (None without it) and the reference choices saved
    with a preset (a mapping file has none: record ids belong to one inventory)."""
    if not spec:
        return None, {}
    path = Path(spec)
    if path.is_file():
        return read_mapping_file(path), {}
    if spec not in list_presets(inv):
        known = ", ".join(list_presets(inv)) or "none saved yet"
        if path.suffix.lower() == ".json" or "/" in spec or "\\" in spec:
            raise ImportUsageError(
                f"{spec}: there is no such mapping file (and no mapping preset of that "
                f"name in {Path(inv.path).name}; presets: {known})."
            )
        raise ImportUsageError(
            f"{Path(inv.path).name}: there is no mapping preset called '{spec}' "
            f"(presets: {known}); give a preset's name or a mapping JSON file."
        )
    return load_preset(inv, spec), load_preset_resolutions(inv, spec)


def _sheets(args: argparse.Namespace) -> list[SheetInfo]:
    out = []
    for name in args.files:
        sheets = open_source(name)
        if args.sheet:
            chosen = [s for s in sheets if s.name == args.sheet]
            if not chosen:
                names = ", ".join(s.name for s in sheets)
                raise ImportReadError(
                    f"{Path(name).name}: there is no sheet '{args.sheet}' (sheets: {names})."
                )
            sheets = chosen
        else:
            sheets = [s for s in sheets if not s.hidden or len(sheets) == 1]
        out.extend(sheets)
    return out


@dataclasses.dataclass
class _Inputs:
    """What to import: ``(sheet, mapping)`` pairs in :func:`import_order`, notes on the
    sheets left out, and the reference choices (a preset's)."""

    pairs: list[tuple[SheetInfo, SheetMapping]]
    notes: list[str]
    resolutions: Resolutions


def _plan_inputs(inv: Inventory, args: argparse.Namespace) -> _Inputs:
    """The sheets and their mappings, with the command's choices applied to them."""
    presets, resolutions = _mappings(inv, args.mapping)
    pairs: list[tuple[SheetInfo, SheetMapping]] = []
    notes: list[str] = []
    for sheet in _sheets(args):
        where = sheet.label
        if presets is not None:
            mapping = apply_preset(sheet, presets)
            if mapping is None:
                raise ImportUsageError(
                    f"{where}: the mapping '{args.mapping}' fits none of its columns."
                )
        else:
            table = args.kind
            if table == "auto":
                table, _ = propose_table(sheet)
                if table is None:
                    notes.append(f"{where}: skipped (not recognised as an inventory table)")
                    continue
            mapping = propose_mapping(sheet, table)
        pairs.append((sheet, mapping))
    for _, mapping in pairs:
        if args.date_order:
            mapping.date_order, mapping.ambiguous_dates = args.date_order, False
        if args.create_missing:
            spec = schema.table(mapping.target)
            creatable = [f.name for f in spec.fields if f.kind == "ref" and f.ref in CREATABLE]
            mapping.create_missing = sorted({*mapping.create_missing, *creatable})
    for assignment in args.set_values:
        _apply_set(pairs, assignment, args.date_order)
    return _Inputs(import_order(pairs), notes, resolutions)


class _Cell(Conversion):
    """Converts a ``--set`` value as a cell of the file is converted (units written
    with the number, choices by value or label, dates in the ``--date-order``)."""

    def __init__(self, date_order: str | None):
        self.decimal_comma = False
        self.mapping = SheetMapping("", [], date_order=date_order)


def _field(spec: schema.TableSpec, text: str) -> schema.FieldSpec | None:
    """The field of ``spec`` that ``text`` names: its name ("site_id", "energy_boundary"),
    a reference's name without "_id" ("site"), or its label ("Energy boundary"), in any
    case, with spaces, hyphens or underscores."""
    key = "_".join(text.strip().lower().replace("-", " ").replace("_", " ").split())
    for f in spec.fields:
        label = "_".join(f.label.lower().replace("-", " ").split())
        if key in (f.name, _short(f), label):
            return f
    return None


def _short(f: schema.FieldSpec) -> str:
    """How ``--set`` names a field: a reference without "_id" ("site"), others by name."""
    return f.name.removesuffix("_id") if f.kind == "ref" else f.name


def _apply_set(
    pairs: list[tuple[SheetInfo, SheetMapping]], assignment: str, date_order: str | None
) -> None:
    """``--set [TABLE.]FIELD=VALUE``: the value, converted and checked as a cell, becomes
    the value of every row of the sheets whose table has the field (a column mapped to
    it is ignored); references are matched per sheet as cells are."""
    name, sep, value = assignment.partition("=")
    name, value = name.strip(), value.strip()
    if not sep or not name:
        raise ImportUsageError(
            f'--set {assignment}: write FIELD=VALUE, e.g. --set site="Paris DC".'
        )
    if not value:
        raise ImportUsageError(f"--set {assignment}: give a value after '='.")
    tables = sorted({m.target for _, m in pairs}, key=import_rank)
    only, dot, rest = name.partition(".")
    if dot and only.strip() in IMPORT_TABLES:
        tables = [t for t in tables if t == only.strip()]
        if not tables:
            raise ImportUsageError(f"--set {assignment}: no sheet of this import is {only}.")
        name = rest
    chosen: dict[str, tuple[schema.FieldSpec, Any]] = {}
    for table in tables:
        spec = schema.table(table)
        f = _field(spec, name)
        if f is None:
            continue
        if f.kind == "ref":  # matched like the cells of each sheet (and created if asked)
            chosen[table] = (f, value)
            continue
        try:
            chosen[table] = (f, _Cell(date_order)._convert(f, value, 1.0))
        except ValueError as exc:
            reason = str(exc).replace(_DATE_ORDER_ASK, _DATE_ORDER_OPTION)
            where = f" ({spec.label.lower()})" if len(tables) > 1 else ""
            hint = " (TABLE.FIELD=VALUE sets one table's only)" if len(tables) > 1 else ""
            raise ImportUsageError(
                f"--set {assignment}: {f.label}{where} {reason}{hint}."
            ) from None
    if not chosen:
        known = dict.fromkeys(_short(f) for t in tables for f in schema.table(t).fields)
        labels = ", ".join(schema.table(t).label.lower() for t in tables) or "no table"
        raise ImportUsageError(
            f"--set {assignment}: '{name}' is not a field of {labels} (fields: {', '.join(known)})."
        )
    for _, mapping in pairs:
        if mapping.target not in chosen:
            continue
        f, converted = chosen[mapping.target]
        mapping.defaults[f.name] = converted
        if mapping.table != "codecarbon":  # the field comes from the value, not a column
            for c in mapping.columns:
                if c.field == f.name:
                    c.field, c.confidence = None, 0.0


def _counts(plans: list[ImportPlan]) -> dict[str, dict[str, int]]:
    """Per-table counts of ``plans``, as :class:`ImportResult` gives them."""
    counts: dict[str, dict[str, int]] = {}
    for plan in plans:
        c = counts.setdefault(plan.table, {"new": 0, "changed": 0, "unchanged": 0, "skipped": 0})
        c["new"] += plan.new
        c["changed"] += plan.changed
        c["unchanged"] += plan.unchanged
        c["skipped"] += plan.invalid
    return counts


def _named_option(problems: list[Problem]) -> list[Problem]:
    """``problems`` with the date-order question naming ``--date-order``."""
    return [
        dataclasses.replace(p, reason=p.reason.replace(_DATE_ORDER_ASK, _DATE_ORDER_OPTION))
        if _DATE_ORDER_ASK in p.reason
        else p
        for p in problems
    ]


def run_import(inv: Inventory, args: argparse.Namespace, out: TextIO) -> int:
    """The ``import`` command; returns the exit code (0, 1; read errors raise, except
    with ``--format json``, where they are a JSON document too and return 2)."""
    try:
        return _run_import(inv, args, out)
    except BrokenPipeError:  # output piped to head...: the caller stops quietly
        raise
    except (LedgerError, OSError) as exc:
        if args.format != "json":
            raise
        if isinstance(exc, OSError):
            message = f"{exc.filename or args.inventory}: {exc.strerror or exc}"
            code = EXIT_USAGE
        elif isinstance(exc, ImportReadError):
            message, code = str(exc), EXIT_USAGE
        else:
            message, code = f"{args.inventory}: {exc}", EXIT_INVALID
        print(f"ai-carbon-ledger: {message}", file=sys.stderr)
        _json_report(args, out, {}, [], [], False, None, error=message)
        return code


def _run_import(inv: Inventory, args: argparse.Namespace, out: TextIO) -> int:
    inputs = _plan_inputs(inv, args)
    pairs, notes, resolutions = inputs.pairs, inputs.notes, inputs.resolutions
    if not pairs:
        raise ImportReadError("None of the files has a sheet that could be imported.")
    problems: list[Problem] = []
    counts: dict[str, dict[str, int]] = {}
    total = 0
    import_id = None
    if args.dry_run:
        plans = plan_sheets(inv, pairs, resolutions=resolutions)
        counts = _counts(plans)
        problems = _named_option([p for plan in plans for p in plan.problems])
        total = sum(plan.problem_count for plan in plans)
        if args.errors and problems:
            write_errors(Path(args.errors), problems)
    else:
        plans = [
            ImportPlan(sheet, mapping, mapping.target, resolutions=dict(resolutions))
            for sheet, mapping in pairs
        ]
        try:
            # with --skip-invalid the commit writes the errors file with the import (never
            # rows skipped without it); a refused import's is written below
            result = commit_import(
                inv,
                plans,
                skip_invalid=args.skip_invalid,
                errors_path=args.errors if args.skip_invalid else None,
            )
        except ImportInvalidError as exc:
            if not exc.problems:
                raise
            counts, problems = _refused(inv, inputs, list(exc.problems))
            total = len(problems)
            if args.errors:
                write_errors(Path(args.errors), problems, "Nothing was imported.")
        else:
            counts, import_id = result.counts, result.import_id
            problems = _named_option(result.problems)
            total = len(problems)
    written = import_id is not None
    _report(args, out, counts, problems, notes, written, import_id, total)
    return EXIT_INVALID if problems else 0


def _refused(
    inv: Inventory, inputs: _Inputs, problems: list[Problem]
) -> tuple[dict[str, dict[str, int]], list[Problem]]:
    """Counts and problems of an import the commit refused, as a dry run gives them.

    The commit stops at the first sheet that cannot be imported at all (a required
    field without a column): planning every sheet gives the counts of all of them, and
    the problems of the sheets the commit did not reach."""
    plans = plan_sheets(inv, inputs.pairs, resolutions=inputs.resolutions)
    reached = {(p.file, p.sheet) for p in problems}
    more = [p for plan in plans for p in plan.problems if (p.file, p.sheet) not in reached]
    return _counts(plans), _named_option(problems + more)


def _json_report(
    args: argparse.Namespace,
    out: TextIO,
    counts: dict[str, dict[str, int]],
    problems: list[Problem],
    notes: list[str],
    written: bool,
    import_id: int | None,
    error: str | None = None,
) -> None:
    """The JSON summary: ``error`` is the message of an import that could not start
    (a file that cannot be read, a wrong option), else null."""
    json.dump(
        {
            "imported": written,
            "dry_run": bool(args.dry_run),
            "import_id": import_id,
            "counts": counts,
            "problems": [p.__dict__ for p in problems],
            "notes": notes,
            "error": error,
        },
        out,
        indent=2,
        ensure_ascii=False,
    )
    out.write("\n")


def _report(
    args: argparse.Namespace,
    out: TextIO,
    counts: dict[str, dict[str, int]],
    problems: list[Problem],
    notes: list[str],
    written: bool,
    import_id: int | None,
    total: int,
) -> None:
    """The summary; ``total``: problems found in all (``problems`` may keep fewer)."""
    if args.format == "json":
        _json_report(args, out, counts, problems, notes, written, import_id)
        return
    for note in notes:
        print(note, file=out)
    for p in problems[:SHOWN_PROBLEMS]:
        print(p.text(), file=out)
    shown = min(len(problems), SHOWN_PROBLEMS)
    if max(total, len(problems)) > shown:
        print(f"... and {max(total, len(problems)) - shown:,} more problems", file=out)
    if args.dry_run:
        head = "Dry run, nothing written"
    elif written:
        head = (
            f"Imported (import {import_id}; undo it with File > Import History in the app "
            f"or 'undo-import {args.inventory} {import_id}')"
        )
    else:
        head = "Nothing was imported (fix the rows above or use --skip-invalid)"
    print(head + ":", file=out)
    for table, c in counts.items():
        print(
            f"  {table}: {c['new']:,} new, {c['changed']:,} changed, "
            f"{c['unchanged']:,} unchanged, {c['skipped']:,} skipped",
            file=out,
        )
    if args.errors and problems:
        print(f"Problems written to {args.errors}", file=out)


def run_export(inv: Inventory, args: argparse.Namespace, out: TextIO) -> int:
    files = export_inventory(inv, args.out)
    for f in files:
        print(f"Wrote {f}", file=out)
    return 0
