"""Exporting the inventory to XLSX (one sheet per table), CSV (one file per table) or
JSON, and writing the import template.

Exports re-import to an identical inventory: headers are the fields' own headers with
units ("TDP (W)"), references are written as the referenced record's name (a model as
"name version"), numbers keep every bit (XLSX cells carry 17 significant digits where
needed, CSV and JSON use Python's shortest exact form), dates are date cells in XLSX and
ISO text elsewhere. Text starting with = + - @ is prefixed with ' so that spreadsheet
programs show it instead of running it (the importer takes the ' off again).

The export also holds the engine's estimates (``core.estimate``), for reading only: one
row per entry and part (an entry's operational and embodied parts) for all time and then
for each quarter with activity, with energy (kWh), location- and market-based emissions
and savings (kgCO2e), water (L) and the P5/P95 of the location-based figure from
:data:`ESTIMATE_SAMPLES` Monte Carlo draws with seed :data:`ESTIMATE_SEED` (what
``estimate --period ...`` prints by default). XLSX gets them as a last sheet
"Estimates", CSV as ``<stem>-estimates.csv``, JSON under ``"estimates"``. The importer
recognises neither the sheet nor the file as a table, so the round trip is unchanged.

Every file is written whole or not at all through :mod:`core.output_file` (a synced
temporary file beside it, renamed into place) and gets the permissions the user's umask
gives any new file.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import io
import json
import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

from core import schema
from core.errors import ImportCancelled, LedgerError
from core.importing.plan import escape_text
from core.output_file import OutputFile, check_folder, write_file

if TYPE_CHECKING:
    from core.estimate import Engine, Estimate, EstimateRow
    from core.inventory import Inventory

Progress = Callable[[int, int | None], None]
Cancel = Callable[[], bool]

#: export (and re-import) order: referenced tables before the tables pointing at them
EXPORT_ORDER: tuple[str, ...] = (
    "sites",
    "hardware",
    "models",
    "training_runs",
    "deployments",
    "usage",
    "sourcing",
    "factor_overrides",
)
JSON_FORMAT = "ai-carbon-ledger-export"
MAX_WIDTH = 60
#: the sheet (XLSX), file suffix (CSV: ``<stem>-estimates.csv``) and key (JSON) of the
#: estimates; no table is called so, and the importer proposes no table for them
ESTIMATES = "estimates"
ESTIMATES_SHEET = "Estimates"
#: Monte Carlo draws and seed of the P5/P95 columns: the ``estimate`` command's defaults
#: (about 4 s for the all-time rows of a million usage rows, 0.5 s per quarter)
ESTIMATE_SAMPLES = 1000
ESTIMATE_SEED = 0
#: the period column of the all-time rows
ALL_TIME = "All time"
#: XLSX and CSV columns of the estimates: (EstimateRow field or "period", header)
ESTIMATE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("period", "Period"),
    ("id", "Entry ID"),
    ("name", "Entry"),
    ("kind", "Phase"),
    ("part", "Part"),
    ("scope", "Scope"),
    ("method_tier", "Method tier"),
    ("energy_kwh", "Energy (kWh)"),
    ("location_kgco2e", "Location-based (kgCO2e)"),
    ("market_kgco2e", "Market-based (kgCO2e)"),
    ("savings_kgco2e", "Savings (kgCO2e)"),
    ("water_l", "Water (L)"),
    ("low_kgco2e", "P5 (kgCO2e)"),
    ("high_kgco2e", "P95 (kgCO2e)"),
)


def _records(inv: Inventory, table: str) -> Iterator[list[Any]]:
    """Rows of ``table`` in id order as export values (references as titles)."""
    spec = schema.table(table)
    cols, joins = [], []
    for f in spec.fields:
        if f.kind == "ref" and f.ref:
            alias = f"r_{f.name}"
            cols.append(schema.table(f.ref).title_sql.format(t=alias))
            joins.append(f"LEFT JOIN {f.ref} {alias} ON {alias}.id = t.{f.name}")
        else:
            cols.append(f"t.{f.name}")
    sql = f"SELECT {', '.join(cols)} FROM {table} t {' '.join(joins)} ORDER BY t.id"
    for row in inv.conn.execute(sql):
        yield list(row)


def _tables(inv: Inventory) -> list[str]:
    return [t for t in EXPORT_ORDER if t in schema.TABLES]


class _Estimates:
    """The engine's estimates of the inventory for all time and each quarter.

    The quarters' estimates are computed again as they are written (one at a time:
    a million usage rows give some 400,000 quarter rows, too many to hold as objects);
    :attr:`size` counts all rows up front (without Monte Carlo) for the progress.
    """

    def __init__(self, inv: Inventory, cancel: Cancel | None) -> None:
        from core.estimate import Engine

        self.cancel = cancel
        self.engine: Engine = Engine(inv)
        self.as_of = self.engine.today
        self.convention = self.engine.convention
        self.quarters = [r.id for r in self.engine.estimate(None, by="quarter", samples=0).rows]
        self.all_time = self._estimate(None)
        self.size = len(self.all_time.rows)
        for quarter in self.quarters:
            self._check()
            self.size += len(self.engine.estimate(quarter, by="entry", samples=0).rows)

    def _check(self) -> None:
        if self.cancel and self.cancel():
            raise ImportCancelled("The export was cancelled; no file was written.")

    def _estimate(self, period: str | None) -> Estimate:
        return self.engine.estimate(
            period, by="entry", samples=ESTIMATE_SAMPLES, seed=ESTIMATE_SEED
        )

    def periods(self) -> Iterator[Estimate]:
        """All time, then each quarter in date order."""
        yield self.all_time
        for quarter in self.quarters:
            self._check()
            yield self._estimate(quarter)

    def rows(self) -> Iterator[tuple[str, EstimateRow]]:
        """``(period label, row)``: :data:`ALL_TIME` or a quarter such as ``2026-Q3``."""
        for est in self.periods():
            label = ALL_TIME if est.period is None else est.period.label
            for row in est.rows:
                yield label, row


def _estimate_cells(period: str, row: EstimateRow) -> list[Any]:
    """The :data:`ESTIMATE_COLUMNS` of one row."""
    return [period if name == "period" else getattr(row, name) for name, _ in ESTIMATE_COLUMNS]


def export_inventory(
    inv: Inventory,
    out_path: str | os.PathLike[str],
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> list[Path]:
    """Write the inventory to ``out_path``: ``.xlsx``, ``.csv`` or ``.json`` by suffix.

    A CSV export writes one file per non-empty table beside ``out_path``, named
    ``<stem>-<table>.csv`` (a CSV file holds one table), and the estimates (when there are
    any) as ``<stem>-estimates.csv``; XLSX and JSON hold them too (module docstring).
    Files are written to a temporary name and renamed, so a cancelled or failed export
    leaves nothing half-written. Returns the files written.
    """
    out = Path(out_path)
    suffix = out.suffix.lower()
    if suffix not in (".xlsx", ".csv", ".json"):
        raise LedgerError(f"{out.name}: export to .xlsx, .csv or .json.")
    check_folder(out, EXPORT)
    estimates = _Estimates(inv, cancel)
    total = sum(inv.count(t) for t in _tables(inv)) + estimates.size
    state = {"done": 0}

    def tick() -> None:
        state["done"] += 1
        if state["done"] % 5000 == 0:
            if cancel and cancel():
                raise ImportCancelled("The export was cancelled; no file was written.")
            if progress:
                progress(state["done"], total)

    if suffix == ".xlsx":
        written = [write_file(out, lambda fh: _write_xlsx(inv, estimates, fh, tick), EXPORT)]
    elif suffix == ".json":
        written = [write_file(out, lambda fh: _write_json(inv, estimates, fh, tick), EXPORT)]
    else:
        written = []
        staged: list[OutputFile] = []
        try:
            for table in _tables(inv):
                if not inv.count(table):
                    continue  # a header-only file would import as nothing
                staged.append(OutputFile(out.with_name(f"{out.stem}-{table}.csv"), EXPORT))
                staged[-1].stage(lambda fh, table=table: _write_csv(inv, table, fh, tick))
            if estimates.size:
                name = out.with_name(f"{out.stem}-{ESTIMATES}.csv")
                staged.append(OutputFile(name, EXPORT))
                staged[-1].stage(lambda fh: _write_estimates_csv(estimates, fh, tick))
            for part in staged:  # every table written: only now do the files appear
                written.append(part.commit())
        finally:
            for part in staged:
                part.discard()  # the ones not committed (a failure or a cancel)
    if progress:
        progress(state["done"], total)
    return written


#: what an export's files are called in messages
EXPORT = "the export"


@contextlib.contextmanager
def _text(fh: BinaryIO, encoding: str, newline: str | None = None) -> Iterator[TextIO]:
    """``fh`` written as text; it stays open for :class:`OutputFile` to sync and close."""
    text = io.TextIOWrapper(fh, encoding=encoding, newline=newline)
    try:
        yield text
    except BaseException:
        with contextlib.suppress(Exception):
            text.detach()
        raise
    text.detach()  # flushes what is buffered (a full disk shows here, as an OSError)


def _text_cell(value: Any) -> Any:
    return escape_text(value) if isinstance(value, str) else value


def _write_csv(inv: Inventory, table: str, out: BinaryIO, tick: Callable[[], None]) -> None:
    spec = schema.table(table)
    with _text(out, "utf-8-sig", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow([f.header for f in spec.fields])
        for row in _records(inv, table):
            tick()
            w.writerow(
                [
                    "" if v is None else (repr(v) if isinstance(v, float) else _text_cell(v))
                    for v in row
                ]
            )


def _write_estimates_csv(estimates: _Estimates, out: BinaryIO, tick: Callable[[], None]) -> None:
    with _text(out, "utf-8-sig", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow([header for _, header in ESTIMATE_COLUMNS])
        for period, row in estimates.rows():
            tick()
            w.writerow(
                [
                    repr(v) if isinstance(v, float) else _text_cell(v)
                    for v in _estimate_cells(period, row)
                ]
            )


def _write_json(
    inv: Inventory, estimates: _Estimates, out: BinaryIO, tick: Callable[[], None]
) -> None:
    with _text(out, "utf-8") as fh:
        fh.write(f'{{"format": "{JSON_FORMAT}", "version": 1, "tables": {{')
        for i, table in enumerate(_tables(inv)):
            spec = schema.table(table)
            fh.write(("," if i else "") + f"\n  {json.dumps(table)}: [")
            for j, row in enumerate(_records(inv, table)):
                tick()
                rec = {f.header: v for f, v in zip(spec.fields, row, strict=True)}
                fh.write(("," if j else "") + "\n    " + json.dumps(rec, ensure_ascii=False))
            fh.write("\n  ]")
        fh.write("\n  },\n")
        _write_json_estimates(estimates, fh, tick)
        fh.write("}\n")


def _write_json_estimates(estimates: _Estimates, fh: TextIO, tick: Callable[[], None]) -> None:
    """``"estimates": {"as_of", "embodied_convention", "samples", "seed", "periods"}``:
    ``periods`` holds the ``estimate --format json`` document of all time (``"period":
    null``), then of each quarter, rows written one at a time."""
    head = {
        "as_of": estimates.as_of.isoformat(),
        "embodied_convention": estimates.convention,
        "samples": ESTIMATE_SAMPLES,
        "seed": ESTIMATE_SEED,
    }
    fh.write(f'  "{ESTIMATES}": {json.dumps(head, ensure_ascii=False)[:-1]}, "periods": [')
    from core.estimate import EstimateRow

    names = [f.name for f in dataclasses.fields(EstimateRow)]
    for i, est in enumerate(estimates.periods()):
        doc = dataclasses.replace(est, rows=[]).to_json()
        del doc["rows"]
        text = json.dumps(doc, ensure_ascii=False)
        fh.write(("," if i else "") + "\n    " + text[:-1] + ', "rows": [')
        for j, row in enumerate(est.rows):
            tick()
            rec = {n: getattr(row, n) for n in names}
            fh.write(("," if j else "") + "\n      " + json.dumps(rec, ensure_ascii=False))
        fh.write("]}")
    fh.write("\n  ]}\n")


def _exact_worksheet_class() -> type:
    """An xlsxwriter worksheet writing numbers with every significant digit.

    xlsxwriter writes ``%.16G``, which rounds some doubles (0.1 + 0.2); Excel and
    calamine read 17 digits back exactly.
    """
    from xlsxwriter.worksheet import Worksheet

    class ExactWorksheet(Worksheet):
        def _xml_number_element(self, number: float, attributes: Any = ()) -> None:
            attr = "".join(f' {k}="{self._escape_attributes(v)}"' for k, v in attributes)
            self.fh.write(f"<c{attr}><v>{float(number)!r}</v></c>")

    return ExactWorksheet


def _write_xlsx(
    inv: Inventory, estimates: _Estimates, out: BinaryIO, tick: Callable[[], None]
) -> None:
    # xlsxwriter builds the (compressed) workbook in memory and we write it out: a full
    # disk is then a plain OSError here, not xlsxwriter's FileCreateError followed by a
    # traceback from its half-closed zip file at exit
    buffer = io.BytesIO()
    _write_xlsx_to(inv, estimates, buffer, tick)
    out.write(buffer.getbuffer())


def _write_xlsx_to(
    inv: Inventory, estimates: _Estimates, target: BinaryIO, tick: Callable[[], None]
) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(
        target,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    sheet_class = _exact_worksheet_class()
    header_fmt = wb.add_format(
        {"bold": True, "bg_color": "#E8EEF4", "bottom": 1, "text_wrap": True}
    )
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    int_fmt = wb.add_format({"num_format": "#,##0"})
    try:
        for table in _tables(inv):
            spec = schema.table(table)
            ws = wb.add_worksheet(spec.label[:31], worksheet_class=sheet_class)
            widths = [min(MAX_WIDTH, max(10, len(f.header) + 2)) for f in spec.fields]
            # constant_memory writes rows in order, so widths come from a first sample
            sample = []
            for i, row in enumerate(_records(inv, table)):
                if i >= 200:
                    break
                sample.append(row)
            for row in sample:
                for j, v in enumerate(row):
                    if v is not None:
                        widths[j] = min(MAX_WIDTH, max(widths[j], len(str(v)) + 2))
            for j, w in enumerate(widths):
                ws.set_column(j, j, w)
            ws.write_row(0, 0, [f.header for f in spec.fields], header_fmt)
            ws.freeze_panes(1, 0)
            r = 0
            for r, row in enumerate(_records(inv, table), 1):
                tick()
                for j, (f, v) in enumerate(zip(spec.fields, row, strict=True)):
                    if v is None:
                        continue
                    if f.kind == "date":
                        ws.write_datetime(r, j, dt.datetime.fromisoformat(v), date_fmt)
                    elif f.kind == "int" and isinstance(v, int):
                        ws.write_number(r, j, v, int_fmt)
                    elif isinstance(v, (int, float)) and not isinstance(v, bool):
                        ws.write_number(r, j, v)
                    else:
                        ws.write_string(r, j, _text_cell(str(v)))
            ws.autofilter(0, 0, max(r, 1), len(spec.fields) - 1)
        _write_estimates_sheet(wb, sheet_class, header_fmt, estimates, tick)
    finally:
        wb.close()


#: column widths of the estimates sheet (characters), by field
_ESTIMATE_WIDTHS = {"period": 10, "id": 18, "name": 40, "scope": 15, "method_tier": 15}


def _write_estimates_sheet(
    wb: Any, sheet_class: type, header_fmt: Any, estimates: _Estimates, tick: Callable[[], None]
) -> None:
    """The last sheet, "Estimates": typed cells, frozen header, a filter on every column."""
    ws = wb.add_worksheet(ESTIMATES_SHEET, worksheet_class=sheet_class)
    for j, (name, header) in enumerate(ESTIMATE_COLUMNS):
        ws.set_column(j, j, _ESTIMATE_WIDTHS.get(name, max(12, len(header) + 2)))
    ws.write_row(0, 0, [header for _, header in ESTIMATE_COLUMNS], header_fmt)
    ws.freeze_panes(1, 0)
    r = 0
    for r, (period, row) in enumerate(estimates.rows(), 1):
        tick()
        for j, v in enumerate(_estimate_cells(period, row)):
            if isinstance(v, float):
                if math.isfinite(v):
                    ws.write_number(r, j, v)
            else:
                ws.write_string(r, j, _text_cell(str(v)))
    ws.autofilter(0, 0, max(r, 1), len(ESTIMATE_COLUMNS) - 1)


# -- template ------------------------------------------------------------------------------

#: example rows of the template, by field name (references by the shipped names)
TEMPLATE_EXAMPLES: dict[str, list[dict[str, Any]]] = {
    "models": [
        {
            "name": "Support assistant",
            "version": "2.1",
            "owner": "Customer care",
            "task": "Chat assistant",
            "params_total_b": 8,
            "params_active_b": 8,
            "provider": "in-house",
        },
        {
            "name": "Document search",
            "version": "",
            "owner": "Knowledge team",
            "task": "Embeddings",
            "params_total_b": 0.3,
            "provider": "in-house",
        },
    ],
    "training_runs": [
        {
            "name": "Support assistant fine-tune Q1",
            "model_id": "Support assistant 2.1",
            "kind": "Fine-tuning",
            "site_id": "GCP europe-west1 (Belgium)",
            "hardware_id": "NVIDIA H100 SXM",
            "device_count": 16,
            "start_date": "2026-01-12",
            "end_date": "2026-01-19",
            "device_hours": 2688,
            "energy_kwh": 1450.5,
            "energy_boundary": "IT equipment",
            "data_source": "cloud bill",
        },
    ],
    "deployments": [
        {
            "name": "Support chat (EU)",
            "model_id": "Support assistant 2.1",
            "kind": "Self-hosted",
            "site_id": "GCP europe-west1 (Belgium)",
            "hardware_id": "NVIDIA L4",
            "device_count": 4,
            "start_date": "2026-02-01",
        },
    ],
    "usage": [
        {
            "deployment_id": "Support chat (EU)",
            "period_start": "2026-02-01",
            "period_end": "2026-02-28",
            "requests": 1_250_000,
            "input_tokens": 900_000_000,
            "output_tokens": 310_000_000,
            "device_hours": 2688,
        },
        {
            "deployment_id": "Support chat (EU)",
            "period_start": "2026-03-01",
            "period_end": "2026-03-31",
            "requests": 1_410_000,
            "input_tokens": 1_020_000_000,
            "output_tokens": 352_000_000,
            "device_hours": 2976,
        },
    ],
    "sites": [
        {
            "name": "Head office server room",
            "kind": "Own data centre",
            "country": "FR",
            "pue": 1.8,
            "source": "facility meter 2025",
        },
    ],
    "sourcing": [
        {
            "name": "Head office green tariff 2026",
            "kind": "Green tariff",
            "site_id": "Head office server room",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "share_pct": 100,
            "factor_g_per_kwh": 0,
            "supplier": "Example Energy",
        },
    ],
}
TEMPLATE_TABLES = ("models", "training_runs", "deployments", "usage", "sites", "sourcing")


def write_template(out_path: str | os.PathLike[str]) -> Path:
    """An XLSX workbook with one sheet per table: the expected columns (with units in the
    headers), a few example rows, drop-down lists for fields with fixed choices, and a
    "Read me" sheet describing every column. It imports as it is."""
    out = Path(out_path)
    if out.suffix.lower() != ".xlsx":
        raise LedgerError(f"{out.name}: the import template is an .xlsx workbook.")
    check_folder(out, "the import template")
    return write_file(out, _template, "the import template")


def _template(out: BinaryIO) -> None:
    import xlsxwriter

    buffer = io.BytesIO()  # in memory, then written out: see _write_xlsx
    wb = xlsxwriter.Workbook(buffer, {"strings_to_formulas": False, "strings_to_numbers": False})
    bold = wb.add_format({"bold": True})
    header_fmt = wb.add_format({"bold": True, "bg_color": "#E8EEF4", "bottom": 1})
    req_fmt = wb.add_format({"bold": True, "bg_color": "#FCE8C8", "bottom": 1})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    readme = wb.add_worksheet("Read me")
    readme.set_column(0, 0, 22)
    readme.set_column(1, 1, 34)
    readme.set_column(2, 3, 14)
    readme.set_column(4, 4, 70)
    readme.write(0, 0, "AI Carbon Ledger import template", bold)
    readme.write(
        1,
        0,
        "Fill one sheet per table and import the workbook (File > Import). "
        "Orange headers are required. Units are in the headers; other units "
        'written in the header or the cell ("1.2 MWh") are converted. '
        "Delete the example rows first.",
    )
    readme.write_row(
        3, 0, ["Sheet", "Column", "Required", "Unit", "Meaning / allowed values"], header_fmt
    )
    r = 4
    for table in TEMPLATE_TABLES:
        spec = schema.table(table)
        for f in spec.fields:
            allowed = ", ".join(label for _, label in f.choices)
            meaning = "; ".join(
                p
                for p in (
                    f.help,
                    allowed and f"one of: {allowed}",
                    f.ref and f"name of a {schema.table(f.ref).singular}",
                )
                if p
            )
            readme.write_row(
                r, 0, [spec.label, f.header, "yes" if f.required else "", f.unit, meaning], wrap
            )
            r += 1
    for table in TEMPLATE_TABLES:
        spec = schema.table(table)
        ws = wb.add_worksheet(spec.label[:31])
        for j, f in enumerate(spec.fields):
            ws.write(0, j, f.header, req_fmt if f.required else header_fmt)
            ws.set_column(j, j, max(12, len(f.header) + 3))
            if f.choices:
                ws.data_validation(
                    1,
                    j,
                    10_000,
                    j,
                    {
                        "validate": "list",
                        "source": [label for _, label in f.choices],
                        "error_type": "warning",
                    },
                )
        ws.freeze_panes(1, 0)
        for i, example in enumerate(TEMPLATE_EXAMPLES.get(table, []), 1):
            for j, f in enumerate(spec.fields):
                v = example.get(f.name)
                if v is None or v == "":
                    continue
                if f.kind == "date":
                    ws.write_datetime(i, j, dt.datetime.fromisoformat(v), date_fmt)
                elif isinstance(v, (int, float)):
                    ws.write_number(i, j, v)
                else:
                    ws.write_string(i, j, str(v))
    wb.close()
    out.write(buffer.getbuffer())
