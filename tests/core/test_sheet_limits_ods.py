"""The ODS sheet-size scan (:mod:`core.importing.sheet_limits_ods`): the fast path that
sizes runs of plain rows in bulk gives an upper bound of the exact reading (the
reader's, tag by tag), whatever the repeats, covered cells, padding, chunk boundaries
and markup that is not plain (comments, quoted "<" or ">", rows inside cells), and it
takes the rows office programs write."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import python_calamine as pc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import ImportReadError
from core.importing import sheet_limits_ods as ods
from core.importing.sheet_limits import check_workbook

ROW_STYLE = ' table:style-name="ro1"'


def _cell(kind: str, repeat: int) -> str:
    rep = f' table:number-columns-repeated="{repeat}"' if repeat != 1 else ""
    if kind == "empty":
        return f"<table:table-cell{rep}/>"
    if kind == "styled":
        return f'<table:table-cell table:style-name="ce1"{rep}/>'
    if kind == "covered":
        return f'<table:covered-table-cell{rep} office:value-type="float" office:value="1"/>'
    if kind == "formula":
        return f'<table:table-cell{rep} table:formula="of:=1"><text:p>1</text:p></table:table-cell>'
    if kind in SHIELDS:
        return (
            f'<table:table-cell{rep} office:value-type="float" office:value="1">'
            f"{SHIELDS[kind]}</table:table-cell>"
        )
    return (
        f'<table:table-cell{rep} office:value-type="string" calcext:value-type="string">'
        "<text:p>x = y</text:p></table:table-cell>"
    )


CELL = st.tuples(
    st.sampled_from(["value", "value", "value", "empty", "styled", "covered", "formula",
                     "shielded", "nested", "quoted"]),
    st.sampled_from([1, 1, 1, 1, 2, 3, 40]),
)  # fmt: skip
#: markup the reader steps over in a cell's content, that looks like rows to a byte scan
SHIELDS = {
    "shielded": "<!--</table:table-row><table:table-row>--><![CDATA[</table:table-row>]]>",
    "nested": '<table:table-row><table:table-cell office:value="1"/></table:table-row>',
    "quoted": "<text:p x=\"</table:table-row><table:table-row>\" y='>'/>",
}
ROW = st.tuples(
    st.lists(CELL, max_size=6),
    st.sampled_from([1, 1, 1, 1, 2, 7]),  # rows repeated
    st.sampled_from([0, 0, 1, 2]),  # padding: none, LibreOffice's, styled
    st.booleans(),  # style name on the row
)


def _row(cells: list[tuple[str, int]], repeat: int, padding: int, styled: bool) -> str:
    rep = f' table:number-rows-repeated="{repeat}"' if repeat != 1 else ""
    body = "".join(_cell(k, n) for k, n in cells)
    if padding == 1:
        body += f'<table:table-cell table:number-columns-repeated="{16384 - len(cells)}"/>'
    elif padding == 2:
        body += '<table:table-cell table:style-name="ce2" table:number-columns-repeated="99"/>'
    return f"<table:table-row{ROW_STYLE if styled else ''}{rep}>{body}</table:table-row>"


def _content(tables: list[list[str]]) -> bytes:
    body = "".join(
        f'<table:table table:name="S{i}"><table:table-column table:number-columns-repeated="3"/>'
        + "".join(rows)
        + "</table:table>"
        for i, rows in enumerate(tables)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content><office:body>'
        f"<office:spreadsheet>{body}</office:spreadsheet></office:body>"
        "</office:document-content>"
    ).encode()


def _split(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _extents(result: list[tuple[str, ods.Extent]] | None) -> list[tuple[str, int, int]] | None:
    return None if result is None else [(n, e.rows, e.columns) for n, e in result]


@pytest.fixture
def small_pieces(monkeypatch):
    """Each chunk read as it comes, so that the fast path sees every chunk boundary."""
    monkeypatch.setattr(ods, "_GROUP_BYTES", 1)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    tables=st.lists(st.lists(ROW, max_size=40), min_size=1, max_size=3),
    size=st.integers(70, 4000),
    plain_rows=st.integers(0, 400),
)
def test_the_fast_scan_bounds_the_exact_extent(small_pieces, tables, size, plain_rows):
    rows = [[_row(*r) for r in t] for t in tables]
    # a long run of plain rows, as LibreOffice writes them, for the fast path to take
    plain = _row([("value", 1)] * 3 + [("empty", 1), ("value", 1)], 1, 1, True)
    rows[0] = rows[0][: len(rows[0]) // 2] + [plain] * plain_rows + rows[0][len(rows[0]) // 2 :]
    data = _content(rows)
    exact = list(ods._ods_tables(iter([data])))
    for result in (ods._ods_rows(iter([data])), ods._ods_rows(_split(data, size))):
        if result is None:  # left to the exact scan
            continue
        assert [n for n, _ in result] == [n for n, _ in exact]
        for (_, bound), (_, e) in zip(result, exact, strict=True):
            assert bound.rows >= e.rows and bound.columns >= e.columns
            # the bound is tight where it matters: only empty cells written one by one
            # (no repeat) may widen it, and each row is counted at most once too often
            assert bound.columns <= e.columns + 6 and bound.rows <= e.rows + 40 * 7 + 400


def test_the_fast_path_takes_plain_rows_and_sizes_them_exactly(monkeypatch):
    plain = _row([("value", 1)] * 8, 1, 1, True)
    data = _content([[plain] * 5000 + [_row([("empty", 16384)], 1_000_000, 0, True)]])
    taken = []
    real = ods._Runs.take
    monkeypatch.setattr(
        ods._Runs, "take", lambda self, *a, **k: taken.append(real(self, *a, **k)) or taken[-1]
    )
    assert _extents(ods._ods_rows(_split(data, 1 << 16))) == [("S0", 5000, 8)]
    assert sum(rows for _, rows in taken) >= 4900  # nearly all went the fast way


def test_repeated_and_trailing_empty_cells_take_the_fast_path(monkeypatch):
    """Rows as LibreOffice writes them when neighbours are equal (a repeated date) or
    when columns are formatted past the data: sized in bulk, the empty cells at the end
    not counted, as the reader does not count them."""
    row = (
        '<table:table-row table:style-name="ro1"><table:table-cell office:value-type="string"'
        ' calcext:value-type="string"><text:p>dep</text:p></table:table-cell>'
        '<table:table-cell table:number-columns-repeated="2" table:style-name="ce1"'
        ' office:value-type="date" office:date-value="2021-05-14" calcext:value-type="date">'
        "<text:p>2021-05-14</text:p></table:table-cell>"
        '<table:table-cell table:style-name="ce3" table:number-columns-repeated="1000"/>'
        '<table:table-cell table:number-columns-repeated="15381"/></table:table-row>'
    )
    data = _content([[row] * 3000])
    taken = []
    real = ods._Runs.take
    monkeypatch.setattr(
        ods._Runs, "take", lambda self, *a, **k: taken.append(real(self, *a, **k)) or taken[-1]
    )
    assert _extents(ods._ods_rows(_split(data, 1 << 16))) == [("S0", 3000, 3)]
    assert sum(rows for _, rows in taken) >= 2900
    assert _extents(ods._ods_tables(iter([data]))) == [("S0", 3000, 3)]


HOSTILE_ROWS = {
    "a repeat after plain rows": _row([("value", 1000)], 30_000, 1, True),
    "a repeat on a cell": _row([("value", 1)] * 3 + [("value", 20_000)], 1, 1, True),
    "a repeat on a covered cell": _row([("covered", 2_000)], 20_000, 0, False),
    "spaces around =": '<table:table-row><table:table-cell table:number-columns-repeated = "20000"'
    ' office:value="1"/></table:table-row>',
    "a valued padding": '<table:table-row><table:table-cell table:number-columns-repeated="16384"'
    ' office:value-type="float" office:value="1"/></table:table-row>',
    "a cell repeat hidden in a quoted value": '<table:table-row table:number-rows-repeated="30000">'
    "<table:table-cell x=' table:number-columns-repeated=\"' table:number-columns-repeated="
    '"1000" office:value="1"/></table:table-row>',
    "no space between attributes": '<table:table-row table:style-name="ro1"table:number-rows-'
    'repeated="30000"><table:table-cell table:number-columns-repeated="1000" office:value="1"/>'
    "</table:table-row>",
    "a row end in a comment": '<table:table-row table:number-rows-repeated="30000">'
    '<table:table-cell table:number-columns-repeated="1000" office:value-type="float"'
    ' office:value="1"><!-- </table:table-row><table:table-row> --></table:table-cell>'
    "</table:table-row>",
    "a tab after the name": '<table:table-row\ttable:number-rows-repeated="30000">'
    '<table:table-cell\ttable:number-columns-repeated="1000" office:value="1"/></table:table-row>',
}


@pytest.mark.parametrize("case", sorted(HOSTILE_ROWS))
@pytest.mark.parametrize("where", [0, 3000, 7999])
def test_a_large_row_among_plain_ones_is_refused(tmp_path, case, where):
    plain = _row([("value", 1)] * 5, 1, 1, True)
    rows = [plain] * where + [HOSTILE_ROWS[case]] + [plain] * (8000 - where)
    path = tmp_path / "big.ods"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", _content([rows]), zipfile.ZIP_DEFLATED)
    with pytest.raises(ImportReadError, match=r"big\.ods, sheet S0: the sheet claims"):
        check_workbook(path)


def test_a_row_written_empty_holds_no_cell():
    """``<table:table-row/>`` is a row without cells: a cell after it is outside any row
    and the reader passes over it (it fails on the stray end tag, building nothing)."""
    plain = _row([("value", 1)] * 5, 1, 1, True)
    row = (
        '<table:table-row table:number-rows-repeated="30000"/><table:table-cell'
        ' table:number-columns-repeated="1000" office:value="1"/></table:table-row>'
    )
    data = _content([[plain] * 10 + [row] + [plain] * 10])
    assert _extents(ods._ods_tables(iter([data]))) == [("S0", 30020, 5)]
    assert _extents(ods._ods_rows(iter([data]))) == [("S0", 30020, 5)]


def test_libreoffice_fixture_sizes_as_before():
    path = Path(__file__).parents[1] / "data" / "import" / "inventory_q3.ods"
    with zipfile.ZipFile(path) as zf:
        data = zf.read("content.xml")
    fast = _extents(ods._ods_rows(iter([data])))
    assert fast is not None
    exact = list(ods._ods_tables(iter([data])))
    for (_, rows, cols), (_, e) in zip(fast, exact, strict=True):
        assert rows >= e.rows and cols >= e.columns
    # what the reader builds: the same rows, and columns up to the same last one
    book = pc.CalamineWorkbook.from_path(str(path))
    for name, e in exact:
        sheet = book.get_sheet_by_name(name)
        assert e.rows == sheet.end[0] - sheet.start[0] + 1
        assert e.columns == sheet.end[1] + 1
