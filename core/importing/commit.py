"""Writing planned imports in one transaction, logging them, and undoing them.

All chosen rows of all sheets land in one SQLite transaction or none do (a crash or
kill mid-import leaves the WAL uncommitted, so the file is as before). New rows are
written with ``executemany`` in chunks with ids assigned up front (contiguous per table),
so the import log can record them as id ranges rather than one entry per row.

The ``imports_log`` row records file names, SHA-256, sheets, mappings and counts;
``import_changes`` records the id ranges inserted and the old values of updated rows,
which is what :func:`undo_import` needs to take the import back in one step. The change
log gets one entry per inserted range and one per changed field.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from core import checks, schema
from core.errors import ImportCancelled, ImportInvalidError, LedgerError, RecordNotFoundError
from core.importing import bulk, matching
from core.importing.plan import ImportPlan, NewRows, Problem, RowScanner, escape_text
from core.importing.reading import clear_sheet_cache
from core.output_file import NOTHING_WRITTEN, OutputFile, write_file

if TYPE_CHECKING:
    from core.inventory import Inventory

Progress = Callable[[int, int | None], None]
Cancel = Callable[[], bool]
CHUNK = 20_000
#: an import adding at least this many rows to a table, and more than the table holds,
#: drops the table's indexes while it writes and builds them again at the end, in the
#: same transaction (about 1.5 s for a million usage rows instead of about 5 s of
#: keeping two indexes up to date row by row); a smaller import keeps them
REINDEX_ROWS = CHUNK


@dataclass
class ImportResult:
    """``counts[table] = {"new", "changed", "unchanged", "skipped"}``; ``errors_file`` holds
    the skipped rows' problems (row, column, reason) when one was written."""

    import_id: int
    counts: dict[str, dict[str, int]]
    errors_file: Path | None
    problems: list[Problem] = field(default_factory=list)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


ERRORS_FILE = "the errors file"
#: what a failed errors file means for an import that would skip rows
NOT_IMPORTED = "Nothing was imported (no row is skipped without its errors file)."


def _errors_csv(problems: list[Problem]) -> Callable[[BinaryIO], None]:
    def fill(binary: BinaryIO) -> None:
        fh = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
        w = csv.writer(fh)
        w.writerow(["file", "sheet", "row", "column", "value", "reason"])
        for p in problems:  # cells quote the imported file: neutralise formulas
            cells = (p.file, p.sheet, p.row, p.column, p.value, p.reason)
            w.writerow([escape_text(c) if isinstance(c, str) else c for c in cells])
        fh.flush()
        fh.detach()  # the caller syncs and closes the file itself

    return fill


def write_errors(path: Path, problems: list[Problem], outcome: str = NOTHING_WRITTEN) -> Path:
    """A CSV of problems (file, sheet, row, column, value, reason) for fixing in a
    spreadsheet, written whole or not at all (``core.output_file``); a full disk, a
    read-only or missing folder raise :class:`LedgerError` naming the file."""
    return write_file(path, _errors_csv(problems), ERRORS_FILE, outcome)


def _create_template(table: str, raw: str) -> dict[str, Any]:
    """Fields of a record created for an unmatched reference the user chose to create."""
    if table == "hardware":
        name = matching.split_multi(raw)[0][1]
        return {"name": name, "kind": "cpu" if matching.looks_like_cpu(name) else "accelerator"}
    if table == "sites":
        code = matching.country_code(raw)
        # "US-CA" (a CodeCarbon run's US state): the site is on that state's grid
        zone = matching.grid_zone(raw, None)
        return {"name": raw, "kind": "own", "country": code, "grid_region": zone}
    if table == "models":
        return {"name": raw, "version": ""}
    raise LedgerError(
        f"Cannot create a {schema.table(table).singular} from '{raw}' during an import."
    )


class _Writer:
    """Buffers new rows per table and flushes them in bulk (:mod:`.bulk`), without their
    ids: SQLite numbers them as :meth:`new_id` did, and each flush checks that it did."""

    def __init__(self, inv: Inventory, import_id: int):
        self.inv, self.import_id = inv, import_id
        self.next_id: dict[str, int] = {}
        self.first_id: dict[str, int] = {}
        self.buffers: dict[str, list[tuple]] = {}
        self.count: dict[str, int] = {}
        #: rows flushed per table, rows the table held before, indexes dropped (their SQL)
        self.written: dict[str, int] = {}
        self.held: dict[str, int] = {}
        self.dropped: dict[str, list[str]] = {}
        self.kept: set[str] = set()

    def new_id(self, table: str) -> int:
        if table not in self.next_id:
            row = self.inv.conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()
            self.next_id[table] = int(row[0]) + 1
            self.first_id[table] = self.next_id[table]
        rid = self.next_id[table]
        self.next_id[table] += 1
        return rid

    def add(self, table: str, values: dict[str, Any]) -> int:
        spec = schema.table(table)
        rid = self.new_id(table)
        buf = self.buffers.setdefault(table, [])
        buf.append(tuple(values.get(f) for f in spec.field_names))
        self.count[table] = self.count.get(table, 0) + 1
        if len(buf) >= CHUNK:
            self.flush(table)
        return rid

    def add_many(self, table: str, rows: list[tuple]) -> None:
        """New rows given as value tuples in the order of the table's fields."""
        if not rows:
            return
        first = self.new_id(table)
        self.next_id[table] = first + len(rows)
        self.buffers.setdefault(table, []).extend(rows)  # ids: see flush
        buf = self.buffers[table]
        self.count[table] = self.count.get(table, 0) + len(rows)
        if len(buf) >= CHUNK:
            self.flush(table)

    def create(self, table: str, raw: str) -> int:
        """Insert a referenced record now (rows pointing at it follow); return its id."""
        spec = schema.table(table)
        values = _create_template(table, raw)
        existing = self.inv.conn.execute(
            f"SELECT id FROM {table} WHERE name = ?", (values["name"],)
        ).fetchone()
        if existing:
            return int(existing[0])
        self.add(table, {f: values.get(f, spec.field(f).blank) for f in spec.field_names})
        self.flush(table)
        return self.next_id[table] - 1

    def flush(self, table: str | None = None) -> None:
        for t in [table] if table else list(self.buffers):
            buf = self.buffers.get(t)
            if not buf:
                continue
            spec = schema.table(t)
            self._maybe_drop_indexes(t, len(buf))
            last = self.next_id[t] - 1
            first = last - len(buf) + 1
            # The rows go in without their ids: SQLite gives a row without one the
            # largest id in the table plus one, which is the id new_id gave it (the
            # table's largest id plus one, counting on from there), and binding one
            # value less and not building id-prefixed tuples saves ~10 % of the write.
            # The ids are checked below all the same: the import's records of what it
            # wrote must name the rows it wrote.
            # CHECK constraints verified over the written ids in one query, not row by
            # row (more than half of the write's time; see core.checks)
            with checks.unchecked_inserts(self.inv.conn, t, first, last):
                bulk.insert_rows(self.inv.conn, t, spec.field_names, buf)
            top = self.inv.conn.execute(
                f"SELECT max(id), count(*) FROM {t} WHERE id >= ?", (first,)
            )
            if tuple(top.fetchone()) != (last, len(buf)):
                raise LedgerError(
                    f"{spec.label}: the new rows did not get the ids the import expected; "
                    "nothing was imported."
                )
            self.written[t] = self.written.get(t, 0) + len(buf)
            buf.clear()

    def _maybe_drop_indexes(self, table: str, pending: int) -> None:
        """Drop ``table``'s indexes once this import has written :data:`REINDEX_ROWS`
        rows to it and more than it held before (see :meth:`restore_indexes`)."""
        if table in self.dropped or table in self.kept:
            return
        if table not in self.held:
            self.held[table] = int(
                self.inv.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            ) - self.written.get(table, 0)
        written = self.written.get(table, 0) + pending
        if written < REINDEX_ROWS:
            return
        if written <= self.held[table]:
            self.kept.add(table)  # a large table: keeping its indexes up is cheaper
            return
        indexes = self.inv.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL ORDER BY name",
            (table,),
        ).fetchall()
        for name, _ in indexes:
            quoted_sql = name.replace('"', '""')  # a name read from sqlite_master
            self.inv.conn.execute(f'DROP INDEX "{quoted_sql}"')
        self.dropped[table] = [sql for _, sql in indexes]

    def restore_indexes(self) -> None:
        """Build the indexes dropped by :meth:`_maybe_drop_indexes` again (same SQL)."""
        for table in list(self.dropped):
            for sql in self.dropped.pop(table):
                self.inv.conn.execute(sql)

    def record_ranges(self, log: list[tuple]) -> None:
        self.flush()
        for t, first in self.first_id.items():
            last = self.next_id[t] - 1
            if last < first:
                continue
            self.inv.conn.execute(
                "INSERT INTO import_changes (import_id, table_name, action, first_id, last_id) "
                "VALUES (?, ?, 'insert', ?, ?)",
                (self.import_id, t, first, last),
            )
            log.append(
                (
                    "insert",
                    t,
                    first,
                    "import",
                    None,
                    {
                        "import_id": self.import_id,
                        "first_id": first,
                        "last_id": last,
                        "rows": last - first + 1,
                    },
                )
            )


def commit_import(
    inv: Inventory,
    plans: list[ImportPlan],
    *,
    skip_invalid: bool = False,
    errors_path: str | Path | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> ImportResult:
    """Write the rows of ``plans`` in one transaction and record the import.

    Every sheet is read again through its mapping, resolutions and edits, so the rows
    written are checked against the inventory as it is now. Invalid rows make the whole
    import fail with :class:`ImportInvalidError` (nothing written) unless
    ``skip_invalid``; skipped rows' problems go to ``errors_path`` (CSV) if given.
    ``cancel()`` returning True rolls everything back (:class:`ImportCancelled`).
    """
    from core.inventory import now_iso, os_user

    all_problems: list[Problem] = []
    counts: dict[str, dict[str, int]] = {}
    hashes = {p.sheet.file: file_sha256(p.sheet.file) for p in plans}
    errors_file = None
    staged: OutputFile | None = None  # the errors file, renamed into place after the commit
    committed = False
    try:
        with inv.transaction():
            cur = inv.conn.execute(
                "INSERT INTO imports_log (at, os_user, file_name, sha256, sheet, mapping, counts) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    now_iso(),
                    os_user(),
                    "; ".join(dict.fromkeys(p.sheet.file.name for p in plans)),
                    "; ".join(dict.fromkeys(hashes.values())),
                    "; ".join(p.sheet.name for p in plans),
                    json.dumps(
                        [
                            {
                                "file": p.sheet.file.name,
                                "sha256": hashes[p.sheet.file],
                                **p.mapping.to_json(),
                            }
                            for p in plans
                        ],
                        default=str,
                    ),
                    "{}",
                ),
            )
            import_id = int(cur.lastrowid)
            writer = _Writer(inv, import_id)
            log: list[tuple] = []
            done_before = 0
            for plan in plans:
                scanner = RowScanner(inv, plan.sheet, plan.mapping, plan.resolutions, plan.edits)
                sheet_problems = scanner.sheet_problems()
                if sheet_problems:
                    all_problems.extend(sheet_problems)
                    raise ImportInvalidError(_invalid_text(sheet_problems), sheet_problems)
                # references to create (placeholder ids < 0): created on first use
                created: dict[tuple[str, int], int] = {}
                writer.flush()
                c = counts.setdefault(
                    scanner.table, {"new": 0, "changed": 0, "unchanged": 0, "skipped": 0}
                )
                table = scanner.table
                spec = scanner.spec
                given = [f for f in spec.field_names if f in scanner.fields_given]
                update_sql = (
                    f"UPDATE {table} SET {', '.join(f'{f} = ?' for f in given)} WHERE id = ?"
                )
                updates: list[tuple] = []
                changes: list[tuple] = []

                def _progress(done: int, total: int | None, base: int = done_before) -> None:
                    if progress:
                        progress(base + done, None if total is None else base + total)

                n = 0
                for item in scanner.scan_items(_progress, cancel):
                    if isinstance(item, NewRows):
                        n += len(item)
                        c["new"] += len(item)
                        rows = item.rows
                        if any(r.created for r in scanner.resolvers.values()):
                            rows = [
                                _created_ids(scanner, writer, created, spec.field_names, r)
                                for r in rows
                            ]
                        writer.add_many(table, rows)
                        continue
                    row = item
                    n += 1
                    if row.status == "invalid":
                        c["skipped"] += 1
                        all_problems.extend(scanner.problem_rows(row))
                        continue
                    values = row.values
                    for fname, resolver in scanner.resolvers.items():
                        ref = values.get(fname)
                        if ref is not None and ref < 0:
                            if (fname, ref) not in created:
                                created[(fname, ref)] = writer.create(
                                    resolver.table, resolver.text_of(ref)
                                )
                            values[fname] = created[(fname, ref)]
                    c[row.status] += 1
                    if row.status == "new":
                        writer.add(table, values)
                    elif row.status == "changed":
                        assert row.existing_id is not None and row.old is not None
                        updates.append((*(values.get(f) for f in given), row.existing_id))
                        old = {f: row.old.get(f) for f in given if row.old.get(f) != values.get(f)}
                        changes.append(
                            (
                                import_id,
                                table,
                                row.existing_id,
                                row.existing_id,
                                json.dumps(old, default=str),
                            )
                        )
                        for f, v in old.items():
                            log.append(("update", table, row.existing_id, f, v, values.get(f)))
                    if len(updates) >= CHUNK:
                        inv.conn.executemany(update_sql, updates)
                        updates.clear()
                done_before += n
                writer.flush()  # later sheets may refer to these rows
                if updates:
                    inv.conn.executemany(update_sql, updates)
                if changes:
                    inv.conn.executemany(
                        "INSERT INTO import_changes (import_id, table_name, action, first_id, "
                        "last_id, old_values) VALUES (?, ?, 'update', ?, ?, ?)",
                        changes,
                    )
            if all_problems and not skip_invalid:
                raise ImportInvalidError(_invalid_text(all_problems), all_problems)
            writer.record_ranges(log)
            writer.restore_indexes()
            inv.conn.execute(
                "UPDATE imports_log SET counts = ? WHERE id = ?", (json.dumps(counts), import_id)
            )
            description = f"Import {', '.join(dict.fromkeys(p.sheet.file.name for p in plans))}"
            inv.log(inv.next_log_batch(), log, description)
            if errors_path and all_problems:
                # written before the commit: if it cannot be, nothing is imported, so no
                # row is ever skipped without its errors file
                staged = OutputFile(Path(errors_path), ERRORS_FILE, NOT_IMPORTED)
                staged.stage(_errors_csv(all_problems))
        committed = True
    except sqlite3.IntegrityError as exc:
        raise ImportInvalidError(
            f"The import was refused by the inventory's checks ({exc}); nothing was written."
        ) from exc
    except (ImportInvalidError, ImportCancelled):
        if errors_path and all_problems:
            write_errors(Path(errors_path), all_problems, "Nothing was imported.")
        raise
    finally:
        clear_sheet_cache()
        if staged is not None and not committed:
            staged.discard()  # the commit itself failed (a full disk...) after staging
    if staged is not None:
        errors_file = staged.commit(
            f"The import was saved all the same (import {import_id}, which can be undone); "
            "a dry run of the same files lists the skipped rows again."
        )
    return ImportResult(import_id, counts, errors_file, all_problems)


def _created_ids(
    scanner: RowScanner,
    writer: _Writer,
    created: dict[tuple[str, int], int],
    names: tuple[str, ...],
    values: tuple,
) -> tuple:
    """``values`` with placeholder ids (< 0) of records to create replaced by real ids,
    creating each record on its first use (as the row path does)."""
    out = list(values)
    for i, fname in enumerate(names):
        resolver = scanner.resolvers.get(fname)
        ref = out[i]
        if resolver is not None and ref is not None and ref < 0:
            if (fname, ref) not in created:
                created[(fname, ref)] = writer.create(resolver.table, resolver.text_of(ref))
            out[i] = created[(fname, ref)]
    return tuple(out)


def _invalid_text(problems: list[Problem]) -> str:
    first = problems[0].text()
    more = f" (and {len(problems) - 1:,} more problems)" if len(problems) > 1 else ""
    return f"Nothing was imported: {first}{more}."


# -- undo ---------------------------------------------------------------------------------


@dataclass
class ImportSnapshot:
    """What an undo took away: rows per table (with ids) and values it put back."""

    import_id: int
    inserted: list[tuple[str, list[dict[str, Any]]]]
    updated: list[tuple[str, int, dict[str, Any], dict[str, Any]]]  # table, id, old, new

    @property
    def tables(self) -> frozenset[str]:
        return frozenset([t for t, _ in self.inserted] + [t for t, *_ in self.updated])


def import_tables(inv: Inventory, import_id: int) -> frozenset[str]:
    rows = inv.conn.execute(
        "SELECT DISTINCT table_name FROM import_changes WHERE import_id = ?", (import_id,)
    )
    return frozenset(r[0] for r in rows)


def undo_import(inv: Inventory, import_id: int) -> ImportSnapshot:
    """Take back import ``import_id`` in one transaction: delete the rows it inserted,
    restore the values it changed. Returns what was taken (for redo).

    Refused with :class:`RecordNotFoundError` when the import does not exist, and with
    :class:`LedgerError` naming what blocks it when it is already undone or when undoing
    it would lose later work: rows it added or changed that were edited since (by hand
    or by a later import), records added since that refer to rows it added, rows it
    changed that were deleted since (``core.importing.history.undo_blockers``). An SQLite
    error on the way (a constraint, a locked or read-only file) is reported as a
    :class:`LedgerError` too, with nothing changed.
    """
    try:
        return _undo_import(inv, import_id)
    except sqlite3.Error as exc:
        raise LedgerError(
            f"Import {import_id} could not be undone ({exc}); the inventory is unchanged."
        ) from exc


def _undo_import(inv: Inventory, import_id: int) -> ImportSnapshot:
    row = inv.conn.execute(
        "SELECT undone_at, file_name FROM imports_log WHERE id = ?", (import_id,)
    ).fetchone()
    if row is None:
        raise RecordNotFoundError(f"There is no import {import_id} in this inventory.")
    if row[0]:
        raise LedgerError(
            f"Cannot undo import {import_id} ({row[1]}): it was already undone on {row[0]}."
        )
    changes = inv.conn.execute(
        "SELECT table_name, action, first_id, last_id, old_values FROM import_changes "
        "WHERE import_id = ? ORDER BY id",
        (import_id,),
    ).fetchall()
    # undone last to first, children before the records they point at
    from core.importing.exporting import EXPORT_ORDER

    rank = {t: i for i, t in enumerate(EXPORT_ORDER)}
    changes.sort(key=lambda c: (c[1] == "insert", rank.get(c[0], 0)))
    from core.inventory import now_iso

    inserted: list[tuple[str, list[dict[str, Any]]]] = []
    updated: list[tuple[str, int, dict[str, Any], dict[str, Any]]] = []
    log: list[tuple] = []
    with inv.transaction():
        # checked inside the write transaction: nothing can change between check and undo
        from core.importing.history import undo_refusal

        if refusal := undo_refusal(inv, import_id):
            raise LedgerError(refusal)
        for table, action, first, last, old_json in reversed(changes):
            spec = schema.table(table)
            names = ("id", *spec.field_names)
            if action == "update":
                old = json.loads(old_json or "{}")
                cur = inv.get(table, first)
                new = {k: cur[k] for k in old}
                if old:
                    inv.update_row(table, first, old)
                updated.append((table, first, old, new))
                log.extend(("update", table, first, k, new[k], v) for k, v in old.items())
                continue
            rows = [
                dict(zip(names, r, strict=True))
                for r in inv.conn.execute(
                    f"SELECT {', '.join(names)} FROM {table} WHERE id BETWEEN ? AND ? ORDER BY id",
                    (first, last),
                )
            ]
            for dep in schema.DEPENDENTS.get(table, ()):
                n = inv.conn.execute(
                    f"SELECT count(*) FROM {dep.table} WHERE {dep.column} BETWEEN ? AND ?",
                    (first, last),
                ).fetchone()[0]
                if n and not _all_from_import(inv, import_id, dep.table, dep.column, first, last):
                    raise LedgerError(
                        f"Cannot undo import {import_id} ({row[1]}): "
                        f"{schema.table(dep.table).count_text(n)} added or changed since "
                        f"{'refers' if n == 1 else 'refer'} to {spec.plural_noun} it added. "
                        "Delete or change those first; nothing was changed."
                    )
            inv.conn.execute(f"DELETE FROM {table} WHERE id BETWEEN ? AND ?", (first, last))
            inserted.insert(0, (table, rows))
            log.append(
                (
                    "delete",
                    table,
                    first,
                    "import",
                    {"import_id": import_id, "first_id": first, "last_id": last, "rows": len(rows)},
                    None,
                )
            )
        inv.conn.execute(
            "UPDATE imports_log SET undone_at = ? WHERE id = ?", (now_iso(), import_id)
        )
        inv.log(inv.next_log_batch(), log, f"Undo import of {row[1]}")
    return ImportSnapshot(import_id, inserted, updated)


def _all_from_import(
    inv: Inventory, import_id: int, table: str, column: str, first: int, last: int
) -> bool:
    """Whether every row of ``table`` pointing into ``first..last`` came with the import."""
    ranges = inv.conn.execute(
        "SELECT first_id, last_id FROM import_changes WHERE import_id = ? AND table_name = ? "
        "AND action = 'insert'",
        (import_id, table),
    ).fetchall()
    conds = " OR ".join("id BETWEEN ? AND ?" for _ in ranges) or "0"
    params = [p for r in ranges for p in r]
    outside = inv.conn.execute(
        f"SELECT count(*) FROM {table} WHERE {column} BETWEEN ? AND ? AND NOT ({conds})",
        (first, last, *params),
    ).fetchone()[0]
    return outside == 0


def redo_import(inv: Inventory, snapshot: ImportSnapshot) -> None:
    """Put back what :func:`undo_import` took (same ids), in one transaction."""
    log: list[tuple] = []
    with inv.transaction():
        for table, rows in snapshot.inserted:
            spec = schema.table(table)
            names = ("id", *spec.field_names)
            bulk.insert_rows(inv.conn, table, names, [tuple(r[n] for n in names) for r in rows])
            if rows:
                log.append(
                    (
                        "insert",
                        table,
                        rows[0]["id"],
                        "import",
                        None,
                        {
                            "import_id": snapshot.import_id,
                            "first_id": rows[0]["id"],
                            "last_id": rows[-1]["id"],
                            "rows": len(rows),
                        },
                    )
                )
        for table, rid, old, new in snapshot.updated:
            if new:
                inv.update_row(table, rid, new)
            log.extend(("update", table, rid, k, old[k], v) for k, v in new.items())
        inv.conn.execute(
            "UPDATE imports_log SET undone_at = NULL WHERE id = ?", (snapshot.import_id,)
        )
        name = inv.conn.execute(
            "SELECT file_name FROM imports_log WHERE id = ?", (snapshot.import_id,)
        ).fetchone()[0]
        inv.log(inv.next_log_batch(), log, f"Import {name}")
