"""The ``import`` and ``export`` commands.

``import INVENTORY FILE [FILE ...]``: every file is read and every sheet mapped (by
proposal, ``--kind``, or a ``--mapping`` preset or JSON file), then all sheets are
committed in one transaction. Exit 0 when everything was imported; 1 when rows are
invalid (nothing written unless ``--skip-invalid``; problems listed with file, row,
column and reason); 2 when a file cannot be read.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TextIO

from core.errors import ImportInvalidError, ImportReadError, LedgerError
from core.importing import (
    ImportPlan,
    SheetInfo,
    SheetMapping,
    commit_import,
    export_inventory,
    open_source,
    plan_import,
    propose_mapping,
    propose_table,
)
from core.importing.commit import write_errors
from core.importing.exporting import EXPORT_ORDER
from core.importing.mapping import IMPORT_TABLES
from core.importing.plan import Problem
from core.importing.presets import apply_preset, load_preset, read_mapping_file
from core.inventory import Inventory

KINDS = ("auto", *IMPORT_TABLES, "codecarbon")
#: problems printed in text output before "... and N more"
SHOWN_PROBLEMS = 50


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


def _mappings(inv: Inventory, spec: str | None) -> list[SheetMapping] | None:
    if not spec:
        return None
    if Path(spec).is_file():
        return read_mapping_file(Path(spec))
    return load_preset(inv, spec)


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


def _plan_inputs(
    inv: Inventory, args: argparse.Namespace
) -> tuple[list[tuple[SheetInfo, SheetMapping]], list[str]]:
    """``(sheet, mapping)`` pairs in dependency order, and notes on sheets left out."""
    presets = _mappings(inv, args.mapping)
    pairs: list[tuple[SheetInfo, SheetMapping]] = []
    notes: list[str] = []
    for sheet in _sheets(args):
        where = sheet.label
        if presets is not None:
            mapping = apply_preset(sheet, presets)
            if mapping is None:
                raise LedgerError(
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
    order = {t: i for i, t in enumerate(EXPORT_ORDER)}
    pairs.sort(key=lambda p: order.get(p[1].target, len(order)))
    return pairs, notes


def run_import(inv: Inventory, args: argparse.Namespace, out: TextIO) -> int:
    """The ``import`` command; returns the exit code (0, 1; read errors raise)."""
    pairs, notes = _plan_inputs(inv, args)
    if not pairs:
        raise ImportReadError("None of the files has a sheet that could be imported.")
    problems: list[Problem] = []
    counts: dict[str, dict[str, int]] = {}
    import_id = None
    if args.dry_run:
        for sheet, mapping in pairs:
            plan = plan_import(inv, sheet, mapping)
            c = counts.setdefault(
                plan.table, {"new": 0, "changed": 0, "unchanged": 0, "skipped": 0}
            )
            c["new"] += plan.new
            c["changed"] += plan.changed
            c["unchanged"] += plan.unchanged
            c["skipped"] += plan.invalid
            problems.extend(plan.problems)
        if args.errors and problems:
            write_errors(Path(args.errors), problems)
    else:
        plans = [ImportPlan(sheet, mapping, mapping.target) for sheet, mapping in pairs]
        try:
            result = commit_import(
                inv, plans, skip_invalid=args.skip_invalid, errors_path=args.errors
            )
        except ImportInvalidError as exc:
            problems = list(exc.problems)
            if not problems:
                raise
        else:
            counts, problems, import_id = result.counts, result.problems, result.import_id
    written = import_id is not None
    _report(args, out, counts, problems, notes, written, import_id)
    return 1 if problems else 0


def _report(
    args: argparse.Namespace,
    out: TextIO,
    counts: dict[str, dict[str, int]],
    problems: list[Problem],
    notes: list[str],
    written: bool,
    import_id: int | None,
) -> None:
    if args.format == "json":
        json.dump(
            {
                "imported": written,
                "dry_run": bool(args.dry_run),
                "import_id": import_id,
                "counts": counts,
                "problems": [p.__dict__ for p in problems],
                "notes": notes,
            },
            out,
            indent=2,
            ensure_ascii=False,
        )
        out.write("\n")
        return
    for note in notes:
        print(note, file=out)
    for p in problems[:SHOWN_PROBLEMS]:
        print(p.text(), file=out)
    if len(problems) > SHOWN_PROBLEMS:
        print(f"... and {len(problems) - SHOWN_PROBLEMS:,} more problems", file=out)
    if args.dry_run:
        head = "Dry run, nothing written"
    elif written:
        head = f"Imported (import {import_id}, undo it in the app)"
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
