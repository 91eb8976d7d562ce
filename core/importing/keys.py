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
from typing import Any

import numpy as np

from core.importing.scanned import ScannedRow


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
        rather than every record as Python objects."""
        if self._existing is None:
            names = [n for n in _key_columns(self.table) if n in self.spec.field_names]
            hashes: list[int] = []
            ids: list[int] = []
            cur = self.inv.conn.execute(f"SELECT id, {', '.join(names)} FROM {self.spec.name}")
            for row in cur:
                rec = dict(zip(names, row[1:], strict=True))
                key = natural_key(self.table, rec)
                if key is not None:
                    hashes.append(hash(key))
                    ids.append(row[0])
                if self.table == "training_runs" and rec.get("external_id") and rec.get("name"):
                    hashes.append(hash(("name", rec["name"])))
                    ids.append(row[0])
            h = np.array(hashes, dtype=np.int64)
            first = np.unique(h, return_index=True)[1]  # sorted, first occurrence of each
            self._existing = (h[first], np.array(ids, dtype=np.int64)[first])
        return self._existing

    def _existing_many(self, keys: list[tuple | None]) -> list[tuple[int, dict[str, Any]] | None]:
        """``(id, stored values)`` of the record with each natural key, or None."""
        out: list[tuple[int, dict[str, Any]] | None] = [None] * len(keys)
        if self.query_existing:
            return [None if k is None else self._existing_by_query(k) for k in keys]
        hashes, ids = self._existing_keys()
        if not len(hashes):
            return out
        wanted = [(i, hash(k)) for i, k in enumerate(keys) if k is not None]
        if not wanted:
            return out
        h = np.array([w[1] for w in wanted], dtype=np.int64)
        pos = np.minimum(np.searchsorted(hashes, h), len(hashes) - 1)
        hit = hashes[pos] == h
        found = {wanted[j][0]: int(ids[pos[j]]) for j in np.flatnonzero(hit)}
        if not found:
            return out
        names = list(self.spec.field_names)
        records: dict[int, dict[str, Any]] = {}
        id_list = sorted(set(found.values()))
        for start in range(0, len(id_list), 500):
            part = id_list[start : start + 500]
            cur = self.inv.conn.execute(
                f"SELECT id, {', '.join(names)} FROM {self.spec.name} "
                f"WHERE id IN ({', '.join('?' * len(part))})",
                part,
            )
            for row in cur:
                records[row[0]] = dict(zip(names, row[1:], strict=True))
        for i, rid in found.items():
            rec = records.get(rid)
            if rec is None:
                continue
            key = keys[i]
            # a 64-bit hash collision is possible in principle: check the key itself
            if natural_key(self.table, rec) == key or (
                self.table == "training_runs" and key == ("name", rec.get("name"))
            ):
                out[i] = (rid, rec)
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
        """Whether each key hash was seen in an earlier chunk (a sorted search a block)."""
        out = np.zeros(len(h), dtype=bool)
        for hashes, _ in self._seen_blocks:
            pos = np.minimum(np.searchsorted(hashes, h), len(hashes) - 1)
            out |= hashes[pos] == h
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
