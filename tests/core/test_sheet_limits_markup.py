"""The sheet-size check reads the XML of a workbook the way the reader does, so that a
file cannot show it one thing and the reader another.

Tags end where the reader's XML parser (quick-xml) ends them: a ``>`` inside a quoted
attribute value (legal XML, in double or single quotes) does not end a tag, a ``<``
there does not start one, comments, CDATA sections and processing instructions hide
what they hold, attributes are read one after the other. Rows and cells are read the
way the reader reads them: what a cell holds is stepped over (a row written inside a
cell is no row). And a damaged zip entry is read as far as the reader reads it.

Each hostile case is checked twice: small, against the reader itself (in this process:
the grids are tiny), the check must find at least the grid the reader builds; large,
where the reader would build a grid past the limits (it aborts the process doing so:
checked by hand in a memory-capped child), the check must refuse the file with the
usual message.
"""

from __future__ import annotations

import random
import struct
import zipfile
from pathlib import Path

import pytest
import python_calamine as pc

from core.errors import ImportReadError
from core.importing import ods_merges as om
from core.importing import sheet_limits_common as common
from core.importing.sheet_limits import check_workbook
from core.importing.sheet_limits_common import Markup, _open_chunks, _TagTooLong, _Unsure
from core.importing.sheet_limits_ods import _ods_rows, _ods_tables
from core.importing.sheet_limits_xlsx import _xlsx_exact

# -- files ----------------------------------------------------------------------------

_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
    ' manifest:version="1.2"><manifest:file-entry manifest:full-path="/"'
    ' manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def _content(body: str, doctype: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{doctype}<office:document-content'
        ' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:spreadsheet>{body}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )


def ods(path: Path, rows: str, name: str = "S", doctype: str = "", table: str = "") -> Path:
    """An ODS file of one table ``name`` (``table``: the whole body instead), after a few
    open elements (so that stray end tags never leave the reader without an element to
    close: it would fail at the end of the document, hiding what it built)."""
    body = "<pad>" * 6 + (table or f'<table:table table:name="{name}">{rows}</table:table>')
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        z.writestr("META-INF/manifest.xml", _MANIFEST, zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", _content(body, doctype), zipfile.ZIP_DEFLATED)
    return path


_XLSX_PARTS = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
    'openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType='
    '"application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml"'
    ' ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
    '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override'
    ' PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
    'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"'
    ' Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.'
    'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/>'
    "</sheets></workbook>",
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns='
    '"http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1"'
    ' Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"'
    ' Target="worksheets/sheet1.xml"/></Relationships>',
}


def xlsx(path: Path, sheet_data: str) -> Path:
    """An XLSX file of one sheet "S" with ``sheet_data`` inside ``<sheetData>`` (after
    a few open elements, so that stray end tags in it never leave the reader without an
    element to close)."""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.'
        'org/spreadsheetml/2006/main">' + "<pad>" * 6 + f"<sheetData>{sheet_data}</sheetData>"
        "</worksheet>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in _XLSX_PARTS.items():
            z.writestr(name, data)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return path


def _reader_grid(path: Path, box: bool = False) -> tuple[int, int] | None:
    """``(rows, last column + 1)`` of the reader's grid of the first sheet (columns to
    the last one, as the ODS check counts them; ``box``: from the first one, as the
    XLSX check does), None for an empty sheet."""
    sheet = pc.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    if sheet.start is None:
        return None
    first = sheet.start[1] if box else 0
    return sheet.end[0] - sheet.start[0] + 1, sheet.end[1] - first + 1


def _ods_grid(path: Path) -> tuple[int, int]:
    with zipfile.ZipFile(path) as zf:
        chunks = _open_chunks(zf, zf.getinfo("content.xml"))
        ((_, exact),) = _ods_tables(chunks)
        ((_, fast),) = _ods_rows(chunks)
    assert fast.rows >= exact.rows and fast.columns >= exact.columns
    return exact.rows, exact.columns


def _xlsx_grid(path: Path) -> tuple[int, int, str | None]:
    with zipfile.ZipFile(path) as zf:
        e = _xlsx_exact(_open_chunks(zf, zf.getinfo("xl/worksheets/sheet1.xml")))
    return e.rows, e.columns, e.far


def _refused(path: Path) -> None:
    with pytest.raises(ImportReadError, match=rf"{path.name}, sheet \S+: the sheet claims"):
        check_workbook(path)


# -- ODS -------------------------------------------------------------------------------


def _cells(n: int, inner: str = "", attrs: str = "") -> str:
    """A valued cell repeated ``n`` times holding ``inner``."""
    return (
        f'<table:table-cell office:value-type="float" office:value="1"{attrs}'
        f' table:number-columns-repeated="{n}">{inner}</table:table-cell>'
    )


def _rows(repeat: int, cells: str, attrs: str = "") -> str:
    return (
        f'<table:table-row{attrs} table:number-rows-repeated="{repeat}">{cells}</table:table-row>'
    )


#: attribute values holding ">" (legal XML), in double and single quotes: the tags
#: still end where the reader ends them, so the grid is the reader's
LEGAL = {
    "double quotes": (' table:style-name="a>b"', ' table:style-name="c>/d"'),
    "single quotes": (" table:style-name='a>b'", " table:style-name='c>\"/>'"),
    "quotes of both kinds": (' x=\'"\' y=">"', " x=\"'>\" y='\"/>'"),
}


@pytest.mark.parametrize("case", sorted(LEGAL))
def test_a_gt_in_a_quoted_value_is_read_as_the_reader_reads_it(tmp_path, case):
    row_attrs, cell_attrs = LEGAL[case]
    rows = (
        _rows(3, _cells(4, "<text:p>a &gt; b > c</text:p>", cell_attrs), row_attrs)
        + f"<table:table-row{row_attrs}><table:table-cell{cell_attrs}/>"
        + _cells(2, attrs=cell_attrs)
        + "</table:table-row>"
    )
    small = ods(tmp_path / "small.ods", rows)
    assert _ods_grid(small) == _reader_grid(small) == (4, 4)
    check_workbook(small)
    big = ods(tmp_path / "big.ods", _rows(1_000_000, _cells(100, "", cell_attrs), row_attrs))
    _refused(big)


def test_a_table_name_holding_a_gt_names_the_sheet(tmp_path):
    path = ods(tmp_path / "name.ods", _rows(1_000_000, _cells(100)), name="Usage > 2026")
    with pytest.raises(ImportReadError, match=r"name\.ods, sheet Usage > 2026: the sheet claims"):
        check_workbook(path)


#: what a cell may hold that looks like rows (or tables) to a byte scan but is stepped
#: over by the reader, a far cell's worth of rows behind it
IN_A_CELL = {
    "a comment": "<!-- </table:table-row><table:table-row> -->",
    "a CDATA section": "<text:p><![CDATA[</table:table-row><table:table-row>]]></text:p>",
    "a processing instruction": "<?x </table:table-row><table:table-row> ?>",
    "a double-quoted value": '<text:p x="</table:table-row><table:table-row>"/>',
    "a single-quoted value": "<text:p x='</table:table-row><table:table-row>'/>",
    "an unquoted '<' in a tag": "<text:p <table:table-row>",
    "a row": "<table:table-row/><table:table-row><table:table-cell/></table:table-row>",
    "a table": '<table:table table:name="X"/></table:table><table:table table:name="Y">',
    "a table end": "</table:table>",
}


@pytest.mark.parametrize("case", sorted(IN_A_CELL))
def test_what_a_cell_holds_cannot_end_its_row(tmp_path, case):
    inner = IN_A_CELL[case]
    small = ods(tmp_path / "small.ods", _rows(3, _cells(4, inner)) + _rows(1, _cells(2)))
    assert _ods_grid(small) == _reader_grid(small) == (4, 4)
    big = ods(tmp_path / "big.ods", _rows(1_000_000, _cells(100, inner)))
    _refused(big)


#: between rows: what the reader passes over (it reads only row starts and the table's
#: end there), or does not take for the table's end
BETWEEN_ROWS = {
    "a comment": "<!-- </table:table> -->",
    "an end tag with more in it": '</table:table x="">',
    "an end tag ending in a form feed": "</table:table\x0c>",
    "a table": '<table:table table:name="X">',
    "a column": '<table:table-column table:number-columns-repeated="3"/>',
}


@pytest.mark.parametrize("case", sorted(BETWEEN_ROWS))
def test_what_lies_between_rows_cannot_end_the_table(tmp_path, case):
    first = _rows(1, _cells(1))
    small = ods(tmp_path / "small.ods", first + BETWEEN_ROWS[case] + _rows(3, _cells(4)))
    assert _ods_grid(small) == _reader_grid(small) == (4, 4)
    big = ods(tmp_path / "big.ods", first + BETWEEN_ROWS[case] + _rows(1_000_000, _cells(100)))
    _refused(big)


#: repeat counts the reader reads that a search for the attribute would miss
HIDDEN_REPEATS = {
    "after a value holding its name": "<table:table-row x=' table:number-rows-repeated=\"'"
    ' table:number-rows-repeated="1000000">',
    "with no space before it": '<table:table-row table:style-name="ro1"table:number-rows-repeated'
    '="1000000">',
    "as character references": '<table:table-row table:number-rows-repeated="&#49;&#48;&#48;&#48;'
    '&#48;&#48;&#48;">',
    "with spaces around '='": "<table:table-row table:number-rows-repeated = '1000000'>",
}


@pytest.mark.parametrize("case", sorted(HIDDEN_REPEATS))
def test_a_repeat_count_is_read_as_the_reader_reads_it(tmp_path, case):
    path = ods(tmp_path / "big.ods", HIDDEN_REPEATS[case] + _cells(100) + "</table:table-row>")
    _refused(path)


def test_rows_split_by_comments_cannot_narrow_a_wide_row(tmp_path):
    """Plain rows are sized in bulk; a comment in each cell of a wide row holding a row
    end and a row start would split it into narrow rows for a byte scan."""
    fake = "<!--</table:table-row><table:table-row>-->"
    wide = (
        "<table:table-row>"
        + _cells(1, fake).replace(' table:number-columns-repeated="1"', "") * 16_384
        + "</table:table-row>"
    )
    narrow = "<table:table-row>" + _cells(1).replace(' table:number-columns-repeated="1"', "")
    path = ods(tmp_path / "split.ods", wide + (narrow + "</table:table-row>") * 2000)
    _refused(path)


def test_a_cell_ended_by_another_cells_tag_spans_what_follows(tmp_path):
    """The reader steps over a cell's content to the end tag of its own name: a covered
    cell's end tag (or a row end) inside it does not end it."""
    rows = (
        '<table:table-row table:number-rows-repeated="100000"><table:table-cell office:value="1">'
        "</table:covered-table-cell></table:table-row><table:table-row></table:table-cell>"
        + _cells(200)
        + "</table:table-row>"
    )
    _refused(ods(tmp_path / "swallow.ods", rows))


# -- document type declarations --------------------------------------------------------

ENTITIES = '<!DOCTYPE x [<!ENTITY a "b"><!-- a comment --><!ENTITY c SYSTEM "file:///x">]>'


def test_a_declaration_of_entities_is_read_past(tmp_path):
    path = ods(tmp_path / "dtd.ods", _rows(3, _cells(4)), doctype=ENTITIES)
    assert _ods_grid(path) == (3, 4)
    check_workbook(path)
    _refused(ods(tmp_path / "big.ods", _rows(1_000_000, _cells(100)), doctype=ENTITIES))


@pytest.mark.parametrize(
    ("doctype", "rows", "why"),
    [
        ('<!DOCTYPE x [<!ENTITY a "<table:table-row>">]>', "", "holding markup"),
        ("<!DOCTYPE x [<!-- open > ]>", "", "an open comment"),
        (ENTITIES, _cells(1, "<!-- x -->"), "a comment after"),
        (ENTITIES, _cells(1, '<text:p x=">"/>'), "a quoted '<' or '>' after"),
    ],
)
def test_markup_the_reader_could_read_two_ways_is_refused(tmp_path, doctype, rows, why):
    """The reader ends a declaration counting "<" and ">" a buffer at a time, so where
    it ends it depends on where its buffers end: when that could change what it reads,
    the file is refused."""
    path = ods(tmp_path / "two.ods", f"<table:table-row>{rows}</table:table-row>", doctype=doctype)
    with pytest.raises(ImportReadError, match=f"two.ods: .*{why}.*which no office program"):
        check_workbook(path)


# -- XLSX ------------------------------------------------------------------------------

_A1 = '<row r="1"><c r="A1"><v>1</v></c></row>'


@pytest.mark.parametrize("quote", ['"', "'"])
def test_a_far_cell_hidden_behind_a_quoted_slash_gt_is_seen(tmp_path, quote):
    """``<c r="XFD1048576" x="/>">`` holds a value: its tag ends at the last ">"."""
    q = quote
    far = f"<row r={q}1048576{q}><c r={q}XFD1048576{q} x={q}/>{q}><v>1</v></c></row>"
    _refused(xlsx(tmp_path / "far.xlsx", _A1 + far))
    small = xlsx(tmp_path / "small.xlsx", _A1 + far.replace("1048576", "4").replace("XFD", "D"))
    assert _xlsx_grid(small)[:2] == _reader_grid(small, box=True) == (4, 4)


def test_a_gt_in_quoted_values_is_read_as_the_reader_reads_it(tmp_path):
    data = (
        _A1 + "<row r='3' x='>'><c r='C3' s=\">\" t='n'><v>2</v></c>"
        '<c r="E3" t="str" x=\'"/>\'><v>a>b</v></c></row>'
    )
    path = xlsx(tmp_path / "gt.xlsx", data)
    assert _xlsx_grid(path) == (3, 5, "E3")
    assert _reader_grid(path, box=True) == (3, 5)


#: markup between cells written without r (placed one after the other) that a byte scan
#: could take for a new row, sending the cells after it back to column A
BEFORE_CELLS = {
    "a comment": '<!-- <row r="2"> -->',
    "a CDATA section": '<x><![CDATA[<row r="2">]]></x>',
    "a quoted value": "<x a=\"<row r='2'>\"/>",
    "an inline string": '<c t="inlineStr"><is><t>a</t><row r="2"/></is></c>',
    "a text value": '<c t="str"><v>a<row r="2"/></v></c>',
    "a formula": "<c><f><row r='2'/></f></c>",
}


@pytest.mark.parametrize("case", sorted(BEFORE_CELLS))
def test_markup_between_cells_cannot_move_them(tmp_path, case):
    cells = "<c><v>1</v></c>" * 100
    far = f'<row r="1048576">{BEFORE_CELLS[case]}{cells}</row>'
    _refused(xlsx(tmp_path / "far.xlsx", _A1 + far))
    small = xlsx(tmp_path / "small.xlsx", _A1 + far.replace("1048576", "4"))
    rows, cols, _ = _xlsx_grid(small)
    reader = _reader_grid(small, box=True)
    assert reader is not None and rows >= reader[0] and cols >= reader[1]
    assert rows == 4 and cols >= 100


#: what a value holds, stepped over as the reader steps over it: an <is> or a text <v>
#: to the first end tag of its name, a number's <v> past its first event then to its
#: matching end tag, an <f> to its matching end tag (each checked against the reader)
VALUES = {
    "nested inline strings": '<c r="B2" t="inlineStr"><is><is><t>a</t></is></c><c r="D4"'
    ' t="inlineStr"><is><t>b</t></is></c></is></c>',
    "a text value holding a value": '<c r="B2" t="str"><v>x<v></v></c><c r="D4"><v>1</v></c>'
    "</v></c>",
    "a number's value holding a value": '<c r="B2"><v><v></v></c><c r="D4"><v>1</v></c></v></c>',
    "a number's value after text": '<c r="B2"><v>7<v></v></c><c r="D4"><v>1</v></c></v></c>',
    "a formula holding a formula": '<c r="B2"><f><f></f></c><c r="D4"><v>1</v></c></f><v>2</v></c>',
    "a row inside an inline string": '<c t="inlineStr"><is><t>a</t></row><row r="9"></is></c>'
    '<c t="inlineStr"><is><t>b</t></is></c>',
}


#: the grid the reader builds for each (rows, columns of its box; checked against it)
VALUE_GRIDS = {
    "nested inline strings": (3, 3),
    "a text value holding a value": (3, 3),
    "a number's value holding a value": (1, 1),  # only D4: B2's value is empty
    "a number's value after text": (1, 1),
    "a formula holding a formula": (1, 1),
    "a row inside an inline string": (1, 2),
}


@pytest.mark.parametrize("case", sorted(VALUES))
def test_values_are_stepped_over_as_the_reader_steps_over_them(tmp_path, case):
    path = xlsx(tmp_path / "values.xlsx", f'<row r="2">{VALUES[case]}</row>')
    assert _reader_grid(path, box=True) == VALUE_GRIDS[case]
    rows, cols, _ = _xlsx_grid(path)
    assert rows >= VALUE_GRIDS[case][0] and cols >= VALUE_GRIDS[case][1]
    # the cells a value hides are hidden here too: no grid larger than B2:D4
    assert rows <= 3 and cols <= 3


# -- zip entries -----------------------------------------------------------------------


def _patch_crc(path: Path, part: str) -> None:
    """Give ``part`` a wrong checksum (local header and central directory)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(part)
    struct.pack_into("<I", data, info.header_offset + 14, info.CRC ^ 0xFFFF)
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        size = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46 : at + 46 + size]) == part.encode():
            struct.pack_into("<I", data, at + 16, info.CRC ^ 0xFFFF)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))


def test_a_wrong_checksum_hides_nothing(tmp_path):
    """The reader checks the checksum only after reading (and building) everything."""
    path = ods(tmp_path / "crc.ods", _rows(1_000_000, _cells(100)))
    _patch_crc(path, "content.xml")
    _refused(path)
    far = '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    path = xlsx(tmp_path / "crc.xlsx", _A1 + far)
    _patch_crc(path, "xl/worksheets/sheet1.xml")
    _refused(path)


def test_damaged_data_hides_nothing_before_the_damage(tmp_path):
    """The reader reads and builds everything before the place where the compressed
    data is damaged; the check sees all of it too (not only whole chunks)."""
    rng = random.Random(0)
    noise = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(200_000))
    table = '<table:table table:name="S">' + _rows(1_000_000, _cells(100)) + "</table:table>"
    path = ods(tmp_path / "damaged.ods", "", table=table + f"<!--{noise}-->")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("content.xml")
    name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_len + extra_len
    assert info.compress_size > 50_000
    for i in range(40):  # well after the table, in the comment
        data[start + info.compress_size // 2 + i] ^= 0x55
    path.write_bytes(bytes(data))
    _refused(path)


def test_part_chunks_stop_at_the_damage_and_the_declared_size(tmp_path):
    payload = bytes(range(256)) * 4000
    path = tmp_path / "p.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a", payload)
        z.writestr("b", payload, zipfile.ZIP_STORED)
    with zipfile.ZipFile(path) as zf:
        assert b"".join(_open_chunks(zf, zf.getinfo("a"))) == payload
        assert b"".join(_open_chunks(zf, zf.getinfo("b"))) == payload
        info = zf.getinfo("a")
        info.file_size = 1000  # declared smaller: the reader stops there too (and fails)
        assert b"".join(_open_chunks(zf, info)) == payload[:1000]


# -- the tokenizer -----------------------------------------------------------------------

DOC = (
    b'<?xml version="1.0"?><a x=">" y=\'<b>\'><!-- <c/> --><![CDATA[<d/>]]><?pi <e/> ?>'
    b'<c/>text > more<d z=\'"\'></d ><f\tg="1"/><!---->< notatag><!x<h/></a>'
)


def _events(chunks) -> list:
    return list(Markup(chunks, rb"[a-h][ \t\r\n/>]"))


def test_tags_end_where_the_reader_ends_them():
    assert _events([DOC]) == [
        (False, b"a", b"a x=\">\" y='<b>'", False),
        (False, b"c", b"c", True),
        (False, b"d", b"d z='\"'", False),
        (True, b"d", b"", False),
        (False, b"f", b'f\tg="1"', True),
        (False, b"h", b"h", True),  # "<!x" is no markup the reader knows: it fails there
        (True, b"a", b"", False),
    ]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13])
def test_chunk_boundaries_change_nothing(size):
    pieces = [DOC[i : i + size] for i in range(0, len(DOC), size)]
    assert _events(pieces) == _events([DOC])


def test_a_tag_of_interest_too_long_is_refused(monkeypatch):
    monkeypatch.setattr(common, "MAX_TAG_BYTES", 64)
    with pytest.raises(_TagTooLong):
        _events([b"<a x='" + b"y" * 100 + b"'/>"])
    long_comment = b"<!--" + b"-" * 500 + b"<a/>" + b"x" * 500 + b"-->" + b"<b/>"
    pieces = [long_comment[i : i + 16] for i in range(0, len(long_comment), 16)]
    assert _events(pieces) == [(False, b"b", b"b", True)]


def test_markup_after_a_declaration_with_entities_must_be_plain():
    with pytest.raises(_Unsure):
        _events([b'<!DOCTYPE a [<!ENTITY e "x">]><a><!-- c --></a>'])
    assert _events([b"<!DOCTYPE a SYSTEM 'x.dtd'><a><!-- c --></a>"]) == [
        (False, b"a", b"a", False),
        (True, b"a", b"", False),
    ]


# -- merged header cells ---------------------------------------------------------------


def test_merged_cells_are_read_as_the_reader_places_them(tmp_path):
    """A ">" in a quoted value does not end a tag; a merged cell in a comment or a
    quoted value, or behind a fake table of the same name, is no merged cell."""
    merged = (
        "<table:table-cell table:style-name=\"a>b\" table:number-columns-spanned='2'"
        ' office:value-type="string"><text:p>Energy</text:p></table:table-cell>'
        "<table:covered-table-cell/>"
    )
    fake = "<!-- <table:table-cell table:number-columns-spanned='9'/> -->"
    rows = (
        f"<table:table-row><table:table-cell x='>' office:value=\"1\"/>{merged}</table:table-row>"
        f'<table:table-row><table:table-cell office:value="1">{fake}</table:table-cell>'
        "<table:table-cell x=\"<table:table-cell table:number-columns-spanned='5'/>\"/>"
        "</table:table-row>"
    )
    decoy = '<!-- <table:table table:name="S"><table:table-row><table:table-cell table:number-c'
    decoy += "olumns-spanned='7'/></table:table-row></table:table> -->"
    table = decoy + f'<table:table table:name="S">{rows}</table:table>'
    path = ods(tmp_path / "merged.ods", "", table=table)
    assert om.ods_merged_ranges(path, ["S"], 30) == {"S": [((0, 1), (0, 2))]}
