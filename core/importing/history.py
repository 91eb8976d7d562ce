"""The record of imports: listing them, and what stops one from being undone.

Every import writes one ``imports_log`` row (time, user, file names, SHA-256, sheets,
mapping, counts; ``undone_at`` once undone) and ``import_changes`` rows (the id ranges it
inserted, the old values of the rows it changed; see ``core.importing.commit``).
:func:`list_imports` reads the first. :func:`undo_refusal` reads both, and the change
log, to say why undoing an import now would throw away later work: rows it added or
changed that were edited since (by hand or by a later import), or rows added since that
refer to rows it created. :func:`core.importing.commit.undo_import` refuses with that
sentence, so the command line, the import history dialog and Ctrl+Z all agree.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from core import schema
from core.errors import RecordNotFoundError

if TYPE_CHECKING:
    from core.inventory import Inventory

#: the counts an import records per table
COUNT_KEYS = ("new", "changed", "unchanged", "skipped")
#: the largest id SQLite stores; a larger one names no import
_MAX_ID = 2**63 - 1
#: records named in a refusal before "and N more"
_NAMED = 3
#: the end of every refusal of :func:`undo_refusal`
NOTHING_CHANGED = "Nothing was changed."


def when_text(at: str | None) -> str:
    """A stored UTC time (``2026-11-28T13:05:00Z``) as ``2026-11-28 13:05 UTC``."""
    if not at:
        return ""
    return f"{at[:10]} {at[11:16]} UTC" if len(at) >= 16 else at


@dataclass(frozen=True)
class ImportRecord:
    """One recorded import. ``at`` and ``undone_at`` are UTC ISO 8601 text
    (``2026-11-28T13:05:00Z``); ``counts[table]`` has :data:`COUNT_KEYS`; ``file_name``,
    ``sha256`` and ``sheet`` join several files or sheets with "; "."""

    id: int
    at: str
    os_user: str
    file_name: str
    sha256: str
    sheet: str
    counts: dict[str, dict[str, int]]
    undone_at: str | None

    @property
    def undone(self) -> bool:
        return bool(self.undone_at)

    @property
    def totals(self) -> dict[str, int]:
        """The counts of all tables added up, by :data:`COUNT_KEYS`."""
        return {k: sum(int(c.get(k, 0)) for c in self.counts.values()) for k in COUNT_KEYS}

    def counts_text(self) -> str:
        """``"12 new, 3 changed, 0 unchanged, 1 skipped"`` (all tables together)."""
        return ", ".join(f"{v:,} {k}" for k, v in self.totals.items())

    def tables_text(self) -> str:
        """Per table: ``"training runs: 4 new, 0 changed, ...; models: 2 new, ..."``."""
        parts = []
        for table, c in self.counts.items():
            label = schema.table(table).plural_noun if table in schema.TABLES else table
            parts.append(f"{label}: " + ", ".join(f"{int(c.get(k, 0)):,} {k}" for k in COUNT_KEYS))
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "undone": self.undone}


def _record(row: tuple) -> ImportRecord:
    rid, at, user, file_name, sha, sheet, counts, undone_at = row
    try:
        parsed = json.loads(counts or "{}")
    except ValueError:  # written by this program; a damaged value shows as no counts
        parsed = {}
    return ImportRecord(
        int(rid),
        at,
        user or "",
        file_name or "",
        sha or "",
        sheet or "",
        parsed if isinstance(parsed, dict) else {},
        undone_at or None,
    )


def list_imports(inv: Inventory) -> list[ImportRecord]:
    """Every recorded import, oldest first (undone ones included)."""
    rows = inv.conn.execute(
        "SELECT id, at, os_user, file_name, sha256, sheet, counts, undone_at FROM imports_log "
        "ORDER BY id"
    )
    return [_record(r) for r in rows]


def get_import(inv: Inventory, import_id: int) -> ImportRecord:
    """Import ``import_id``; :class:`RecordNotFoundError` when there is none."""
    row = None
    if 0 < import_id <= _MAX_ID:
        row = inv.conn.execute(
            "SELECT id, at, os_user, file_name, sha256, sheet, counts, undone_at "
            "FROM imports_log WHERE id = ?",
            (import_id,),
        ).fetchone()
    if row is None:
        raise RecordNotFoundError(f"There is no import {import_id} in this inventory.")
    return _record(row)


def undo_refusal(inv: Inventory, import_id: int) -> str | None:
    """Why import ``import_id`` cannot be undone now, as one sentence; None if it can.

    Read-only. Unknown imports raise :class:`RecordNotFoundError`.
    """
    record = get_import(inv, import_id)
    head = f"Cannot undo import {import_id} ({record.file_name})"
    if record.undone_at:
        return f"{head}: it was already undone on {record.undone_at}."
    reasons = undo_blockers(inv, import_id)
    if not reasons:
        return None
    return f"{head}: {'; '.join(reasons)}. {NOTHING_CHANGED}"


def undo_blockers(inv: Inventory, import_id: int) -> list[str]:
    """What undoing import ``import_id`` (not undone) would destroy, one phrase each.

    Undo deletes the rows the import added and puts back the old values of the fields
    it changed, so it is refused while:

    - a later import (not undone) changed those rows or fields: undo that one first;
    - records were edited since (the change log, net of edits that were undone);
    - records added since (by hand or by a later import) refer to rows it added;
    - records it changed were deleted since (their old values have nowhere to go).
    """
    inserted, updated = _changes(inv, import_id)
    later = {
        int(i): name
        for i, name in inv.conn.execute(
            "SELECT id, file_name FROM imports_log WHERE id > ? AND undone_at IS NULL",
            (import_id,),
        )
    }
    reasons: list[str] = []
    by_import = _changed_by_later_imports(inv, inserted, updated, later)
    for (j, table, what), ids in sorted(by_import.items()):
        spec = schema.table(table)
        reasons.append(
            f"import {j} ({later[j]}) changed {spec.count_text(len(ids))} it {what} "
            f"(undo import {j} first)"
        )
    taken = {(t, rid) for (_, t, _), ids in by_import.items() for rid in ids}
    reasons += _referring(inv, import_id, inserted, later)
    baseline = _baseline(inv, import_id, inserted, updated)
    if baseline is not None:
        edited = _edited_since(inv, baseline, inserted, updated)
        for (table, what), ids in sorted(edited.items()):
            mine = [rid for rid in ids if (table, rid) not in taken]
            if mine:
                spec = schema.table(table)
                reasons.append(
                    f"{spec.count_text(len(mine))} it {what} "
                    f"{'was' if len(mine) == 1 else 'were'} edited since "
                    f"({_named(inv, table, mine)}): undoing would lose those edits"
                )
    gone = _deleted_since(inv, updated)
    for table, ids in sorted(gone.items()):
        spec = schema.table(table)
        reasons.append(
            f"{spec.count_text(len(ids))} it changed "
            f"{'was' if len(ids) == 1 else 'were'} deleted since "
            f"({'id' if len(ids) == 1 else 'ids'} {_ids_text(ids)})"
        )
    return reasons


# -- what the import wrote ------------------------------------------------------------------

Ranges = dict[str, list[tuple[int, int]]]
Updates = dict[tuple[str, int], dict[str, Any]]


def _changes(inv: Inventory, import_id: int) -> tuple[Ranges, Updates]:
    """The id ranges the import inserted per table, and the old values of the fields it
    changed per ``(table, id)``."""
    inserted: Ranges = {}
    updated: Updates = {}
    rows = inv.conn.execute(
        "SELECT table_name, action, first_id, last_id, old_values FROM import_changes "
        "WHERE import_id = ? ORDER BY id",
        (import_id,),
    )
    for table, action, first, last, old_json in rows:
        if table not in schema.TABLES:
            continue
        if action == "insert":
            inserted.setdefault(table, []).append((int(first), int(last)))
        else:
            updated[(table, int(first))] = json.loads(old_json or "{}")
    return inserted, updated


def _inside(ranges: Iterable[tuple[int, int]], rid: int) -> bool:
    return any(a <= rid <= b for a, b in ranges)


def _changed_by_later_imports(
    inv: Inventory, inserted: Ranges, updated: Updates, later: dict[int, str]
) -> dict[tuple[int, str, str], list[int]]:
    """``(import, table, "added"|"changed") -> ids`` of rows a later import (not undone)
    changed: rows this import added, or fields it changed."""
    out: dict[tuple[int, str, str], list[int]] = {}
    if not later or not (inserted or updated):
        return out
    rows = inv.conn.execute(
        "SELECT import_id, table_name, first_id, old_values FROM import_changes "
        "WHERE import_id > ? AND action = 'update' ORDER BY id",
        (min(later) - 1,),
    )
    for j, table, rid, old_json in rows:
        if j not in later:
            continue  # undone: it changed nothing that is still there
        if table in inserted and _inside(inserted[table], rid):
            out.setdefault((j, table, "added"), []).append(rid)
        elif (mine := updated.get((table, rid))) is not None and set(mine) & set(
            json.loads(old_json or "{}")
        ):
            out.setdefault((j, table, "changed"), []).append(rid)
    return out


def _referring(
    inv: Inventory, import_id: int, inserted: Ranges, later: dict[int, str]
) -> list[str]:
    """Phrases for records outside this import that refer to rows it added (deleting
    those rows would delete or orphan them)."""
    reasons: list[str] = []
    later_ranges: dict[str, list[tuple[int, int, int]]] = {}
    for j, table, first, last in inv.conn.execute(
        "SELECT import_id, table_name, first_id, last_id FROM import_changes "
        "WHERE import_id > ? AND action = 'insert' ORDER BY id",
        (import_id,),
    ):
        if j in later:
            later_ranges.setdefault(table, []).append((j, int(first), int(last)))
    for table, ranges in inserted.items():
        parent = schema.table(table)
        for dep in schema.DEPENDENTS.get(table, ()):
            # rows of this import pointing at its own rows go with it
            own = inserted.get(dep.table, [])
            outside_clause = " AND ".join("id NOT BETWEEN ? AND ?" for _ in own) or "1"
            outside: dict[int | None, int] = {}  # import (None: by hand) -> rows
            for first, last in ranges:
                for (rid,) in inv.conn.execute(
                    f"SELECT id FROM {dep.table} WHERE {dep.column} BETWEEN ? AND ? "
                    f"AND {outside_clause}",
                    (first, last, *(i for r in own for i in r)),
                ):
                    source = next(
                        (j for j, a, b in later_ranges.get(dep.table, ()) if a <= rid <= b),
                        None,
                    )
                    outside[source] = outside.get(source, 0) + 1
            child = schema.table(dep.table)
            for source, n in sorted(outside.items(), key=lambda kv: (kv[0] is None, kv[0])):
                rows, refer = child.count_text(n), "refers" if n == 1 else "refer"
                if source is None:
                    them = "it" if n == 1 else "them"
                    reasons.append(
                        f"{rows} added or changed since {refer} to {parent.plural_noun} it "
                        f"added (delete {them} or point {them} elsewhere first)"
                    )
                else:
                    reasons.append(
                        f"{rows} added by import {source} ({later[source]}) {refer} to "
                        f"{parent.plural_noun} it added (undo import {source} first)"
                    )
    return reasons


# -- edits since, from the change log -------------------------------------------------------


def _baseline(inv: Inventory, import_id: int, inserted: Ranges, updated: Updates) -> int | None:
    """The change-log batch of the import itself (its first writing), or None when the
    log does not show it (an import that wrote nothing)."""
    for table, ranges in inserted.items():
        first = ranges[0][0]
        for batch, new_json in inv.conn.execute(
            "SELECT batch, new_value FROM change_log WHERE table_name = ? AND row_id = ? "
            "AND action = 'insert' AND field = 'import' ORDER BY id",
            (table, first),
        ):
            if json.loads(new_json or "{}").get("import_id") == import_id:
                return int(batch)
    at = inv.conn.execute("SELECT at FROM imports_log WHERE id = ?", (import_id,)).fetchone()[0]
    for (table, rid), old in updated.items():
        if not old:
            continue
        name, value = next(iter(old.items()))  # one changed field settles it
        for batch, old_json in inv.conn.execute(
            "SELECT batch, old_value FROM change_log WHERE table_name = ? AND row_id = ? "
            "AND field = ? AND action = 'update' AND at >= ? AND description LIKE 'Import %' "
            "ORDER BY id",
            (table, rid, name, at),
        ):
            if _decoded(old_json) == value:
                return int(batch)
        return None
    return None


def _decoded(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _edited_since(
    inv: Inventory, baseline: int, inserted: Ranges, updated: Updates
) -> dict[tuple[str, str], list[int]]:
    """``(table, "added"|"changed") -> ids`` of rows whose fields (any field of a row the
    import added, the fields it changed of the others) differ now from what they were
    right after the import. Edits that were undone since net out."""
    after = inv.conn.execute(
        "SELECT coalesce(max(id), 0) FROM change_log WHERE batch = ?", (baseline,)
    ).fetchone()[0]
    first_old: dict[tuple[str, int, str], Any] = {}  # the value right after the import
    for table, ranges in inserted.items():
        for first, last in ranges:
            for rid, name, old_json in inv.conn.execute(
                "SELECT row_id, field, old_value FROM change_log WHERE table_name = ? "
                "AND row_id BETWEEN ? AND ? AND action = 'update' AND id > ? ORDER BY id",
                (table, first, last, after),
            ):
                first_old.setdefault((table, int(rid), name), _decoded(old_json))
    if updated:
        tables = sorted({t for t, _ in updated})
        marks = ", ".join("?" * len(tables))
        for table, rid, name, old_json in inv.conn.execute(
            "SELECT table_name, row_id, field, old_value FROM change_log WHERE id > ? "
            f"AND action = 'update' AND table_name IN ({marks}) ORDER BY id",
            (after, *tables),
        ):
            fields = updated.get((table, int(rid)))
            if fields is not None and name in fields:
                first_old.setdefault((table, int(rid), name), _decoded(old_json))
    out: dict[tuple[str, str], list[int]] = {}
    by_row: dict[tuple[str, int], dict[str, Any]] = {}
    for (table, rid, name), value in first_old.items():
        by_row.setdefault((table, rid), {})[name] = value
    for (table, rid), values in by_row.items():
        spec = schema.table(table)
        names = [n for n in values if n in spec.field_names]
        if not names:
            continue
        now = inv.conn.execute(
            f"SELECT {', '.join(names)} FROM {table} WHERE id = ?", (rid,)
        ).fetchone()
        if now is None:
            continue  # deleted since: nothing of it to lose (or see _deleted_since)
        if any(values[n] != v for n, v in zip(names, now, strict=True)):
            what = "added" if table in inserted and _inside(inserted[table], rid) else "changed"
            out.setdefault((table, what), []).append(rid)
    return out


def _deleted_since(inv: Inventory, updated: Updates) -> dict[str, list[int]]:
    """Per table, ids of rows the import changed that no longer exist."""
    out: dict[str, list[int]] = {}
    by_table: dict[str, list[int]] = {}
    for table, rid in updated:
        by_table.setdefault(table, []).append(rid)
    for table, ids in by_table.items():
        present: set[int] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            present.update(
                r[0]
                for r in inv.conn.execute(f"SELECT id FROM {table} WHERE id IN ({marks})", chunk)
            )
        missing = [rid for rid in ids if rid not in present]
        if missing:
            out[table] = missing
    return out


def _named(inv: Inventory, table: str, ids: list[int]) -> str:
    """The first few records by title: ``'A', 'B', 'C' and 4 more``."""
    shown = ", ".join(f"'{inv.title(table, rid)}'" for rid in ids[:_NAMED])
    more = len(ids) - _NAMED
    return shown + (f" and {more:,} more" if more > 0 else "")


def _ids_text(ids: list[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:_NAMED])
    more = len(ids) - _NAMED
    return shown + (f" and {more:,} more" if more > 0 else "")
