"""Shipped reference data: hardware types and sites loaded into every new inventory.

The data lives in ``resources/reference/`` as UTF-8 CSV files, one per table, whose
columns are the table's fields plus ``year`` and ``licence``. Every row carries its
source, year and licence; ``SOURCES.md`` beside the files cites them in full. Units are
those of :mod:`core.schema`: TDP in W, embodied emissions in kgCO2e per unit, lifetime
in years, PUE as a ratio, WUE in L/kWh, grid factors in gCO2e/kWh.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core import schema
from core.errors import LedgerError

if TYPE_CHECKING:
    from core.inventory import Inventory

#: Tables seeded from the shipped files, in insertion order.
SEEDED_TABLES: tuple[str, ...] = ("sites", "hardware")

#: Columns each file has beyond its table's fields; folded into ``source`` on loading.
PROVENANCE_COLUMNS: tuple[str, ...] = ("year", "licence")

SEED_DESCRIPTION = "Shipped reference data"


class ReferenceDataError(LedgerError):
    """A shipped reference file is missing or malformed; the message names file and line."""


def reference_dir() -> Path:
    """The folder holding the shipped reference files (``resources/reference``)."""
    return Path(__file__).resolve().parent.parent / "resources" / "reference"


def load_csv(name: str, directory: Path | None = None) -> list[dict[str, Any]]:
    """Records of table ``name`` read from ``<directory>/<name>.csv``, ready to insert.

    ``name`` is a seeded table (``"sites"`` or ``"hardware"``; a ``.csv`` suffix is
    accepted); ``directory`` defaults to :func:`reference_dir`. Numbers are converted
    to ``float``/``int`` in the units of :mod:`core.schema` (empty cells become ``None``),
    and ``year``/``licence`` are folded into ``source`` as ``"<source>, <year>
    (<licence>)"`` since the tables have no columns for them.

    Raises :class:`ReferenceDataError` naming the file (and line) if the file is
    missing, its header is wrong, or a row is malformed or out of range.
    """
    table = name.removesuffix(".csv")
    try:
        spec = schema.table(table)
    except KeyError as exc:
        raise ReferenceDataError(f"There is no reference table {table!r}.") from exc
    path = (directory if directory is not None else reference_dir()) / f"{table}.csv"
    if not path.is_file():
        raise ReferenceDataError(
            f"{path}: the shipped reference file is missing; reinstall AI Carbon Ledger."
        )
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            return _parse(path, spec, csv.reader(fh))
    except UnicodeDecodeError as exc:
        raise ReferenceDataError(f"{path}: not UTF-8 text ({exc.reason}).") from exc
    except csv.Error as exc:
        raise ReferenceDataError(f"{path}: not a valid CSV file ({exc}).") from exc


def seed(inv: Inventory, directory: Path | None = None) -> None:
    """Load the shipped sites and hardware types into ``inv`` (all or nothing).

    Both files are read and checked before anything is written.
    """
    records = {table: load_csv(table, directory) for table in SEEDED_TABLES}
    with inv.transaction():
        for table in SEEDED_TABLES:
            inv.insert_logged(table, records[table], SEED_DESCRIPTION)


def _parse(path: Path, spec: schema.TableSpec, reader: Any) -> list[dict[str, Any]]:
    header = next(reader, None)
    if header is None:
        raise ReferenceDataError(f"{path}: the file is empty; it needs a header line.")
    header = [h.strip().lstrip("\ufeff") for h in header]
    expected = [*spec.field_names, *PROVENANCE_COLUMNS]
    missing = [c for c in expected if c not in header]
    unknown = [c for c in header if c not in expected]
    if missing or unknown or len(set(header)) != len(header):
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        if len(set(header)) != len(header):
            parts.append("repeated column names")
        raise ReferenceDataError(f"{path}, line 1: {'; '.join(parts)}.")
    records: list[dict[str, Any]] = []
    seen: dict[tuple[Any, ...], int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue  # blank line
        if len(cells) != len(header):
            raise ReferenceDataError(
                f"{path}, line {line}: expected {len(header)} fields, found {len(cells)}."
            )
        raw = {col: cell.strip() for col, cell in zip(header, cells, strict=True)}
        record = _record(path, line, spec, raw)
        if spec.unique:
            key = tuple(record.get(f) for f in spec.unique)
            if key in seen:
                raise ReferenceDataError(
                    f"{path}, line {line}: {spec.singular} {key[0]!r} repeats line {seen[key]}."
                )
            seen[key] = line
        records.append(record)
    return records


def _record(path: Path, line: int, spec: schema.TableSpec, raw: dict[str, str]) -> dict[str, Any]:
    where = f"{path}, line {line}"
    for col in ("source", *PROVENANCE_COLUMNS):
        if not raw[col]:
            raise ReferenceDataError(f"{where}: the {col} is empty; every row needs one.")
    record: dict[str, Any] = {}
    for f in spec.fields:
        text = raw[f.name]
        if not text:
            if f.required:
                raise ReferenceDataError(f"{where}: {f.label} is required.")
            record[f.name] = None
            continue
        if f.is_number:
            record[f.name] = _number(where, f, text)
        elif f.kind == "choice" and text not in {stored for stored, _ in f.choices}:
            allowed = ", ".join(stored for stored, _ in f.choices)
            raise ReferenceDataError(f"{where}: {f.label} {text!r} is not one of {allowed}.")
        else:
            record[f.name] = text
    record["source"] = f"{raw['source']}, {raw['year']} ({raw['licence']})"
    return record


def _number(where: str, f: schema.FieldSpec, text: str) -> float | int:
    try:
        value: float | int = int(text) if f.kind == "int" else float(text)
    except ValueError:
        raise ReferenceDataError(f"{where}: {f.header} {text!r} is not a number.") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ReferenceDataError(f"{where}: {f.header} {text!r} is not a finite number.")
    low_ok = f.minimum is None or (value > f.minimum if f.min_exclusive else value >= f.minimum)
    high_ok = f.maximum is None or value <= f.maximum
    if not (low_ok and high_ok):
        low = "" if f.minimum is None else f"{f.minimum:g}"
        high = "" if f.maximum is None else f"{f.maximum:g}"
        raise ReferenceDataError(f"{where}: {f.header} {text} is outside {low}..{high}.")
    return value
