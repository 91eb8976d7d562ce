"""Hostile input: fuzzed import files and command-line arguments, and code that must
never run data (no eval, exec, pickle or shell; SQL values only as parameters).

Every fuzz case runs the real command (``core.cli.main``, in-process so that many cases
fit in a few seconds) on a real inventory file: it must end with an exit code (0, 1 or 2)
and a message, never an exception, and a refused import leaves the inventory unchanged.

Formats: raw bytes as CSV and TSV; hostile cells in usage CSV, TSV, XLSX and ODS files;
CodeCarbon logs (the real headers, arbitrary cells); and damaged workbooks: the
committed XLSX and ODS (and a generated XLS and XLSB) with bytes flipped, numbers, cell
references and repeat counts replaced, ranges cut or repeated inside their parts. The
damaged workbooks are imported in a worker process with a capped address space
(``import_worker.py``), so that a crash in the workbook reader is a failed test naming
the case, never a dead test runner.

The newer fuzzers run a fixed set of examples (``derandomize``: the same in every CI
run); ``AICL_SLOW_TESTS=1`` runs twenty times as many, and ``AICL_FUZZ_RANDOM=1`` draws
new examples on every run instead (to look further; a failure prints the example).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import select
import shutil
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

import pytest
import workbook_files as wf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from robustness_support import CHILD_MEMORY_BYTES, ROOT, SCHEMAS, table_digests

from core import cli
from core.inventory import Inventory

FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
#: characters that trip up naive text handling
NASTY = st.sampled_from(
    ["\u200f", "\u202e", "\u200b", "\ufeff", "\x00", "🙂", "👨‍👩‍👧", "=1+1", "@SUM(A1)", "\r",
     "\n", '"', ",", ";", "\t", "1e308", "-1e309", "9" * 400, "NaN", "inf", "<img src=x>"]
)  # fmt: skip
CELL = st.one_of(
    st.text(max_size=40),
    NASTY,
    st.lists(NASTY, max_size=5).map("".join),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.just("x" * 20_000),
)
USAGE_HEADER = ["deployment", "period_start", "period_end", "requests", "energy_kwh",
                "energy_boundary", "notes"]  # fmt: skip


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("fuzz") / "base.aicl"
    shutil.copy(SCHEMAS / "schema4.aicl", path)
    Inventory.open(path).close()
    return path


@pytest.fixture(scope="module")
def stats():
    counts = {"cases": 0, "refused": 0, "imported": 0, "by format": Counter()}
    yield counts
    print(f"\nhostile input: {counts}")


def _run(argv: list[str], stats: dict, said: list[str] | None = None) -> int:
    """Run the command; its exit code. What it printed is appended to ``said``."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv, out=out)
        except SystemExit as exc:  # argparse: usage errors exit 2 with a message
            code = exc.code
    assert code in (0, 1, 2), (argv, code, err.getvalue())
    assert "Traceback" not in err.getvalue()
    if code:
        assert err.getvalue().strip() or out.getvalue().strip(), "refused without a word"
    stats["cases"] += 1
    stats["refused" if code else "imported"] += 1
    if said is not None:
        said.append(out.getvalue() + err.getvalue())
    return code


def _check_import(base: Path, folder: Path, data: Path, stats: dict, *extra: str) -> None:
    path = folder / "inv.aicl"
    shutil.copy(base, path)
    before = table_digests(path)
    said: list[str] = []
    code = _run(["import", str(path), str(data), *extra], stats, said)
    # --skip-invalid imports the valid rows and exits 1 when it skipped some: not a refusal
    partial = "--skip-invalid" in extra and code == 1 and "Imported (import" in said[0]
    if code and not partial:
        assert table_digests(path) == before, "a refused import changed the inventory"


@FUZZ
@given(data=st.binary(max_size=3000))
def test_arbitrary_bytes_as_csv(base, tmp_path_factory, stats, data):
    folder = tmp_path_factory.mktemp("bytes")
    csv = folder / "data.csv"
    csv.write_bytes(data)
    _check_import(base, folder, csv, stats)


@FUZZ
@given(rows=st.lists(st.lists(CELL, min_size=7, max_size=7), min_size=1, max_size=6))
def test_hostile_cells_in_a_usage_csv(base, tmp_path_factory, stats, rows):
    folder = tmp_path_factory.mktemp("cells")
    path = folder / "usage.csv"
    with open(path, "w", newline="", encoding="utf-8", errors="surrogatepass") as fh:
        w = csv.writer(fh)
        w.writerow(USAGE_HEADER)
        w.writerows([["Support chat EU (Assistant 2.0)", *row[1:]] for row in rows])
    _check_import(base, folder, path, stats, "--kind", "usage")


@FUZZ
@given(rows=st.lists(st.lists(st.one_of(CELL, st.floats(), st.integers(-(2**63), 2**63 - 1)),
                              min_size=7, max_size=7), min_size=1, max_size=6))  # fmt: skip
def test_hostile_cells_in_an_xlsx(base, tmp_path_factory, stats, rows):
    import math

    import xlsxwriter

    folder = tmp_path_factory.mktemp("xlsx")
    path = folder / "usage.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "nan_inf_to_errors": True})
    ws = wb.add_worksheet("Usage")
    ws.write_row(0, 0, USAGE_HEADER)
    for r, row in enumerate(rows, 1):
        for c, value in enumerate(row):
            if isinstance(value, str):
                ws.write_string(r, c, value.replace("\x00", "")[:32767])
            elif isinstance(value, float) and not math.isfinite(value):
                ws.write_number(r, c, value)
            else:
                ws.write_number(r, c, float(value))
    wb.close()
    _check_import(base, folder, path, stats)


# -- more formats: TSV, ODS, CodeCarbon logs, damaged workbooks -------------------------

SLOW = os.environ.get("AICL_SLOW_TESTS") == "1"
#: the same examples in every run (reproducible CI) unless AICL_FUZZ_RANDOM=1; twenty
#: times as many when slow
FIXED = settings(FUZZ, derandomize=os.environ.get("AICL_FUZZ_RANDOM") != "1")


def _examples(fast: int) -> int:
    return fast * 20 if SLOW else fast


@settings(FIXED, max_examples=_examples(50))
@given(data=st.binary(max_size=3000))
def test_arbitrary_bytes_as_tsv(base, tmp_path_factory, stats, data):
    folder = tmp_path_factory.mktemp("tsvbytes")
    path = folder / "data.tsv"
    path.write_bytes(data)
    stats["by format"]["tsv bytes"] += 1
    _check_import(base, folder, path, stats)


@settings(FIXED, max_examples=_examples(50))
@given(rows=st.lists(st.lists(CELL, min_size=7, max_size=7), min_size=1, max_size=6))
def test_hostile_cells_in_a_usage_tsv(base, tmp_path_factory, stats, rows):
    folder = tmp_path_factory.mktemp("tsv")
    path = folder / "usage.tsv"
    with open(path, "w", newline="", encoding="utf-8", errors="surrogatepass") as fh:
        w = csv.writer(fh, delimiter="\t")
        w.writerow(USAGE_HEADER)
        w.writerows([["Support chat EU (Assistant 2.0)", *row[1:]] for row in rows])
    stats["by format"]["tsv cells"] += 1
    _check_import(base, folder, path, stats, "--kind", "usage")


NUMBER_FORMATS = st.sampled_from(
    ["dd/mm/yyyy", "[h]:mm:ss", "hh:mm", "yyyy-mm-dd hh:mm", "0%", "General"]
)


@settings(FIXED, max_examples=_examples(30))
@given(
    cells=st.lists(
        st.tuples(
            st.integers(1, 6), st.floats(allow_nan=False, allow_infinity=False), NUMBER_FORMATS
        ),
        min_size=1,
        max_size=6,
    ),
    below=st.booleans(),
)
def test_hostile_numbers_in_formatted_xlsx_cells(base, tmp_path_factory, stats, cells, below):
    """Numbers shown as dates, times or durations: the reader converts them to Python
    dates and times, which cannot hold every float. Written in the first rows (where the
    header is looked for) or below them (read while planning)."""
    import xlsxwriter

    folder = tmp_path_factory.mktemp("formatted")
    path = folder / "usage.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Usage")
    ws.write_row(0, 0, USAGE_HEADER)
    good = ["Support chat EU (Assistant 2.0)", "2026-01-01", "2026-03-31", 10, 5, "it", "x"]
    first = 40 if below else 1
    for r in range(1, first + 1):
        ws.write_row(r, 0, good)
    for c, value, fmt in cells:
        ws.write_number(first, c, value, wb.add_format({"num_format": fmt}))
    wb.close()
    stats["by format"]["xlsx formatted numbers"] += 1
    _check_import(base, folder, path, stats)


ODS_VALUE = st.one_of(CELL, st.floats(), st.integers(-(2**63), 2**63 - 1), st.booleans(), st.none())


@settings(FIXED, max_examples=_examples(50))
@given(
    rows=st.lists(
        st.lists(st.tuples(ODS_VALUE, st.integers(1, 3)), min_size=7, max_size=7),
        min_size=1,
        max_size=6,
    ),
    padded=st.booleans(),
)
def test_hostile_cells_in_an_ods(base, tmp_path_factory, stats, rows, padded):
    """Typed cells (text, floats with inf and nan, 64-bit integers, booleans, empty), a
    few repeated, rows ended with LibreOffice's padding or not."""
    folder = tmp_path_factory.mktemp("ods")
    lines = [wf.ods_row([wf.ods_cell(h) for h in USAGE_HEADER])]
    for row in rows:
        cells = [wf.ods_cell("Support chat EU (Assistant 2.0)")]
        cells += [wf.ods_cell(v, n) for v, n in row[1:]]
        if padded:
            cells.append(wf.ods_cell(None, 16_000))
        lines.append(wf.ods_row(cells))
    path = wf.ods(folder / "usage.ods", {"Usage": "".join(lines)})
    stats["by format"]["ods cells"] += 1
    _check_import(base, folder, path, stats)


def _codecarbon_samples() -> list[tuple[list[str], list[list[str]]]]:
    out = []
    for path in sorted((ROOT / "tests" / "data" / "import").glob("*emissions*.csv")):
        with open(path, encoding="utf-8", newline="") as fh:
            header, *rows = list(csv.reader(fh))
        out.append((header, rows))
    return out


CODECARBON = _codecarbon_samples()
#: values a CodeCarbon column could hold after a crash, an edit or a hostile hand
CC_NASTY = st.sampled_from(
    ["", "-1", "0", "1e-320", "1e308", "-inf", "nan", "None", "null", "1,5", "  ",
     "2026-02-30T25:61:00", "0000-00-00", "9999-12-31T23:59:59", "2026-11-28T11:58:08+99:00",
     "x" * 5000, "\u202e", "🙂"]
)  # fmt: skip


@settings(FIXED, max_examples=_examples(60))
@given(
    sample=st.integers(0, len(CODECARBON) - 1),
    n_rows=st.integers(1, 4),
    edits=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 40), st.one_of(CELL, CC_NASTY)),
        min_size=1,
        max_size=8,
    ),
    skip_invalid=st.booleans(),
)
def test_hostile_cells_in_a_codecarbon_log(
    base, tmp_path_factory, stats, sample, n_rows, edits, skip_invalid
):
    """A real CodeCarbon log (its own header) with arbitrary values in its cells."""
    header, rows = CODECARBON[sample]
    rows = [list(r) for r in rows[:n_rows]]
    for r, c, value in edits:
        rows[r % len(rows)][c % len(header)] = value
    folder = tmp_path_factory.mktemp("codecarbon")
    path = folder / "emissions.csv"
    with open(path, "w", newline="", encoding="utf-8", errors="surrogatepass") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    stats["by format"]["codecarbon"] += 1
    _check_import(base, folder, path, stats, *(["--skip-invalid"] if skip_invalid else []))


@pytest.mark.parametrize("duration", ["1e11", "1e308"])
def test_a_codecarbon_duration_past_the_calendar_is_a_row_problem(base, tmp_path, duration):
    header, rows = CODECARBON[0]
    row = list(rows[0])
    row[header.index("duration")] = duration
    path = tmp_path / "emissions.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, row])
    _check_import(base, tmp_path, path, {"cases": 0, "refused": 0, "imported": 0})


class Worker:
    """``import_worker.py`` in a child process with a capped address space; started
    again after a crash."""

    def __init__(self, log: Path):
        self.log = log
        self.proc: subprocess.Popen | None = None

    def run(self, argv: list[str], timeout: float = 60) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self.close()
            with open(self.log, "ab") as log:  # the child keeps its own copy open
                self.proc = subprocess.Popen(
                    [sys.executable, str(Path(__file__).with_name("import_worker.py")),
                     str(CHILD_MEMORY_BYTES)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    text=True,
                    cwd=ROOT,
                )  # fmt: skip
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(argv) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else ""
        if line:
            return json.loads(line)
        self.proc.kill()
        status = self.proc.wait()
        self.close()
        tail = self.log.read_text(errors="replace")[-1500:]
        what = f"exit status {status}" if ready else f"no answer in {timeout:.0f} s"
        return {"crash": f"the import process died ({what}); its last words:\n{tail}"}

    def close(self) -> None:
        if self.proc is not None:
            for pipe in (self.proc.stdin, self.proc.stdout):
                if pipe is not None:
                    with contextlib.suppress(BrokenPipeError):  # the child is gone
                        pipe.close()
            self.proc.wait(timeout=30)
            self.proc = None


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    w = Worker(tmp_path_factory.mktemp("worker") / "stderr.txt")
    yield w
    w.close()


def _check_in_worker(worker, base, folder, data, stats, kind, *extra) -> None:
    path = folder / "inv.aicl"
    shutil.copy(base, path)
    before = table_digests(path)
    answer = worker.run(["import", str(path), str(data), *extra])
    keep = folder.parent / f"failed-{kind}-{folder.name}{data.suffix}"
    if "crash" in answer or "exception" in answer:
        shutil.copy(data, keep)
    assert "crash" not in answer, f"{answer.get('crash')} (case kept as {keep})"
    assert "exception" not in answer, f"{answer.get('exception')} (case kept as {keep})"
    code, err = answer["code"], answer["err"]
    assert code in (0, 1, 2), (code, err)
    assert "Traceback" not in err
    stats["cases"] += 1
    stats["refused" if code else "imported"] += 1
    stats["by format"][kind] += 1
    if code:
        assert err.strip() or answer["out"].strip(), "refused without a word"
        assert table_digests(path) == before, "a refused import changed the inventory"


IMPORT_DATA = ROOT / "tests" / "data" / "import"
#: replacements for a number, a cell reference, a repeat count or a value in the XML
NUMBERS = [b"0", b"-1", b"1048576", b"16384", b"99999999999", b"4294967297", b"1e308", b"nan",
           b"+3", b"&#57;", b"", b"00000000000000000001"]  # fmt: skip
REFS = [b"XFD1048576", b"A0", b"a1", b"ZZZZ1", b"A99999999999", b"AA1", b"1", b"A", b""]
ATTRIBUTE_VALUES = {
    "xlsx": re.compile(rb'\br="([^"]*)"'),
    "ods": re.compile(rb'(?:repeated|office:value|spanned)="([^"]*)"'),
}
EDIT = st.one_of(
    st.tuples(st.just("flip"), st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
    st.tuples(st.just("number"), st.floats(0, 1, exclude_max=True), st.sampled_from(NUMBERS)),
    st.tuples(st.just("attribute"), st.floats(0, 1, exclude_max=True),
              st.sampled_from(REFS + NUMBERS)),
    st.tuples(st.just("cut"), st.floats(0, 1, exclude_max=True), st.integers(1, 200)),
    st.tuples(st.just("repeat"), st.floats(0, 1, exclude_max=True), st.integers(1, 200),
              st.integers(2, 5)),
    st.tuples(st.just("insert"), st.floats(0, 1, exclude_max=True), st.binary(max_size=20)),
)  # fmt: skip


def _mutate(data: bytes, edits: list[tuple], values: re.Pattern[bytes] | None) -> bytes:
    out = bytearray(data)
    for kind, where, *args in edits:
        at = int(where * len(out))
        if kind == "flip" and out:
            out[at] = args[0]
        elif kind in ("number", "attribute"):
            pattern = re.compile(rb"\d+") if kind == "number" or values is None else values
            found = list(pattern.finditer(out))
            if found:
                m = found[int(where * len(found))]
                span = m.span(1) if m.re.groups else m.span()
                out[span[0] : span[1]] = args[0]
        elif kind == "cut":
            del out[at : at + args[0]]
        elif kind == "repeat":
            out[at:at] = out[at : at + args[0]] * (args[1] - 1)
        elif kind == "insert":
            out[at:at] = args[0]
    return bytes(out)


def _package_parts(path: Path, binary: bool) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return [n for n in zf.namelist() if n.endswith(".bin" if binary else ".xml")]


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory) -> dict[str, Path]:
    """The committed LibreOffice workbooks, and a generated XLS and XLSB."""
    folder = tmp_path_factory.mktemp("workbooks")
    cells = [(0, 0, "Name"), (0, 1, "Version"), (0, 2, "Parameters (billions)"),
             (1, 0, "Support bot"), (1, 1, "3"), (1, 2, 8.0),
             (2, 0, "Doc search"), (2, 1, "1"), (2, 2, 0.3)]  # fmt: skip
    return {
        "xlsx": IMPORT_DATA / "inventory_q3.xlsx",
        "ods": IMPORT_DATA / "inventory_q3.ods",
        "xls": wf.xls(folder / "models.xls", cells),
        "xlsb": wf.xlsb(folder / "models.xlsb", cells),
    }


@pytest.mark.parametrize("kind", ["xlsx", "ods", "xls", "xlsb"])
@settings(FIXED, max_examples=_examples(80))
@given(part=st.integers(0, 50), edits=st.lists(EDIT, min_size=1, max_size=6))
def test_damaged_workbooks(base, tmp_path_factory, stats, worker, workbooks, kind, part, edits):
    """A workbook with damage inside its parts (the zip itself stays whole, so the damage
    reaches the XML or record reader), imported in the worker."""
    src = workbooks[kind]
    folder = tmp_path_factory.mktemp("damaged")
    dest = folder / src.name
    if kind == "xls":  # a compound file: damage the Workbook stream, keep the header
        raw = src.read_bytes()
        dest.write_bytes(raw[:1024] + _mutate(raw[1024:], edits, None))
    else:
        names = _package_parts(src, binary=kind == "xlsb")
        name = names[part % len(names)]
        wf.rewrite_part(src, dest, name, lambda d: _mutate(d, edits, ATTRIBUTE_VALUES.get(kind)))
    _check_in_worker(worker, base, folder, dest, stats, f"damaged {kind}")


# -- mapping files (import --mapping FILE) -----------------------------------------------

GOOD_COLUMN = {"index": 0, "header": "name", "field": "name", "unit": None, "confidence": 1.0}
BAD_MAPPINGS = {
    "nested lists": "[" * 100_000 + "]" * 100_000,
    "nested objects": '{"a":' * 100_000 + "1" + "}" * 100_000,
    "a number": "1e999999",
    "a list of numbers": "[1, 2]",
    "no table": json.dumps({"columns": []}),
    "unknown table": json.dumps({"table": "nosuch", "columns": []}),
    "columns not a list": json.dumps({"table": "models", "columns": 3}),
    "column not an object": json.dumps({"table": "models", "columns": [1]}),
    "column missing fields": json.dumps({"table": "models", "columns": [{"index": 0}]}),
    "header not text": json.dumps({"table": "models", "columns": [{**GOOD_COLUMN, "header": 5}]}),
    "defaults nested": json.dumps(
        {"table": "models", "columns": [GOOD_COLUMN], "defaults": {"x": [[1]]}}
    ),
    "not json": '{"table": "models",',
}


@pytest.mark.parametrize("case", sorted(BAD_MAPPINGS))
def test_a_malformed_mapping_file_is_a_clear_refusal(base, tmp_path, capsys, case):
    mapping = tmp_path / "mapping.json"
    mapping.write_text(BAD_MAPPINGS[case])
    data = tmp_path / "models.csv"
    data.write_text("Name,Version\nSupport bot,3\n")
    inv = shutil.copy(base, tmp_path / "inv.aicl")
    before = table_digests(inv)
    code = cli.main(["import", str(inv), str(data), "--mapping", str(mapping)], out=io.StringIO())
    err = capsys.readouterr().err
    assert code == 2, err
    assert "mapping.json" in err and "not a mapping" in err, err
    assert table_digests(inv) == before


def test_a_huge_mapping_file_is_not_read(base, tmp_path, capsys):
    mapping = tmp_path / "mapping.json"
    with open(mapping, "wb") as fh:
        fh.truncate(11 * 1024**2)  # sparse: 11 MB of NULs, never read
    data = tmp_path / "models.csv"
    data.write_text("Name,Version\nSupport bot,3\n")
    inv = shutil.copy(base, tmp_path / "inv.aicl")
    code = cli.main(["import", str(inv), str(data), "--mapping", str(mapping)], out=io.StringIO())
    assert code == 2
    assert "a mapping file is a few kilobytes" in capsys.readouterr().err


def _json_containers(inner: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    _json_containers,
    max_leaves=10,
)
NEAR_MAPPING = st.fixed_dictionaries(
    {"table": st.sampled_from(["models", "usage", "codecarbon", "x"]) | JSON},
    optional={
        "columns": st.lists(
            st.fixed_dictionaries(
                {k: st.just(v) | JSON for k, v in GOOD_COLUMN.items()},
                optional={"extra": JSON},
            ),
            max_size=3,
        )
        | JSON,
        "defaults": st.dictionaries(st.text(max_size=8), JSON, max_size=2) | JSON,
        "date_order": st.sampled_from(["dmy", "mdy", None]) | JSON,
        "into": st.sampled_from(["usage", "training_runs", None]) | JSON,
        "create_missing": st.lists(st.text(max_size=8)) | JSON,
        "ambiguous_dates": JSON,
        "sheet": JSON,
    },
)


@settings(FIXED, max_examples=_examples(60))
@given(mapping=st.one_of(JSON, NEAR_MAPPING, st.lists(NEAR_MAPPING, max_size=3)))
def test_arbitrary_mapping_files(base, tmp_path_factory, stats, mapping):
    folder = tmp_path_factory.mktemp("mapping")
    path = folder / "mapping.json"
    path.write_text(json.dumps(mapping))
    data = folder / "models.csv"
    data.write_text("Name,Version\nSupport bot,3\n")
    stats["by format"]["mapping json"] += 1
    _check_import(base, folder, data, stats, "--mapping", str(path))


OPTIONS = ["--period", "--by", "--format", "--samples", "--quarter", "--kind", "-h", "2026-Q1",
           "9999-Q9", "training_runs:1", "deployments:99999999999999999999",
           "embodied_convention=capital-goods", "=", "--"]  # fmt: skip
ARG = st.one_of(st.text(max_size=30), NASTY, st.sampled_from(OPTIONS))
COMMAND = st.sampled_from(["list", "estimate", "explain", "settings", "report", "reopen", "export"])


@settings(FUZZ, max_examples=40)
@given(command=COMMAND, args=st.lists(ARG, max_size=5))
def test_arbitrary_command_line_arguments(base, tmp_path_factory, stats, command, args):
    folder = tmp_path_factory.mktemp("args")
    path = folder / "inv.aicl"
    shutil.copy(base, path)
    before = table_digests(path)
    args = [a.replace("\x00", "") for a in args]  # the OS cannot pass NUL in an argument
    if command == "export":
        args = [str(folder / "out.json")]
    code = _run([command, str(path), *args], stats)
    if code:
        assert table_digests(path) == before


# -- code that must not run data: tests/robustness/test_no_code_from_data.py ----------------
