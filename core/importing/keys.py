"""Which record a row updates, and which earlier row of the same sheet it repeats.

Natural keys: model name + version; training run external id (CodeCarbon run id), else
its name; deployment name + model; usage deployment + period; sites and hardware by
name; sourcing name + period start; factor overrides by key.

The records already in the table are indexed as sorted 64-bit hashes of their keys
(:meth:`KeyTracking._existing_keys`), the keys of the rows scanned so far likewise
(:meth:`KeyTracking._merge_seen`): memory stays small whatever the size of either.
"""

from __future__ import annotations

import math
from itertools import compress
from typing import Any

import numpy as np

from core.importing.scanned import ScannedRow

#: stored records read at a time while indexing their keys
EXISTING_BATCH = 50_000


def natural_key(table: str, v: dict[str, Any]) -> tuple | None:
    """The key that identifies a record of ``table`` across imports (None: incomplete)."""
    if table == "models":
        key: tuple = (v.get("name"), v.get("version") or "")
    elif table == "training_runs":
        key = ("ext", v["external_id"]) if v.get("external_id") else ("name", v.get("name"))
    elif table == "deployments":
        key = (v.get("name"), v.get("model_id"))
    elif table == "usage":
        key = (v.get("deployment_id"), v.get("period_start"), v.get("period_end"))
    elif table == "sourcing":
        key = (v.get("name"), v.get("period_start"))
    elif table == "factor_overrides":
        key = (v.get("key"),)
    else:
        key = (v.get("name"),)
    return None if any(k is None for k in key) else key


def _key_columns(table: str) -> tuple[str, ...]:
    return {
        "models": ("name", "version"),
        "training_runs": ("external_id", "name"),
        "deployments": ("name", "model_id"),
        "usage": ("deployment_id", "period_start", "period_end"),
        "sourcing": ("name", "period_start"),
        "factor_overrides": ("key",),
    }.get(table, ("name",))


def _same(a: Any, b: Any) -> bool:
    if a == b:
        return True
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)
    return False


def _natural_keys(table: str, cols: dict[str, list[Any]], n: int) -> list[tuple | None]:
    """:func:`natural_key` of every row of a chunk given as columns."""
    if table == "models":
        return [
            None if a is None else (a, b or "")
            for a, b in zip(cols["name"], cols["version"], strict=True)
        ]
    if table == "training_runs":
        return [
            ("ext", e) if e else (None if m is None else ("name", m))
            for e, m in zip(cols["external_id"], cols["name"], strict=True)
        ]
    if table == "usage":
        d, a, b = cols["deployment_id"], cols["period_start"], cols["period_end"]
        if None not in d and None not in a and None not in b:
            return list(zip(d, a, b, strict=True))  # the usual chunk: one pass in C
        return [
            None if d is None or a is None or b is None else (d, a, b)
            for d, a, b in zip(
                cols["deployment_id"], cols["period_start"], cols["period_end"], strict=True
            )
        ]
    if table == "deployments":
        return [
            None if a is None or b is None else (a, b)
            for a, b in zip(cols["name"], cols["model_id"], strict=True)
        ]
    names = _key_columns(table)
    return [
        natural_key(table, dict(zip(names, vals, strict=True)))
        for vals in zip(*(cols[k] for k in names), strict=True)
    ]


class KeyTracking:
    """Existing records, repeated keys and the new / changed / unchanged decision of
    :class:`core.importing.plan.RowScanner` (which sets the attributes used here)."""

    # -- existing records ----------------------------------------------------------------

    def _existing_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """Sorted 64-bit hashes of the natural keys of the records already in the table,
        and their ids (the first record of a key wins, as before): 16 bytes a record
        rather than every record as Python objects. The table is read in batches and its
        keys made column-wise."""
        if self._existing is None:
            table = self.table
            names = [n for n in _key_columns(table) if n in self.spec.field_names]
            parts_h: list[np.ndarray] = []
            parts_id: list[np.ndarray] = []
            parts_pos: list[np.ndarray] = []
            cur = self.inv.conn.execute(f"SELECT id, {', '.join(names)} FROM {self.spec.name}")
            base = 0
            while batch := cur.fetchmany(EXISTING_BATCH):
                m = len(batch)
                columns = list(zip(*batch, strict=True))
                cols: dict[str, Any] = dict(zip(names, columns[1:], strict=True))
                for k in _key_columns(table):
                    cols.setdefault(k, (None,) * m)
                ids = columns[0]
                keys = _natural_keys(table, cols, m)
                # position in the order of the old record-by-record scan: a record's key
                # before its name (training runs), records in the order SQLite gives them
                pos = range(2 * base, 2 * (base + m), 2)
                if None in keys:
                    ok = [k is not None for k in keys]
                    keys = list(compress(keys, ok))
                    ids = list(compress(ids, ok))
                    pos = list(compress(pos, ok))
                parts_h.append(np.fromiter(map(hash, keys), np.int64, len(keys)))
                parts_id.append(np.array(ids, dtype=np.int64))
                parts_pos.append(np.array(pos, dtype=np.int64))
                if table == "training_runs":
                    alt = [
                        (("name", n), rid, 2 * (base + j) + 1)
                        for j, (rid, e, n) in enumerate(
                            zip(columns[0], cols["external_id"], cols["name"], strict=True)
                        )
                        if e and n
                    ]
                    if alt:
                        parts_h.append(np.array([hash(a[0]) for a in alt], dtype=np.int64))
                        parts_id.append(np.array([a[1] for a in alt], dtype=np.int64))
                        parts_pos.append(np.array([a[2] for a in alt], dtype=np.int64))
                base += m
            if parts_h:
                h = np.concatenate(parts_h)
                rid = np.concatenate(parts_id)
                order = np.lexsort((np.concatenate(parts_pos), h))  # by hash, then position
                h, rid = h[order], rid[order]
                first = np.ones(len(h), dtype=bool)  # the first occurrence of each hash
                first[1:] = h[1:] != h[:-1]
                self._existing = (h[first], rid[first])
            else:
                self._existing = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        return self._existing

    def _existing_hits(
        self, keys: list[tuple | None], key_hashes: list[int] | None = None
    ) -> dict[int, int]:
        """``{index in keys: id}`` of the records whose key hash matches (not yet checked
        against the key itself: see :meth:`_existing_stored`). ``key_hashes``: the
        hashes of ``keys`` when known (any value where a key is None)."""
        hashes, ids = self._existing_keys()
        if not len(hashes):
            return {}
        index = [i for i, k in enumerate(keys) if k is not None]
        if not index:
            return {}
        if key_hashes is None:
            h = np.array([hash(keys[i]) for i in index], dtype=np.int64)
        else:
            h = np.array(key_hashes, dtype=np.int64)[index]
        pos = np.minimum(np.searchsorted(hashes, h), len(hashes) - 1)
        hit = np.flatnonzero(hashes[pos] == h)
        found_ids = ids[pos[hit]].tolist()
        return dict(zip(np.array(index)[hit].tolist(), found_ids, strict=True))

    def _stored_rows(self, ids: list[int]) -> dict[int, tuple]:
        """``{id: (id, *values in the order of the table's fields)}`` of stored records."""
        names = list(self.spec.field_names)
        select = f"SELECT id, {', '.join(names)} FROM {self.spec.name} WHERE "
        id_list = sorted(set(ids))
        if not id_list:
            return {}
        if id_list[-1] - id_list[0] < 2 * len(id_list):  # dense: one range, no parameters
            cur = self.inv.conn.execute(select + "id BETWEEN ? AND ?", (id_list[0], id_list[-1]))
            return {row[0]: row for row in cur}
        records: dict[int, tuple] = {}
        for start in range(0, len(id_list), 500):
            part = id_list[start : start + 500]
            cur = self.inv.conn.execute(select + f"id IN ({', '.join('?' * len(part))})", part)
            records.update((row[0], row) for row in cur)
        return records

    def _existing_stored(
        self, keys: list[tuple | None], key_hashes: list[int] | None = None
    ) -> dict[int, tuple]:
        """``{index in keys: (id, *stored values in the order of the table's fields)}``:
        the record with each natural key (keys without one are left out); ``key_hashes``
        as for :meth:`_existing_hits`."""
        names = list(self.spec.field_names)
        if self.query_existing:
            out: dict[int, tuple] = {}
            for i, k in enumerate(keys):
                found = None if k is None else self._existing_by_query(k)
                if found is not None:
                    out[i] = (found[0], *(found[1][n] for n in names))
            return out
        found = self._existing_hits(keys, key_hashes)
        if not found:
            return {}
        records = self._stored_rows(list(found.values()))
        rows = [i for i, rid in found.items() if rid in records]
        if not rows:
            return {}
        stored = [records[found[i]] for i in rows]
        # a 64-bit hash collision is possible in principle: check the key itself
        cols = dict(zip(["id", *names], zip(*stored, strict=True), strict=True))
        stored_keys = _natural_keys(self.table, cols, len(rows))
        runs = self.table == "training_runs"
        out = {}
        for j, i in enumerate(rows):
            key = keys[i]
            if stored_keys[j] == key or (runs and key == ("name", cols["name"][j])):
                out[i] = stored[j]
        return out

    def _existing_many(self, keys: list[tuple | None]) -> list[tuple[int, dict[str, Any]] | None]:
        """``(id, stored values)`` of the record with each natural key, or None."""
        out: list[tuple[int, dict[str, Any]] | None] = [None] * len(keys)
        if self.query_existing:
            return [None if k is None else self._existing_by_query(k) for k in keys]
        names = list(self.spec.field_names)
        for i, row in self._existing_stored(keys).items():
            out[i] = (row[0], dict(zip(names, row[1:], strict=True)))
        return out

    def _existing_by_query(self, key: tuple) -> tuple[int, dict[str, Any]] | None:
        """The record with natural key ``key`` by one query (for a few rows: no index of
        the whole table is built). The lowest id wins, as in :meth:`_existing_keys`."""
        names = list(self.spec.field_names)
        if self.table == "training_runs":
            where, params = ("external_id = ?" if key[0] == "ext" else "name = ?"), [key[1]]
        else:
            cols = [n for n in _key_columns(self.table) if n in self.spec.field_names]
            where = " AND ".join(f"{c} = ?" for c in cols)
            params = list(key)
        row = self.inv.conn.execute(
            f"SELECT id, {', '.join(names)} FROM {self.spec.name} WHERE {where} "
            "ORDER BY id LIMIT 1",
            params,
        ).fetchone()
        return None if row is None else (row[0], dict(zip(names, row[1:], strict=True)))

    def _first_seen(self, h: int) -> int | None:
        """The row that first had key hash ``h`` in this sheet, or None."""
        first = self._seen_chunk.get(h)
        if first is not None:
            return first
        for hashes, numbers in self._seen_blocks:
            pos = int(np.searchsorted(hashes, h))
            if pos < len(hashes) and hashes[pos] == h:
                return int(numbers[pos])
        return None

    def _seen_before(self, h: np.ndarray) -> np.ndarray:
        """Whether each key hash was seen in an earlier chunk (a sorted search a block).

        The hashes are looked up in sorted order (and the answers put back in the
        chunk's order): a block is then walked from one end to the other instead of
        being jumped about, about 3x faster on a million-row file."""
        if not self._seen_blocks:
            return np.zeros(len(h), dtype=bool)
        order = np.argsort(h, kind="stable")
        needles = h[order]
        found = np.zeros(len(h), dtype=bool)
        for hashes, _ in self._seen_blocks:
            pos = np.minimum(np.searchsorted(hashes, needles), len(hashes) - 1)
            found |= hashes[pos] == needles
        out = np.empty(len(h), dtype=bool)
        out[order] = found
        return out

    def _merge_seen(self) -> None:
        """Move the keys of the chunk just scanned into sorted blocks (16 bytes a row, not
        a dict entry); blocks of similar size are merged, so each key is moved about
        log2(rows / chunk) times and a search looks at a few blocks."""
        if not self._seen_chunk:
            return
        h = np.fromiter(self._seen_chunk.keys(), np.int64, len(self._seen_chunk))
        n = np.fromiter(self._seen_chunk.values(), np.int64, len(self._seen_chunk))
        order = np.argsort(h, kind="stable")
        self._seen_blocks.append((h[order], n[order]))
        self._seen_chunk = {}
        blocks = self._seen_blocks
        while len(blocks) > 1 and len(blocks[-1][0]) * 2 >= len(blocks[-2][0]):
            (h2, n2), (h1, n1) = blocks.pop(), blocks.pop()
            h = np.concatenate([h1, h2])
            n = np.concatenate([n1, n2])
            order = np.argsort(h, kind="stable")
            blocks.append((h[order], n[order]))

    def _hardware_tdp(self, hw: int | None) -> float | None:
        if hw is None or hw < 0:
            return None
        if hw not in self._tdp:
            row = self.inv.conn.execute("SELECT tdp_w FROM hardware WHERE id = ?", (hw,)).fetchone()
            self._tdp[hw] = row[0] if row else None
        return self._tdp[hw]

    def _classify(
        self,
        number: int,
        values: dict[str, Any],
        raw: dict[str, Any],
        key: tuple | None,
        existing: tuple[int, dict[str, Any]] | None,
    ) -> ScannedRow:
        """A valid row: a repeat of an earlier row's key (invalid), new, changed or
        unchanged (``existing``: the stored record with the same key)."""
        if key is None:
            return ScannedRow(number, "new", values, {}, raw)
        h = hash(key)
        first = self._first_seen(h)
        if first is not None:
            col = next((k for k in _key_columns(self.table) if values.get(k) is not None), "name")
            problems = {col: f"repeats row {first} (same {self._key_text()})"}
            return ScannedRow(number, "invalid", values, problems, raw)
        self._seen_chunk[h] = number
        if existing is not None:
            rid, old = existing
            if all(_same(old.get(n), values.get(n)) for n in self.given):
                return ScannedRow(number, "unchanged", values, {}, raw, rid, old)
            return ScannedRow(number, "changed", values, {}, raw, rid, old)
        return ScannedRow(number, "new", values, {}, raw)

    def _key_text(self) -> str:
        return {
            "models": "name and version",
            "training_runs": "run id or name",
            "deployments": "name and model",
            "usage": "deployment and period",
            "sourcing": "name and period start",
            "factor_overrides": "factor",
        }.get(self.table, "name")
