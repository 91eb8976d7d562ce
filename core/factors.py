"""Emission factors and engine defaults shipped in ``resources/reference/``.

Three files, each row with its source, year and licence (``SOURCES.md`` cites them):

* ``grid_factors.csv`` -- location-based grid emission factors in g per kWh of electricity
  by zone and year. Zones: ISO 3166-1 alpha-2 countries (``FR``), ``WORLD``, sub-national
  grids (``US-CA``, ``CN-BJ``, ``SE3``) and cloud regions (``aws:us-east-1``,
  ``azure:westeurope``, ``gcp:europe-west1``). The ``gas`` column says whether a factor
  counts CO2 only or CO2e; ``cfe_pct`` (Google regions only) is Google's carbon-free
  energy share in percent.
* ``parameters.csv`` -- named defaults (PUE, WUE in L/kWh, utilisation, lifetimes,
  equivalences, the ranges of grid factors ``grid_range:*``) with a central value and a
  plausible low..high range.
* ``inference_energy.csv`` -- energy per request, token or image, in the unit each row
  names.

:class:`GridFactors` looks a zone up for a year and says in plain words whenever it had to
fall back to another year, the parent country or the world average; :func:`grid_range`
gives a lookup the range that such a fallback calls for. Pure Python and numpy; no Qt.
"""

from __future__ import annotations

import csv
import math
import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import numpy as np

from core.reference import ReferenceDataError, reference_dir

GRID_FILE = "grid_factors.csv"
PARAMETERS_FILE = "parameters.csv"
INFERENCE_FILE = "inference_energy.csv"

GRID_COLUMNS = ("zone", "zone_name", "kind", "year", "g_per_kwh", "cfe_pct", "gas")
GRID_COLUMNS += ("source", "licence", "notes")
PARAMETER_COLUMNS = ("name", "central", "low", "high", "unit", "applies_to", "source", "year")
PARAMETER_COLUMNS += ("licence", "notes")
INFERENCE_COLUMNS = ("key", "task", "model_params_b", "gpu", "metric", "central", "low", "high")
INFERENCE_COLUMNS += ("unit", "source", "year", "licence", "notes")

GRID_KINDS = ("country", "world", "subnational", "cloud-region")
GASES = ("CO2", "CO2e")
WORLD = "WORLD"

#: Site providers (as in the sites table) -> cloud zone prefix.
CLOUD_PREFIXES = {"AWS": "aws", "Microsoft Azure": "azure", "Google Cloud": "gcp"}
#: Grid region codes that are zones: ``US-CA``, ``CN-BJ``, ``SE3``, ``NO1``, ``DK2``.
_SUBNATIONAL = re.compile(r"^(?:[A-Z]{2}-[A-Z0-9]{1,3}|(?:SE|NO|DK)[0-9])$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True)
class Factor:
    """A sourced number: ``value`` with a plausible ``low``..``high`` range, in ``unit``.

    For grid factors ``low == high == value`` (the sources give no range; the Monte Carlo
    range of a lookup comes from :func:`grid_range`). ``year`` is the year of the data (the
    latest one when a row combines sources).
    """

    value: float
    low: float
    high: float
    unit: str
    source: str
    year: int | None
    licence: str
    note: str


@dataclass(frozen=True)
class GridLookup:
    """The answer to "which grid factor for this zone and year?".

    ``value`` is in g per kWh of ``gas`` (``"CO2"`` or ``"CO2e"``); ``zone`` and ``year``
    are those of the row used. ``fallback`` is ``""`` for an exact match and otherwise
    says in plain words what was used instead, e.g. ``"no 2026 figure for FR; used
    2023"``.
    """

    value: float
    zone: str
    year: int
    factor: Factor
    fallback: str
    requested_zone: str
    requested_year: int
    kind: str
    gas: str
    cfe_pct: float | None

    @property
    def exact(self) -> bool:
        return not self.fallback


@dataclass(frozen=True)
class _GridRow:
    zone: str
    kind: str
    year: int
    factor: Factor
    gas: str
    cfe_pct: float | None


# --------------------------------------------------------------------------------------
# Reading the files
# --------------------------------------------------------------------------------------


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[str, dict[str, str]]]:
    """``(where, row)`` for each non-blank data row; ``where`` is ``"<path>, line N"``.

    Raises :class:`ReferenceDataError` if the file is missing, not UTF-8 CSV, or its
    header is not exactly ``columns``.
    """
    if not path.is_file():
        raise ReferenceDataError(
            f"{path}: the shipped reference file is missing; reinstall AI Carbon Ledger."
        )
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            header = [h.strip().lstrip("\ufeff") for h in next(reader, [])]
            if tuple(header) != columns:
                raise ReferenceDataError(
                    f"{path}, line 1: expected the columns {', '.join(columns)}."
                )
            for cells in reader:
                where = f"{path}, line {reader.line_num}"
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) != len(columns):
                    raise ReferenceDataError(
                        f"{where}: expected {len(columns)} fields, found {len(cells)}."
                    )
                yield where, {c: v.strip() for c, v in zip(columns, cells, strict=True)}
    except UnicodeDecodeError as exc:
        raise ReferenceDataError(f"{path}: not UTF-8 text ({exc.reason}).") from exc
    except csv.Error as exc:
        raise ReferenceDataError(f"{path}: not a valid CSV file ({exc}).") from exc


def _number(where: str, name: str, text: str) -> float:
    if not text:
        raise ReferenceDataError(f"{where}: {name} is empty.")
    try:
        value = float(text)
    except ValueError:
        raise ReferenceDataError(f"{where}: {name} {text!r} is not a number.") from None
    if not math.isfinite(value):
        raise ReferenceDataError(f"{where}: {name} {text!r} is not a finite number.")
    return value


def _optional_number(where: str, name: str, text: str) -> float | None:
    return _number(where, name, text) if text else None


def _year(where: str, text: str) -> int:
    """The latest year in ``text`` (``"2024"`` or ``"2021; 2025"``)."""
    parts = [p.strip() for p in text.split(";")]
    if not text or not all(p.isdigit() and 1900 <= int(p) <= 2100 for p in parts):
        raise ReferenceDataError(f"{where}: year {text!r} is not a year such as 2024.")
    return max(int(p) for p in parts)


def _provenance(where: str, row: dict[str, str]) -> None:
    for column in ("source", "licence", "year"):
        if not row[column]:
            raise ReferenceDataError(f"{where}: the {column} is empty; every row needs one.")


def _grid_row(where: str, row: dict[str, str]) -> _GridRow:
    _provenance(where, row)
    if not row["zone"]:
        raise ReferenceDataError(f"{where}: the zone is empty.")
    if row["kind"] not in GRID_KINDS:
        raise ReferenceDataError(f"{where}: kind {row['kind']!r} is not one of {GRID_KINDS}.")
    if row["gas"] not in GASES:
        raise ReferenceDataError(f"{where}: gas {row['gas']!r} is not CO2 or CO2e.")
    value = _number(where, "g_per_kwh", row["g_per_kwh"])
    cfe = _optional_number(where, "cfe_pct", row["cfe_pct"])
    if not 0 <= value <= 3000:
        raise ReferenceDataError(f"{where}: g_per_kwh {row['g_per_kwh']} is outside 0..3000.")
    if cfe is not None and not 0 <= cfe <= 100:
        raise ReferenceDataError(f"{where}: cfe_pct {row['cfe_pct']} is outside 0..100.")
    year = _year(where, row["year"])
    unit = f"g{row['gas']}/kWh"
    factor = Factor(value, value, value, unit, row["source"], year, row["licence"], row["notes"])
    return _GridRow(normalise_zone(row["zone"]), row["kind"], year, factor, row["gas"], cfe)


def _directory(directory: Path | None) -> Path:
    return directory if directory is not None else reference_dir()


# --------------------------------------------------------------------------------------
# Grid factors
# --------------------------------------------------------------------------------------


def normalise_zone(zone: str | None) -> str:
    """``" fr "`` -> ``"FR"``; ``"AWS:US-East-1"`` -> ``"aws:us-east-1"``; None -> ``""``."""
    text = (zone or "").strip()
    return text.lower() if ":" in text else text.upper()


def parent_of(zone: str) -> str | None:
    """The country a sub-national zone belongs to (``US-CA`` -> ``US``, ``SE3`` -> ``SE``)."""
    if _SUBNATIONAL.match(zone):
        return zone[:2]
    return None


class GridFactors:
    """Location-based grid factors by zone and year, with an explained fallback chain.

    :meth:`lookup` tries, in order: the zone in the requested year; the same zone in the
    nearest earlier year (else the nearest later one); the parent country (passed in, or
    derived from codes like ``US-CA``); the world average. Every step other than the
    first is explained in :attr:`GridLookup.fallback`.
    """

    def __init__(self, rows: Sequence[_GridRow], path: Path | None = None):
        by_zone: dict[str, list[_GridRow]] = {}
        for row in rows:
            by_zone.setdefault(row.zone, []).append(row)
        self._rows = {z: sorted(rs, key=lambda r: r.year) for z, rs in by_zone.items()}
        self._years = {z: [r.year for r in rs] for z, rs in self._rows.items()}
        self._path = path
        self._cache: dict[tuple[str, int, str | None], GridLookup] = {}

    def __contains__(self, zone: object) -> bool:
        return isinstance(zone, str) and normalise_zone(zone) in self._rows

    def __len__(self) -> int:
        return sum(len(rs) for rs in self._rows.values())

    @property
    def zones(self) -> list[str]:
        """Every zone with at least one factor, sorted."""
        return sorted(self._rows)

    def years(self, zone: str) -> list[int]:
        """The years with a factor for ``zone`` (ascending; empty if the zone is unknown)."""
        return list(self._years.get(normalise_zone(zone), []))

    def lookup(self, zone: str | None, year: int, country: str | None = None) -> GridLookup:
        """The grid factor (g/kWh) for ``zone`` in ``year``, falling back as the class says.

        ``country`` is the parent country of a sub-national or cloud zone (ISO alpha-2).
        Raises :class:`ReferenceDataError` only if not even a world average is loaded.
        """
        key = (normalise_zone(zone), int(year), normalise_zone(country) or None)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._lookup(*key)
        return found

    def lookup_many(
        self,
        zones: Sequence[str | None],
        years: np.ndarray | Sequence[int],
        countries: Sequence[str | None] | None = None,
    ) -> tuple[np.ndarray, list[GridLookup]]:
        """Vectorised :meth:`lookup`: values (g/kWh, float64) and one lookup per row.

        Each distinct ``(zone, year, country)`` is looked up once, so a million rows with
        a few hundred distinct keys cost a few hundred lookups plus array indexing.
        """
        years = np.asarray(years, dtype=np.int64)
        n = len(zones)
        if years.shape != (n,) or (countries is not None and len(countries) != n):
            raise ValueError("zones, years and countries must have the same length")
        if n == 0:
            return np.zeros(0), []
        zone_codes, zone_keys = _factorise(zones)
        if countries is None:
            country_codes, country_keys = np.zeros(n, dtype=np.intp), [None]
        else:
            country_codes, country_keys = _factorise(countries)
        year_codes, year_keys = _compact(years - years.min())
        year_keys = year_keys + int(years.min())
        n_years, n_countries = len(year_keys), len(country_keys)
        combined = (zone_codes * n_years + year_codes) * n_countries + country_codes
        inverse, unique = _compact(combined)
        found: list[GridLookup] = []
        for code in unique.tolist():
            rest, c = divmod(code, n_countries)
            z, y = divmod(rest, n_years)
            found.append(self.lookup(zone_keys[z], int(year_keys[y]), country_keys[c]))
        values = np.array([f.value for f in found], dtype=np.float64)[inverse]
        table = np.empty(len(found), dtype=object)
        table[:] = found
        return values, table[inverse].tolist()

    # -- the fallback chain ------------------------------------------------------------

    def _lookup(self, zone: str, year: int, country: str | None) -> GridLookup:
        if zone in self._rows:
            row = self._nearest(zone, year)
            why = "" if row.year == year else f"no {year} figure for {zone}; used {row.year}"
            if row.year > year:
                why += ", the earliest available"
            return self._answer(row, zone, year, why)
        parent = country or parent_of(zone)
        if parent and parent != zone and parent in self._rows:
            row = self._nearest(parent, year)
            what = f"{'country' if row.kind == 'country' else 'zone'} {parent} {row.year}"
            return self._answer(row, zone, year, f"{self._no_factor(zone)}; used {what}")
        if WORLD not in self._rows:
            where = self._path or "the grid factor table"
            raise ReferenceDataError(f"{where}: no factor for {zone!r} and no world average.")
        row = self._nearest(WORLD, year)
        missing = self._no_factor(zone)
        if parent and parent != zone:
            missing += f" or its country {parent}"
        return self._answer(row, zone, year, f"{missing}; used the world average {row.year}")

    @staticmethod
    def _no_factor(zone: str) -> str:
        return f"no factor for {zone}" if zone else "no zone given"

    def _nearest(self, zone: str, year: int) -> _GridRow:
        """The row of ``zone`` for ``year``, else the nearest earlier, else the earliest."""
        index = bisect_right(self._years[zone], year)
        return self._rows[zone][max(index - 1, 0)]

    @staticmethod
    def _answer(row: _GridRow, zone: str, year: int, fallback: str) -> GridLookup:
        return GridLookup(
            value=row.factor.value,
            zone=row.zone,
            year=row.year,
            factor=row.factor,
            fallback=fallback,
            requested_zone=zone,
            requested_year=year,
            kind=row.kind,
            gas=row.gas,
            cfe_pct=row.cfe_pct,
        )


def _factorise(values: Sequence[Any]) -> tuple[np.ndarray, list[Any]]:
    """Integer codes for ``values`` and the distinct values they index (first-seen order)."""
    index: defaultdict[Any, int] = defaultdict(count().__next__)
    codes = np.fromiter(map(index.__getitem__, values), dtype=np.intp, count=len(values))
    return codes, list(index)


def _compact(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(inverse, distinct)`` of non-negative integer ``codes``, so that
    ``distinct[inverse] == codes``.

    Linear time when the codes span a modest range; a sort otherwise.
    """
    span = int(codes.max()) + 1
    if span > 4 * len(codes) + 1_000_000:
        distinct, inverse = np.unique(codes, return_inverse=True)
        return inverse, distinct
    present = np.zeros(span, dtype=bool)
    present[codes] = True
    distinct = np.flatnonzero(present)
    remap = np.zeros(span, dtype=np.intp)
    remap[distinct] = np.arange(len(distinct))
    return remap[codes], distinct


def load_grid_factors(directory: Path | None = None) -> GridFactors:
    """The grid factors of ``<directory>/grid_factors.csv`` (default: the shipped folder).

    Raises :class:`ReferenceDataError` naming file and line for a missing file, a wrong
    header, a malformed row or a zone and year given twice.
    """
    path = _directory(directory) / GRID_FILE
    rows: list[_GridRow] = []
    seen: dict[tuple[str, int], str] = {}
    for where, raw in _rows(path, GRID_COLUMNS):
        row = _grid_row(where, raw)
        key = (row.zone, row.year)
        if key in seen:
            raise ReferenceDataError(f"{where}: {key[0]} {key[1]} repeats {seen[key]}.")
        seen[key] = where.rsplit(", ", 1)[1]
        rows.append(row)
    return GridFactors(rows, path)


def zone_for_site(
    kind: str | None,
    provider: str | None,
    region_code: str | None,
    country: str | None,
    grid_region: str | None,
) -> tuple[str, str | None]:
    """``(zone, parent country)`` for a site of the inventory, ready for :meth:`lookup`.

    Cloud regions of AWS, Microsoft Azure and Google Cloud map to ``aws:<region_code>``,
    ``azure:<region_code>`` and ``gcp:<region_code>`` with their country as parent. For
    other sites a grid region that is a zone (``US-CA``, ``SE3``) wins over the country;
    NERC codes such as ``SERC`` are not zones and are ignored. Without either the zone is
    ``""``, which :meth:`GridFactors.lookup` answers with the world average.
    """
    nation = normalise_zone(country) or None
    if nation is not None and not _COUNTRY.match(nation):
        nation = None
    prefix = CLOUD_PREFIXES.get((provider or "").strip())
    region = (region_code or "").strip().lower()
    if kind == "cloud" and prefix and region:
        return f"{prefix}:{region}", nation
    grid = normalise_zone(grid_region)
    if grid and _SUBNATIONAL.match(grid):
        return grid, nation or parent_of(grid)
    return nation or "", None


# --------------------------------------------------------------------------------------
# Ranges of grid factors
# --------------------------------------------------------------------------------------

#: Year gaps with a range parameter of their own (``grid_range:year_gap_1`` ...); longer
#: gaps take the last.
GRID_RANGE_MAX_GAP = 10


def grid_range(lookup: GridLookup, params: dict[str, Factor]) -> tuple[float, float, list[str]]:
    """The plausible range of a grid factor lookup, as ratios to its value: ``(low, high,
    parameter names used)``.

    The sources give no range, so it grows with what the lookup had to assume (the
    ``grid_range:*`` parameters of ``parameters.csv``): ``grid_range:exact`` always (the
    right zone and year still differ between sources); ``grid_range:year_gap_<g>`` when the
    factor is of a year ``g`` years away; ``grid_range:country_fallback`` when a zone fell
    back to its country, ``grid_range:world_fallback`` when it fell back to the world
    average. The parts are independent, so their log widths add in quadrature (each side
    apart: the place ranges are asymmetric). A parameter the table lacks is left out; a
    lookup carrying its own range (an override) uses that instead.
    """
    f = lookup.factor
    if f.low != f.value or f.high != f.value:  # an override with a range of its own
        return f.low / f.value if f.value else 1.0, f.high / f.value if f.value else 1.0, []
    if f.source.startswith("override:"):  # a user's figure without a range: taken as known
        return 1.0, 1.0, []
    names = ["grid_range:exact"]
    gap = abs(int(lookup.year) - int(lookup.requested_year))
    if gap:
        names.append(f"grid_range:year_gap_{min(gap, GRID_RANGE_MAX_GAP)}")
    if lookup.zone != lookup.requested_zone:
        names.append(
            "grid_range:world_fallback" if lookup.zone == WORLD else "grid_range:country_fallback"
        )
    names = [n for n in names if n in params]
    down = up = 0.0
    for name in names:
        p = params[name]
        if p.value > 0:
            down += math.log(min(p.low / p.value, 1.0)) ** 2
            up += math.log(max(p.high / p.value, 1.0)) ** 2
    return math.exp(-math.sqrt(down)), math.exp(math.sqrt(up)), names


# --------------------------------------------------------------------------------------
# Parameters and inference energy
# --------------------------------------------------------------------------------------


def load_parameters(directory: Path | None = None) -> dict[str, Factor]:
    """Named engine defaults from ``parameters.csv``, each a :class:`Factor`.

    Units are in each factor's ``unit`` (e.g. ``ratio`` for PUE, ``L/kWh`` for WUE,
    ``fraction of TDP``, ``years``, ``kgCO2e per km``). Raises
    :class:`ReferenceDataError` naming file and line if a row is malformed, repeats a
    name, or breaks ``low <= central <= high``.
    """
    path = _directory(directory) / PARAMETERS_FILE
    params: dict[str, Factor] = {}
    for where, row in _rows(path, PARAMETER_COLUMNS):
        _provenance(where, row)
        name = row["name"]
        if not name or name in params:
            raise ReferenceDataError(f"{where}: the name {name!r} is empty or repeated.")
        central, low, high = (_number(where, c, row[c]) for c in ("central", "low", "high"))
        if not low <= central <= high:
            raise ReferenceDataError(f"{where}: {name} needs low <= central <= high.")
        params[name] = Factor(
            central,
            low,
            high,
            row["unit"],
            row["source"],
            _year(where, row["year"]),
            row["licence"],
            row["notes"],
        )
    return params


def _params_range(where: str, text: str) -> tuple[float | None, float | None]:
    """``"8"`` -> (8, 8); ``"3-5"`` -> (3, 5); ``""`` -> (None, None); billions."""
    if not text:
        return None, None
    low, _, high = text.partition("-")
    lo = _number(where, "model_params_b", low)
    hi = _number(where, "model_params_b", high) if high else lo
    return lo, hi


def load_inference_energy(directory: Path | None = None) -> list[dict[str, Any]]:
    """Rows of ``inference_energy.csv`` as dicts, numbers converted.

    ``central``, ``high`` and ``low`` are floats in the row's ``unit`` (``low`` may be
    None where no lower bound is published), except for ``metric == "ecologits_coeff"``
    where they are the formula coefficients. ``year`` is an int; ``params_low_b`` and
    ``params_high_b`` give the ``model_params_b`` range in billions (None if blank).
    """
    path = _directory(directory) / INFERENCE_FILE
    rows: list[dict[str, Any]] = []
    keys: set[str] = set()
    for where, raw in _rows(path, INFERENCE_COLUMNS):
        _provenance(where, raw)
        if not raw["key"] or raw["key"] in keys:
            raise ReferenceDataError(f"{where}: the key {raw['key']!r} is empty or repeated.")
        keys.add(raw["key"])
        row: dict[str, Any] = dict(raw)
        row["central"] = _number(where, "central", raw["central"])
        row["high"] = _number(where, "high", raw["high"])
        row["low"] = _optional_number(where, "low", raw["low"])
        low = row["low"] if row["low"] is not None else row["central"]
        if not low <= row["central"] <= row["high"]:
            raise ReferenceDataError(f"{where}: {raw['key']} needs low <= central <= high.")
        row["year"] = _year(where, raw["year"])
        row["params_low_b"], row["params_high_b"] = _params_range(where, raw["model_params_b"])
        rows.append(row)
    return rows
