"""Telling a damaged inventory file from one that is not an inventory, and restoring
an automatic backup of it without touching the damaged file.

A file is *damaged* when it was an inventory but SQLite can no longer read all of it: cut
off (a copy interrupted, a full disk), its header overwritten, or a page overwritten in
the middle (a disk or sync tool fault). :func:`check_file` looks for this at open:

- the header (first 100 bytes): page size, and the page count against the file's length
  (a cut-off file is shorter than its header says), checked without SQLite;
- ``PRAGMA quick_check`` over the whole file when it is at most
  :data:`QUICK_CHECK_MAX_BYTES` (about 0.1 s at that size; larger files would delay
  every open, so a page damaged in a large file is reported when it is read instead,
  or when the app's daily backup checks its copy).

Automatic backups sit beside the file, named by the schema version they hold and when
they were made:

- ``NAME.schemaN-backup-YYYYMMDD-HHMMSS.aicl``: the copy made before a migration from
  schema N (``core.inventory``), kept for good;
- ``NAME.schemaN-daily-backup-YYYYMMDD-HHMMSS.aicl``: the daily backup
  (:func:`make_daily_backup`), made by the app when it opens an inventory for editing
  and the newest daily backup is a day old or missing; the newest
  :data:`DAILY_BACKUPS_KEPT` are kept.

Every backup is a consistent copy (SQLite's backup API) and is checked before it takes
its name. At damage, :func:`damaged` offers the newest backup that is itself sound;
:func:`restore_backup` copies it to a new file; the damaged file is never changed.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

from core.errors import Cancelled, DiskFullError, InventoryDamagedError

SQLITE_MAGIC = b"SQLite format 3\x00"
#: files up to this size get a full ``PRAGMA quick_check`` at open (bytes)
QUICK_CHECK_MAX_BYTES = 48 * 1024 * 1024
_BACKUP_NAME = re.compile(r"\.schema(\d+)-(?:(daily)-)?backup-(\d{8}-\d{6})$")
_STAMP = "%Y%m%d-%H%M%S"
#: how many daily backups are kept (the newest)
DAILY_BACKUPS_KEPT = 2
#: a new daily backup is made when the newest is at least this old
DAILY_BACKUP_AGE = dt.timedelta(days=1)

#: SQLite error texts that mean the file itself is damaged
DAMAGE_SIGNS = ("malformed", "file is not a database", "disk image", "corrupt")


def is_damage(exc: BaseException) -> bool:
    """Whether an SQLite error says the file's content is damaged."""
    return isinstance(exc, sqlite3.DatabaseError) and any(s in str(exc) for s in DAMAGE_SIGNS)


def find_backups(path: Path) -> list[Path]:
    """The automatic backups of ``path`` beside it, newest first."""
    path = Path(path)
    found = []
    for candidate in path.parent.glob(f"{glob_escape(path.stem)}.schema*-backup-*{path.suffix}"):
        match = _BACKUP_NAME.search(candidate.stem)
        if match and candidate.stem[: match.start()] == path.stem and candidate.is_file():
            found.append((match.group(3), candidate))
    return [p for _, p in sorted(found, reverse=True)]


def daily_backups(path: Path) -> list[Path]:
    """The daily backups of ``path``, newest first."""
    daily = []
    for backup in find_backups(path):
        match = _BACKUP_NAME.search(backup.stem)
        if match and match.group(2):
            daily.append(backup)
    return daily


def sound_backups(path: Path) -> list[Path]:
    """The automatic backups of ``path`` from the newest one that passes SQLite's check
    on: newer backups that are damaged themselves are left out (older ones are listed
    unchecked; :func:`restore_backup` checks the one it restores)."""
    found = find_backups(path)
    for number, backup in enumerate(found):
        if backup_problem(backup) is None:
            return found[number:]
    return []


def backup_problem(backup: Path) -> str | None:
    """Why ``backup`` cannot be restored (its header or SQLite's check), or None."""
    try:
        with open(backup, "rb") as fh:
            header = fh.read(100)
        if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
            return "its beginning is not that of an SQLite database"
        check_header(backup, header, backup.stat().st_size)
        conn = sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)
        try:
            result = [r[0] for r in conn.execute("PRAGMA quick_check(1)")]
        finally:
            conn.close()
    except InventoryDamagedError as exc:
        return str(exc)
    except (OSError, sqlite3.Error) as exc:
        return str(exc)
    return None if result == ["ok"] else f"SQLite's check reports: {result[0]}"


def daily_backup_due(path: Path, now: dt.datetime | None = None) -> bool:
    """Whether the app should make a daily backup of ``path`` now: none yet, or the
    newest is :data:`DAILY_BACKUP_AGE` old (a clock set back counts as due too)."""
    backups = daily_backups(path)
    if not backups:
        return True
    made = backup_time(backups[0])
    now = now or dt.datetime.now()
    return made is None or not (now - DAILY_BACKUP_AGE < made <= now)


def copy_problem(
    copy: Path, cancel: Callable[[], bool] | None = None, cancelled: str = "Cancelled."
) -> str | None:
    """What ``PRAGMA quick_check`` finds wrong in a fresh ``copy`` of an inventory (its
    first finding, or the damage SQLite reports when reading it), or None when it is
    sound. Read through a connection of its own: checking through the one that wrote the
    copy takes 3-5 times as long (measured on a 121 MB inventory). Errors that are not
    damage are raised as they are; ``cancel()`` is asked every 1,000 steps of SQLite's
    machine (well under 1 ms) and stops the check with :class:`~core.errors.Cancelled`
    (``cancelled``: its message)."""
    conn = sqlite3.connect(f"{copy.resolve().as_uri()}?mode=ro", uri=True)
    if cancel is not None:
        conn.set_progress_handler(lambda: int(bool(cancel())), 1000)
    try:
        rows = [r[0] for r in conn.execute("PRAGMA quick_check(5)")]
    except sqlite3.DatabaseError as exc:
        if cancel is not None and cancel():  # SQLite's "interrupted"
            raise Cancelled(cancelled) from exc
        if not is_damage(exc):
            raise
        return str(exc)
    finally:
        conn.close()
    if rows == ["ok"]:
        return None
    lines = [x for r in rows for x in r.splitlines() if x and not x.startswith("***")]
    return (lines or rows)[0]


def make_daily_backup(path: Path, cancel: Callable[[], bool] | None = None) -> Path:
    """Copy the inventory at ``path`` to a new daily backup beside it, keep only the
    newest :data:`DAILY_BACKUPS_KEPT` daily backups, and return the new one.

    Reads through its own read-only connection (so it can run on a worker thread while
    the app keeps editing): SQLite's backup API copies one consistent state. The copy is
    checked (``PRAGMA quick_check``) before it takes its name, so a damaged inventory (a
    page overwritten in a file too large to check at open) never replaces a sound
    backup: :class:`InventoryDamagedError` is raised instead.

    ``cancel()``: asked as the copy goes (every few MB) and during the check; when it
    returns true the backup stops with :class:`~core.errors.Cancelled`, leaving no
    temporary file and the existing backups as they were (the app cancels a backup
    under way when it is closed or ended by a signal).
    """
    from core.inventory import BUSY_TIMEOUT_MS, _backup_to

    path = Path(path)
    free = _free_bytes(path.parent)
    if free is not None and free < path.stat().st_size * 1.1 + 1024 * 1024:
        raise DiskFullError(
            f"{path}: no daily backup was made: the disk has {free:,} bytes free, less "
            "than the inventory's size. The inventory itself was not changed."
        )

    def verify(copy: Path) -> None:
        try:
            problem = copy_problem(copy, cancel, f"{path}: the daily backup was cancelled.")
        except sqlite3.DatabaseError as exc:  # the copy cannot be read at all
            problem = str(exc)
        if problem is not None:
            raise damaged(path, f"SQLite's check of a fresh copy reports: {problem}")

    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        stamp = dt.datetime.now().strftime(_STAMP)
        dest = path.with_name(f"{path.stem}.schema{version}-daily-backup-{stamp}{path.suffix}")
        if cancel is not None:
            # copied a few MB per step (so that cancel is answered at once) inside one
            # read transaction: a step on its own would see the app's edits since the
            # last step and start the copy again, so that a large inventory edited
            # every few seconds would never be backed up (WAL: the edits go on)
            conn.execute("BEGIN")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        try:
            _backup_to(conn, dest, verify=verify, cancel=cancel)
        except sqlite3.DatabaseError as exc:
            if is_damage(exc):
                raise damaged(path, f"SQLite reports: {exc}") from exc
            raise
    finally:
        conn.close()
    for old in daily_backups(path)[DAILY_BACKUPS_KEPT:]:
        old.unlink(missing_ok=True)
    return dest


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def backup_time(backup: Path) -> dt.datetime | None:
    """When the automatic backup was made (from its name, local time)."""
    match = _BACKUP_NAME.search(Path(backup).stem)
    return dt.datetime.strptime(match.group(3), _STAMP) if match else None


def damaged(path: Path, detail: str) -> InventoryDamagedError:
    """The error for a damaged ``path``: what is wrong, that nothing was changed, and the
    newest sound automatic backup to restore if there is one."""
    backups = sound_backups(path)
    text = (
        f"{path}: this inventory file is damaged ({detail}), so it cannot be opened. "
        "The file was not changed."
    )
    if backups:
        when = backup_time(backups[0])
        stamp = when.strftime("%Y-%m-%d %H:%M") if when else "an earlier date"
        text += (
            f" An automatic backup made on {stamp} exists ({backups[0].name}); restore it "
            "to a new file (in the app, or by copying it) and re-enter what changed since."
        )
    else:
        text += " Restore it from your own backup copy."
    return InventoryDamagedError(text, Path(path), backups)


def check_header(path: Path, header: bytes, size: int) -> None:
    """Raise :class:`InventoryDamagedError` if the SQLite header of a file that starts
    with the SQLite magic does not fit the file (page size, length)."""
    raw = int.from_bytes(header[16:18], "big")
    page_size = 65536 if raw == 1 else raw
    if page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
        raise damaged(path, "its header is overwritten: the page size is not valid")
    if size < page_size or size % page_size:
        raise damaged(path, f"its length, {size:,} bytes, is not a whole number of pages")
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size > 0:
        return  # pages still in the write-ahead log: the header's count is not final
    pages = int.from_bytes(header[28:32], "big")
    count_valid = header[92:96] == header[24:28] and pages > 0
    if count_valid and pages * page_size > size:
        raise damaged(
            path,
            f"it is cut off: {size:,} of its {pages * page_size:,} bytes are there",
        )


def quick_check(path: Path, conn: sqlite3.Connection) -> None:
    """``PRAGMA quick_check`` on a file small enough to check at every open."""
    if path.stat().st_size > QUICK_CHECK_MAX_BYTES:
        return
    try:
        rows = [r[0] for r in conn.execute("PRAGMA quick_check(5)")]
    except sqlite3.DatabaseError as exc:
        raise damaged(path, f"SQLite reports: {exc}") from exc
    if rows != ["ok"]:
        lines = [x for r in rows for x in r.splitlines() if x and not x.startswith("***")]
        first = lines[0] if lines else rows[0]
        raise damaged(path, f"SQLite's check reports: {first}")


def _free_bytes(folder: Path) -> int | None:
    """Bytes this user may still write in ``folder``'s file system (None: unknown)."""
    try:
        st = os.statvfs(folder)
    except (AttributeError, OSError):  # no statvfs on Windows
        return None
    return st.f_bavail * st.f_frsize


def restore_backup(backup: Path, damaged_path: Path) -> Path:
    """Copy ``backup`` to a new file beside ``damaged_path`` and return it.

    The new file is named ``NAME (restored YYYY-MM-DD).aicl`` (numbered if taken); the
    damaged file and the backup are left as they are. The backup is checked first.
    """
    backup, damaged_path = Path(backup), Path(damaged_path)
    conn = sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)
    try:
        result = [r[0] for r in conn.execute("PRAGMA quick_check(1)")]
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise damaged(backup, f"SQLite reports: {exc}") from exc
    if result != ["ok"]:
        conn.close()
        raise damaged(backup, f"SQLite's check reports: {result[0]}")
    today = dt.date.today().isoformat()
    stem, suffix = damaged_path.stem, damaged_path.suffix
    dest = damaged_path.with_name(f"{stem} (restored {today}){suffix}")
    number = 2
    while dest.exists():
        dest = damaged_path.with_name(f"{stem} (restored {today}, {number}){suffix}")
        number += 1
    try:
        from core.inventory import _backup_to  # the same atomic copy the backups use

        return _backup_to(conn, dest)
    finally:
        conn.close()
