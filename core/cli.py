"""The headless command line: ``python main.py COMMAND ...``.

Exit codes: 0 success; 1 invalid data; 2 usage error or a file that cannot be read.
Errors are one line on stderr naming the file and the problem.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import re
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from core import APP_NAME, INVENTORY_SUFFIX, __version__, schema
from core.errors import (
    ImportReadError,
    InventoryExistsError,
    InventoryOpenError,
    LedgerError,
    OutputWriteError,
    PeriodError,
    RecordNotFoundError,
    ValidationError,
)
from core.formatting import format_cell
from core.inventory import Inventory

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
#: the most Monte Carlo samples ``--samples`` accepts: 100,000 samples of a by-entry
#: estimate take about 0.4 GB already, and the percentiles of 1,000 move by about 1 %
MAX_SAMPLES = 100_000
COMMANDS = (
    "new",
    "demo",
    "list",
    "estimate",
    "explain",
    "settings",
    "import",
    "imports",
    "undo-import",
    "export",
    "report",
    "close",
    "reopen",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line plus usage, exit 2
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")

    def _get_values(self, action: argparse.Action, arg_strings: list[str]) -> Any:
        value = super()._get_values(action, arg_strings)
        # Python 3.11's argparse drops a "--" given as an argument's one value and hands
        # on an empty list, which neither the choices nor the type check (found by the
        # random fuzz run: "list INVENTORY -- --" ended in a TypeError)
        if action.nargs is None and isinstance(value, list):
            name = action.metavar or action.dest
            choices = f" (one of: {', '.join(map(str, action.choices))})" if action.choices else ""
            self.error(f"argument {name}: expected one value{choices}")
        return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ai-carbon-ledger",
        description=(
            f"{APP_NAME}: an inventory of your organisation's AI and its greenhouse-gas "
            "emissions. Without a command the desktop app opens (on INVENTORY if given, "
            f"else on your default inventory). Inventory files end in {INVENTORY_SUFFIX} "
            "and are ordinary SQLite databases."
        ),
        epilog="Exit codes: 0 success, 1 invalid data, 2 usage error or unreadable file.",
    )
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("new", help="create an empty inventory holding the shipped reference data")
    p.add_argument("inventory", metavar="INVENTORY", help="path of the file to create")

    p = sub.add_parser("demo", help="create a demo inventory with realistic example data")
    p.add_argument("inventory", metavar="INVENTORY", help="path of the file to create")

    p = sub.add_parser("list", help="print the records of one table")
    p.add_argument("inventory", metavar="INVENTORY", help="inventory file to read")
    p.add_argument("table", choices=list(schema.TABLES), help="which table")
    p.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default="table",
        help="output format (default: table)",
    )
    p.add_argument("--search", default="", help="only rows whose text columns contain this")

    period_help = "2026-Q3, 2026, 2026-05 or 2026-01-01..2026-03-31 (default: all time)"
    p = sub.add_parser("estimate", help="energy, emissions (location and market), water, range")
    p.add_argument("inventory", metavar="INVENTORY", help="inventory file to read")
    p.add_argument("--period", help=period_help)
    p.add_argument(
        "--by",
        choices=("entry", "model", "phase", "scope", "site", "quarter", "month"),
        default="entry",
        help="one row per ... (default: entry)",
    )
    p.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default="table",
        help="output format (default: table)",
    )
    p.add_argument(
        "--samples",
        type=int,
        default=1000,
        help=(
            f"Monte Carlo samples for the P5/P50/P95 range (default: 1000; 0: none; at "
            f"most {MAX_SAMPLES:,})"
        ),
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")

    p = sub.add_parser("settings", help="show or change the inventory's settings")
    p.add_argument("inventory", metavar="INVENTORY", help="inventory file")
    p.add_argument(
        "assignments",
        metavar="KEY=VALUE",
        nargs="*",
        help="e.g. embodied_convention=capital-goods (amortised is the default)",
    )

    p = sub.add_parser("explain", help="how one entry's figures were reached, with sources")
    p.add_argument("inventory", metavar="INVENTORY", help="inventory file to read")
    p.add_argument("entry", metavar="ENTRY_ID", help="training_runs:ID or deployments:ID")
    p.add_argument("--period", help=period_help)
    p.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )

    from core import report_commands

    report_commands.add_arguments(sub)

    from core import import_cli

    import_cli.add_parsers(sub)

    p = sub.add_parser("imports", help="list the recorded imports (file, SHA-256, counts, undone)")
    p.add_argument("inventory", metavar="INVENTORY", help="inventory file to read")
    p.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="output format (default: table)",
    )

    p = sub.add_parser("undo-import", help="take back one recorded import in one step")
    p.add_argument("inventory", metavar="INVENTORY", help="inventory file to change")
    p.add_argument(
        "import_id", metavar="IMPORT_ID", type=int, help="the import's id (see 'imports')"
    )
    return parser


def is_cli(argv: Sequence[str]) -> bool:
    """Whether ``argv`` asks for a headless command rather than the desktop app.

    A first word that is neither an option nor an existing file but looks like a
    command ("frobnicate") goes to the CLI too, so that a typo gets a usage error
    instead of an attempt to open a file of that name.
    """
    if not argv:
        return False
    first = argv[0]
    if first in COMMANDS or first.startswith("-"):
        return True
    return bool(re.fullmatch(r"[a-z][a-z_-]*", first)) and not Path(first).exists()


def main(
    argv: Sequence[str] | None = None,
    out: TextIO | None = None,
    pdf_writer: Callable[..., int] | None = None,
) -> int:
    """Run one command; returns the exit code.

    ``pdf_writer`` writes ``report --pdf`` (it needs Qt, so the composition root passes
    it in); without it ``--pdf`` is a usage error.
    """
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    out = out or sys.stdout
    if not args.command:
        build_parser().print_help(out)
        return EXIT_OK
    if problem := _bad_numbers(args):
        print(f"ai-carbon-ledger: {args.inventory}: {problem}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.command == "new":
            Inventory.create(args.inventory).close()
            print(f"Created {args.inventory}", file=out)
        elif args.command == "demo":
            from core.demo import build_demo

            inv = build_demo(args.inventory)
            counts = ", ".join(f"{inv.count(t):,} {t}" for t in schema.TABLES)
            inv.close()
            print(f"Created demo inventory {args.inventory}: {counts}", file=out)
        elif args.command == "list":
            with Inventory.open(args.inventory) as inv:
                _list(inv, args.table, args.format, args.search, out)
        elif args.command == "settings":
            with Inventory.open(args.inventory) as inv:
                _settings(inv, args.assignments, out)
        elif args.command in ("estimate", "explain"):
            from core import report_cli  # deferred: loads numpy and the reference data

            with Inventory.open(args.inventory) as inv:
                report_cli.run(inv, args, out)
        elif args.command in ("report", "close", "reopen"):
            from core import report_commands

            if getattr(args, "pdf", None) and pdf_writer is None:
                print(
                    f"ai-carbon-ledger: {args.pdf}: PDF output needs the desktop "
                    "components; run it as 'python main.py report ...'.",
                    file=sys.stderr,
                )
                return EXIT_USAGE
            with Inventory.open(args.inventory) as inv:
                report_commands.run(inv, args, out, pdf_writer)
        elif args.command == "imports":
            with Inventory.open(args.inventory) as inv:
                _imports(inv, args.format, out)
        elif args.command == "undo-import":
            with Inventory.open(args.inventory) as inv:
                _undo_import(inv, args.import_id, out)
        elif args.command in ("import", "export"):
            from core import import_cli

            with Inventory.open(args.inventory) as inv:
                run = import_cli.run_import if args.command == "import" else import_cli.run_export
                return run(inv, args, out)
    except ImportReadError as exc:  # a file to import that cannot be read
        print(f"ai-carbon-ledger: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (PeriodError, RecordNotFoundError) as exc:  # a wrong --period or ENTRY_ID
        print(f"ai-carbon-ledger: {args.inventory}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ValidationError as exc:
        print(f"ai-carbon-ledger: {args.inventory}: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except (InventoryOpenError, InventoryExistsError) as exc:
        print(f"ai-carbon-ledger: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OutputWriteError as exc:  # names the output file itself, not the inventory
        print(f"ai-carbon-ledger: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except LedgerError as exc:
        print(f"ai-carbon-ledger: {args.inventory}: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except sqlite3.DatabaseError as exc:  # damage found while reading, or a full disk
        print(f"ai-carbon-ledger: {_database_error(args.inventory, exc)}", file=sys.stderr)
        return EXIT_INVALID
    except BrokenPipeError:  # output piped to head, less...: stop quietly, as Unix tools do
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silences the final flush
        return EXIT_OK
    except OSError as exc:
        print(
            f"ai-carbon-ledger: {exc.filename or args.inventory}: {exc.strerror}", file=sys.stderr
        )
        return EXIT_USAGE
    return EXIT_OK


def _bad_numbers(args: argparse.Namespace) -> str | None:
    """What is wrong with ``--samples`` or ``--seed`` (commands that have them), if
    anything: a usage error, found before the inventory is opened."""
    samples, seed = getattr(args, "samples", None), getattr(args, "seed", None)
    if samples is not None and not 0 <= samples <= MAX_SAMPLES:
        return f"--samples must be between 0 and {MAX_SAMPLES:,} (it is {samples:,})."
    if seed is not None and seed < 0:
        return f"--seed must be 0 or a positive whole number (it is {seed:,})."
    return None


def _database_error(path: str, exc: sqlite3.DatabaseError) -> str:
    """One sentence for an SQLite error that escaped a command (``core.errors``)."""
    from core.errors import database_error_message

    return database_error_message(path, exc)


def _settings(inv: Inventory, assignments: list[str], out: TextIO) -> None:
    """Show the settings, after setting ``assignments`` (KEY=VALUE): every one is checked
    before any is written, and they are written in one transaction, so a bad one leaves
    the inventory as it was."""
    from core.commands import SETTINGS, SetSetting

    changes = []
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        if not sep:
            raise ValidationError(f"'{assignment}' is not KEY=VALUE.")
        change = SetSetting(key.strip(), value.strip())
        change.check()
        changes.append(change)
    if changes:
        with inv.transaction():
            for change in changes:
                change.apply(inv)
    for key, allowed in SETTINGS.items():
        print(f"{key} = {inv.meta(key, allowed[0])}  (one of: {', '.join(allowed)})", file=out)


def _imports(inv: Inventory, fmt: str, out: TextIO) -> None:
    """The ``imports`` command: every recorded import, oldest first."""
    from core.importing.history import COUNT_KEYS, list_imports, when_text

    records = list_imports(inv)
    if fmt == "json":
        json.dump([r.to_json() for r in records], out, indent=2, ensure_ascii=False)
        out.write("\n")
        return
    headers = ["id", "time", "file", "sheet", "SHA-256", *COUNT_KEYS, "state"]
    numeric = [True, False, False, False, False, *(True for _ in COUNT_KEYS), False]
    rows = [
        [
            str(r.id),
            when_text(r.at),
            r.file_name,
            r.sheet,
            "; ".join(h[:12] for h in r.sha256.split("; ")),
            *(f"{r.totals[k]:,}" for k in COUNT_KEYS),
            f"undone {when_text(r.undone_at)}" if r.undone else "imported",
        ]
        for r in records
    ]
    _print_aligned(headers, rows, numeric, out)
    undone = sum(r.undone for r in records)
    noun = "import" if len(records) == 1 else "imports"
    print(f"({len(records):,} {noun}, {undone:,} undone)", file=out)


def _undo_import(inv: Inventory, import_id: int, out: TextIO) -> None:
    """The ``undo-import`` command: one transaction, refused (LedgerError) with what
    blocks it; an unknown id is a RecordNotFoundError."""
    from core.importing.commit import undo_import
    from core.importing.history import get_import

    record = get_import(inv, import_id)  # unknown: exit 2, before anything is locked
    snapshot = undo_import(inv, import_id)
    removed = [schema.table(t).count_text(len(rows)) for t, rows in snapshot.inserted if rows]
    restored: dict[str, int] = {}
    for table, _rid, old, _new in snapshot.updated:
        if old:
            restored[table] = restored.get(table, 0) + 1
    parts = []
    if removed:
        parts.append(f"removed {', '.join(removed)}")
    if restored:
        counts = ", ".join(schema.table(t).count_text(n) for t, n in restored.items())
        parts.append(f"put back the old values of {counts}")
    done = "; ".join(parts) or "it had written nothing"
    print(f"Undid import {import_id} ({record.file_name}): {done}.", file=out)


def _records(inv: Inventory, table: str, search: str) -> Iterator[dict[str, Any]]:
    """Records in id order (or search order) as stored values plus reference titles."""
    spec = schema.table(table)
    ids = inv.ordered_ids(table, search=search)
    for start in range(0, len(ids), 1000):
        chunk = [int(i) for i in ids[start : start + 1000]]
        titles = inv.display_rows(table, chunk)
        shown = inv.display_fields(table)
        for rec in inv.get_many(table, chunk):
            row = {"id": rec["id"]}
            for f in spec.fields:
                row[f.name] = rec[f.name]
                if f.kind == "ref":
                    row[f.name.removesuffix("_id")] = titles[rec["id"]][shown.index(f)]
            yield row


def _list(inv: Inventory, table: str, fmt: str, search: str, out: TextIO) -> None:
    spec = schema.table(table)
    records = _records(inv, table, search)
    if fmt == "json":
        out.write("[")
        for i, rec in enumerate(records):
            out.write(("," if i else "") + "\n  " + json.dumps(rec, ensure_ascii=False))
        out.write("\n]\n")
        return
    columns = ["id"]
    for f in spec.fields:
        columns.append(f.name.removesuffix("_id") if f.kind == "ref" else f.name)
    if fmt == "csv":
        from core.importing.plan import escape_text  # text a spreadsheet would run

        writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180: a lone CR is quoted
        writer.writerow(columns)
        for rec in records:
            cells = ("" if rec[c] is None else rec[c] for c in columns)
            writer.writerow([escape_text(v) if isinstance(v, str) else v for v in cells])
        return
    _print_table(spec, records, out)


def _print_table(spec: schema.TableSpec, records: Iterator[dict[str, Any]], out: TextIO) -> None:
    """Aligned text columns; headers carry units, numbers are right-aligned."""
    fields = [f for f in spec.fields if f.in_table]
    headers = ["id", *(f.header for f in fields)]
    keys = ["id", *(f.name.removesuffix("_id") if f.kind == "ref" else f.name for f in fields)]
    numeric = [True, *(f.is_number for f in fields)]
    rows: list[list[str]] = []
    for rec in records:
        cells = [str(rec["id"])]
        for f, k in zip(fields, keys[1:], strict=True):
            cells.append(format_cell(f, rec[k]))
        rows.append(cells)
    _print_aligned(headers, rows, numeric, out)
    print(f"({spec.count_text(len(rows))})", file=out)


#: control characters (C0, DEL, C1) in a cell: a name holding a terminal escape sequence
#: would otherwise drive the user's terminal (colours, titles, cursor moves)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _visible(text: str) -> str:
    """``text`` with control characters written as escapes (``\\x1b``)."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _print_aligned(
    headers: Sequence[str], rows: list[list[str]], numeric: Sequence[bool], out: TextIO
) -> None:
    """Aligned columns: numbers right, text left, a rule under the headers; control
    characters shown as escapes."""
    rows = [[_visible(c) for c in r] for r in rows]
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if num else c.ljust(w)
            for c, w, num in zip(cells, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    print(line(headers), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for r in rows:
        print(line(r), file=out)
