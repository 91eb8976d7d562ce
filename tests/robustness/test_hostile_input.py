"""Hostile input: fuzzed import files and command-line arguments, and code that must
never run data (no eval, exec, pickle or shell; SQL values only as parameters).

Every fuzz case runs the real command (``core.cli.main``, in-process so that many cases
fit in a few seconds) on a real inventory file: it must end with an exit code (0, 1 or 2)
and a message, never an exception, and a refused import leaves the inventory unchanged.
"""

from __future__ import annotations

import ast
import io
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from robustness_support import ROOT, SCHEMAS, table_digests

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
    counts = {"cases": 0, "refused": 0, "imported": 0}
    yield counts
    print(f"\nhostile input: {counts}")


def _run(argv: list[str], stats: dict) -> int:
    out, err = io.StringIO(), io.StringIO()
    import contextlib

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
    return code


def _check_import(base: Path, folder: Path, data: Path, stats: dict, *extra: str) -> None:
    path = folder / "inv.aicl"
    shutil.copy(base, path)
    before = table_digests(path)
    code = _run(["import", str(path), str(data), *extra], stats)
    if code:
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
    import csv

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


# -- code that must not run data ----------------------------------------------------------

SOURCES = sorted([*(ROOT / "core").rglob("*.py"), *(ROOT / "ui").rglob("*.py"), ROOT / "main.py"])
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_MODULES = {"pickle", "cPickle", "marshal", "shelve", "dill"}
SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|WHERE|VALUES|PRAGMA|SAVEPOINT)\b")
#: what an f-string may put into SQL: identifiers from the schema, lists of "?" marks,
#: column lists and expressions built from them, and integers; never a user's value
IDENTIFIER_LIKE = re.compile(
    r"(^|[._])(name|table|tables|spec|col|cols|column|columns|marks|sets|expr|field|fields|"
    r"names|key_sql|order|direction|where|joins?|select|alias|t|key|source|ref|sql|"
    r"schema_name|dep|parent|child|version|chunk_marks|placeholders|target|clause|"
    r"conditions?|filters?|idx|index|pragma|value_sql|sort|title|label_sql|group)"
    r"(_\w+)?(\.\w+)?\)?$"
)

#: expressions read one by one: column and table lists from the schema, "?" lists,
#: fixed SQL fragments built by the code (CASE terms whose values are parameters), and
#: integer constants. A new one must be read the same way before it is added here.
REVIEWED = {
    "' '.join(joins)", "' AND '.join(clauses)", "', '.join('?' * len(names))",
    "', '.join('?' * len(part))", "', '.join(cols)", "', '.join(f'{f} = ?' for f in given)",
    "', '.join(names)", "APPLICATION_ID", "BUSY_TIMEOUT_MS", "_COLUMNS", "_IN_ID_ORDER",
    "_sql_order(field, False, exprs)", "blank_value", "cases", "conds", "end",
    "expr.format(v=name)", "joined", "start", "sums",
}  # fmt: skip


def test_no_eval_exec_pickle_or_shell():
    found = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                f = node.func
                name = f.id if isinstance(f, ast.Name) else getattr(f, "attr", "")
                if isinstance(f, ast.Name) and name in FORBIDDEN_CALLS:
                    found.append(f"{path.name}:{node.lineno} {name}()")
                if name == "system" and isinstance(f, ast.Attribute):
                    found.append(f"{path.name}:{node.lineno} os.system()")
                for kw in node.keywords:
                    if kw.arg == "shell" and not (
                        isinstance(kw.value, ast.Constant) and kw.value.value is False
                    ):
                        found.append(f"{path.name}:{node.lineno} shell=")
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names]
                if isinstance(node, ast.ImportFrom) and node.module:
                    names.append(node.module)
                if FORBIDDEN_MODULES & {n.split(".")[0] for n in names}:
                    found.append(f"{path.name}:{node.lineno} import {names}")
    assert not found, found


def test_sql_is_built_from_identifiers_only():
    """An f-string that is SQL may insert schema names, "?" lists and fixed fragments,
    not values: a value belongs in the parameters."""
    found = []
    for path in SOURCES:
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.JoinedStr):
                continue
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            if not SQL.search(text):
                continue
            for value in node.values:
                if not isinstance(value, ast.FormattedValue):
                    continue
                expr = ast.get_source_segment(source, value.value) or ""
                if isinstance(value.value, ast.Call) and getattr(value.value.func, "id", "") in (
                    "int",
                    "len",
                ):
                    continue  # a number, not text
                if expr not in REVIEWED and not IDENTIFIER_LIKE.search(expr.replace(" ", "")):
                    found.append(f"{path.relative_to(ROOT)}:{value.value.lineno} {{{expr}}}")
    assert not found, "\n".join(found)
