"""Merged header cells of ODS sheets (:mod:`core.importing.ods_merges`): the reader gives
merged ranges for XLSX only, so an ODS sheet's are read from ``content.xml``, in the
reader's coordinates, from the first rows only, safely, and give the same headers and
mapping as the same sheet saved as XLSX."""

from __future__ import annotations

import contextlib
import time
import tracemalloc
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
import python_calamine as pc
import xlsxwriter

from core.errors import ImportReadError
from core.importing import ods_merges as om
from core.importing import open_source, propose_mapping, sheet_limits_common
from core.importing.mapping import propose_table
from core.importing.reading import HEADER_SEARCH_ROWS

DATA = Path(__file__).resolve().parents[1] / "data" / "import"

_CONTENT = (
    '<?xml version="1.0" encoding="UTF-8"?>{doctype}'
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
    ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
    ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    "<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body>"
    "</office:document-content>"
)
_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
    ' manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/"'
    ' manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def cell(value: object = None, *, cols: int = 1, rows: int = 1, repeat: int = 1) -> str:
    """A cell (text, number or empty), spanning ``cols`` x ``rows`` when merged."""
    attrs = ""
    if cols != 1:
        attrs += f' table:number-columns-spanned="{cols}"'
    if rows != 1:
        attrs += f' table:number-rows-spanned="{rows}"'
    if repeat != 1:
        attrs += f' table:number-columns-repeated="{repeat}"'
    if value is None:
        return f"<table:table-cell{attrs}/>"
    if isinstance(value, int | float):
        return (
            f'<table:table-cell{attrs} office:value-type="float" office:value="{value!r}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    return (
        f'<table:table-cell{attrs} office:value-type="string">'
        f"<text:p>{escape(str(value))}</text:p></table:table-cell>"
    )


def covered(repeat: int = 1) -> str:
    rep = f' table:number-columns-repeated="{repeat}"' if repeat != 1 else ""
    return f"<table:covered-table-cell{rep}/>"


def row(*cells: str, repeat: int = 1, pad: bool = True) -> str:
    """A row; ``pad`` ends it as LibreOffice does, with an empty cell repeated far right."""
    rep = f' table:number-rows-repeated="{repeat}"' if repeat != 1 else ""
    tail = cell(None, repeat=1024) if pad else ""
    return f"<table:table-row{rep}>{''.join(cells)}{tail}</table:table-row>"


def ods(path: Path, tables: dict[str, str], doctype: str = "") -> Path:
    """An OpenDocument spreadsheet of ``{sheet name: rows XML}``."""
    body = "".join(
        f"<table:table table:name={quoteattr(name)}>{rows}</table:table>"
        for name, rows in tables.items()
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        z.writestr("META-INF/manifest.xml", _MANIFEST, zipfile.ZIP_DEFLATED)
        content = _CONTENT.format(doctype=doctype, tables=body)
        z.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return path


def _sheets(path: Path) -> dict:
    return {s.name: s for s in open_source(path)}


# the example of the issue: a group row of merged cells over the sub-headers, and a
# column whose header is one cell merged down over both rows
USAGE_HEADER = [
    row(cell("Quarterly usage, Q1 2026")),
    row(),
    row(
        cell("Deployment", rows=2),
        cell("Energy", cols=2),
        covered(),
        cell("Period", cols=2),
        covered(),
        cell("Requests", rows=2),
    ),
    row(covered(), cell("kWh"), cell("boundary"), cell("start"), cell("end"), covered()),
]
USAGE_DATA = [
    row(cell("Support chat EU"), cell(1250.5), cell("IT equipment"), cell("2026-01-01"),
        cell("2026-01-31"), cell(120000)),
    row(cell("Support chat EU"), cell(1180), cell("IT equipment"), cell("2026-02-01"),
        cell("2026-02-28"), cell(98000)),
]  # fmt: skip
USAGE_HEADERS = [
    "Deployment",
    "Energy kWh",
    "Energy boundary",
    "Period start",
    "Period end",
    "Requests",
]


def test_two_row_merged_header_is_joined_and_mapped(tmp_path):
    path = ods(tmp_path / "usage.ods", {"Usage": "".join(USAGE_HEADER + USAGE_DATA)})
    sheet = _sheets(path)["Usage"]
    assert sheet.header_row == 3 and sheet.first_column == 0
    assert sheet.headers == USAGE_HEADERS
    assert propose_table(sheet)[0] == "usage"
    mapping = propose_mapping(sheet, "usage")
    fields = {c.header: (c.field, c.unit) for c in mapping.columns}
    assert fields["Energy kWh"] == ("energy_kwh", "kWh")
    assert fields["Energy boundary"][0] == "energy_boundary"
    assert fields["Period start"][0] == "period_start"
    assert fields["Period end"][0] == "period_end"
    assert fields["Deployment"][0] == "deployment_id"
    assert fields["Requests"][0] == "requests"


def _xlsx_usage(path: Path, first_row: int = 0, first_col: int = 0) -> Path:
    """The usage sheet of the ODS tests as an XLSX, its title row at ``first_row``."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Usage")
    r, c = first_row, first_col
    ws.write(r, c, "Quarterly usage, Q1 2026")
    ws.merge_range(r + 2, c, r + 3, c, "Deployment")
    ws.merge_range(r + 2, c + 1, r + 2, c + 2, "Energy")
    ws.merge_range(r + 2, c + 3, r + 2, c + 4, "Period")
    ws.merge_range(r + 2, c + 5, r + 3, c + 5, "Requests")
    ws.write_row(r + 3, c + 1, ["kWh", "boundary", "start", "end"])
    ws.write_row(r + 4, c, ["Support chat EU", 1250.5, "IT equipment", "2026-01-01",
                            "2026-01-31", 120000])  # fmt: skip
    wb.close()
    return path


def test_the_same_sheet_as_xlsx_gives_the_same_headers(tmp_path):
    ods_sheet = _sheets(ods(tmp_path / "u.ods", {"Usage": "".join(USAGE_HEADER + USAGE_DATA)}))
    xlsx_sheet = _sheets(_xlsx_usage(tmp_path / "u.xlsx"))
    for name in ("header_row", "first_column", "headers"):
        assert getattr(ods_sheet["Usage"], name) == getattr(xlsx_sheet["Usage"], name)


def test_a_workbook_saved_by_an_office_suite_reads_as_its_xlsx_twin():
    """The committed fixtures were saved by LibreOffice from one layout: the ODS's group
    row over the training runs' sub-headers is joined as the XLSX's is."""
    from_ods, from_xlsx = _sheets(DATA / "inventory_q3.ods"), _sheets(DATA / "inventory_q3.xlsx")
    assert from_ods.keys() == from_xlsx.keys()
    for name, sheet in from_ods.items():
        assert (sheet.header_row, sheet.headers) == (
            from_xlsx[name].header_row,
            from_xlsx[name].headers,
        )
    assert from_ods["Training runs"].headers[:2] == ["Run Run name", "Run Model"]
    assert from_ods["Training runs"].headers[-2] == "Measured Energy [MWh]"


def test_a_sheet_starting_at_b3_uses_the_readers_coordinates(tmp_path):
    """Rows count from the top of the sheet and columns from column A, as the reader's
    XLSX merged ranges do; the header is then read relative to the first used column."""
    shifted = "".join(
        [row(), row()] + [r.replace("<table:table-row>", "<table:table-row>" + cell(None), 1)
                          for r in USAGE_HEADER + USAGE_DATA]
    )  # fmt: skip
    path = ods(tmp_path / "b3.ods", {"Usage": shifted})
    ranges = om.ods_merged_ranges(path, ["Usage"], HEADER_SEARCH_ROWS)["Usage"]
    assert sorted(ranges) == [
        ((4, 1), (5, 1)),
        ((4, 2), (4, 3)),
        ((4, 4), (4, 5)),
        ((4, 6), (5, 6)),
    ]
    sheet = pc.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Usage")
    assert sheet.start == (2, 1)
    grid = [list(r) for r in sheet.iter_rows()]
    for (r0, c0), _ in ranges:  # the top-left cell of each range is where the reader puts it
        assert grid[r0][c0 - sheet.start[1]] in ("Deployment", "Energy", "Period", "Requests")

    info = _sheets(path)["Usage"]
    twin = _sheets(_xlsx_usage(tmp_path / "b3.xlsx", first_row=2, first_col=1))["Usage"]
    assert info.first_column == twin.first_column == 1
    assert info.header_row == twin.header_row == 5
    assert info.headers == twin.headers == USAGE_HEADERS
    assert info.column_letter(1) == "C"


def test_two_sheets_each_get_their_own_merges(tmp_path):
    runs = "".join(
        [
            row(cell("Run", cols=3), covered(2), cell("Measured", cols=2), covered()),
            row(cell("Run name"), cell("Model"), cell("Type"), cell("Energy [MWh]"),
                cell("Boundary")),
            row(cell("ft-a"), cell("Assistant 2.1"), cell("Fine-tuning"), cell(1.25),
                cell("IT equipment")),
        ]
    )  # fmt: skip
    usage = "".join(USAGE_HEADER + USAGE_DATA)
    plain = "".join([row(cell("Name"), cell("Instrument")), row(cell("PPA"), cell("PPA"))])
    path = ods(tmp_path / "two.ods", {"Training runs": runs, "Sourcing": plain, "Usage": usage})
    ranges = om.ods_merged_ranges(path, ["Training runs", "Sourcing", "Usage"], 30)
    assert ranges == {
        "Training runs": [((0, 0), (0, 2)), ((0, 3), (0, 4))],
        "Usage": [((2, 0), (3, 0)), ((2, 1), (2, 2)), ((2, 3), (2, 4)), ((2, 5), (3, 5))],
    }
    sheets = _sheets(path)
    assert sheets["Training runs"].headers == [
        "Run Run name",
        "Run Model",
        "Run Type",
        "Measured Energy [MWh]",
        "Measured Boundary",
    ]
    assert sheets["Usage"].headers == USAGE_HEADERS
    assert sheets["Sourcing"].headers == ["Name", "Instrument"]
    assert propose_table(sheets["Training runs"])[0] == "training_runs"


@pytest.mark.parametrize("name", ["R&D usage", 'Usage <EU> & "US"', "Q1 'usage'"])
def test_sheets_are_found_by_their_escaped_names(tmp_path, name):
    other = "".join([row(cell("X", cols=3), covered(2)), row(cell("a"), cell("b"), cell("c"))])
    path = ods(tmp_path / "names.ods", {"Other": other, name: "".join(USAGE_HEADER + USAGE_DATA)})
    sheets = _sheets(path)
    assert name in sheets  # the reader's name, unescaped, is the key
    assert sheets[name].headers == USAGE_HEADERS
    ranges = om.ods_merged_ranges(path, [name], 30)
    assert list(ranges) == [name]


def test_positions_count_repeats_covered_cells_and_wrappers(tmp_path):
    """Every way a row or a cell takes more than one position: the range's top-left
    cell is where the reader puts the cell's value."""
    rows = "".join(
        [
            "<table:table-column table:number-columns-repeated='4'/>",
            row(repeat=2),  # two empty rows in one element
            "<table:table-row/>",  # a row with no cells at all
            "<table:table-header-rows>",
            row(cell(None, repeat=2), cell("A", cols=3), covered(2), cell("B", cols=2), covered()),
            "</table:table-header-rows>",
            "<table:table-row-group>",
            row(cell("x"), cell(None, repeat=3), cell("C", rows=2, cols=2), covered(),
                cell("D")),
            row(cell("y"), cell("E", cols=2), covered(), cell(None), covered(repeat=2)),
            "</table:table-row-group>",
            # single quotes and spaces around "=" are XML too
            "<table:table-row  table:number-rows-repeated = '2' >"
            "<table:table-cell table:number-columns-spanned = '2' office:value-type='string'>"
            "<text:p>F</text:p></table:table-cell><table:covered-table-cell/>"
            "</table:table-row>",
            row(cell(1.0), cell(2.0), cell(3.0)),
        ]
    )  # fmt: skip
    path = ods(tmp_path / "pos.ods", {"S": rows})
    ranges = om.ods_merged_ranges(path, ["S"], 30)["S"]
    assert ranges == [
        ((3, 2), (3, 4)),
        ((3, 5), (3, 6)),
        ((4, 4), (5, 5)),
        ((5, 1), (5, 2)),
        ((6, 0), (6, 1)),
        ((7, 0), (7, 1)),
    ]
    sheet = pc.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("S")
    grid = [list(r) for r in sheet.iter_rows()]
    left = sheet.start[1]
    tops = [grid[r0][c0 - left] for (r0, c0), _ in ranges]
    assert tops == ["A", "B", "C", "E", "F", "F"]


def test_only_the_first_rows_count_and_the_rest_is_not_read(tmp_path):
    header = row(cell("Energy", cols=2), covered()) + row(cell("kWh"), cell("boundary"))
    late = row(cell("Late", cols=2), covered())
    body = header + row(cell(1.0), cell("IT")) * 40 + late
    path = ods(tmp_path / "late.ods", {"S": body})
    assert om.ods_merged_ranges(path, ["S"], 30) == {"S": [((0, 0), (0, 1))]}
    assert om.ods_merged_ranges(path, ["S"], 50) == {"S": [((0, 0), (0, 1)), ((42, 0), (42, 1))]}

    # once the wanted table's first rows are read, nothing more of the part is pulled
    content = _CONTENT.format(doctype="", tables=f'<table:table table:name="S">{body}')
    cut = content.index(late)

    def chunks():
        yield content[:cut].encode()
        raise AssertionError("read past the first rows")

    scan = om._Scan({"S"}, 30)
    scan.feed(chunks())
    assert scan.out == {"S": [((0, 0), (0, 1))]}


def test_chunk_boundaries_anywhere_give_the_same_ranges(tmp_path, monkeypatch):
    shifted = "".join(r.replace("<table:table-row>", "<table:table-row>" + cell(None), 1)
                      for r in USAGE_HEADER + USAGE_DATA)  # fmt: skip
    body = row(cell(1.0)) * 100  # a long first table, skipped to its end
    path = ods(tmp_path / "chunks.ods", {"Long": body, "Usage": shifted, "R&D": shifted})
    whole = om.ods_merged_ranges(path, ["Usage", "R&D"], 30)
    assert whole["Usage"] == whole["R&D"] and len(whole["Usage"]) == 4
    for size in (1, 7, 64, 333):
        monkeypatch.setattr(sheet_limits_common, "CHUNK_BYTES", size)
        assert om.ods_merged_ranges(path, ["Usage", "R&D"], 30) == whole


def test_no_merges_or_no_package_gives_nothing(tmp_path):
    path = ods(tmp_path / "plain.ods", {"S": row(cell("a"), cell("b")) + row(cell(1), cell(2))})
    assert om.ods_merged_ranges(path, ["S"], 30) == {}
    assert om.ods_merged_ranges(path, [], 30) == {}
    broken = tmp_path / "broken.ods"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    assert om.ods_merged_ranges(broken, ["S"], 30) == {}
    nocontent = tmp_path / "nocontent.ods"
    with zipfile.ZipFile(nocontent, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
    assert om.ods_merged_ranges(nocontent, ["S"], 30) == {}


# -- hostile content.xml --------------------------------------------------------------------

LAUGHS = (
    '<!DOCTYPE office:document-content [<!ENTITY a0 "ha">'
    + "".join(f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    + '<!ENTITY ext SYSTEM "file:///etc/passwd">]>'
)


def _bounded(call, seconds: float = 5.0, peak_mb: float = 64.0):
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        result = call()
    finally:
        elapsed = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < seconds, f"took {elapsed:.1f} s"
    assert peak < peak_mb * 1024**2, f"peak {peak / 1024**2:.0f} MB"
    return result


def test_entities_are_never_expanded(tmp_path):
    name = "&a9;&ext;"
    rows = row(cell("&a9;", cols=2), covered()) + row(cell("kWh"), cell("boundary"))
    rows = rows.replace("&amp;a9;", "&a9;")  # an entity reference, not the text "&a9;"
    path = ods(tmp_path / "laughs.ods", {"S": rows}, doctype=LAUGHS)
    content = zipfile.ZipFile(path).read("content.xml")
    assert b"<!ENTITY a9" in content and b"<text:p>&a9;</text:p>" in content
    ranges = _bounded(lambda: om.ods_merged_ranges(path, ["S", name], 30))
    assert ranges == {"S": [((0, 0), (0, 1))]}
    with contextlib.suppress(ImportReadError):  # the reader refuses it; fast and small
        _bounded(lambda: open_source(path))


def test_huge_spans_and_repeats_are_bounded(tmp_path):
    rows = "".join(
        [
            # a cell spanning a billion columns and rows, repeated a billion times
            "<table:table-row table:number-rows-repeated='999999999999'>"
            "<table:table-cell table:number-columns-spanned='999999999999999999999'"
            " table:number-rows-spanned='1000000000' table:number-columns-repeated='1000000000'"
            " office:value-type='string'><text:p>Huge</text:p></table:table-cell>"
            "</table:table-row>",
        ]
    )
    path = ods(tmp_path / "huge.ods", {"S": rows})
    ranges = _bounded(lambda: om.ods_merged_ranges(path, ["S"], 30))["S"]
    assert len(ranges) == om.MAX_MERGES
    assert ranges[0] == ((0, 0), (999_999_999, 999_999_999_999))  # a span capped, not parsed
    # a header row of many small merged cells: no more ranges than the cap are kept
    many = row(*[cell(f"G{i}", cols=2) + covered() for i in range(20_000)], pad=False)
    path = ods(tmp_path / "many.ods", {"S": many * 3 + row(cell("a"))})
    ranges = _bounded(lambda: om.ods_merged_ranges(path, ["S"], 30))["S"]
    assert ranges == [((0, c), (0, c + 1)) for c in range(0, 2 * om.MAX_MERGES, 2)]


def test_wide_rows_are_bounded(tmp_path):
    """Rows without merged cells are skipped whole, however long (across chunks too); a
    row with one is followed up to the widest sheet's last column, and a sheet's first
    rows only up to so many tags."""
    wide = [cell("b")] * 5_000  # each row 400 KB, tag by tag 10,000 tags
    rows = [row(*wide, pad=False)] * 29 + [row(cell("M", cols=2), covered(), pad=False)]
    path = ods(tmp_path / "wide.ods", {"S": "".join(rows)})
    assert _bounded(lambda: om.ods_merged_ranges(path, ["S"], 30)) == {"S": [((29, 0), (29, 1))]}

    # past column XFD nothing counts (one tag takes the row there)
    far = row(cell("M", cols=2), covered(), cell(None, repeat=20_000), cell("Z", cols=2), covered())
    path = ods(tmp_path / "far.ods", {"S": far * 2})
    assert om.ods_merged_ranges(path, ["S"], 30) == {"S": [((0, 0), (0, 1)), ((1, 0), (1, 1))]}

    merged = row(cell(None), cell("M", cols=2), covered(), cell(None, repeat=1) * 10_000,
                 pad=False)  # fmt: skip
    path = ods(tmp_path / "wide_merged.ods", {"S": merged * 30})
    ranges = _bounded(lambda: om.ods_merged_ranges(path, ["S"], 30))["S"]
    assert 1 <= len(ranges) < 30  # the tag budget ran out: the ranges found so far
    assert ranges == [((r, 1), (r, 2)) for r in range(len(ranges))]


def test_a_tag_too_long_to_follow_stops_the_scan(tmp_path, monkeypatch):
    monkeypatch.setattr(om, "MAX_TAG_BYTES", 4096)
    monkeypatch.setattr(sheet_limits_common, "CHUNK_BYTES", 1024)
    long_tag = f"<table:table-cell table:style-name='{'x' * 10_000}' />"
    rows = (
        row(cell("E", cols=2), covered())
        + row(cell("G", cols=2), covered(), long_tag)  # a row with a merge: tag by tag
        + row(cell("F", cols=2), covered())
    )
    path = ods(tmp_path / "long.ods", {"S": rows})
    assert _bounded(lambda: om.ods_merged_ranges(path, ["S"], 30)) == {}


def test_unterminated_and_stray_tags_end_quietly(tmp_path):
    content = (
        '<office:document-content><table:table table:name="S">'
        + row(cell("E", cols=2), covered())
        + "<table:table-row><table:table-cell table:number-columns-spanned='2'"
    ).encode()
    scan = om._Scan({"S"}, 30)
    scan.feed(iter([content]))
    assert scan.out == {}  # the table never ended: nothing is reported for it
    stray = (
        "<table:table-cell table:number-columns-spanned='2'/></table:table-row>"
        '<table:table table:name="S"><table:table table:name="inner">'
        + row(cell("E", cols=2), covered())
        + "</table:table>"
        + row(cell("G", cols=2), covered())
    ).encode()
    scan = om._Scan({"S", "inner"}, 30)
    scan.feed(iter([stray]))
    assert scan.out == {"S": [((0, 0), (0, 1))]}  # the first end tag ends the table
