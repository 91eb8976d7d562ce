"""Sorting and searching an inventory table for its views, on cached numpy columns.

Ordering and searching work on numpy arrays read in one pass each (SQLite joins the
values into one string, numpy parses it in C) and are cached per table: the ascending
order of the last few sort fields (descending is derived from it), the ids, the row
count, and the reference and choice columns as integers. ``Inventory.insert_row``,
``update_row`` and ``delete_ids`` drop exactly what a write can change; a rollback, a
commit by another connection (``PRAGMA data_version``) or a write that bypassed those
methods (``total_changes``) drops everything. :class:`TableViews` is mixed into
``core.inventory.Inventory``, which owns the connection.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import string
import warnings
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from core import schema

if TYPE_CHECKING:
    import numpy as np

_IN_CHUNK = 500  # ids per "IN (...)" query, well under SQLite's variable limit
#: sort orders kept per table (a few columns to switch between; 4 bytes a row each)
_ORDERS_PER_TABLE = 4
#: terms matched per scan in a search (one bit each in an int64)
_TERMS_PER_SCAN = 62
_INT64_MIN = -(2**63)
#: A full scan of the table's b-tree, which SQLite makes in rowid (id) order: columns
#: read so line up with the ids. (The SQL standard leaves the order of a SELECT without
#: ORDER BY open; an ORDER BY id subquery costs up to 2.5x as much for text columns, and
#: SQLite's only other order, PRAGMA reverse_unordered_selects, is switched off on open.)
_IN_ID_ORDER = "NOT INDEXED"


_numpy_adapted = False


def _numpy() -> Any:
    """numpy, imported on first use (it is not needed to show the main window)."""
    import numpy

    if not _numpy_adapted:
        _adapt_numpy()
    return numpy


def _adapt_numpy() -> None:
    """Bind numpy scalars as numbers: ids from ordered_ids, values from arrays would
    otherwise be stored as BLOBs, which break foreign keys and comparisons."""
    global _numpy_adapted
    import numpy as numpy_

    for kind, convert in (
        (numpy_.int64, int),
        (numpy_.int32, int),
        (numpy_.float64, float),
        (numpy_.float32, float),
    ):
        sqlite3.register_adapter(kind, convert)
    _numpy_adapted = True


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _chunks(ids: Sequence[int] | Iterable[int]) -> Iterator[list[int]]:
    ids = [int(i) for i in ids]
    for start in range(0, len(ids), _IN_CHUNK):
        yield ids[start : start + _IN_CHUNK]


class TableViews:
    """Ordered id lists, first pages and displayed rows of the inventory tables."""

    conn: sqlite3.Connection
    _joins_cache: dict[str, tuple[str, dict[str, str]]]
    _cache: _Cache

    def _joins(self, table: str) -> tuple[str, dict[str, str]]:
        """``(FROM clause, {field: SQL expression})`` for a table's displayed columns.

        Reference columns show the referenced row's title through a LEFT JOIN.
        """
        if table in self._joins_cache:
            return self._joins_cache[table]
        spec = schema.table(table)
        joins, exprs = [f"{spec.name} t"], {}
        for f in self.display_fields(table):
            if f.kind == "ref" and f.ref:
                alias = f"r_{f.name}"
                ref_spec = schema.table(f.ref)
                joins.append(f"LEFT JOIN {ref_spec.name} {alias} ON {alias}.id = t.{f.name}")
                exprs[f.name] = ref_spec.title_sql.format(t=alias)
            else:
                exprs[f.name] = f"t.{f.name}"
        result = (" ".join(joins), exprs)
        self._joins_cache[table] = result
        return result

    def ordered_ids(
        self,
        table: str,
        sort: str | None = None,
        descending: bool = False,
        search: str = "",
    ) -> np.ndarray:
        """Ids of the rows matching ``search``, ordered by field ``sort``.

        Search is a case-insensitive substring match (SQL ``LIKE``, wildcards taken
        literally) over text, choice and reference columns; every word must match
        somewhere. Text and references (by the referenced row's title) sort without
        regard to case. Blank values sort last either way; ties keep id order in the
        direction of the sort. Returns a new ``int64`` array.

        Orders come from numpy (a stable sort of the column read once in id order),
        from SQL when an index gives them or for text, and are cached (see the module
        docstring). Real numbers compare as SQLite writes them as text (15 significant
        digits): values that differ only beyond that sort as ties, by id.
        """
        spec = schema.table(table)
        field = spec.field(sort) if sort else None
        np = _numpy()
        terms = search.split()
        with self._read_snapshot():
            cache = self._valid_cache()
            rows = self._rows(cache, spec.name)
            order = None
            if field is not None:
                order = self._ordered_positions(cache, spec.name, field, descending)
            if terms and rows.n:
                mask = self._search_mask(cache, spec, rows, terms)
                order = np.flatnonzero(mask) if order is None else order[mask[order]]
        return rows.ids_at(order)

    def first_ids(
        self,
        table: str,
        sort: str | None = None,
        descending: bool = False,
        limit: int = 200,
    ) -> np.ndarray | None:
        """The first ``limit`` ids of ``ordered_ids(table, sort, descending)`` if they
        come cheaply (an index gives the order, or the order is cached), else None.

        Lets a view show its first page of a large table without the whole order.
        """
        spec = schema.table(table)
        field = spec.field(sort) if sort else None
        np = _numpy()
        with self._read_snapshot():
            cache = self._valid_cache()
            if field is not None:
                if cache.order(spec.name, field.name) is not None:
                    order = self._ordered_positions(cache, spec.name, field, descending)
                    return self._rows(cache, spec.name).ids_at(order[:limit])
                if not self._index_gives_order(cache, spec.name, field, descending):
                    return None
            order_by = _sql_order(field, descending, {})
            sql = (
                "SELECT group_concat(id) FROM "
                f"(SELECT t.id AS id FROM {spec.name} t ORDER BY {order_by} LIMIT ?)"
            )
            return _parse(np, self.conn.execute(sql, (int(limit),)).fetchone()[0], np.int64)

    def display_rows(self, table: str, ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
        """Displayed values (references as titles) for ``ids``, keyed by id."""
        from_clause, exprs = self._joins(table)
        cols = ", ".join(exprs[f.name] for f in self.display_fields(table))
        out: dict[int, tuple[Any, ...]] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT t.id, {cols} FROM {from_clause} WHERE t.id IN ({marks})"
            for row in self.conn.execute(sql, chunk):
                out[row[0]] = tuple(row[1:])
        return out

    # -- cached orders and searches -------------------------------------------------

    @contextlib.contextmanager
    def _read_snapshot(self) -> Iterator[None]:
        """One read transaction around several queries, so that arrays read one after
        the other describe the same rows even if another process commits meanwhile."""
        conn = self.conn
        if conn.in_transaction:
            yield
            return
        conn.execute("BEGIN")
        try:
            yield
        finally:
            if conn.in_transaction:
                conn.execute("COMMIT")  # nothing was written: this ends the snapshot

    def _valid_cache(self) -> _Cache:
        """The caches, emptied first if the file may have changed behind their back:
        a commit by another connection, or a write that did not go through this class."""
        cache = self._cache
        version = self.conn.execute("PRAGMA data_version").fetchone()[0]
        changes = self._conn.total_changes
        if version != cache.data_version or changes != cache.changes:
            cache.clear()
            cache.data_version, cache.changes = version, changes
        return cache

    @contextlib.contextmanager
    def _writing(
        self,
        table: str | None = None,
        fields: Iterable[str] | None = None,
        *,
        deleted: bool = False,
    ) -> Iterator[None]:
        """Around each write: afterwards drop what it can have changed in ``table``
        (rows added, rows ``deleted`` with their cascade, or ``fields`` updated)."""
        cache = self._cache
        if cache.changes != self._conn.total_changes:
            cache.clear()  # something wrote without going through here: trust nothing
        try:
            yield
        finally:
            if table is not None:
                cache.written(table, None if fields is None else set(fields), deleted=deleted)
            cache.changes = self._conn.total_changes

    def _rows(self, cache: _Cache, table: str) -> _Rows:
        """The table's ids (a range when there are no gaps, else read once)."""
        rows = cache.rows.get(table)
        if rows is None:
            np = _numpy()
            n = cache.counts.get(table)
            if n is None:
                n = cache.counts[table] = int(
                    self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                )
            first, last = self.conn.execute(
                f"SELECT (SELECT min(id) FROM {table}), (SELECT max(id) FROM {table})"
            ).fetchone()
            ids = None
            if n and last - first + 1 != n:
                sql = f"SELECT group_concat(id) FROM (SELECT id FROM {table} ORDER BY id)"
                ids = _parse(np, self.conn.execute(sql).fetchone()[0], np.int64, n)
                if ids is None:
                    raise sqlite3.DatabaseError(f"{table}: the ids changed while being read")
            rows = cache.rows[table] = _Rows(np, n, first or 0, ids)
        return rows

    def _ordered_positions(
        self, cache: _Cache, table: str, field: schema.FieldSpec, descending: bool
    ) -> np.ndarray:
        """Positions (into the table's ids) in the order of ``field``."""
        order = cache.order(table, field.name)
        if order is None:
            order = self._ascending(cache, table, field)
        if descending and order.n_values is None:
            order = order._replace(n_values=self._count_values(table, field))
        cache.keep_order(table, field.name, order)
        return _direction(_numpy(), order, descending)

    def _count_values(self, table: str, field: schema.FieldSpec) -> int:
        """How many rows are not blank in ``field`` (references: have a title)."""
        from_clause, exprs = self._joins(table)
        source = from_clause if field.kind == "ref" else f"{table} t"
        expr = exprs.get(field.name, f"t.{field.name}")
        return int(self.conn.execute(f"SELECT count({expr}) FROM {source}").fetchone()[0])

    def _ascending(self, cache: _Cache, table: str, field: schema.FieldSpec) -> _Order:
        """Compute the ascending order of ``field``: numpy unless an index gives it or
        the column holds text (or values numpy cannot read, then SQL decides)."""
        np = _numpy()
        rows = self._rows(cache, table)
        if not rows.n:
            return _Order(np.empty(0, dtype=np.int32), 0)
        if field.kind not in ("text", "longtext") and not self._index_gives_order(
            cache, table, field, False
        ):
            keyed = self._sort_key(cache, table, field, rows)
            if keyed is not None:
                return _stable_order(np, *keyed)
        return self._sql_ascending(table, field, rows)

    def _index_gives_order(
        self, cache: _Cache, table: str, field: schema.FieldSpec, descending: bool
    ) -> bool:
        """Whether SQLite reads this order from an index (no sorting pass)."""
        if field.kind == "ref":
            return False  # ordered by the referenced rows' titles
        key = (table, field.name, descending)
        if key not in cache.plans:
            order_by = _sql_order(field, descending, {})
            sql = f"EXPLAIN QUERY PLAN SELECT t.id FROM {table} t ORDER BY {order_by}"
            plan = self.conn.execute(sql).fetchall()
            cache.plans[key] = not any("TEMP B-TREE" in str(row[-1]) for row in plan)
        return cache.plans[key]

    def _sql_ascending(self, table: str, field: schema.FieldSpec, rows: _Rows) -> _Order:
        np = _numpy()
        from_clause, exprs = self._joins(table)
        source = from_clause if field.kind == "ref" else f"{table} t"
        sql = (
            "SELECT group_concat(id) FROM (SELECT t.id AS id FROM "
            f"{source} ORDER BY {_sql_order(field, False, exprs)})"
        )
        ids = _parse(np, self.conn.execute(sql).fetchone()[0], np.int64, rows.n)
        if ids is None:
            raise sqlite3.DatabaseError(f"{table}: the rows changed while being sorted")
        return _Order(_compact(np, rows.positions(ids)), None)

    def _sort_key(
        self, cache: _Cache, table: str, field: schema.FieldSpec, rows: _Rows
    ) -> tuple[np.ndarray, np.ndarray | None] | None:
        """``(key, blank)`` in id order for a numpy sort, or None if the stored values
        are not what the field promises (then SQL sorts them)."""
        np = _numpy()
        if field.kind == "int":
            return self._column(table, field.name, np.int64, rows)
        if field.kind == "real":
            return self._column(table, field.name, np.float64, rows)
        if field.kind == "date":
            return self._date_column(table, field.name, rows)
        if field.kind == "choice":  # codes follow the stored values' (bytewise) order
            return self._codes(cache, table, field, rows)
        if field.kind == "ref" and field.ref:
            fks = self._codes(cache, table, field, rows)
            titles = self._title_ranks(field.ref)
            if fks is None or titles is None:
                return None
            values, blank = fks
            ref_ids, ranks = titles
            at = _lookup(np, ref_ids, values)
            found = at >= 0
            if blank is not None:
                found &= ~blank
            key = np.where(found, ranks[at], 0) if len(ranks) else np.zeros(rows.n, np.int64)
            return key, None if found.all() else ~found
        return None

    def _column(
        self, table: str, name: str, dtype: Any, rows: _Rows, expr: str = "{v}"
    ) -> tuple[np.ndarray, np.ndarray | None] | None:
        """Column ``name`` (through ``expr``) in id order as ``dtype``, and which rows
        are blank (None if none are); None if some value is not a number of ``dtype``.

        Blanks are read as NaN, or as the smallest int64, which is then checked
        against the number of blanks (a stored value might be that number).
        """
        np = _numpy()
        floats = np.dtype(dtype).kind == "f"
        blank_value = "'nan'" if floats else str(_INT64_MIN)
        sql = (
            f"SELECT group_concat(ifnull({expr.format(v=name)}, {blank_value})), "
            f"count(*) - count({name}) FROM {table} {_IN_ID_ORDER}"
        )
        text, n_blank = self.conn.execute(sql).fetchone()
        key = _parse(np, text, dtype, rows.n)
        if key is None:
            return None
        if not n_blank:
            return key, None
        blank = np.isnan(key) if floats else key == _INT64_MIN
        return (key, blank) if int(blank.sum()) == n_blank else None

    def _date_column(
        self, table: str, name: str, rows: _Rows
    ) -> tuple[np.ndarray, np.ndarray | None] | None:
        """ISO dates as YYYYMMDD integers (in their text order) in id order, or None if
        some stored value is not exactly ``YYYY-MM-DD``."""
        np = _numpy()
        sql = (
            f"SELECT CAST(group_concat(ifnull({name}, '0000-00-00')) AS BLOB), "
            f"count(*) - count({name}) FROM {table} {_IN_ID_ORDER}"
        )
        data, n_blank = self.conn.execute(sql).fetchone()
        data = data or b""
        if len(data) != max(11 * rows.n - 1, 0):
            return None
        raw = np.frombuffer(data + b",", dtype=np.uint8).reshape(rows.n, 11)
        if not ((raw[:, 4] == 45) & (raw[:, 7] == 45) & (raw[:, 10] == 44)).all():
            return None
        key = np.zeros(rows.n, dtype=np.int64)
        for col in (0, 1, 2, 3, 5, 6, 8, 9):
            digit = raw[:, col].astype(np.int64) - 48
            if not ((digit >= 0) & (digit <= 9)).all():
                return None
            key *= 10
            key += digit
        if not n_blank:
            return key, None
        blank = key == 0
        return (key, blank) if int(blank.sum()) == n_blank else None

    def _codes(
        self, cache: _Cache, table: str, field: schema.FieldSpec, rows: _Rows
    ) -> tuple[np.ndarray, np.ndarray | None] | None:
        """A reference column (foreign keys) or a choice column (index into
        ``_choice_values``) in id order, and its blanks; cached. None if some stored
        value is not an integer id, or not one of the choices."""
        key = (table, field.name)
        if key not in cache.codes:
            np = _numpy()
            expr = "{v}"
            if field.kind == "choice":
                whens = " ".join(
                    f"WHEN {{v}} = {_sql_text(v)} THEN {i}"
                    for i, v in enumerate(_choice_values(field))
                )
                expr = f"CASE WHEN {{v}} IS NULL THEN NULL {whens} ELSE -1 END"
            codes = self._column(table, field.name, np.int64, rows, expr)
            if codes is not None:
                values, blank = codes
                if blank is not None:
                    values[blank] = 0
                if field.kind == "choice" and (values == -1).any():
                    codes = None  # a value that is not one of the choices
                else:
                    codes = (_narrow(np, values), blank)
            cache.codes[key] = codes
        return cache.codes[key]

    def _title_ranks(self, table: str) -> tuple[np.ndarray, np.ndarray] | None:
        """``(ids, rank)`` of ``table``'s rows by title, case-insensitively (equal
        titles share a rank); rows without a title are left out."""
        np = _numpy()
        spec = schema.table(table)
        title = spec.title_sql.format(t="r")
        sql = (
            "SELECT group_concat(id), group_concat(rk), count(*) FROM (SELECT r.id AS id, "
            f"dense_rank() OVER (ORDER BY {title} COLLATE NOCASE) AS rk FROM {spec.name} r "
            f"WHERE {title} IS NOT NULL ORDER BY r.id)"
        )
        ids_text, ranks_text, n = self.conn.execute(sql).fetchone()
        ids = _parse(np, ids_text, np.int64, n)
        ranks = _parse(np, ranks_text, np.int64, n)
        return None if ids is None or ranks is None else (ids, ranks)

    def _search_mask(
        self, cache: _Cache, spec: schema.TableSpec, rows: _Rows, terms: list[str]
    ) -> np.ndarray:
        """Which rows (by position) match every term, without joins.

        The table's own text columns are matched in one scan per 62 terms (bit ``k``
        set when term ``k`` matches). Choice columns are matched in numpy: the choices
        that contain the term (compared as ``LIKE`` does: ASCII letters ignoring case)
        over the cached column of choice codes. A reference column matches when it
        points at a referenced row whose title matches (found with ``LIKE`` in the
        small referenced table), tested in numpy over the cached foreign-key column.
        """
        np = _numpy()
        choices, refs, own = [], [], []
        for f in spec.fields:
            if f.kind in ("choice", "ref"):
                codes = self._codes(cache, spec.name, f, rows)
                if codes is not None:
                    (choices if f.kind == "choice" else refs).append((f, codes))
                elif f.kind == "choice":
                    own.append(f)  # values that are not choices: LIKE in the scan
                else:  # references numpy cannot read: let SQL join and match
                    return self._sql_search_mask(spec, rows, terms)
            elif f.kind in ("text", "longtext"):
                own.append(f)
        cond = " OR ".join(f"t.{f.name} LIKE ? ESCAPE '\\'" for f in own)
        mask = np.ones(rows.n, dtype=bool)
        for start in range(0, len(terms), _TERMS_PER_SCAN):
            chunk = terms[start : start + _TERMS_PER_SCAN]
            likes = ["%" + _escape_like(term) + "%" for term in chunk]
            bits = np.zeros(rows.n, dtype=np.int64)
            if own:
                cases = " | ".join(
                    f"(CASE WHEN {cond} THEN {1 << k} ELSE 0 END)" for k in range(len(chunk))
                )
                sql = (
                    "SELECT group_concat(id), group_concat(bits) FROM (SELECT t.id AS id, "
                    f"{cases} AS bits FROM {spec.name} t) WHERE bits <> 0"
                )
                params = [like for like in likes for _ in own]
                found_text, bits_text = self.conn.execute(sql, params).fetchone()
                found = _parse(np, found_text, np.int64)
                found_bits = _parse(np, bits_text, np.int64, None if found is None else len(found))
                if found is None or found_bits is None:
                    raise sqlite3.DatabaseError(f"{spec.name}: the rows changed while searched")
                bits[rows.positions(found)] = found_bits
            for k, (term, like) in enumerate(zip(chunk, likes, strict=True)):
                hit = (bits >> k) & 1 != 0
                folded = term.translate(_ASCII_LOWER)
                for f, (codes, blank) in choices:
                    matched = [
                        i
                        for i, value in enumerate(_choice_values(f))
                        if folded in value.translate(_ASCII_LOWER)
                    ]
                    if matched:
                        hit |= _among(np, codes, blank, matched)
                for f, (fks, blank) in refs:
                    ref = schema.table(f.ref)  # type: ignore[arg-type]
                    title = ref.title_sql.format(t="r")
                    sql = (
                        f"SELECT group_concat(r.id) FROM {ref.name} r "
                        f"WHERE {title} LIKE ? ESCAPE '\\'"
                    )
                    found = _parse(np, self.conn.execute(sql, (like,)).fetchone()[0], np.int64)
                    if found is not None and len(found):
                        hit |= _among(np, fks, blank, found)
                mask &= hit
        return mask

    def _sql_search_mask(self, spec: schema.TableSpec, rows: _Rows, terms: list[str]) -> np.ndarray:
        """The search in SQL with joins (for values the numpy search cannot read)."""
        np = _numpy()
        from_clause, exprs = self._joins(spec.name)
        searchable = [
            exprs.get(f.name, f"t.{f.name}")
            for f in spec.fields
            if f.kind in ("text", "longtext", "choice", "ref")
        ]
        clauses, params = [], []
        for term in terms:
            like = "%" + _escape_like(term) + "%"
            clauses.append("(" + " OR ".join(f"{e} LIKE ? ESCAPE '\\'" for e in searchable) + ")")
            params.extend([like] * len(searchable))
        sql = f"SELECT group_concat(t.id) FROM {from_clause} WHERE {' AND '.join(clauses)}"
        found = _parse(np, self.conn.execute(sql, params).fetchone()[0], np.int64)
        if found is None:
            raise sqlite3.DatabaseError(f"{spec.name}: the rows changed while searched")
        mask = np.zeros(rows.n, dtype=bool)
        mask[rows.positions(found)] = True
        return mask


# -- caches of orders and their helpers ------------------------------------------------


class _Order(NamedTuple):
    """A table's ascending order by one field: positions into its ids, blanks last."""

    ascending: np.ndarray
    #: how many rows have a value (they come first); None until a descending order needs it
    n_values: int | None


def _direction(np: Any, order: _Order, descending: bool) -> np.ndarray:
    """The ascending order, or the descending one derived from it: the values reversed
    (so ties go by id descending), then the blanks reversed (still last)."""
    if not descending:
        return order.ascending
    asc, k = order.ascending, order.n_values
    return np.concatenate((asc[:k][::-1], asc[k:][::-1]))


class _Rows:
    """A table's ids in ascending order; orders hold positions into them.

    Without gaps the ids are a range and nothing is stored.
    """

    __slots__ = ("_np", "first", "ids", "n")

    def __init__(self, np: Any, n: int, first: int, ids: np.ndarray | None):
        self._np, self.n, self.first, self.ids = np, n, first, ids

    def ids_at(self, positions: np.ndarray | None) -> np.ndarray:
        """The ids at ``positions`` (all ids if None), as a new int64 array."""
        np = self._np
        if positions is None:
            if self.ids is None:
                return np.arange(self.first, self.first + self.n, dtype=np.int64)
            return self.ids.copy()
        if self.ids is None:
            out = positions.astype(np.int64)
            out += self.first
            return out
        return self.ids[positions]

    def positions(self, ids: np.ndarray) -> np.ndarray:
        """Positions of ``ids``, which must all be in the table."""
        if self.ids is None:
            return ids - self.first
        return self._np.searchsorted(self.ids, ids)


class _Cache:
    """What :meth:`Inventory.ordered_ids` keeps between calls, per table.

    ``orders[table]`` holds the ascending order of up to ``_ORDERS_PER_TABLE`` fields,
    least recently used first. ``data_version`` and ``changes`` say which state of the
    file the rest describes.
    """

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.data_version: int | None = None
        self.changes: int | None = None
        self.counts: dict[str, int] = {}
        self.rows: dict[str, _Rows] = {}
        self.orders: dict[str, OrderedDict[str, _Order]] = {}
        #: reference and choice columns as integers (None: not readable so)
        self.codes: dict[tuple[str, str], tuple[np.ndarray, np.ndarray | None] | None] = {}
        self.plans: dict[tuple[str, str, bool], bool] = {}

    def order(self, table: str, field: str) -> _Order | None:
        orders = self.orders.get(table)
        if orders is None or field not in orders:
            return None
        orders.move_to_end(field)
        return orders[field]

    def keep_order(self, table: str, field: str, order: _Order) -> None:
        orders = self.orders.setdefault(table, OrderedDict())
        orders[field] = order
        while len(orders) > _ORDERS_PER_TABLE:
            orders.popitem(last=False)

    def written(self, table: str, fields: set[str] | None, *, deleted: bool = False) -> None:
        """Drop what a write to ``table`` can have changed.

        Rows added (``fields`` None): that table's ids, count and orders. Rows deleted:
        the same for the tables the delete cascades to. ``fields`` updated: orders by
        those fields and their foreign-key columns; if they make up the rows' titles,
        also the orders of other tables by references to this one. An insert or delete
        changes no remaining row's title, so those orders stay.
        """
        if fields is None:
            for name in _cascade(table) if deleted else (table,):
                self.counts.pop(name, None)
                self.rows.pop(name, None)
                self.orders.pop(name, None)
                for key in [k for k in self.codes if k[0] == name]:
                    del self.codes[key]
            return
        orders = self.orders.get(table, {})
        for name in fields:
            orders.pop(name, None)
            self.codes.pop((table, name), None)
        if fields & _title_fields(table):
            for other, other_orders in self.orders.items():
                spec = schema.table(other)
                for name in list(other_orders):
                    if spec.field(name).ref == table:
                        del other_orders[name]


def _cascade(table: str) -> set[str]:
    """``table`` and every table whose rows a delete from it takes along."""
    tables, todo = {table}, [table]
    while todo:
        for dep in schema.DEPENDENTS.get(todo.pop(), ()):
            if dep.on_delete != "restrict" and dep.table not in tables:
                tables.add(dep.table)
                todo.append(dep.table)
    return tables


def _title_fields(table: str) -> set[str]:
    """The fields a table's rows are titled by (what references to it show)."""
    return set(re.findall(r"\{t\}\.(\w+)", schema.table(table).title_sql))


def _sql_order(field: schema.FieldSpec | None, descending: bool, exprs: dict[str, str]) -> str:
    """ORDER BY clause over alias ``t``: blanks last, ties by id in the same direction."""
    if field is None:
        return "t.id"
    expr = exprs.get(field.name, f"t.{field.name}")
    collate = " COLLATE NOCASE" if field.kind in ("text", "ref", "longtext") else ""
    direction = "DESC" if descending else "ASC"
    return f"{expr}{collate} {direction} NULLS LAST, t.id {direction}"


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


#: what LIKE ignores: the case of ASCII letters (and of no other letters)
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _choice_values(field: schema.FieldSpec) -> list[str]:
    """A choice field's stored values in SQL's (bytewise) order: codes index this."""
    return sorted({v for v, _ in field.choices})


def _parse(np: Any, text: str | None, dtype: Any, expected: int | None = None) -> Any:
    """Comma-separated numbers (from ``group_concat``) parsed in C, or None if some
    value is not a number of ``dtype`` or there are not ``expected`` of them.

    ``numpy.fromstring`` with ``sep`` is its text mode, which is not deprecated.
    """
    if not text:
        values = np.empty(0, dtype=dtype)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)  # numpy < 2.3 only warns
            try:
                values = np.fromstring(text, dtype=dtype, sep=",")
            except (ValueError, DeprecationWarning):
                return None
    if expected is not None and len(values) != expected:
        return None
    return values


def _among(np: Any, values: np.ndarray, blank: np.ndarray | None, wanted: Any) -> np.ndarray:
    """Which rows hold one of the ``wanted`` values (never the blank ones)."""
    found = np.isin(values, wanted)
    if blank is not None:
        found &= ~blank
    return found


def _narrow(np: Any, values: np.ndarray) -> np.ndarray:
    """Integers in the smallest type that holds them (kept in the cache)."""
    low, high = (int(values.min()), int(values.max())) if len(values) else (0, 0)
    for kind in (np.int8, np.int16, np.int32):
        if np.iinfo(kind).min <= low and high <= np.iinfo(kind).max:
            return values.astype(kind)
    return values


def _compact(np: Any, positions: np.ndarray) -> np.ndarray:
    """Positions as int32 when they fit: half the memory in the cache."""
    if len(positions) < 2**31:
        return positions.astype(np.int32, copy=False)
    return positions


def _lookup(np: Any, keys: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Index of each query in the sorted, distinct ``keys``; -1 where absent."""
    if not len(keys):
        return np.full(len(queries), -1, dtype=np.int64)
    queries = queries.astype(np.int64, copy=False)
    first, last = int(keys[0]), int(keys[-1])
    span = last - first + 1
    if span <= 4 * len(keys) + 1024:  # dense: a lookup table
        table = np.full(span + 1, -1, dtype=np.int64)  # the last slot: out of range
        table[keys - first] = np.arange(len(keys))
        outside = (queries < first) | (queries > last)
        return table[np.where(outside, span, queries - first)]
    at = np.minimum(np.searchsorted(keys, queries), len(keys) - 1)
    return np.where(keys[at] == queries, at, -1)


def _stable_order(np: Any, key: np.ndarray, blank: np.ndarray | None) -> _Order:
    """Positions sorted by ``key`` (ties by position), then the blank positions.

    Small integer ranges use numpy's radix sort; otherwise an unstable sort, with the
    ties put back in position order by sorting ``group * m + index`` (one int64 sort).
    Temporary arrays are let go as soon as possible: a million rows take 8 MB each.
    """
    n = len(key)
    valued = None if blank is None else np.flatnonzero(~blank)
    values = key if valued is None else key[valued]
    m = len(values)
    if not m:
        order = np.empty(0, dtype=np.int64)
    elif values.dtype.kind in "iu" and int(values.max()) - int(values.min()) < 65535:
        small = np.subtract(values, values.min(), dtype=np.int64).astype(np.uint16)
        order = np.argsort(small, kind="stable")
    else:
        order = np.argsort(values)
        ordered = values[order]
        del values
        group = np.zeros(m, dtype=np.int64)
        np.cumsum(ordered[1:] != ordered[:-1], out=group[1:])
        del ordered
        group *= m
        group += order
        del order
        group.sort()
        order = np.remainder(group, m, out=group)
    out = np.empty(n, dtype=np.int32 if n < 2**31 else np.int64)
    if valued is None:
        out[:] = order
    else:
        out[:m] = valued[order]
        out[m:] = np.flatnonzero(blank)
    return _Order(out, m)
