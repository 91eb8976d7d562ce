"""Matching free text to model and deployment titles: the word index gives exactly the
answer of scoring every title, and reading a workbook a chunk at a time gives the rows
of reading it row by row."""

from __future__ import annotations

import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.importing import matching

_WORDS = st.sampled_from(["chat", "eu", "bot", "v2", "gpt-4o", "Llama 3.1", "--", "x", "EU"])
_TITLE = st.lists(_WORDS, min_size=0, max_size=4).map(" ".join)


@given(
    titles=st.lists(_TITLE, min_size=0, max_size=30),
    texts=st.lists(st.one_of(_TITLE, st.text(max_size=12)), min_size=1, max_size=10),
)
@settings(max_examples=300, deadline=None)
def test_indexed_titles_match_as_a_full_scan(titles: list[str], texts: list[str]) -> None:
    options = list(enumerate(titles, start=1))
    index = matching.prepare_titles(options)
    plain = list(index)  # the same entries without the index: every title is scored
    for text in texts:
        assert matching.match_title(text, options, index) == matching.match_title(
            text, options, plain
        )


def test_exact_title_found_among_many() -> None:
    options = [(i, f"deployment {i}") for i in range(1, 50_001)]
    options.append((60_000, "Support bot (EU)"))
    index = matching.prepare_titles(options)
    found = matching.match_title("support  BOT (eu)", options, index)
    assert found[0] == (60_000, "Support bot (EU)", 1.0)
    # a text sharing no word with any title is scored against none of them
    assert index.candidates("zzz", {"zzz"}) == []


# few words, so that many titles share each: the counting with numpy, ties of score
# and of title (the same title under several ids) at the fifth place
_SHARED = st.sampled_from(["dep", "eu", "us", "bot", "chat", "v2", "a", "b", "c.d", "1"])
_SHARED_TITLE = st.lists(_SHARED, min_size=0, max_size=5).map("-".join)


@given(
    titles=st.lists(_SHARED_TITLE, min_size=0, max_size=200),
    texts=st.lists(st.one_of(_SHARED_TITLE, st.text(max_size=12)), min_size=1, max_size=8),
    ids=st.randoms(use_true_random=False),
)
@settings(max_examples=300, deadline=None)
def test_counted_titles_match_as_a_full_scan(titles: list[str], texts: list[str], ids) -> None:
    # ids out of order and repeated: the order of the options breaks ties, not the ids
    options = [(ids.randint(1, 20), title) for title in titles]
    counted = matching.prepare_titles(options)
    counted.scan_below = 0  # never the plain loop over the titles sharing a word
    default = matching.prepare_titles(options)
    plain = list(counted)
    for text in texts:
        expected = matching.match_title(text, options, plain)
        assert matching.match_title(text, options, counted) == expected
        assert matching.match_title(text, options, default) == expected


# long titles: scores that differ before rounding but not after (0.8 / 33 and 0.8 / 34
# are both 0.024) are tied, and the title decides between them
_VOCABULARY = [f"w{n}" for n in range(40)]
_LONG_TITLE = st.lists(st.sampled_from(_VOCABULARY), max_size=40).map(" ".join)


@given(
    titles=st.lists(_LONG_TITLE, min_size=0, max_size=60),
    texts=st.lists(_LONG_TITLE, min_size=1, max_size=5),
)
@settings(max_examples=200, deadline=None)
def test_counted_long_titles_round_as_a_full_scan(titles: list[str], texts: list[str]) -> None:
    options = list(enumerate(titles, start=1))
    counted = matching.prepare_titles(options)
    counted.scan_below = 0
    plain = list(counted)
    for text in texts:
        expected = matching.match_title(text, options, plain)
        assert matching.match_title(text, options, counted) == expected


def test_rounding_ties_go_by_title() -> None:
    filler = [f"w{n}" for n in range(1, 35)]
    options = [(n, f"w0 {n} {n + 1}") for n in range(1, 5)]  # 0.8 / 3: the first four
    options.append((10, " ".join(["w0", *reversed(filler[:32])])))  # 0.8 / 33 unrounded
    options.append((11, " ".join(["w0", *filler[:33]])))  # 0.8 / 34, the smaller title
    options.append((12, " ".join(["w0", *filler])))  # 0.8 / 35: 0.023
    counted = matching.prepare_titles(options)
    counted.scan_below = 0
    found = matching.match_title("W0", options, counted)
    # both long ones round to 0.024: the fifth place goes by title, not the raw score
    assert found[4][0] == 11 and found[4][2] == 0.024
    assert found == matching.match_title("W0", options, list(counted))


def test_very_long_text_and_title() -> None:
    # (words in common, title's words) pairs too many for a table of them
    options = [(1, " ".join(f"w{n}" for n in range(5_000)))]
    options += [(2 + n, f"w{n} x{n}") for n in range(0, 3_000, 300)]
    counted = matching.prepare_titles(options)
    counted.scan_below = 0
    for text in (" ".join(f"w{n}" for n in range(2_001)), "w0 w300 x300", "w4999"):
        found = matching.match_title(text, options, counted)
        assert found == matching.match_title(text, options, list(counted))


def _many_titles() -> list[tuple[int, str]]:
    """50,000 deployments sharing "dep", and some varied names sharing other words."""
    options = [(i, f"dep-{i:05d}") for i in range(1, 50_001)]
    regions = ["eu", "us", "asia", "eu-west", "us-east"]
    kinds = ["chat", "support bot", "search", "translate", "summarise v2"]
    for n in range(3_000):
        title = f"{kinds[n % 5]} {regions[n // 5 % 5]} {n // 25}"
        options.append((100_000 + n, title.title() if n % 2 else title))
    return options


def test_many_texts_against_many_titles() -> None:
    options = _many_titles()
    index = matching.prepare_titles(options)
    texts = [f"DEP-{i:05d}" for i in range(1, 50_001, 97)]  # exact titles
    texts += [f"dep {i}" for i in range(1, 150)]  # one shared word, 49,999 tied
    texts += [f"deployment-{i:05d} eu" for i in range(1, 100)]  # the number is no word
    texts += [f"chat eu {n}" for n in range(1, 120)]
    texts += [f"support bot us-east {n} dep" for n in range(80)]
    texts += [f"zz{n}" for n in range(1_000 - len(texts))]  # no word in common
    assert len(set(texts)) == 1_000
    found = {text: matching.match_title(text, options, index) for text in texts}
    assert found["DEP-00001"][0] == (1, "dep-00001", 1.0)
    assert [r[0] for r in found["dep 1"]] == [1, 2, 3, 4, 5]  # ties go by title
    plain = list(index)
    for text in texts[::20]:  # a full scan of 53,000 titles takes a while: a sample
        assert found[text] == matching.match_title(text, options, plain), text


def _workbook(path, rows: list[list]) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Usage")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                ws.write_string(r, c, value)
            else:
                ws.write_number(r, c, value)
    wb.close()


def test_workbook_chunks_are_the_rows_read_one_by_one(tmp_path) -> None:
    from core.importing.reading import iter_chunks, iter_rows, normalise_cells, open_source

    rows: list[list] = [["Quarterly usage"], [], ["Deployment", "Requests", "Energy (kWh)"]]
    for i in range(60):
        if i % 7 == 3:
            rows.append([])  # a blank row
        elif i % 7 == 5:
            rows.append([None, "  ", None])  # blank cells only: blank too
        elif i % 11 == 4:
            rows.append([None, i])  # first cell blank, the row is not
        elif i % 13 == 6:
            rows.append([" ", None, None, None, "a note past the headers"])
        else:
            rows.append([f"dep-{i % 4}", i * 10, i / 3])
    path = tmp_path / "usage.xlsx"
    _workbook(path, rows)
    sheet = open_source(path)[0]
    one_by_one = list(iter_rows(sheet))
    assert len(one_by_one) == 40  # 60 rows, 20 of them blank
    for size in (1, 4, 7, 1_000):
        chunked = [
            (n, normalise_cells(r))
            for numbers, chunk in iter_chunks(sheet, size)
            for n, r in zip(numbers, chunk, strict=True)
        ]
        assert chunked == one_by_one, size


def test_long_cell_check_reads_every_kind_of_cell_the_reader_gives(tmp_path) -> None:
    """Text at the limit is kept and one character over it is refused, whatever else
    the chunk holds: numbers, booleans, dates, times, durations, blanks."""
    import datetime as dt

    from core.importing.reading import (
        MAX_CELL_CHARS,
        ImportReadError,
        SheetInfo,
        _refuse_long_cells,
    )

    sheet = SheetInfo(tmp_path / "x.xlsx", "Sheet1", False, 0, ["a", "b", "c"], None)
    others = [1.5, 2, True, None, dt.date(2026, 1, 1), dt.datetime(2026, 1, 1, 8), dt.time(8),
              dt.timedelta(hours=3), ""]  # fmt: skip
    rows = [[others[i % len(others)], others[(i + 3) % len(others)], "short"] for i in range(40)]
    rows[17][1] = "x" * MAX_CELL_CHARS
    _refuse_long_cells(sheet, list(range(2, 42)), rows)  # at the limit: kept
    rows[30][0] = "y" * (MAX_CELL_CHARS + 1)
    with pytest.raises(ImportReadError, match="row 32"):
        _refuse_long_cells(sheet, list(range(2, 42)), rows)
    _refuse_long_cells(sheet, [], [])  # an empty chunk holds nothing too long


def test_workbook_chunks_refuse_a_long_cell_by_its_row(tmp_path) -> None:
    from core.importing.reading import MAX_CELL_CHARS, ImportReadError, iter_chunks, open_source

    rows: list[list] = [["Deployment", "Requests", "Notes"]]
    rows += [[f"dep-{i}", i, "short"] for i in range(30)]
    rows[25][2] = "LONG-CELL"  # row 26 as the user sees it
    path = tmp_path / "long.xlsx"
    _workbook(path, rows)
    # spreadsheet programs (and the writer) stop at 32,767 characters; a hand-made file
    # need not: put the long text into the shared strings
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    long = b"x" * (MAX_CELL_CHARS + 1)
    parts["xl/sharedStrings.xml"] = parts["xl/sharedStrings.xml"].replace(b"LONG-CELL", long)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    sheet = open_source(path)[0]
    try:
        for _ in iter_chunks(sheet, 8):
            pass
    except ImportReadError as exc:
        assert "row 26" in str(exc) and f"{MAX_CELL_CHARS:,}" in str(exc)
    else:
        raise AssertionError("a cell over the limit was read")
