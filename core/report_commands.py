"""The ``report``, ``close`` and ``reopen`` commands of the headless CLI.

``report`` builds the report (``core.report``) and writes an XLSX workbook itself; a PDF
needs Qt, which ``core`` never imports, so the caller passes a ``pdf_writer`` (``main.py``
hands in ``ui.report_render.write_pdf_headless``). Without ``--pdf`` or ``--xlsx`` the
summary and tables are printed as text.
"""

from __future__ import annotations

import argparse
import locale
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from core.errors import ValidationError
from core.periods import Period, parse_period

if TYPE_CHECKING:  # the report modules load numpy: imported when a command runs
    from core.inventory import Inventory
    from core.report_model import Report, Table

#: writes a report as PDF: (report, path, paper "a4"|"letter") -> number of pages
PdfWriter = Callable[[Any, str, str], int]
LETTER_COUNTRIES = ("US", "CA", "MX", "PH", "CL", "CO")


def default_paper(locale_name: str | None = None) -> str:
    """``letter`` where the locale's country uses US Letter (``en_US``...), else ``a4``."""
    if locale_name is None:
        locale_name = (
            os.environ.get("LC_PAPER")
            or os.environ.get("LC_ALL")
            or os.environ.get("LANG")
            or (locale.getlocale()[0] or "")
        )
    country = locale_name.split(".")[0].partition("_")[2].upper()
    return "letter" if country in LETTER_COUNTRIES else "a4"


def add_arguments(sub: argparse._SubParsersAction) -> None:
    """Register ``report``, ``close`` and ``reopen`` on the CLI's sub-parsers."""
    period_help = "the quarter, e.g. 2026-Q3"
    p = sub.add_parser("report", help="the quarterly report: PDF, XLSX or text")
    p.add_argument("inventory", metavar="INVENTORY", help="inventory file to read")
    when = p.add_mutually_exclusive_group(required=True)
    when.add_argument("--quarter", help=period_help)
    when.add_argument("--period", help="a year (2026) or range (2026-01-01..2026-06-30)")
    p.add_argument("--pdf", metavar="OUT.pdf", help="write the report as PDF")
    p.add_argument("--xlsx", metavar="OUT.xlsx", help="write the report's tables as XLSX")
    p.add_argument("--org", default="", help="organisation name on the cover")
    p.add_argument("--preparer", default="", help="who prepared it (default: your user name)")
    p.add_argument("--paper", choices=("a4", "letter"), help="paper size (default: by locale)")
    p.add_argument(
        "--filter", default="", help="only entries whose name, model or site contains this"
    )
    p.add_argument("--samples", type=int, default=1000, help="Monte Carlo samples (default: 1000)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")

    p = sub.add_parser("close", help="close a reported quarter: keep its figures as reported")
    p.add_argument("inventory", metavar="INVENTORY", help="inventory file")
    p.add_argument("--quarter", required=True, help=period_help)
    p.add_argument("--org", default="", help="organisation name kept with the report")
    p.add_argument("--preparer", default="", help="who prepared it (default: your user name)")

    p = sub.add_parser("reopen", help="reopen a closed quarter (deliberate, logged)")
    p.add_argument("inventory", metavar="INVENTORY", help="inventory file")
    p.add_argument("--quarter", required=True, help=period_help)
    p.add_argument("--reason", required=True, help="why it is reopened (kept in the change log)")


def _period(args: argparse.Namespace) -> Period:
    text = args.quarter or getattr(args, "period", None)
    return parse_period(text)


def run(
    inv: Inventory, args: argparse.Namespace, out: TextIO, pdf_writer: PdfWriter | None = None
) -> None:
    from core import closing
    from core.report import ReportOptions, build_for_closing, build_report
    from core.report_model import format_number

    period = _period(args)
    if args.command == "reopen":
        closing.reopen_period(inv, period, args.reason)
        print(f"Reopened {period.label} ({args.reason}); logged in the change log.", file=out)
        return
    options = ReportOptions(period, args.org, args.preparer)
    if args.command == "close":
        report, factors = build_for_closing(inv, options)
        closing.close_period(inv, period, report, factors)
        t = report.totals
        print(
            f"Closed {period.label}: {format_number(t['market_kgco2e'])} kgCO2e market-based, "
            f"{format_number(t['location_kgco2e'])} kgCO2e location-based, "
            f"{format_number(t['energy_kwh'])} kWh. The figures, {len(factors)} factors and "
            f"the report are kept in {inv.path.name}.",
            file=out,
        )
        return
    if args.samples < 0:
        raise ValidationError("--samples must be 0 or more.")
    options.filter_text, options.samples, options.seed = args.filter, args.samples, args.seed
    report = build_report(inv, options)
    if args.xlsx:
        from core.report_xlsx import write_xlsx

        sheets = write_xlsx(report, args.xlsx)
        print(f"Wrote {args.xlsx} ({len(sheets)} sheets)", file=out)
    if args.pdf and pdf_writer is not None:
        pages = pdf_writer(report, args.pdf, args.paper or default_paper())
        print(f"Wrote {args.pdf} ({pages} pages)", file=out)
    if not args.pdf and not args.xlsx:
        print_text(report, out)


def print_text(report: Report, out: TextIO) -> None:
    """The report's summary and tables as plain text."""
    from core.report_model import KeyFigure, Paragraph, Table

    m = report.meta
    print(f"{m.get('title', '')} {m.get('period', '')} ({m.get('period_dates', '')})", file=out)
    for key in ("organisation", "scope", "status", "snapshot", "generated"):
        if m.get(key):
            print(f"{key.capitalize()}: {m[key]}", file=out)
    for section in report.sections:
        if section.key in ("charts", "signoff", "methodology"):
            continue
        print(f"\n== {section.title} ==", file=out)
        for block in section.blocks:
            if isinstance(block, KeyFigure):
                print(
                    f"{block.label}: {block.text if block.value is not None else ''} "
                    f"{block.detail}".rstrip(),
                    file=out,
                )
            elif isinstance(block, Table):
                _print_table(block, out)
            elif isinstance(block, Paragraph) and block.style in ("body", "bullet", "heading"):
                print(("- " if block.style == "bullet" else "") + block.text, file=out)


def _print_table(table: Table, out: TextIO) -> None:
    rows = [table.formatted(r) for r in table.rows]
    if table.total is not None:
        rows.append(table.formatted(table.total))
    headers = [c.title for c in table.columns]
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if col.numeric else c.ljust(w)
            for c, w, col in zip(cells, widths, table.columns, strict=True)
        ).rstrip()

    print(f"\n{table.title}", file=out)
    print(line(headers), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for r in rows:
        print(line(r), file=out)
