"""No code runs from data: SQL gets values only as parameters, and nothing evaluates,
unpickles or launches what an inventory or an imported file holds.

Both checks read the source of ``core/``, ``ui/`` and ``main.py`` with :mod:`ast`.

SQL: every string that is SQL (the first argument of ``execute``, ``executemany`` and
``executescript``, and any string with SQL words in it) and is built with an f-string,
``str.format``, ``%`` or ``+`` (also ``sql += ...``) may interpolate only expressions read
one by one and listed in :data:`REVIEWED_SQL` with the reason they cannot carry a
user's value: table and column names from ``core.schema``, lists of ``?`` marks, fixed
fragments the code builds itself, integers. A new interpolation fails the test until it
is reviewed and listed (or, if it carries a value, passed as a parameter instead); an
entry no longer used fails too, so the list stays what the code does.

Code: ``eval``, ``exec``, ``compile`` and ``__import__`` of anything but literals,
pickle-like modules (pickle, marshal, shelve, dill, joblib...), YAML, SQLite extensions,
and starting programs (subprocess, ``os.system``/``popen``/``exec*``/``spawn*``,
``QProcess``, ``shell=``) are refused; opening a URL with another program
(``QDesktopServices.openUrl``, external links) only where :data:`REVIEWED_LAUNCHES` says
what it opens.

The checkers are tested on planted snippets, so a check that silently stopped finding
anything would fail here too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(ROOT / "core").rglob("*.py"), *(ROOT / "ui").rglob("*.py"), ROOT / "main.py"])

# -- SQL ------------------------------------------------------------------------------------

#: words and marks that make a string SQL (upper case, as the code writes SQL)
SQL_WORDS = re.compile(
    r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|REPLACE|WHERE|VALUES|FROM|"
    r"JOIN|LIKE|BETWEEN|ORDER BY|GROUP BY|CASE|CAST|ATTACH|DETACH|VACUUM|SAVEPOINT|"
    r"RELEASE|ROLLBACK|BEGIN|UNION|WHEN|THEN)\b|=\s*\?"
)
#: calls whose first argument is SQL, whatever it looks like
SQL_SINKS = {"execute", "executemany", "executescript"}
#: calls that give a number, never text
NUMERIC_CALLS = {"int", "len", "float"}

#: every expression interpolated into SQL, by file, with why it cannot carry a value
_TABLE = "a table name from core.schema (looked up with schema.table() first)"
_MARKS = "a list of ? marks, one per value passed as a parameter"
_NAMES = "column names from the table's spec in core.schema"
_BUILT = "a SQL fragment built above from schema names and ? marks only"
REVIEWED_SQL: dict[str, dict[str, str]] = {
    "core/activity.py": {
        "', '.join(names)": _NAMES,
        "_EPOCH_JULIAN": "a module constant (a number)",
        "cases": "CASE terms made from the schema's choice values and their positions",
        "f.name": "a field name from core.schema",
        "i": "the position of a schema choice value (an int)",
        "joined": "column names and fixed CASE expressions from core.schema (_expr)",
        "table": "one of the engine's table names (read_table's callers)",
        "v": "a choice value of core.schema (fixed text without quotes)",
        "where": "'' or a fixed WHERE ... json_each(?) clause; the ids are a parameter",
    },
    "core/checks.py": {
        "check_sql": (
            "a CHECK expression of the file's own schema (sqlite_master), which SQLite "
            "evaluates on every insert anyway; parentheses and quotes balanced"
        ),
        "every_sql": "those CHECK expressions joined with AND, each in parentheses",
        "query": "the SELECT NOT (check_sql) query built on the line before",
        "table": "a table the import writes, from core.schema, quoted",
    },
    "core/closing.py": {
        "_COLUMNS": "the fixed column list of closed_periods",
        "end": "a column name from the fixed spans list above",
        "sql": "the fixed SELECT of restatements, with a fixed WHERE added",
        "start": "a column name from the fixed spans list above",
        "table": "a table name from the fixed spans list above",
    },
    "core/commands.py": {
        "name_field": "the spec's copy_suffix_field, a column name from core.schema",
        "spec.name": _TABLE,
    },
    "core/demo.py": {"table": "'sites' or 'hardware', literals of the caller"},
    "core/importing/bulk.py": {
        "', '.join([one] * per)": "one '(?, ?, ...)' group per row of the statement",
        "names": "column names the caller takes from core.schema (or 'id')",
        "one": _MARKS,
        "sql": "the INSERT built just above from a table, schema names and ? marks",
        "table": "a table name from core.schema, as the caller (the import writer) has it",
    },
    "core/importing/commit.py": {
        "', '.join((f'{f} = ?' for f in given))": "SET terms of spec field names, values as ?",
        "', '.join(names)": _NAMES,
        "column": "a reference column from schema.DEPENDENTS",
        "conds": "'id BETWEEN ? AND ?' repeated, or '0'; the bounds are parameters",
        "dep.column": "a reference column from schema.DEPENDENTS",
        "dep.table": "a table from schema.DEPENDENTS",
        "f": "a field name of the spec (SET f = ?)",
        "quoted_sql": (
            "an index name of the file's own schema (sqlite_master), inner quotes doubled, "
            "double-quoted; the index is built again from its own SQL afterwards"
        ),
        "sql": "a CREATE INDEX statement of the file's own schema, run again as it was",
        "t": _TABLE,
        "table": _TABLE,
        "update_sql": "the UPDATE built from the spec's field names above",
    },
    "core/importing/exporting.py": {
        "' '.join(joins)": "LEFT JOINs of schema tables and aliases, built above",
        "', '.join(cols)": "schema column names and the referenced tables' title_sql",
        "alias": "'r_' + a field name from core.schema",
        "f.name": "a field name from core.schema",
        "f.ref": "the table a schema field refers to",
        "sql": "the SELECT built on the line before",
        "table": _TABLE,
    },
    "core/importing/history.py": {
        "', '.join(names)": "field names of the table's spec (core.schema) the log names",
        "dep.column": "a reference column from schema.DEPENDENTS",
        "dep.table": "a table from schema.DEPENDENTS",
        "marks": _MARKS,
        "outside_clause": "'id NOT BETWEEN ? AND ?' repeated, or '1'; the bounds are parameters",
        "table": "a table name of import_changes kept only if it is in core.schema",
    },
    "core/importing/keys.py": {
        "', '.join('?' * len(part))": _MARKS,
        "', '.join(names)": _NAMES,
        "c": "a key column name from core.schema",
        "select": "'SELECT id, <the spec's field names> FROM <its table> WHERE ' (core.schema)",
        "self.spec.name": "the spec's table name (core.schema)",
        "where": "'name = ?', 'external_id = ?' or key columns '= ?' joined with AND",
    },
    "core/integrity.py": {"BUSY_TIMEOUT_MS": "a module constant (an int)"},
    "core/inventory.py": {
        "', '.join(names)": _NAMES,
        "BUSY_TIMEOUT_MS": "a module constant (an int)",
        "cols": "column names of the spec (insert_row keeps only spec fields)",
        "column": "a reference column from schema.DEPENDENTS",
        "expr": "the spec's title_sql with a fixed alias",
        "k": "a field name update_row checked with spec.field()",
        "marks": _MARKS,
        "name": "a savepoint name made of 'sp_' and a number",
        "sets": "'k = ?' for field names update_row checked with spec.field()",
        "spec.name": _TABLE,
        "sql": _BUILT,
        "table": "a table from schema.DEPENDENTS",
    },
    "core/migrations.py": {
        "APPLICATION_ID": "a module constant (an int)",
        "statement": "a statement of the migration scripts in this module",
    },
    "core/ordering.py": {
        "' AND '.join(clauses)": "LIKE ? terms over schema columns; the patterns are parameters",
        "1 << k": "a bit (an int)",
        "_IN_ID_ORDER": "a module constant ('NOT INDEXED')",
        "_sql_order(field, False, exprs)": "an ORDER BY of schema columns and title_sql",
        "_sql_text(v)": "a choice value of core.schema, quoted by _sql_text",
        "alias": "'r_' + a field name from core.schema",
        "blank_value": "'nan' or the int64 minimum, fixed",
        "cases": "CASE WHEN terms of LIKE ? conditions and bits; patterns are parameters",
        "cols": "schema columns and title_sql expressions from _joins",
        "cond": "LIKE ? conditions over schema columns",
        "e": "a column expression from _joins (schema names, title_sql)",
        "expr": "a column expression from _joins (schema names, title_sql)",
        "expr.format(v=name)": "a fixed CASE template over a schema column",
        "f.name": "a field name from core.schema",
        "from_clause": "the table and LEFT JOINs from _joins (schema names)",
        "i": "the position of a schema choice value (an int)",
        "marks": _MARKS,
        "name": "a field name from core.schema",
        "order_by": "an ORDER BY of schema columns (_sql_order)",
        "ref.name": "the table a schema field refers to",
        "ref_spec.name": "the table a schema field refers to",
        "source": "the table, or its joins, from core.schema",
        "spec.name": _TABLE,
        "sql": _BUILT,
        "table": _TABLE,
        "title": "the spec's title_sql with a fixed alias",
        "whens": "WHEN terms of schema choice values (_sql_text) and their positions",
    },
    "core/report_closed.py": {"table": "one of engine.ENTRY_TABLES"},
    "core/report_options.py": {"table": "one of engine.ENTRY_TABLES; the text is a LIKE parameter"},
    "core/report_tables.py": {"table": "'deployments' or 'training_runs', literals of the callers"},
    "core/scenarios.py": {"table": "a table of the fixed REFERENCES map"},
    "core/sourcing_notices.py": {"', '.join(names)": "a fixed tuple of sourcing column names"},
}


def _text(node: ast.AST) -> str | None:
    """The value of a string literal, else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _is_text(node: ast.AST) -> bool:
    return _text(node) is not None


def _holes(nodes: list[ast.expr]) -> list[ast.expr]:
    return [h for n in nodes for h in string_parts(n)[1]]


def string_parts(node: ast.expr) -> tuple[str | None, list[ast.expr]]:
    """``(literal text, interpolated expressions)`` of a string built from literals with
    an f-string, ``+``, ``%`` or ``str.format`` (or a ``str.join`` whose separator is
    SQL); ``(None, [node])`` for any other expression (an opaque value), ``(None, [])``
    for a number."""
    if isinstance(node, ast.Constant):
        return _text(node), []
    if isinstance(node, ast.JoinedStr):
        text, holes = "", []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                inner_text, inner = string_parts(value.value)
                text += inner_text or ""
                holes += inner
            else:
                text += _text(value) or ""
        return text, holes
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        (left, left_holes), (right, right_holes) = string_parts(node.left), string_parts(node.right)
        if left is None and right is None:
            return None, [node]
        return (left or "") + (right or ""), left_holes + right_holes
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and _is_text(node.left):
        items = node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]
        return _text(node.left), _holes(items)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        template = _text(node.func.value)
        method = node.func.attr
        if template is not None and (
            method == "format" or (method == "join" and SQL_WORDS.search(template))
        ):
            return template, _holes([*node.args, *(k.value for k in node.keywords)])
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in NUMERIC_CALLS
    ):
        return None, []
    return None, [node]


def _added(node: ast.expr) -> list[ast.expr]:
    """The operands of a chain of ``+``."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _added(node.left) + _added(node.right)
    return [node]


_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _scopes(tree: ast.Module) -> list[ast.AST]:
    """The module and every function in it: the scopes a variable lives in."""
    return [tree, *(n for n in ast.walk(tree) if isinstance(n, _FUNCTIONS))]


def _in_scope(scope: ast.AST) -> list[ast.AST]:
    """The nodes of ``scope`` outside the functions nested in it."""
    out, todo = [], list(ast.iter_child_nodes(scope))
    while todo:
        node = todo.pop()
        if not isinstance(node, _FUNCTIONS):
            out.append(node)
            todo.extend(ast.iter_child_nodes(node))
    return out


def _stores(scope: ast.AST) -> list[tuple[str, ast.expr]]:
    """``(name, value)`` of every ``name = value`` and ``name += value`` of ``scope``."""
    out = []
    for node in _in_scope(scope):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        elif isinstance(node, ast.AugAssign | ast.AnnAssign) and node.value is not None:
            target = node.target
        else:
            continue
        if isinstance(target, ast.Name):
            out.append((target.id, node.value))
    return out


def sql_interpolations(source: str) -> list[tuple[int, str]]:
    """``(line, expression)`` of every expression interpolated into SQL in ``source``."""
    tree = ast.parse(source)
    found: set[tuple[int, str]] = set()

    def holes(exprs: list[ast.expr]) -> None:
        found.update((h.lineno, ast.unparse(h)) for h in exprs)

    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SQL_SINKS
            and node.args
        ):
            holes(string_parts(node.args[0])[1])
        if isinstance(node, ast.JoinedStr | ast.BinOp | ast.Call):
            text, inner = string_parts(node)
            if text is not None and SQL_WORDS.search(text):
                holes(inner)
    # a variable once given SQL holds SQL: what is added to it or stored in it later
    # is interpolated into SQL too
    for scope in _scopes(tree):
        stores = _stores(scope)
        sql_names = set()
        for name, value in stores:
            text = string_parts(value)[0]
            if text is not None and SQL_WORDS.search(text):
                sql_names.add(name)
        for name, value in stores:
            if name in sql_names:
                for operand in _added(value):
                    if not (isinstance(operand, ast.Name) and operand.id == name):  # sql + ...
                        holes(string_parts(operand)[1])
    return sorted(found)


def read_sources(files: list[Path]) -> list[tuple[str, str]]:
    """``(path from the repository root, source)`` of ``files``."""
    return [(p.relative_to(ROOT).as_posix(), p.read_text(encoding="utf-8")) for p in files]


def unreviewed_sql(sources: list[tuple[str, str]]) -> tuple[list[str], set[tuple[str, str]]]:
    """Interpolations not in :data:`REVIEWED_SQL` (as ``file:line {expr}``), and the
    ``(file, expr)`` pairs seen."""
    wrong, seen = [], set()
    for rel, source in sources:
        reviewed = REVIEWED_SQL.get(rel, {})
        for line, expr in sql_interpolations(source):
            seen.add((rel, expr))
            if expr not in reviewed:
                wrong.append(f"{rel}:{line} {{{expr}}}")
    return wrong, seen


# -- code ------------------------------------------------------------------------------------

#: modules that turn bytes into objects or code, or start programs
FORBIDDEN_MODULES = {
    "pickle", "cPickle", "_pickle", "marshal", "shelve", "dill", "cloudpickle", "joblib",
    "yaml", "ruamel", "subprocess", "pty", "pexpect", "runpy", "code", "codeop", "webbrowser",
}  # fmt: skip
#: builtins that run or load code
CODE_BUILTINS = {"eval", "exec", "compile", "__import__"}
#: attributes of ``os`` that start programs
OS_LAUNCH = {"system", "popen", "startfile", "posix_spawn", "posix_spawnp", "fork", "forkpty"}
#: attributes that run code or native code whatever object they hang off
FORBIDDEN_ATTRIBUTES = {"enable_load_extension", "load_extension", "read_pickle", "QProcess"}
#: calls that hand a URL or file to another program: allowed where reviewed
LAUNCHING_CALLS = {"openUrl", "setOpenExternalLinks"}

#: each use of a launching call, by file (as ``ast.unparse`` writes the call), and why
#: what it opens cannot come from an inventory or an imported file unchecked
REVIEWED_LAUNCHES: dict[str, dict[str, str]] = {
    "ui/crash.py": {
        "QDesktopServices.openUrl(QUrl.fromLocalFile(str(log_dir())))": (
            "the app's own log folder, a fixed path"
        ),
    },
    "ui/import_pages.py": {
        "QDesktopServices.openUrl(QUrl(link))": (
            "the one link of the import summary: the errors file the user chose, made "
            "with QUrl.fromLocalFile and escaped into the label"
        ),
    },
    "ui/about_dialog.py": {
        "self.sources.setOpenExternalLinks(True)": (
            "links of the shipped SOURCES.md (data credits), never inventory text"
        ),
    },
}


def _os_launch(attr: str) -> bool:
    return attr in OS_LAUNCH or attr.startswith(("exec", "spawn"))


def _truthy(call: ast.Call) -> bool:
    """Whether a call with literal arguments passes a true one (``setX(True)``)."""
    return any(isinstance(a, ast.Constant) and a.value for a in call.args)


def _literal_args(call: ast.Call) -> bool:
    return all(isinstance(a, ast.Constant) for a in [*call.args, *(k.value for k in call.keywords)])


def code_uses(source: str) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """``(forbidden, launching)``: ``(line, what)`` of every forbidden use in
    ``source``, and of every launching call (``what`` is the call's source text)."""
    tree = ast.parse(source)
    forbidden: list[tuple[int, str]] = []
    launching: list[tuple[int, str]] = []
    os_names = {"os"}  # names the os module is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in FORBIDDEN_MODULES:
                    forbidden.append((node.lineno, f"import {alias.name}"))
                if alias.name == "os" or alias.name.startswith("os."):
                    os_names.add(alias.asname or "os")
        elif isinstance(node, ast.ImportFrom) and node.module:
            root = node.module.split(".")[0]
            names = {a.name for a in node.names}
            if root in FORBIDDEN_MODULES:
                forbidden.append((node.lineno, f"from {node.module} import"))
            if node.module == "os" and any(_os_launch(n) for n in names):
                forbidden.append((node.lineno, f"from os import {sorted(names)}"))
            if names & (CODE_BUILTINS | FORBIDDEN_ATTRIBUTES):
                forbidden.append((node.lineno, f"from {node.module} import {sorted(names)}"))
    calls = {id(n.func): n for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):
        call = calls.get(id(node))
        if isinstance(node, ast.Name) and node.id in CODE_BUILTINS:
            if call is None or not _literal_args(call):
                forbidden.append((node.lineno, f"{node.id} of a non-literal"))
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_ATTRIBUTES:
            forbidden.append((node.lineno, node.id))
        elif isinstance(node, ast.Attribute):
            owner = node.value.id if isinstance(node.value, ast.Name) else None
            if owner in os_names and _os_launch(node.attr):
                forbidden.append((node.lineno, f"os.{node.attr}"))
            elif owner in ("builtins", "__builtins__") and node.attr in CODE_BUILTINS:
                forbidden.append((node.lineno, f"builtins.{node.attr}"))
            elif node.attr in FORBIDDEN_ATTRIBUTES:
                forbidden.append((node.lineno, f".{node.attr}"))
            elif node.attr == "import_module" and (
                call is None or not call.args or not _is_text(call.args[0])
            ):
                forbidden.append((node.lineno, "import_module of a non-literal"))
            elif node.attr in LAUNCHING_CALLS and not (
                call and _literal_args(call) and not _truthy(call)
            ):
                launching.append((node.lineno, ast.unparse(call) if call else ast.unparse(node)))
        if not isinstance(node, ast.Call):
            continue
        func = node.func.id if isinstance(node.func, ast.Name) else None
        looked_up = _text(node.args[1]) if func == "getattr" and len(node.args) > 1 else None
        if looked_up in CODE_BUILTINS | FORBIDDEN_ATTRIBUTES | OS_LAUNCH:
            forbidden.append((node.lineno, f"getattr(..., {looked_up!r})"))
        if func == "import_module" and (not node.args or not _is_text(node.args[0])):
            forbidden.append((node.lineno, "import_module of a non-literal"))
        for kw in node.keywords:
            off = isinstance(kw.value, ast.Constant) and kw.value.value in (False, None)
            if kw.arg in ("shell", "allow_pickle") and not off:
                forbidden.append((node.lineno, f"{kw.arg}="))
    return sorted(set(forbidden)), sorted(set(launching))


# -- the checks over the app ----------------------------------------------------------------


def test_sql_interpolates_only_reviewed_expressions():
    wrong, _ = unreviewed_sql(read_sources(SOURCES))
    assert not wrong, (
        "SQL interpolates expressions nobody reviewed. Pass values as parameters; if it "
        "is a schema name, a '?' list or a fixed fragment, add it to REVIEWED_SQL with "
        "the reason:\n" + "\n".join(wrong)
    )


def test_every_reviewed_sql_expression_is_still_used():
    _, seen = unreviewed_sql(read_sources(SOURCES))
    stale = sorted(
        f"{rel}: {expr}"
        for rel, exprs in REVIEWED_SQL.items()
        for expr in exprs
        if (rel, expr) not in seen
    )
    assert not stale, "reviewed but no longer in the code (remove them):\n" + "\n".join(stale)


def test_nothing_evaluates_unpickles_or_starts_programs():
    found, unreviewed, seen = [], [], set()
    for rel, source in read_sources(SOURCES):
        forbidden, launching = code_uses(source)
        found += [f"{rel}:{line} {what}" for line, what in forbidden]
        for line, what in launching:
            seen.add((rel, what))
            if what not in REVIEWED_LAUNCHES.get(rel, {}):
                unreviewed.append(f"{rel}:{line} {what}")
    assert not found, "code that runs data or starts programs:\n" + "\n".join(found)
    assert not unreviewed, (
        "opens URLs or files with other programs, not reviewed (add to REVIEWED_LAUNCHES "
        "with what it opens):\n" + "\n".join(unreviewed)
    )
    stale = [f"{r}: {w}" for r, ws in REVIEWED_LAUNCHES.items() for w in ws if (r, w) not in seen]
    assert not stale, "reviewed launches no longer in the code:\n" + "\n".join(stale)


# -- the checkers themselves, on planted code -------------------------------------------------


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("conn.execute(f\"SELECT * FROM t WHERE name = '{name}'\")", {"name"}),
        ("conn.execute(\"SELECT * FROM t WHERE name = '{}'\".format(user))", {"user"}),
        ('conn.execute("DELETE FROM t WHERE id = %s" % rid)', {"rid"}),
        ('conn.execute("DELETE FROM t WHERE a = %s AND b = %s" % (a, b.c))', {"a", "b.c"}),
        ('conn.execute("SELECT x FROM t WHERE n = \'" + value + "\'")', {"value"}),
        ("conn.execute(query)", {"query"}),
        ("conn.executemany(self.sql, rows)", {"self.sql"}),
        ("conn.executescript(script)", {"script"}),
        ('q = f"UPDATE t SET a = {new}"', {"new"}),
        ('q = "select 1 " + f"FROM {deployment.name}"', {"deployment.name"}),
        ('q = " UNION ALL ".join(parts)', {"parts"}),
        (
            'def f(cond):\n    sql = "SELECT id FROM t WHERE a = 1"\n    sql += " AND " + cond\n'
            "    return sql",
            {"cond"},
        ),
        ('def f(c):\n    sql = "SELECT id FROM t"\n    sql = sql + c\n    return sql', {"c"}),
        ("conn.execute(f\"SELECT {', '.join(cols)} FROM t\")", {"', '.join(cols)"}),
        ('clause = f"{column} = ?"', {"column"}),
    ],
)
def test_the_sql_checker_finds_planted_interpolations(snippet, expected):
    assert {expr for _, expr in sql_interpolations(snippet)} == expected


@pytest.mark.parametrize(
    "snippet",
    [
        'conn.execute("SELECT * FROM t WHERE name = ?", (name,))',
        'conn.execute(f"SELECT * FROM t LIMIT {int(n)} OFFSET {len(rows)}")',
        'message = f"Deployment {name} was deleted"',
        'conn.execute("SELECT " "1")',
        'label = "Total: " + str(total)',
    ],
)
def test_the_sql_checker_lets_parameters_and_numbers_through(snippet):
    assert sql_interpolations(snippet) == []


def test_an_unreviewed_interpolation_fails_the_whole_check(monkeypatch):
    planted = [
        (
            "core/planted.py",
            'def f(conn, d):\n    conn.execute(f"SELECT id FROM m WHERE n = {d.name}")\n',
        )
    ]
    assert unreviewed_sql(planted)[0] == ["core/planted.py:2 {d.name}"]
    monkeypatch.setitem(REVIEWED_SQL, "core/planted.py", {"d.name": "planted"})
    assert unreviewed_sql(planted)[0] == []


@pytest.mark.parametrize(
    ("snippet", "what"),
    [
        ("eval(text)", "eval of a non-literal"),
        ("exec(code, {})", "exec of a non-literal"),
        ("compile(source, 'x', 'exec')", "compile of a non-literal"),
        ("run = eval\nrun('1')", "eval of a non-literal"),
        ("import builtins\nbuiltins.exec(s)", "builtins.exec"),
        ("__import__(name)", "__import__ of a non-literal"),
        ("import importlib\nimportlib.import_module(name)", "import_module of a non-literal"),
        (
            "from importlib import import_module\nimport_module(name)",
            "import_module of a non-literal",
        ),
        ("import pickle", "import pickle"),
        ("from pickle import loads", "from pickle import"),
        ("import marshal", "import marshal"),
        ("import shelve", "import shelve"),
        ("import yaml", "import yaml"),
        ("import subprocess", "import subprocess"),
        ("from subprocess import run", "from subprocess import"),
        ("import os\nos.system(cmd)", "os.system"),
        ("import os as o\no.popen(cmd)", "os.popen"),
        ("import os\nos.execvp(a, b)", "os.execvp"),
        ("import os\nos.spawnl(0, a)", "os.spawnl"),
        ("from os import popen", "from os import ['popen']"),
        ("from PySide6.QtCore import QProcess", "from PySide6.QtCore import ['QProcess']"),
        ("from PySide6 import QtCore\nQtCore.QProcess.startDetached(p)", ".QProcess"),
        ("run(args, shell=True)", "shell="),
        ("np.load(path, allow_pickle=True)", "allow_pickle="),
        ("conn.enable_load_extension(True)", ".enable_load_extension"),
        ("getattr(os, 'system')(cmd)", "getattr(..., 'system')"),
    ],
)
def test_the_code_checker_finds_planted_uses(snippet, what):
    forbidden, _ = code_uses(snippet)
    assert what in {w for _, w in forbidden}, forbidden


@pytest.mark.parametrize(
    "snippet",
    [
        "dialog.exec()",
        "app.exec()",
        "pattern = re.compile(text)",
        "seeds = np.random.SeedSequence(1).spawn(4)",
        "import importlib\nimportlib.import_module('ui.dashboard_page')",
        "run(args, shell=False)",
        "np.load(path)",
        "import os\nos.path.join(a, b)",
        "label.setOpenExternalLinks(False)",
    ],
)
def test_the_code_checker_lets_harmless_code_through(snippet):
    assert code_uses(snippet) == ([], [])


def test_the_code_checker_lists_launching_calls_for_review():
    _, launching = code_uses(
        "QDesktopServices.openUrl(QUrl(cell))\nlabel.setOpenExternalLinks(True)"
    )
    assert launching == [
        (1, "QDesktopServices.openUrl(QUrl(cell))"),
        (2, "label.setOpenExternalLinks(True)"),
    ]
