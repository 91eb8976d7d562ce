"""What scanning a sheet yields: converted rows, problem cells, unmatched references.

:meth:`core.importing.plan.RowScanner.scan_items` gives every data row as a
:class:`ScannedRow`, or runs of clean new rows from the column-wise fast path as
:class:`NewRows`; :class:`Problem` and :class:`Unresolved` are what a plan reports.
"""

from __future__ import annotations

from collections.abc import Iterator
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
