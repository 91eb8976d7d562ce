"""Prototype of a faster ``Inventory.ordered_ids`` and of the table page's sort set-up.

Nothing here is used by the app: ``bench/bench_tables.py --prototype`` installs it into
a benchmark subprocess to measure what the proposed changes to ``core/inventory.py`` and
``ui/`` would give. ``python bench/proto_ordered_ids.py`` checks that it returns exactly
what ``Inventory.ordered_ids`` returns, for every column, both orders and some searches.

What it changes, keeping the results identical:

1. Parse the ``group_concat`` id list with ``numpy.fromstring(text, sep=",")`` instead
   of ``text.split(",")`` (a million Python strings, ~120 ms and ~60 MB at 1M rows).
2. Keep the ascending order of each table's current sort cached (the descending one is
   derived from it), and the table's ids; a search then only masks that order by the
   matching ids. ``insert_row``/``update_row``/``delete_ids`` drop what they affect (an
   update only the orders by the changed fields and by references to the table; an
   insert or delete the table's ids and orders and those of the tables it cascades to);
   a commit by another connection (``PRAGMA data_version``) drops everything.
3. Find matching ids without joining: one scan of the table's own text columns for all
   terms, and reference columns matched in numpy (the referenced rows whose title
   matches, looked up over the cached foreign-key column) instead of ``LIKE`` on the
   joined title of every row.
4. Sort numbers, dates, choices and references in numpy (stable ``argsort`` of one key
   array fetched in id order through ``group_concat``; references by the
   ``dense_rank()`` of the referenced titles) unless an index already gives the order
   (then SQL scans the index). Text columns of the table itself stay sorted in SQL.
5. ``InventoryPage``: set the header's sort indicator before ``setSortingEnabled(True)``
   (which otherwise sorts by column 0 descending, then by column 0 ascending: two extra
   full sorts, and the page opens sorted by its first column instead of the table's
   default sort). ``InventoryTableModel.sort`` already returns early when the order
   does not change.
6. ``InventoryTableModel`` starts from the first page of ids (``LIMIT``, when an index
   gives the order) and the row count, and computes the full id list only when it is
   needed (scrolling past the first page, sorting, searching, selecting by id).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from core import schema  # noqa: E402
from core.inventory import Inventory, _escape_like  # noqa: E402

INT_NULL = np.iinfo(np.int64).max  # sorts after every stored integer (all are <= 1e18)


def _parse_ints(text: str | None) -> np.ndarray:
    return np.fromstring(text, dtype=np.int64, sep=",") if text else np.empty(0, np.int64)


def _compact(values: np.ndarray) -> np.ndarray:
    """Ids as int32 when they fit (half the memory in the cache), else unchanged."""
    if len(values) and values.min() >= -(2**31) and values.max() < 2**31:
        return values.astype(np.int32)
    return values


class _Cache:
    """Per inventory: ids in id order, and per table the ascending order of one sort.

    ``orders[table] = (sort, ascending ids, number of non-blank values or None until
    needed)``; the descending order is derived from it (see :func:`_descending`).
    """

    def __init__(self) -> None:
        self.stamp: int | None = None
        self.ids: dict[str, np.ndarray] = {}
        self.orders: dict[str, tuple[str | None, np.ndarray, int | None]] = {}
        self.fks: dict[tuple[str, str], np.ndarray] = {}

    def invalidate(self, table: str, fields: set[str] | None) -> None:
        """After a write to ``table``: ``fields`` changed, or rows came or went (None)."""
        tables = {table}
        if fields is None:  # ids change, here and in what a delete cascades to
            todo = [table]
            while todo:
                for dep in schema.DEPENDENTS.get(todo.pop(), ()):
                    if dep.table not in tables:
                        tables.add(dep.table)
                        todo.append(dep.table)
            for t in tables:
                self.ids.pop(t, None)
                self.orders.pop(t, None)
            for key in [k for k in self.fks if k[0] in tables]:
                del self.fks[key]
        else:
            if table in self.orders and self.orders[table][0] in fields:
                del self.orders[table]
            for name in fields:
                self.fks.pop((table, name), None)
        for t, (sort, _, _) in list(self.orders.items()):  # titles shown by references
            f = schema.table(t).field(sort) if sort else None
            if f is not None and f.kind == "ref" and f.ref in tables:
                del self.orders[t]


def _cache(inv: Inventory) -> _Cache:
    cache = inv.__dict__.get("_proto_cache")
    if cache is None:
        cache = inv.__dict__["_proto_cache"] = _Cache()
    stamp = inv.conn.execute("PRAGMA data_version").fetchone()[0]
    if stamp != cache.stamp:  # another connection committed: anything may have changed
        cache.ids.clear()
        cache.orders.clear()
        cache.fks.clear()
        cache.stamp = stamp
    return cache


def _invalidate(inv: Inventory, table: str, fields: set[str] | None) -> None:
    cache = inv.__dict__.get("_proto_cache")
    if cache is not None:
        cache.invalidate(table, fields)


def _all_ids(inv: Inventory, cache: _Cache, table: str) -> np.ndarray:
    if table not in cache.ids:
        sql = f"SELECT group_concat(id) FROM (SELECT id FROM {table} ORDER BY id)"
        cache.ids[table] = _compact(_parse_ints(inv.conn.execute(sql).fetchone()[0]))
    return cache.ids[table]


def _sql_order(inv: Inventory, table: str, sort: str | None, descending: bool) -> str:
    spec = schema.table(table)
    if not sort:
        return "t.id"
    f = spec.field(sort)
    _, exprs = inv._joins(table)
    collate = " COLLATE NOCASE" if f.kind in ("text", "ref", "longtext") else ""
    direction = "DESC" if descending else "ASC"
    return f"{exprs.get(sort, f't.{sort}')}{collate} {direction} NULLS LAST, t.id {direction}"


def _sql_ascending(inv: Inventory, table: str, sort: str) -> np.ndarray:
    """The ascending order, from SQL."""
    from_clause, _ = inv._joins(table)
    f = schema.table(table).field(sort)
    source = from_clause if f.kind == "ref" else f"{table} t"
    sql = f"SELECT t.id FROM {source} ORDER BY {_sql_order(inv, table, sort, False)}"
    return _parse_ints(inv.conn.execute(f"SELECT group_concat(id) FROM ({sql})").fetchone()[0])


def _count_values(inv: Inventory, table: str, sort: str) -> int:
    """How many rows have a value (not blank) in the sort column."""
    from_clause, exprs = inv._joins(table)
    f = schema.table(table).field(sort)
    source = from_clause if f.kind == "ref" else f"{table} t"
    sql = f"SELECT count({exprs.get(sort, f't.{sort}')}) FROM {source}"
    return int(inv.conn.execute(sql).fetchone()[0])


def _descending(ascending: np.ndarray, n_values: int) -> np.ndarray:
    """Descending order (ties and blanks by id descending, blanks last) from ascending."""
    return np.concatenate([ascending[:n_values][::-1], ascending[n_values:][::-1]])


def _index_gives_order(inv: Inventory, table: str, sort: str) -> bool:
    """Whether SQLite can read the ascending order from an index (no sorting pass)."""
    f = schema.table(table).field(sort)
    if f.kind == "ref":
        return False
    sql = f"SELECT t.id FROM {table} t ORDER BY {_sql_order(inv, table, sort, False)}"
    plan = inv.conn.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
    return not any("TEMP B-TREE" in row[-1] for row in plan)


def _key(inv: Inventory, cache: _Cache, table: str, f: schema.FieldSpec) -> np.ndarray:
    """One sort key per row, in id order; blanks are NaN (floats) or INT_NULL (ints)."""
    col = f"t.{f.name}"

    def fetch(expr: str, dtype: Any) -> np.ndarray:
        sql = f"SELECT group_concat({expr}) FROM (SELECT {col} AS v FROM {table} t ORDER BY t.id)"
        text = inv.conn.execute(sql).fetchone()[0]
        return np.fromstring(text, dtype=dtype, sep=",") if text else np.empty(0, dtype)

    if f.kind == "real":
        return fetch("ifnull(v, 'nan')", np.float64)
    if f.kind == "int":
        return fetch(f"ifnull(v, {INT_NULL})", np.int64)
    if f.kind == "date":
        return _date_key(inv, table, f.name)
    if f.kind == "choice":  # stored values in binary order (what SQL compares)
        values = sorted({v for v, _ in f.choices})
        quoted = [v.replace("'", "''") for v in values]
        cases = " ".join(f"WHEN '{v}' THEN {i}" for i, v in enumerate(quoted))
        return fetch(f"CASE v {cases} ELSE {INT_NULL} END", np.int64)
    if f.kind == "ref" and f.ref:
        ref = schema.table(f.ref)
        title = ref.title_sql.format(t="r")
        sql = (
            "SELECT group_concat(id), group_concat(rk) FROM (SELECT r.id AS id, "
            f"dense_rank() OVER (ORDER BY {title} COLLATE NOCASE) AS rk FROM {ref.name} r "
            "ORDER BY r.id)"
        )
        ids_text, ranks_text = inv.conn.execute(sql).fetchone()
        ref_ids, ranks = _parse_ints(ids_text), _parse_ints(ranks_text)
        lut = np.full((int(ref_ids.max()) + 2) if len(ref_ids) else 2, INT_NULL, np.int64)
        lut[ref_ids] = ranks
        fk = fetch("ifnull(v, -1)", np.int64)
        fk[(fk < 0) | (fk >= len(lut))] = len(lut) - 1  # blank or dangling: INT_NULL
        return lut[fk]
    raise ValueError(f"no numpy key for {f.kind} columns")


def _date_key(inv: Inventory, table: str, name: str) -> np.ndarray:
    """YYYYMMDD integers from validated ISO dates (blanks INT_NULL), parsed in numpy.

    Falls back to SQLite's ``unixepoch`` if any value is not exactly ``YYYY-MM-DD``.
    """
    sql = (
        "SELECT count(*), group_concat(ifnull(v, '9999-99-99')) "
        f"FROM (SELECT t.{name} AS v FROM {table} t ORDER BY t.id)"
    )
    n, text = inv.conn.execute(sql).fetchone()
    if not n:
        return np.empty(0, np.int64)
    if text.isascii() and len(text) == 11 * n - 1:
        raw = np.frombuffer((text + ",").encode("ascii"), np.uint8).reshape(n, 11)
        digits = raw[:, [0, 1, 2, 3, 5, 6, 8, 9]].astype(np.int64) - 48
        dashes = (raw[:, 4] == 45) & (raw[:, 7] == 45)
        if dashes.all() and ((digits >= 0) & (digits <= 9)).all():
            key = digits @ (10 ** np.arange(7, -1, -1))
            key[key == 99999999] = INT_NULL
            return key
    sql = (
        f"SELECT group_concat(ifnull(unixepoch(v), {INT_NULL})) "
        f"FROM (SELECT t.{name} AS v FROM {table} t ORDER BY t.id)"
    )
    return _parse_ints(inv.conn.execute(sql).fetchone()[0])


def _argsort(key: np.ndarray) -> np.ndarray:
    """Stable argsort; integer keys spanning < 65,535 values use numpy's radix sort."""
    if key.dtype.kind == "i" and len(key):
        values = key[key != INT_NULL]
        low = int(values.min()) if len(values) else 0
        high = int(values.max()) if len(values) else 0
        if high - low < 65535:
            small = np.where(key == INT_NULL, 65535, key - low).astype(np.uint16)
            return np.argsort(small, kind="stable")
    return np.argsort(key, kind="stable")


def _numpy_ascending(
    inv: Inventory, cache: _Cache, table: str, f: schema.FieldSpec
) -> tuple[np.ndarray, int]:
    ids = _all_ids(inv, cache, table)
    key = _key(inv, cache, table, f)
    blank = np.isnan(key) if key.dtype.kind == "f" else key == INT_NULL
    order = _argsort(key)  # stable: ties keep id order; blanks sort last
    return ids[order], len(key) - int(blank.sum())


def _full_order(
    inv: Inventory, cache: _Cache, table: str, sort: str | None, descending: bool
) -> np.ndarray:
    if not sort:
        return _all_ids(inv, cache, table)
    cached = cache.orders.get(table)
    if cached is None or cached[0] != sort:
        cache.orders.pop(table, None)  # hold one sort per table at a time
        f = schema.table(table).field(sort)
        n_values: int | None = None
        if f.kind in ("text", "longtext") or _index_gives_order(inv, table, sort):
            ascending = _compact(_sql_ascending(inv, table, sort))
        else:
            ascending, n_values = _numpy_ascending(inv, cache, table, f)
        cached = cache.orders[table] = (sort, ascending, n_values)
    _, ascending, n_values = cached
    if not descending:
        return ascending
    if n_values is None:
        n_values = _count_values(inv, table, sort)
        cache.orders[table] = (sort, ascending, n_values)
    return _descending(ascending, n_values)


def first_ids(
    inv: Inventory, table: str, sort: str | None, descending: bool, limit: int
) -> np.ndarray | None:
    """The first ``limit`` ids of a sort, if an index gives them without sorting."""
    if sort and not _index_gives_order(inv, table, sort):
        return None
    order = _sql_order(inv, table, sort, descending)
    sql = f"SELECT group_concat(id) FROM (SELECT t.id FROM {table} t ORDER BY {order} LIMIT ?)"
    return _parse_ints(inv.conn.execute(sql, (limit,)).fetchone()[0])


def _foreign_keys(inv: Inventory, cache: _Cache, table: str, name: str) -> np.ndarray:
    """Column ``name`` (a reference) in id order, -1 for blanks; cached."""
    key = (table, name)
    if key not in cache.fks:
        sql = (
            f"SELECT group_concat(ifnull(v, -1)) FROM (SELECT t.{name} AS v FROM {table} t "
            "ORDER BY t.id)"
        )
        cache.fks[key] = _compact(_parse_ints(inv.conn.execute(sql).fetchone()[0]))
    return cache.fks[key]


def _matching_ids(inv: Inventory, cache: _Cache, table: str, terms: list[str]) -> np.ndarray:
    """Ids (ascending) of the rows matching every term in some searchable column.

    The table's own text and choice columns are matched in one scan for all terms (bit
    ``k`` of ``bits`` set when term ``k`` matches); a reference column matches when its
    foreign key is among the referenced rows whose title matches, looked up in numpy
    over the cached foreign-key column. No join, one pass over the big table.
    """
    spec = schema.table(table)
    ids = _all_ids(inv, cache, table)
    own = [f for f in spec.fields if f.kind in ("text", "longtext", "choice")]
    refs = [f for f in spec.fields if f.kind == "ref" and f.ref]
    likes = ["%" + _escape_like(term) + "%" for term in terms]
    cond = " OR ".join(f"t.{f.name} LIKE ? ESCAPE '\\'" for f in own)
    mask = np.ones(len(ids), dtype=bool)
    for start in range(0, len(likes), 62):  # bits of one int64 per scan
        chunk = likes[start : start + 62]
        own_bits = np.zeros(len(ids), dtype=np.int64)
        if own:
            cases = [f"(CASE WHEN {cond} THEN {1 << k} ELSE 0 END)" for k in range(len(chunk))]
            sql = (
                "SELECT group_concat(id), group_concat(bits) FROM (SELECT t.id AS id, "
                f"{' | '.join(cases)} AS bits FROM {table} t) WHERE bits <> 0"
            )
            params = [like for like in chunk for _ in own]
            found, bits = inv.conn.execute(sql, params).fetchone()
            if found:
                own_bits[np.searchsorted(ids, _parse_ints(found))] = _parse_ints(bits)
        for k, like in enumerate(chunk):
            term = (own_bits >> k) & 1 != 0
            for f in refs:
                ref = schema.table(f.ref)  # type: ignore[arg-type]
                title = ref.title_sql.format(t="r")
                sql = (
                    f"SELECT group_concat(r.id) FROM {ref.name} r WHERE {title} LIKE ? ESCAPE '\\'"
                )
                hits = _parse_ints(inv.conn.execute(sql, (like,)).fetchone()[0])
                if not len(hits):
                    continue
                fk = _foreign_keys(inv, cache, table, f.name)
                lut = np.zeros(max(int(hits.max()), int(fk.max(initial=0))) + 2, dtype=bool)
                lut[hits] = True  # the last slot stays False: blanks (-1) land there
                term |= lut[fk]
            mask &= term
    return ids[mask]


def ordered_ids(
    self: Inventory,
    table: str,
    sort: str | None = None,
    descending: bool = False,
    search: str = "",
) -> np.ndarray:
    """Drop-in for ``Inventory.ordered_ids`` (same arguments, same result)."""
    spec = schema.table(table)
    if sort:
        spec.field(sort)  # raises on unknown fields, like the original
    cache = _cache(self)
    full = _full_order(self, cache, spec.name, sort, descending)
    terms = search.split()
    if terms and len(full):
        matched = _matching_ids(self, cache, spec.name, terms)
        lut = np.zeros(int(full.max()) + 1, dtype=bool)
        lut[matched] = True
        full = full[lut[full]]
    return full.astype(np.int64)  # a copy: callers never share the cached arrays


def install_write_hooks() -> None:
    """Make ``Inventory``'s write methods drop the cached orders they affect."""
    if getattr(Inventory, "_proto_hooks", False):
        return
    insert_row, update_row, delete_ids = (
        Inventory.insert_row,
        Inventory.update_row,
        Inventory.delete_ids,
    )

    def patched_insert_row(self: Inventory, table: str, *args: Any, **kwargs: Any) -> int:
        _invalidate(self, table, None)
        return insert_row(self, table, *args, **kwargs)

    def patched_update_row(self: Inventory, table: str, row_id: int, changes: Any) -> None:
        _invalidate(self, table, set(changes))
        update_row(self, table, row_id, changes)

    def patched_delete_ids(self: Inventory, table: str, ids: Any) -> None:
        _invalidate(self, table, None)
        delete_ids(self, table, ids)

    Inventory.insert_row = patched_insert_row  # type: ignore[method-assign]
    Inventory.update_row = patched_update_row  # type: ignore[method-assign]
    Inventory.delete_ids = patched_delete_ids  # type: ignore[method-assign]
    Inventory._proto_hooks = True  # type: ignore[attr-defined]


def install() -> None:
    """Patch the prototype into ``Inventory`` and ``ui`` (in a benchmark process only)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QTableView

    import ui.inventory_page
    from ui.table_model import PAGE_ROWS, InventoryTableModel

    Inventory.ordered_ids = ordered_ids  # type: ignore[method-assign]
    install_write_hooks()

    class LazyModel(InventoryTableModel):
        """Starts with the first page of ids and the row count; the full id list is
        computed when something needs it (scrolling past the first page, a sort, a
        search, selecting by id). Only while no search is set and an index gives the
        order; otherwise it behaves like the original model."""

        def __init__(self, inventory: Inventory, table: str, parent: Any = None):
            self._lazy_count: int | None = None
            self._initial = True
            super().__init__(inventory, table, parent)

        def _query(self) -> np.ndarray:
            if self._initial and not self._search:
                self._initial = False
                first = first_ids(
                    self._inv, self.spec.name, self._sort_field, self._descending, PAGE_ROWS
                )
                if first is not None:
                    count = self._inv.count(self.spec.name)
                    if count > len(first):
                        self._lazy_count = count
                    return first
            self._initial = False
            return super()._query()

        def _complete(self) -> None:
            if self._lazy_count is not None:
                self._lazy_count = None
                self._set_ids(super()._query())

        def rowCount(self, parent: Any = None) -> int:
            if parent is not None and parent.isValid():
                return 0
            return self._lazy_count if self._lazy_count is not None else len(self._ids)

        def refresh(self) -> None:
            if self._lazy_count is not None:  # the old order is not needed: only its length
                self._ids = np.zeros(self._lazy_count, dtype=np.int64)
                self._lazy_count = None
            super().refresh()

        def id_at(self, row: int) -> int:
            self._complete()
            return super().id_at(row)

        def row_of(self, row_id: int) -> int:
            self._complete()
            return super().row_of(row_id)

        def _row(self, row: int) -> tuple[Any, ...]:
            if row >= len(self._ids):
                self._complete()
            return super()._row(row)

        def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
            if role == Qt.ItemDataRole.UserRole and index.isValid():
                self._complete()
            return super().data(index, role)

    ui.inventory_page.InventoryTableModel = LazyModel  # type: ignore[misc]

    class View(QTableView):
        """Sets the model's sort indicator before sorting gets enabled."""

        def setSortingEnabled(self, enable: bool) -> None:
            model = self.model()
            if enable and isinstance(model, InventoryTableModel):
                self.horizontalHeader().setSortIndicator(
                    model.sort_column(), Qt.SortOrder.AscendingOrder
                )
            super().setSortingEnabled(enable)

    ui.inventory_page.QTableView = View  # type: ignore[misc]


def _compare(
    inv: Inventory, original: Any, table: str, sort: str, descending: bool, search: str
) -> bool:
    t0 = time.perf_counter()
    want = original(inv, table, sort, descending, search)
    t1 = time.perf_counter()
    got = ordered_ids(inv, table, sort, descending, search)
    t2 = time.perf_counter()
    same = np.array_equal(want, got)
    print(
        f"{table:12} {sort:16} {'desc' if descending else 'asc ':4} {search!r:16} "
        f"now {(t1 - t0) * 1000:7.0f} ms  prototype {(t2 - t1) * 1000:7.0f} ms  "
        f"{'same' if same else 'DIFFERENT'}"
    )
    return same


def check(path: Path, searches: tuple[str, ...]) -> int:
    """Compare with ``Inventory.ordered_ids`` on every column, then again after edits."""
    from core import commands

    original = Inventory.ordered_ids
    install_write_hooks()
    inv = Inventory.open(path)
    failures = 0
    try:
        for table in ("usage", "deployments", "models", "sites", "hardware"):
            for f in inv.display_fields(table):
                for descending in (False, True):
                    for search in ("", *searches):
                        failures += not _compare(inv, original, table, f.name, descending, search)
        # Edits through the app's commands, each right after an order was cached.
        deps = [int(r[0]) for r in inv.conn.execute("SELECT id FROM deployments LIMIT 20")]
        first_usage = int(inv.conn.execute("SELECT min(id) FROM usage").fetchone()[0])

        def edits(i: int) -> list[commands.Command]:
            dep = deps[i]
            return [
                commands.UpdateRecord(
                    "usage", first_usage, {"energy_kwh": 1000.0 + i, "energy_boundary": "it"}
                ),
                commands.UpdateRecord("deployments", dep, {"name": f"{'a' * (i + 1)} renamed"}),
                commands.InsertRecord(
                    "usage",
                    {
                        "deployment_id": dep,
                        "period_start": "2025-03-01",
                        "period_end": "2025-03-02",
                    },
                ),
                commands.DeleteRecords("deployments", [deps[-1 - i]]),
            ]

        for i, sort in enumerate(("energy_kwh", "deployment_id", "period_start")):
            for edit in edits(i):
                ordered_ids(inv, "usage", sort)  # cached before the edit
                print(f"-- {type(edit).__name__} {edit.table}")
                edit.apply(inv)
                for descending in (False, True):
                    failures += not _compare(inv, original, "usage", sort, descending, "")
    finally:
        inv.close()
    print(f"{failures} differences")
    return 1 if failures else 0


def main() -> None:
    import argparse
    import shutil
    import tempfile

    from fill import fill_large_inventory

    parser = argparse.ArgumentParser(description="Check the prototype against ordered_ids")
    parser.add_argument("--deployments", type=int, default=50_000)
    parser.add_argument("--usage-rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--search", action="append", default=None)
    args = parser.parse_args()
    source = fill_large_inventory(
        deployments=args.deployments, usage_rows=args.usage_rows, seed=args.seed
    )
    searches = tuple(args.search or ("translate-eu", "PROD 0001", "zzz", "cloud"))
    with tempfile.TemporaryDirectory(prefix="aicl-bench-") as tmp:
        copy = Path(tmp) / source.name
        shutil.copyfile(source, copy)
        raise SystemExit(check(copy, searches))


if __name__ == "__main__":
    main()
