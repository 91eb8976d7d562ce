"""The repository over one inventory file (SQLite, WAL, foreign keys on).

An :class:`Inventory` owns one connection in autocommit mode; every write goes through
:meth:`Inventory.transaction`, so nothing is ever half-written. Reads for the table
views return the ordered id list for a sort and filter and then fetch only the rows
asked for, so a million-row table is never loaded whole.

Sorting, searching and their caches live in ``core.ordering`` (mixed in as
:class:`core.ordering.TableViews`).

numpy and sqlite-utils are imported on first use, not when the app starts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core import __version__, integrity, migrations, ordering, schema
from core.errors import (
    InventoryDamagedError,
    InventoryExistsError,
    InventoryOpenError,
    NewerSchemaError,
    NotAnInventoryError,
    RecordNotFoundError,
)
from core.ordering import TableViews, _Cache, _chunks

if TYPE_CHECKING:
    import sqlite_utils

SQLITE_MAGIC = b"SQLite format 3\x00"
#: how long a write waits for another program's write to finish before giving up (ms)
BUSY_TIMEOUT_MS = 5000

_IN_CHUNK = ordering._IN_CHUNK


def os_user() -> str:
    """The operating-system user name recorded in the change log."""
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no login name (containers, services): still record something
        return f"uid-{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def now_iso() -> str:
    """Current UTC time as ISO 8601 with seconds, e.g. ``2026-11-28T13:05:00Z``."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_header(path: Path) -> tuple[int, int]:
    """``(application_id, user_version)`` read from the SQLite header without opening it.

    Raises :class:`NotAnInventoryError` if the file is not an SQLite database at all.
    """
    with open(path, "rb") as fh:
        header = fh.read(100)
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        raise NotAnInventoryError(
            f"{path}: not an AI Carbon Ledger inventory (this is not an SQLite database file)."
        )
    user_version = int.from_bytes(header[60:64], "big")
    application_id = int.from_bytes(header[68:72], "big")
    return application_id, user_version


def _connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    else:
        conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def read_only_place(path: Path) -> bool:
    """Whether ``path`` or its folder cannot be written (permissions, an immutable file,
    a read-only disk or share)."""
    folder = path.parent if str(path.parent) else Path(".")
    if not os.access(path, os.W_OK) or not os.access(folder, os.W_OK):
        return True
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (AttributeError, OSError):  # no statvfs on Windows
        return False


def read_only_message(path: Path) -> str:
    return (
        f"{path}: the inventory is read-only (the file, its folder or its disk cannot be "
        "written), so it cannot be opened; nothing was changed. Copy it to a folder you "
        "can write to and open the copy."
    )


def disk_full(path: Path) -> bool:
    """Whether the disk holding ``path`` has (almost) no space left for this user."""
    try:
        st = os.statvfs(path.parent if str(path.parent) else ".")
    except (AttributeError, OSError):
        return False
    return st.f_bavail * st.f_frsize < 64 * 1024


def disk_full_message(path: Path) -> str:
    return (
        f"{path}: the disk holding the inventory is full, so it cannot be opened; nothing "
        "was changed. Free some space on it and try again."
    )


def _inspect(path: Path) -> tuple[int, int]:
    """Check that ``path`` is an inventory this app can open; return (app id, version).

    Reads through a read-only connection, so a refused file is never modified.
    """
    if not path.exists():
        raise InventoryOpenError(f"{path}: no such file.")
    if path.is_dir():
        raise InventoryOpenError(f"{path}: is a folder, not an inventory file.")
    try:
        with open(path, "rb") as fh:
            header = fh.read(100)
        size = path.stat().st_size
    except PermissionError as exc:
        raise InventoryOpenError(f"{path}: cannot read the file (permission denied).") from exc
    ours = header[68:72] == migrations.APPLICATION_ID.to_bytes(4, "big")
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        # our id still in the header, or an automatic backup beside it: a damaged
        # inventory, not some other kind of file
        if size and (ours or integrity.find_backups(path)):
            raise integrity.damaged(path, "its beginning is not that of an SQLite database")
        read_header(path)  # raises NotAnInventoryError
    integrity.check_header(path, header, size)
    side_files = [Path(f"{path}{s}") for s in ("-wal", "-shm")]
    had_side_files = [p.exists() for p in side_files]
    try:
        conn = _connect(path, read_only=True)
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if app_id == migrations.APPLICATION_ID:
                integrity.quick_check(path, conn)
        finally:
            conn.close()
    except (sqlite3.DatabaseError, InventoryDamagedError) as exc:
        # leave a refused file as it was found: without the empty WAL and shared-memory
        # files the read-only connection made beside it
        for side, had in zip(side_files, had_side_files, strict=True):
            if (
                not had
                and side.exists()
                and (side.name.endswith("-shm") or not side.stat().st_size)
            ):
                side.unlink(missing_ok=True)
        if isinstance(exc, InventoryDamagedError):
            raise
        if integrity.is_damage(exc):
            raise integrity.damaged(path, f"SQLite reports: {exc}") from exc
        if ours:
            if read_only_place(path):
                raise InventoryOpenError(read_only_message(path)) from exc
            if disk_full(path):
                raise InventoryOpenError(disk_full_message(path)) from exc
            raise InventoryOpenError(f"{path}: cannot open the file ({exc}).") from exc
        raise NotAnInventoryError(f"{path}: not an AI Carbon Ledger inventory ({exc}).") from exc
    except PermissionError as exc:
        raise InventoryOpenError(f"{path}: cannot read the file (permission denied).") from exc
    if app_id != migrations.APPLICATION_ID or "meta" not in tables:
        raise NotAnInventoryError(
            f"{path}: not an AI Carbon Ledger inventory (it is an SQLite database made by "
            "another program). Open an inventory file or create a new one."
        )
    if version > migrations.LATEST_VERSION:
        raise NewerSchemaError(
            f"{path}: this inventory was saved by a newer version of AI Carbon Ledger "
            f"(schema {version}; this version reads up to {migrations.LATEST_VERSION}). "
            "Update the app to open it; the file was not changed."
        )
    return app_id, version


class Inventory(TableViews):
    """One open inventory file.

    Use :meth:`create` or :meth:`open`; close with :meth:`close` or a ``with`` block.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection):
        self.path = Path(path)
        self._conn = conn
        self._db: sqlite_utils.Database | None = None
        self._joins_cache: dict[str, tuple[str, dict[str, str]]] = {}
        self._cache = _Cache()
        self._closed = False
        #: whether this connection committed a write (closing then stores query-planner
        #: statistics; a session that only read, or whose writes were all refused,
        #: leaves the file byte for byte as it was)
        self._wrote = False

    @property
    def conn(self) -> sqlite3.Connection:
        """The connection (autocommit mode; write through :meth:`transaction`)."""
        if not ordering._numpy_adapted and "numpy" in sys.modules:
            ordering._adapt_numpy()  # numpy scalars bind as numbers as soon as any can exist
        return self._conn

    @property
    def db(self) -> sqlite_utils.Database:
        """A ``sqlite_utils.Database`` over the connection (imported on first use)."""
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn)
        return self._db

    # -- opening and creating -------------------------------------------------------

    @classmethod
    def create(cls, path: str | os.PathLike[str], *, reference_data: bool = True) -> Inventory:
        """Create a new inventory at ``path`` holding the shipped reference data.

        Refuses to overwrite an existing non-empty file.
        """
        path = Path(path)
        if path.exists() and path.stat().st_size > 0:
            raise InventoryExistsError(
                f"{path}: a file with this name already exists; choose another name."
            )
        if not path.parent.exists():
            raise InventoryOpenError(f"{path}: the folder {path.parent} does not exist.")
        try:
            conn = _connect(path)
        except sqlite3.Error as exc:
            raise InventoryOpenError(f"{path}: cannot create the file ({exc}).") from exc
        inv = cls._prepare(path, conn, from_version=0)
        if reference_data:
            from core import reference  # deferred: reads resources/ only when creating

            try:
                reference.seed(inv)
            except BaseException:
                inv.close()  # leave no half-made inventory behind
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
                raise
        return inv

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Inventory:
        """Open an existing inventory, migrating it (after a backup copy) if it is older.

        Raises :class:`InventoryOpenError` (or a subclass) with a message naming the file.
        """
        path = Path(path)
        _, version = _inspect(path)
        try:
            conn = _connect(path)
        except sqlite3.Error as exc:
            raise InventoryOpenError(f"{path}: cannot open the file ({exc}).") from exc
        return cls._prepare(path, conn, from_version=version)

    @classmethod
    def _prepare(cls, path: Path, conn: sqlite3.Connection, from_version: int) -> Inventory:
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA reverse_unordered_selects = OFF")  # see _IN_ID_ORDER
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":  # e.g. a read-only folder: say so instead of going on
                raise InventoryOpenError(f"{path}: cannot switch the file to WAL mode ({mode}).")
            steps = migrations.pending(from_version)
            if steps and from_version > 0:
                backup_before_migration(conn, path, from_version)
            inv = cls(path, conn)
            # Every pending step and this opening's note in one transaction: a file is
            # at its old version or fully upgraded, never in between, even when the
            # process is killed half-way (tests/robustness/test_kill.py).
            with inv.transaction():
                for step in steps:
                    migrations.run_in_transaction(conn, step)
                if from_version == 0:
                    inv._set_meta("created_at", now_iso())
                    inv._set_meta("created_by_version", __version__)
                last = conn.execute(
                    "SELECT value FROM meta WHERE key = 'last_opened_by_version'"
                ).fetchone()
                if last is None or last[0] != __version__:  # opening writes nothing else
                    inv._set_meta("last_opened_by_version", __version__)
            # only an upgrade counts as this session's write (see close)
            inv._wrote = bool(steps)
            return inv
        except sqlite3.Error as exc:
            conn.close()
            if integrity.is_damage(exc):
                raise integrity.damaged(path, f"SQLite reports: {exc}") from exc
            if "readonly" in str(exc) or "read-only" in str(exc) or read_only_place(path):
                raise InventoryOpenError(read_only_message(path)) from exc
            if "full" in str(exc) or disk_full(path):
                raise InventoryOpenError(disk_full_message(path)) from exc
            if "locked" in str(exc) or "busy" in str(exc):
                raise InventoryOpenError(
                    f"{path}: another program is writing this inventory and did not finish "
                    f"within {BUSY_TIMEOUT_MS // 1000} seconds; try again when it has "
                    "finished. Nothing was changed."
                ) from exc
            raise InventoryOpenError(f"{path}: cannot prepare the inventory ({exc}).") from exc
        except BaseException:
            conn.close()
            raise

    def close(self, *, optimize: bool = True) -> None:
        """Close the connection (checkpointing the WAL into the main file); closing again
        does nothing. Query-planner statistics are stored first when this connection
        committed a write, unless ``optimize=False`` (a file found damaged is written no
        more than closing needs)."""
        if self._closed:
            return
        self._closed = True
        if optimize and self._wrote:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("PRAGMA optimize")
        self.conn.close()

    def __enter__(self) -> Inventory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def name(self) -> str:
        """What the window title shows: the file name without its extension."""
        return self.path.stem

    # -- transactions and metadata --------------------------------------------------

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read-only block that sees one consistent state of the file without blocking
        writers (a deferred transaction in WAL mode); inside a transaction, just that."""
        conn = self.conn
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All-or-nothing block; nested blocks become savepoints.

        A rollback drops every cached order: rows may have changed inside the block
        (and been cached so) before it was undone.
        """
        conn = self.conn
        if conn.in_transaction:
            name = f"sp_{id(object())}"
            conn.execute(f"SAVEPOINT {name}")
            try:
                yield conn
            except BaseException:
                self._cache.clear()
                # SQLite rolls the whole transaction back itself on some errors (a full
                # disk, an I/O error): the savepoint is gone then, and ROLLBACK TO would
                # fail with "no such savepoint", hiding the error that matters
                if conn.in_transaction:
                    conn.execute(f"ROLLBACK TO {name}")
                    conn.execute(f"RELEASE {name}")
                raise
            conn.execute(f"RELEASE {name}")
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            self._cache.clear()
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except BaseException:
            self._cache.clear()  # still open: whoever rolls it back leaves nothing stale
            raise
        self._wrote = True

    def _set_meta(self, key: str, value: str) -> None:
        with self._writing():
            self.conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    # -- reads ----------------------------------------------------------------------

    def count(self, table: str) -> int:
        """How many rows ``table`` has (cached until a write can change it)."""
        spec = schema.table(table)
        cache = self._valid_cache()
        if spec.name not in cache.counts:
            sql = f"SELECT count(*) FROM {spec.name}"
            cache.counts[spec.name] = int(self.conn.execute(sql).fetchone()[0])
        return cache.counts[spec.name]

    def get(self, table: str, row_id: int) -> dict[str, Any]:
        """One record's stored values by field name (``id`` included)."""
        spec = schema.table(table)
        cols = ", ".join(("id", *spec.field_names))
        cur = self.conn.execute(f"SELECT {cols} FROM {spec.name} WHERE id = ?", (row_id,))
        row = cur.fetchone()
        if row is None:
            raise RecordNotFoundError(f"There is no {spec.singular} with id {row_id}.")
        return dict(zip(("id", *spec.field_names), row, strict=True))

    def get_many(self, table: str, ids: Sequence[int]) -> list[dict[str, Any]]:
        """Stored records for ``ids`` in the order given (missing ids are skipped)."""
        spec = schema.table(table)
        names = ("id", *spec.field_names)
        found: dict[int, dict[str, Any]] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            cur = self.conn.execute(
                f"SELECT {', '.join(names)} FROM {spec.name} WHERE id IN ({marks})", chunk
            )
            for row in cur:
                found[row[0]] = dict(zip(names, row, strict=True))
        return [found[i] for i in ids if i in found]

    def title(self, table: str, row_id: int) -> str:
        """A record's name as people see it (model name and version, run name...)."""
        spec = schema.table(table)
        expr = spec.title_sql.format(t="t")
        row = self.conn.execute(
            f"SELECT {expr} FROM {spec.name} t WHERE t.id = ?", (row_id,)
        ).fetchone()
        return row[0] if row else f"#{row_id}"

    def ref_options(self, table: str) -> list[tuple[int, str]]:
        """``(id, title)`` of every row of ``table``, sorted by title, for dropdowns."""
        spec = schema.table(table)
        expr = spec.title_sql.format(t="t")
        sql = f"SELECT t.id, {expr} AS title FROM {spec.name} t ORDER BY title COLLATE NOCASE"
        return [(int(i), str(title)) for i, title in self.conn.execute(sql)]

    def display_fields(self, table: str) -> tuple[schema.FieldSpec, ...]:
        """The fields a table view shows, in order."""
        return tuple(f for f in schema.table(table).fields if f.in_table)

    def dependents(self, table: str, ids: Iterable[int]) -> tuple[dict[str, int], dict[str, int]]:
        """What deleting ``ids`` of ``table`` would take along, and what blocks it.

        Returns ``(cascade, restrict)``: each maps a dependent table to a row count.
        Cascades are followed transitively (a model's deployments' usage rows).
        """
        cascade: dict[str, int] = {}
        restrict: dict[str, int] = {}
        for dep_table, dep_ids in self.cascade_closure(table, list(ids))[1:]:
            cascade[dep_table] = cascade.get(dep_table, 0) + len(dep_ids)
        for dep_table, dep_ids in self.cascade_closure(table, list(ids)):
            for dep in schema.DEPENDENTS.get(dep_table, ()):
                if dep.on_delete != "restrict":
                    continue
                n = self._count_referencing(dep.table, dep.column, dep_ids)
                # rows that are themselves deleted by the cascade do not block it
                if n and dep.table not in cascade:
                    restrict[dep.table] = restrict.get(dep.table, 0) + n
        return cascade, restrict

    def cascade_closure(self, table: str, ids: list[int]) -> list[tuple[str, list[int]]]:
        """``[(table, ids), ...]`` parents first: the rows a delete of ``ids`` removes."""
        out = [(table, list(ids))]
        queue = [(table, list(ids))]
        while queue:
            parent, parent_ids = queue.pop(0)
            for dep in schema.DEPENDENTS.get(parent, ()):
                if dep.on_delete != "cascade" or not parent_ids:
                    continue
                child_ids = self._referencing_ids(dep.table, dep.column, parent_ids)
                if child_ids:
                    out.append((dep.table, child_ids))
                    queue.append((dep.table, child_ids))
        return out

    def _referencing_ids(self, table: str, column: str, ids: Sequence[int]) -> list[int]:
        found: list[int] = []
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT id FROM {table} WHERE {column} IN ({marks}) ORDER BY id"
            found.extend(r[0] for r in self.conn.execute(sql, chunk))
        return found

    def _count_referencing(self, table: str, column: str, ids: Sequence[int]) -> int:
        total = 0
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT count(*) FROM {table} WHERE {column} IN ({marks})"
            total += self.conn.execute(sql, chunk).fetchone()[0]
        return total

    # -- writes (low level: callers wrap them in a transaction and log them) ---------

    def insert_row(self, table: str, values: dict[str, Any], row_id: int | None = None) -> int:
        spec = schema.table(table)
        record = {k: v for k, v in values.items() if k in spec.field_names}
        if row_id is not None:
            record = {"id": row_id, **record}
        cols = ", ".join(record)
        marks = ", ".join("?" * len(record))
        with self._writing(spec.name):
            cur = self.conn.execute(
                f"INSERT INTO {spec.name} ({cols}) VALUES ({marks})", tuple(record.values())
            )
        return int(cur.lastrowid if row_id is None else row_id)

    def update_row(self, table: str, row_id: int, changes: dict[str, Any]) -> None:
        spec = schema.table(table)
        for key in changes:
            spec.field(key)  # raises on unknown fields
        sets = ", ".join(f"{k} = ?" for k in changes)
        with self._writing(spec.name, changes):
            cur = self.conn.execute(
                f"UPDATE {spec.name} SET {sets} WHERE id = ?", (*changes.values(), row_id)
            )
        if cur.rowcount != 1:
            raise RecordNotFoundError(f"There is no {spec.singular} with id {row_id}.")

    def delete_ids(self, table: str, ids: Sequence[int]) -> None:
        spec = schema.table(table)
        with self._writing(spec.name, deleted=True):
            for chunk in _chunks(ids):
                marks = ",".join("?" * len(chunk))
                self.conn.execute(f"DELETE FROM {spec.name} WHERE id IN ({marks})", chunk)

    def insert_logged(
        self, table: str, rows: Iterable[dict[str, Any]], description: str
    ) -> list[int]:
        """Insert ``rows`` into ``table`` in one transaction, logging each; return ids.

        For seeding (reference data, demo inventory); user edits go through
        ``core.commands`` so that they can be undone.
        """
        spec = schema.table(table)
        ids: list[int] = []
        entries = []
        rows = list(rows)
        for number, row in enumerate(rows, 1):
            unknown = set(row) - set(spec.field_names) - {"id"}
            if unknown:
                raise ValueError(f"{table} row {number}: unknown fields {sorted(unknown)}")
        with self.transaction():
            batch = self.next_log_batch()
            for row in rows:
                record = {k: row.get(k) for k in spec.field_names if row.get(k) is not None}
                rid = self.insert_row(table, record)
                ids.append(rid)
                entries.append(("insert", table, rid, None, None, record))
            self.log(batch, entries, description)
        return ids

    def next_log_batch(self) -> int:
        return int(
            self.conn.execute("SELECT coalesce(max(batch), 0) + 1 FROM change_log").fetchone()[0]
        )

    def log(
        self,
        batch: int,
        entries: Iterable[tuple[str, str, int, str | None, Any, Any]],
        description: str,
    ) -> None:
        """Append change-log rows: ``(action, table, row_id, field, old, new)`` each.

        Values are stored as JSON text so that numbers, text and NULL stay distinct.
        """
        at, user = now_iso(), os_user()
        rows = [
            (
                batch,
                at,
                user,
                action,
                table,
                row_id,
                field,
                _json_or_none(old),
                _json_or_none(new),
                description,
            )
            for action, table, row_id, field, old, new in entries
        ]
        with self._writing():
            self.conn.executemany(
                "INSERT INTO change_log (batch, at, os_user, action, table_name, row_id, "
                "field, old_value, new_value, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def change_log(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest ``limit`` change-log rows, newest first."""
        cur = self.conn.execute(
            "SELECT id, batch, at, os_user, action, table_name, row_id, field, old_value, "
            "new_value, description FROM change_log ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur]

    # -- copies ---------------------------------------------------------------------

    def save_copy(
        self,
        destination: str | os.PathLike[str],
        progress: Callable[[float], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> Path:
        """Write a consistent copy of the inventory to ``destination``.

        Uses SQLite's online backup into a temporary file beside the destination, then
        renames it into place, so the destination is never half-written.

        ``progress(fraction)``: called as the copy goes, with the share of the file's
        pages copied so far (0 to 1, never decreasing, 1 at the end); ``cancel()``: asked
        as often; when it returns true the copy stops with
        :class:`~core.errors.Cancelled`, the temporary file is removed and the
        destination is left as it was. With either of them the copy reads the file
        through a read-only connection of its own rather than this inventory's, so that
        it can run on a worker thread (SQLite connections belong to the thread that made
        them) while the inventory stays open: every change is committed as it is made,
        so that connection reads the current state. Without them, the copy is made in
        one step through this inventory's connection.
        """
        dest = Path(destination)
        if dest.resolve() == self.path.resolve():
            raise InventoryExistsError(f"{dest}: that is the open inventory itself.")
        if progress is None and cancel is None:
            return _backup_to(self.conn, dest)
        source = _connect(self.path, read_only=True)
        try:
            return _backup_to(source, dest, progress=progress, cancel=cancel)
        finally:
            source.close()


def backup_before_migration(conn: sqlite3.Connection, path: Path, version: int) -> Path:
    """Copy the inventory before migrating it from schema ``version``."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    dest = path.with_name(f"{path.stem}.schema{version}-backup-{stamp}{path.suffix}")
    return _backup_to(conn, dest)


#: pages a copy with progress copies per step (4 MiB at SQLite's default page size of
#: 4 KiB: a few milliseconds each, so that Cancel is answered at once)
COPY_STEP_PAGES = 1024


def _backup_to(
    conn: sqlite3.Connection,
    dest: Path,
    verify: Callable[[Path], None] | None = None,
    *,
    progress: Callable[[float], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Path:
    """Copy the database of ``conn`` to ``dest`` as one consistent state (SQLite's backup
    API) through a temporary file renamed into place, so ``dest`` is never half-written.
    ``verify``: called with the finished copy's (temporary) path before the rename;
    whatever it raises stops the copy and removes the temporary file.

    ``progress``, ``cancel``: as for :meth:`Inventory.save_copy`; with either, the pages
    are copied :data:`COPY_STEP_PAGES` at a time (SQLite starts again if another
    connection changes the file between two steps, so the copy is still of one state).
    """
    import tempfile

    from core.errors import Cancelled

    stepped = progress is not None or cancel is not None
    done = 0.0  # the share reported so far (a restarted copy does not go back)

    def stop_if_cancelled() -> None:
        if cancel is not None and cancel():
            raise Cancelled(f"{dest}: the copy was cancelled; nothing was written.")

    def step(_status: int, remaining: int, total: int) -> None:
        nonlocal done
        stop_if_cancelled()
        if progress is not None and total > 0:
            fraction = (total - remaining) / total
            if fraction > done:
                done = fraction
                progress(fraction)

    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        target = sqlite3.connect(str(tmp))
        try:
            if stepped:
                stop_if_cancelled()
                conn.backup(target, pages=COPY_STEP_PAGES, progress=step)
            else:
                conn.backup(target)
            target.execute("PRAGMA journal_mode = DELETE")  # a copy is one self-contained file
        finally:
            target.close()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        if verify is not None:
            verify(tmp)
        stop_if_cancelled()
        if progress is not None and done < 1.0:
            progress(1.0)  # (an empty database reports no page)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest


def _json_or_none(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=_plain)


def _plain(value: Any) -> Any:
    """numpy scalars as plain Python numbers for JSON."""
    numpy = sys.modules.get("numpy")  # no numpy scalar can exist before numpy is loaded
    if numpy is not None and isinstance(value, numpy.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in the change log")
