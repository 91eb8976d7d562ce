"""The report's tables as an Excel workbook (xlsxwriter).

A "Report" sheet with the cover's lines and the period's totals, then one sheet per
table, each with its header (units in the column titles), its rows and its total.
Numbers are written as numbers (kWh, kgCO2e, L as the engine gave them; shares as
fractions formatted in per cent), never as formatted text, so they can be summed.
Text is always written as text, and text starting with = + - @ or a tab or CR gets a
leading ' (as in the inventory's exports, ``core.importing.convert.escape_text``) so that
a spreadsheet program shows a name like ``=HYPERLINK(...)`` instead of running it.
"""

from __future__ import annotations

import io
import os
import re
from typing import Any

from core.errors import LedgerError
from core.importing.convert import escape_text
from core.output_file import check_folder, write_failed, write_file
from core.report_model import Report, Table

WHAT = "the report workbook"
#: built in memory (no temporary files of xlsxwriter's own); text is never a formula
_OPTIONS = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}

_TOTALS = (
    ("energy_kwh", "Energy (kWh)"),
    ("location_kgco2e", "Location-based emissions (kgCO2e)"),
    ("market_kgco2e", "Market-based emissions (kgCO2e)"),
    ("savings_kgco2e", "Savings from renewable sourcing (kgCO2e)"),
    ("water_l", "Water (L)"),
    ("renewable_kwh", "Renewable electricity: energy covered by renewable instruments (kWh)"),
    ("low_kgco2e", "P5 of location-based (kgCO2e)"),
    ("high_kgco2e", "P95 of location-based (kgCO2e)"),
)


def sheet_name(title: str, taken: set[str]) -> str:
    """A valid, unique worksheet name (at most 31 characters, no ``[]:*?/\\``)."""
    base = re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:31] or "Sheet"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    taken.add(name.lower())
    return name


def write_xlsx(report: Report, path: str | os.PathLike[str]) -> list[str]:
    """Write the workbook at ``path``; returns the sheet names.

    The workbook is built in memory and written through a synced temporary file beside
    ``path`` (``core.output_file``), so it is whole or not there; a full disk, a
    read-only or missing folder raise :class:`LedgerError` naming the file and the
    reason (xlsxwriter's own ``FileCreateError`` is not an ``OSError``)."""
    import xlsxwriter
    from xlsxwriter.exceptions import XlsxWriterException

    check_folder(path, WHAT)
    buffer = io.BytesIO()
    try:
        names = _workbook(report, xlsxwriter.Workbook(buffer, _OPTIONS))
    except XlsxWriterException as exc:  # a write failure wraps the OSError
        cause = exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else None
        if cause is not None:
            raise write_failed(path, cause, WHAT) from exc
        raise LedgerError(f"Cannot write {WHAT} {path}: {exc}. No file was written.") from exc
    write_file(path, buffer.getbuffer(), WHAT)
    return names


def _workbook(report: Report, book: Any) -> list[str]:
    """Fill and close ``book``; returns the sheet names."""
    taken: set[str] = set()
    names: list[str] = []
    bold = book.add_format({"bold": True})
    head = book.add_format(
        {"bold": True, "bg_color": "#E6EBF0", "text_wrap": True, "valign": "bottom"}
    )
    head_num = book.add_format(
        {
            "bold": True,
            "bg_color": "#E6EBF0",
            "text_wrap": True,
            "align": "right",
            "valign": "bottom",
        }
    )
    number = book.add_format({"num_format": "#,##0.00"})
    number_bold = book.add_format({"num_format": "#,##0.00", "bold": True, "top": 1})
    percent = book.add_format({"num_format": "0.0%"})
    percent_bold = book.add_format({"num_format": "0.0%", "bold": True, "top": 1})
    integer = book.add_format({"num_format": "#,##0"})
    total_text = book.add_format({"bold": True, "top": 1})

    ws = book.add_worksheet(sheet_name("Report", taken))
    names.append(ws.name)
    ws.set_column(0, 0, 42)
    ws.set_column(1, 1, 60)
    row = 0
    for key, value in report.meta.items():
        if key == "header_status":  # the running header's short form of the status
            continue
        ws.write_string(row, 0, key.replace("_", " ").capitalize(), bold)
        ws.write_string(row, 1, escape_text(str(value)))
        row += 1
    row += 1
    ws.write_string(row, 0, "Totals for the period", bold)
    row += 1
    for key, label in _TOTALS:
        if key in report.totals:
            ws.write_string(row, 0, label)
            ws.write_number(row, 1, float(report.totals[key]), number)
            row += 1
    energy = float(report.totals.get("energy_kwh", 0.0) or 0.0)
    if "renewable_kwh" in report.totals and energy > 0:
        ws.write_string(row, 0, "Renewable share of energy (renewable kWh / energy kWh)")
        ws.write_number(row, 1, float(report.totals["renewable_kwh"]) / energy, percent)
        row += 1

    for table in report.tables():
        ws = book.add_worksheet(sheet_name(table.title, taken))
        names.append(ws.name)
        _table_sheet(
            ws,
            table,
            head,
            head_num,
            number,
            number_bold,
            percent,
            percent_bold,
            integer,
            total_text,
        )
    book.close()
    return names


def _table_sheet(
    ws,
    table: Table,
    head,
    head_num,
    number,
    number_bold,
    percent,
    percent_bold,
    integer,
    total_text,
) -> None:
    ws.write_string(0, 0, escape_text(table.title), total_text)
    for c, col in enumerate(table.columns):
        ws.write_string(1, c, escape_text(col.title), head_num if col.numeric else head)
        ws.set_column(c, c, 12 if col.numeric else max(14, int(col.width * 16)))
    ws.freeze_panes(2, 0)
    rows = [(r, False) for r in table.rows]
    if table.total is not None:
        rows.append((table.total, True))
    for i, (values, is_total) in enumerate(rows, start=2):
        for c, (col, v) in enumerate(zip(table.columns, values, strict=True)):
            if v is None or v == "":
                if is_total:
                    ws.write_blank(i, c, None, total_text)
                continue
            if col.kind == "text":
                ws.write_string(i, c, escape_text(str(v)), total_text if is_total else None)
            elif col.kind in ("percent", "change"):
                ws.write_number(i, c, float(v), percent_bold if is_total else percent)
            elif col.kind == "int":
                ws.write_number(i, c, float(v), integer)
            else:
                ws.write_number(i, c, float(v), number_bold if is_total else number)
    if table.note:
        ws.write_string(len(rows) + 3, 0, escape_text(table.note))
