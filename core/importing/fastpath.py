"""The column-wise fast path of :class:`core.importing.plan.RowScanner`.

A chunk of rows is converted and checked column by column: numbers with numpy, text,
dates, choices and references once per distinct cell. Runs of clean new rows come out
as :class:`~core.importing.scanned.NewRows`; any row with something unusual is left to
the row path (:mod:`.rowpath`), which gives the per-cell reasons.
"""

from __future__ import annotations

import contextlib
import itertools
import operator
import re
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from core import schema
from core.importing.keys import _natural_keys, _same
from core.importing.scanned import MatchedRow, NewRows, ScannedRow
from core.validation import MAX_POWER_OVER_TDP

if TYPE_CHECKING:
    from core.importing.resolving import _Resolver

#: distinct values remembered per column before starting again (free text rarely repeats)
MEMO_SIZE = 50_000

#: a cell the fast path leaves to the row path (a problem, or something unusual)
_NEEDS_ROW = object()
#: what a column of plain numbers written as text may hold
_PLAIN_BYTES = b"0123456789.+-eE \n"
#: "5." or "5.e3": Python's float reads them, the unit-aware reader does not
_LOOSE_POINT = re.compile(r"\.(?![0-9])")
#: a plain number that Python's float and units.parse_number read alike
_PLAIN = re.compile(r"\s*[-+]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\s*")


def _only_plain_chars(text: str) -> bool:
    """Whether ``text`` holds only :data:`_PLAIN_BYTES` (one pass in C: deleting them
    from its ASCII bytes leaves nothing; about 5x faster than a set of its characters)."""
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        return False
    return not raw.translate(None, _PLAIN_BYTES)


class _Memo(dict):
    """raw cell -> converted value, computed once per distinct cell."""

    def __init__(self, compute: Callable[[Any], Any]):
        super().__init__()
        self.compute = compute

    def __missing__(self, key: Any) -> Any:
        value = self[key] = self.compute(key)
        return value


def _memo_safe(col: list[Any]) -> bool:
    """Whether cells can be looked up by value: 1, 1.0 and True are equal as dict keys
    but not as cells ("1" vs "1.0" as text), so a column mixing them is converted cell
    by cell."""
    types = set(map(type, col))
    return len(types & {int, float, bool}) <= 1


def _before(end: Any, start: Any) -> bool:
    """Whether an end date is before its start (both ISO text; anything else: no)."""
    return end.__class__ is str and start.__class__ is str and bool(end and start and end < start)


class FastPath:
    """Column-wise scanning of :class:`core.importing.plan.RowScanner` (which sets the
    attributes used here; the row path, conversion and keys come from its other parts)."""

    def _scan_chunk(self, numbers: list[int], rows: list[list[Any]]) -> list[ScannedRow | NewRows]:
        """Convert and check a chunk column by column; see :meth:`scan_items`."""
        n = len(rows)
        fields = self.fields
        need = np.zeros(n, dtype=bool)  # rows for the row path
        if self.edits:
            rows = list(rows)
            for i, number in enumerate(numbers):
                if number in self._edited_rows:
                    need[i] = True
                    cells = list(rows[i])
                    for c in self.columns:
                        if (number, c.field) in self.edits:
                            cells[c.index] = self.edits[(number, c.field)]
                    rows[i] = cells
        columns = list(zip(*rows, strict=True))  # one transpose, not a pass per column
        cols: dict[str, list[Any]] = {}
        refs: dict[str, list[Any]] = {}  # reference fields: (text, (id, count, reason)) or None
        for c in self.columns:
            name = c.field
            f = fields.get(name)  # type: ignore[arg-type]
            if f is None or name not in self.factors:
                continue
            col = columns[c.index]
            if f.kind == "ref":
                resolver = self.resolvers[name]
                memo = self._memo(name, lambda x, r=resolver: self._ref_cell(r, x))
                if _memo_safe(col):
                    refs[name] = list(map(memo.__getitem__, col))
                else:
                    refs[name] = [self._ref_cell(resolver, x) for x in col]
                cols.pop(name, None)
            elif f.is_number:
                cols[name], bad = self._numbers(f, col, self.factors[name])
                need |= bad
                refs.pop(name, None)
            else:
                fac = self.factors[name]
                memo = self._memo(name, lambda x, f=f, fac=fac: self._cell(f, x, fac))
                if _memo_safe(col):
                    cols[name] = list(map(memo.__getitem__, col))
                else:
                    cols[name] = [self._cell(f, x, fac) for x in col]
                if _NEEDS_ROW in cols[name]:
                    need |= np.array([v is _NEEDS_ROW for v in cols[name]], dtype=bool)
                refs.pop(name, None)
        for name, value in self.mapping.defaults.items():
            f = fields.get(name)
            if f is None:
                continue
            if f.kind == "ref":
                hit = self._ref_cell(self.resolvers[name], value)
                col = refs.setdefault(name, [None] * n)
                for i in range(n):
                    if col[i] is None:
                        col[i] = hit
                continue
            try:
                converted = self._convert(f, value, 1.0)
                ok = True
            except ValueError:
                ok = False
            col = cols.setdefault(name, [f.blank] * n)
            for i in range(n):
                if col[i] is None or col[i] == "":
                    if not ok or f.is_number:
                        need[i] = True  # the row path gives the reason or checks the range
                    col[i] = converted if ok else None
        for name, col in refs.items():
            distinct = set(col)
            record_id = {h: None if h is None else h[1][0] for h in distinct}
            cols[name] = list(map(record_id.__getitem__, col))
            if any(h is not None and (h[1][2] is not None or h[1][1] > 1) for h in distinct):
                need |= np.array(
                    [h is not None and (h[1][2] is not None or h[1][1] > 1) for h in col],
                    dtype=bool,
                )
        for f in self.spec.fields:
            col = cols.get(f.name)
            if col is None:
                cols[f.name] = col = [f.blank] * n
            if f.required and (None in col or "" in col):
                need |= np.array([v is None or v == "" for v in col], dtype=bool)
        for start, end in self.spec.date_order:
            starts, ends = cols[start], cols[end]
            if set(map(type, starts)) == {str} == set(map(type, ends)) and "" not in starts:
                need |= np.fromiter(map(operator.lt, ends, starts), bool, n)
            else:
                need |= np.array(list(map(_before, ends, starts)), dtype=bool)
        boundary = cols.get("energy_boundary")
        if self.table in ("training_runs", "usage") and (None in boundary or "" in boundary):
            need |= np.array(
                [
                    e is not None and not b
                    for e, b in zip(cols["energy_kwh"], boundary, strict=True)
                ],
                dtype=bool,
            )
        if self.table == "training_runs":
            for i, (p, hw) in enumerate(zip(cols["avg_power_w"], cols["hardware_id"], strict=True)):
                if p is not None:
                    tdp = self._hardware_tdp(hw)
                    if tdp and p > MAX_POWER_OVER_TDP * tdp:
                        need[i] = True
        good = ~need
        good_list = good.tolist()
        for name, col in refs.items():  # count the uses the row path would have counted
            resolver = self.resolvers[name]
            for hit, k in Counter(itertools.compress(col, good_list)).items():
                if hit is not None and hit[0] is not None:
                    resolver.count(hit[0], k)
        names = self.spec.field_names
        tuples = list(zip(*(cols[f] for f in names), strict=True))
        # keys of every row (a row for the row path may still become new, and be the
        # first of its key: the rows after it with that key are then handled alone)
        all_keys = _natural_keys(self.table, cols, n)
        if need.any():
            keys = [k if ok else None for k, ok in zip(all_keys, good_list, strict=True)]
        else:
            keys = list(all_keys)
        hashes = list(map(hash, all_keys))
        h_arr = np.array(hashes, dtype=np.int64)
        special = need | self._seen_before(h_arr)  # rows after one with the same key
        repeat = np.ones(n, dtype=bool)
        repeat[np.unique(h_arr, return_index=True)[1]] = False
        special |= repeat
        if None in keys:
            special |= np.array([k is None for k in keys], dtype=bool)
        stored = self._existing_stored(keys, hashes)  # row -> (id, *stored values)
        # rows matching a stored record and otherwise plain: "changed" or "unchanged"
        status = self._match_status(stored, cols, special)
        # each row: 0 clean and new, 1 a plain match, 2 anything else (one by one)
        kind = special.astype(np.int8) * 2
        for i in stored:
            kind[i] = 1 if i in status else 2
        field_names = list(names)
        out: list[ScannedRow | NewRows] = []
        seen = self._seen_chunk
        bounds = [0, *(np.flatnonzero(np.diff(kind)) + 1).tolist(), n]
        for a, b in itertools.pairwise(bounds):
            k = kind[a]
            if k == 0:  # a run of clean new rows with keys not seen before
                seen.update(zip(hashes[a:b], numbers[a:b], strict=True))
                out.append(NewRows(self, numbers[a:b], tuples[a:b], rows[a:b]))
            elif k == 1 and seen.keys().isdisjoint(hashes[a:b]):
                # the first rows of stored records' keys (as _classify would find them)
                seen.update(zip(hashes[a:b], numbers[a:b], strict=True))
                out.extend(
                    map(
                        MatchedRow,
                        itertools.repeat(self, b - a),
                        numbers[a:b],
                        [status[i] for i in range(a, b)],
                        tuples[a:b],
                        rows[a:b],
                        [stored[i] for i in range(a, b)],
                    )
                )
            else:
                for i in range(a, b):
                    if not good_list[i]:
                        out.append(self._scan_row(numbers[i], rows[i]))
                        continue
                    key = keys[i]
                    if key is not None:
                        h = hashes[i]
                        match = stored.get(i)
                        if match is not None or self._first_seen(h) is not None:
                            values = dict(zip(names, tuples[i], strict=True))
                            existing = None
                            if match is not None:
                                existing = (
                                    match[0],
                                    dict(zip(field_names, match[1:], strict=True)),
                                )
                            out.append(
                                self._classify(
                                    numbers[i], values, self._raw(rows[i]), key, existing
                                )
                            )
                            continue
                        seen[h] = numbers[i]
                    out.append(NewRows(self, [numbers[i]], [tuples[i]], [rows[i]]))
        return out

    def _match_status(
        self,
        stored: dict[int, tuple],
        cols: dict[str, list[Any]],
        special: np.ndarray,
    ) -> dict[int, str]:
        """``{row: "unchanged" or "changed"}`` for the rows that match a stored record and
        are otherwise plain (valid, first of their key in the sheet so far), as
        :meth:`_classify` decides: every given field ``_same`` as the stored value.

        Compared column-wise with ``==`` first, which implies ``_same``; only a row with
        a field not ``==`` is compared field by field with ``_same`` itself (numbers
        within its tolerance, NaN...), so the decision is exactly the row path's."""
        rows = [i for i in stored if not special[i]]
        if not rows:
            return {}
        m = len(rows)
        position = {f: k for k, f in enumerate(self.spec.field_names, 1)}  # after the id
        stored_cols = list(zip(*map(stored.__getitem__, rows), strict=True))
        equal = np.ones(m, dtype=bool)
        for f in self.given:
            values = list(map(cols[f].__getitem__, rows))
            equal &= np.fromiter(map(operator.eq, stored_cols[position[f]], values), bool, m)
        out = dict.fromkeys(rows, "unchanged")
        for j in np.flatnonzero(~equal).tolist():
            i = rows[j]
            old = stored[i]
            if not all(_same(old[position[f]], cols[f][i]) for f in self.given):
                out[i] = "changed"
        return out

    def _memo(self, name: str, compute: Callable[[Any], Any]) -> _Memo:
        memo = self._memos.get(name)
        if memo is None or len(memo) > MEMO_SIZE:  # bounded: free text rarely repeats
            memo = self._memos[name] = _Memo(compute)
        return memo

    @staticmethod
    def _ref_cell(
        resolver: _Resolver, x: Any
    ) -> tuple[str | None, tuple[int | None, int, str | None]] | None:
        """A reference cell: None when blank, else its resolver's answer (uncounted)."""
        if x is None or str(x).strip() == "":
            return None
        return resolver.lookup(x)

    def _cell(self, f: schema.FieldSpec, x: Any, fac: float) -> Any:
        """One text, date or choice cell, or :data:`_NEEDS_ROW` when it has a problem."""
        if isinstance(x, str) and not x.strip():
            return f.blank
        try:
            return self._convert(f, x, fac)
        except ValueError:
            return _NEEDS_ROW

    def _numbers(
        self, f: schema.FieldSpec, col: list[Any], fac: float
    ) -> tuple[list[Any], np.ndarray]:
        """A number column converted whole: ``(values, rows needing the row path)``.

        Only plain numbers take this path (number cells, or text such as "12", "-0.5",
        "1.5e3" that Python's ``float`` and :func:`units.parse_number` read alike); a
        cell with a unit, a thousands separator, a percent sign or a decimal comma is
        left to the row path, as are NaN, infinity, fractions in whole-number fields and
        values out of range.
        """
        n = len(col)
        types = set(map(type, col))
        blank = None
        arr = None
        if types <= {float, int}:
            arr = np.array(col, dtype=np.float64)
        elif types <= {float, int, type(None)}:
            blank = np.fromiter((x is None for x in col), bool, n)
            arr = np.array([0.0 if x is None else x for x in col], dtype=np.float64)
        elif types == {str} and not self.decimal_comma:
            joined = "\n".join(col)
            if _only_plain_chars(joined) and not _LOOSE_POINT.search(joined):
                with contextlib.suppress(ValueError):
                    arr = np.array(col, dtype=np.float64)
        if arr is None:  # blanks or unusual cells: cell by cell, unusual ones to the row path
            blank = np.zeros(n, dtype=bool)
            bad = np.zeros(n, dtype=bool)
            values = np.zeros(n, dtype=np.float64)
            for i, x in enumerate(col):
                if x is None or (x.__class__ is str and not x.strip()):
                    blank[i] = True
                elif x.__class__ is float or x.__class__ is int:
                    values[i] = x
                elif x.__class__ is str and not self.decimal_comma and _PLAIN.fullmatch(x):
                    values[i] = float(x)
                else:
                    bad[i] = True
            arr = values
        else:
            bad = np.zeros(n, dtype=bool)
        with np.errstate(all="ignore"):
            bad |= ~np.isfinite(arr)
            if fac != 1.0:
                arr = arr * fac
                bad |= ~np.isfinite(arr)
            if f.kind == "int":
                r = np.rint(arr)
                bad |= np.abs(arr - r) > 1e-9 * np.maximum(1.0, np.abs(arr))
                arr = r
            if f.minimum is not None:
                bad |= (arr <= f.minimum) if f.min_exclusive else (arr < f.minimum)
            if f.maximum is not None:
                bad |= arr > f.maximum
        if blank is not None:
            bad &= ~blank
        if f.kind == "int":
            values_list = np.where(bad, 0, arr).astype(np.int64).tolist()
        else:
            values_list = arr.tolist()
        if blank is not None and blank.any():
            for i in np.flatnonzero(blank).tolist():
                values_list[i] = f.blank
        return values_list, bad

    def _raw(self, cells: list[Any]) -> dict[str, Any]:
        """The raw cells of a row from the fast path, as the row path records them."""
        raw: dict[str, Any] = {}
        for c in self.columns:
            if c.field in self.factors:
                x = cells[c.index]
                raw[c.field] = None if isinstance(x, str) and not x.strip() else x
        for name, value in self.mapping.defaults.items():
            if name in self.fields:
                raw.setdefault(name, value)
        return raw
