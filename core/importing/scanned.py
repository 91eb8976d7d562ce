"""What scanning a sheet yields: converted rows, problem cells, unmatched references.

:meth:`core.importing.plan.RowScanner.scan_items` gives every data row as a
:class:`ScannedRow`, or runs of clean new rows from the column-wise fast path as
:class:`NewRows`; :class:`Problem` and :class:`Unresolved` are what a plan reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.importing.plan import RowScanner


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
class ScannedRow:
    number: int
    status: str  # "new", "changed", "unchanged", "invalid"
    values: dict[str, Any]
    problems: dict[str, str]
    raw: dict[str, Any]
    existing_id: int | None = None
    old: dict[str, Any] | None = None
    #: CodeCarbon rows: the log's column each multi-source field came from (see
    #: ``codecarbon.row_sources``), so that a problem names the right column
    sources: dict[str, str] | None = None


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


class _Lazy:
    """An attribute made by ``make(row)`` when first read, then kept (and settable)."""

    def __init__(self, make: Callable[[Any], Any]):
        self.make = make

    def __set_name__(self, owner: type, name: str) -> None:
        self.key = "_" + name

    def __get__(self, row: Any, owner: type | None = None) -> Any:
        if row is None:
            return self
        d = row.__dict__
        if self.key not in d:
            d[self.key] = self.make(row)
        return d[self.key]

    def __set__(self, row: Any, value: Any) -> None:
        row.__dict__[self.key] = value


class MatchedRow(ScannedRow):
    """A valid row of the fast path whose key matches a stored record (``status``
    "changed" or "unchanged"), and equal to the :class:`ScannedRow` the row path gives.

    ``values``, ``raw``, ``problems`` (none) and the stored values ``old`` are made when
    first read: a dry run of a re-import reads them for the preview's rows only, a
    commit reads ``values`` of every row and ``old`` of the changed ones.
    ``match``: the stored record, ``(id, *values in the order of the table's fields)``.
    """

    def __init__(
        self,
        scanner: RowScanner,
        number: int,
        status: str,
        row: tuple,
        cells: list[Any],
        match: tuple,
    ):
        self.number = number
        self.status = status
        self.existing_id = match[0]
        self._source = (scanner, row, cells, match)

    values = _Lazy(lambda r: dict(zip(r._source[0].spec.field_names, r._source[1], strict=True)))
    problems = _Lazy(lambda r: {})
    raw = _Lazy(lambda r: r._source[0]._raw(r._source[2]))
    old = _Lazy(lambda r: dict(zip(r._source[0].spec.field_names, r._source[3][1:], strict=True)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ScannedRow):
            return NotImplemented
        return _fields(self) == _fields(other)

    __hash__ = None  # type: ignore[assignment]


def _fields(row: ScannedRow) -> tuple:
    return (
        row.number, row.status, row.values, row.problems, row.raw, row.existing_id, row.old
    )  # fmt: skip
