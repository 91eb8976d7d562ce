"""One window per inventory, and read-only access to an inventory someone else writes.

When a window opens an inventory it *claims* it (:class:`InventoryClaim`):

- a lock file beside the inventory (``.NAME.aicl.lock``, a ``QLockFile``) tells every
  other process, on this machine or another one sharing the folder, that the file is
  being edited; the lock goes stale by itself when its process dies;
- a local server (``QLocalServer``, named from the user and the file's resolved path)
  lets a second launch of the app on the same file ask this window to come forward
  (:func:`hand_over`) and then exit, instead of opening the file twice.

A file whose lock another process holds (one this user's launch cannot reach: another
user, another machine, a copy of the app that hangs), or whose SQLite write lock is held
right now (a script writing it), is opened read-only (:func:`open_for_window`); the
window shows a banner that says so and why, and :class:`ReadOnlyEditor` refuses edits
with a message instead of failing inside SQLite.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import sqlite3
import sys
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from core import APP_NAME
from core.commands import Command
from core.errors import InventoryOpenError, NotAnInventoryError
from core.inventory import Inventory, read_header
from core.migrations import APPLICATION_ID, LATEST_VERSION
from ui.undo import InventoryEditor

#: what a second launch sends, and what the window that has the file answers
ACTIVATE, ACTIVATED = b"activate\n", b"ok\n"


def _key(path: str | Path) -> str:
    text = str(Path(path).resolve())
    return text.casefold() if sys.platform in ("win32", "darwin") else text


def server_name(path: str | Path) -> str:
    """The local-server name for ``path``: per user and file, short enough for every
    system's socket-name limits (a Unix socket path holds about 100 bytes)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name (a container without /etc/passwd entry)
        user = "user"
    digest = hashlib.sha256(f"{user}\0{_key(path)}".encode()).hexdigest()[:24]
    return f"aicl-{digest}"


def lock_path(path: str | Path) -> Path:
    """The lock file beside the inventory (hidden on Linux and macOS)."""
    path = Path(path)
    return path.with_name(f".{path.name}.lock")


def hand_over(path: str | Path, timeout_ms: int = 2000) -> bool:
    """Ask the window that has ``path`` open (in another launch of the app by this user)
    to come forward; True if one answered. Used before opening a file."""
    socket = QLocalSocket()
    socket.connectToServer(server_name(path))
    if not socket.waitForConnected(timeout_ms):
        return False
    socket.write(ACTIVATE)
    socket.flush()
    answered = socket.waitForReadyRead(timeout_ms) and socket.readAll().data() == ACTIVATED
    socket.disconnectFromServer()
    return answered


def writer_active(path: str | Path) -> bool:
    """Whether another connection holds the inventory's SQLite write lock right now
    (probed with ``BEGIN IMMEDIATE`` and no waiting; nothing is written)."""
    try:
        conn = sqlite3.connect(str(path), timeout=0, isolation_level=None)
    except sqlite3.Error:
        return False
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.DatabaseError as exc:  # also "file is not a database": Inventory.open says
        return "locked" in str(exc) or "busy" in str(exc)
    finally:
        conn.close()


def open_read_only(path: str | Path) -> Inventory:
    """Open ``path`` for reading only: nothing is written, not even the last-opened
    version (``PRAGMA query_only``). A file that would need upgrading first is refused,
    since it cannot be upgraded while another process writes it."""
    path = Path(path)
    if not path.is_file():
        raise InventoryOpenError(f"{path}: no such file.")
    read_header(path)  # rejects a file that is not SQLite at all
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute("PRAGMA query_only = ON")
        conn.execute("PRAGMA foreign_keys = ON")
        # read through SQLite, not the file header: the writer's WAL may hold newer values
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.Error as exc:
        raise InventoryOpenError(f"{path}: cannot open the file read-only ({exc}).") from exc
    if app_id != APPLICATION_ID:
        conn.close()
        raise NotAnInventoryError(f"{path}: not an AI Carbon Ledger inventory.")
    if version != LATEST_VERSION:
        conn.close()
        raise InventoryOpenError(
            f"{path}: this inventory needs upgrading (schema {version}), which cannot be "
            "done while another program is writing it. Close that program and open it again."
        )
    return Inventory(path, conn)


class InventoryClaim(QObject):
    """This window's claim on one inventory file (see the module docstring)."""

    #: a second launch on this inventory asked for the window to come forward
    activation_requested = Signal()

    def __init__(self, path: str | Path, parent: QObject | None = None):
        super().__init__(parent)
        self.path = Path(path)
        self._lock = QLockFile(str(lock_path(path)))
        self._lock.setStaleLockTime(0)  # stale only when its process is gone
        self._server: QLocalServer | None = None

    def acquire(self) -> bool:
        """Take the lock and start listening; False if another live process has it."""
        locked = self._lock.tryLock(0)
        if not locked and self._lock.error() == QLockFile.LockError.LockFailedError:
            return False
        # locked, or the folder is not writable: nobody can claim it, nothing to defer to
        self._listen()
        return True

    def holder(self) -> str:
        """Who holds the lock, in words ("process 123 on host-name")."""
        info = tuple(self._lock.getLockInfo())  # (pid, host, app); (ok, ...) in some builds
        pid, host, app = info[-3:]
        if not pid:
            return "another program"
        who = app or "another program"
        return f"{who} (process {pid} on {host or 'another computer'})"

    def release(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server.deleteLater()
            self._server = None
        if self._lock.isLocked():
            self._lock.unlock()

    def _listen(self) -> None:
        name = server_name(self.path)
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(name):
            # A server left behind by a process that crashed (Unix sockets outlive
            # it); our lock proves no live window has this file, so remove it.
            QLocalServer.removeServer(name)
            if not server.listen(name):
                server.deleteLater()
                return
        server.newConnection.connect(self._on_server_new_connection)
        self._server = server

    def _on_server_new_connection(self) -> None:
        assert self._server is not None
        while (socket := self._server.nextPendingConnection()) is not None:
            socket.readyRead.connect(lambda s=socket: self._on_socket_ready_read(s))
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():
                self._on_socket_ready_read(socket)

    def _on_socket_ready_read(self, socket: QLocalSocket) -> None:
        if socket.readAll().data() == ACTIVATE:
            socket.write(ACTIVATED)
            socket.flush()
            self.activation_requested.emit()


def open_for_window(
    path: str | Path, parent: QObject | None = None
) -> tuple[Inventory | None, InventoryClaim | None, str | None]:
    """Open ``path`` the way a window should: ``(inventory, claim, read_only_reason)``.

    - ``(None, None, None)``: another window of this user had it open and came forward;
    - ``(inventory, claim, None)``: opened for editing, claimed;
    - ``(inventory, None, reason)``: opened read-only because someone else writes it.

    Raises what :meth:`Inventory.open` raises for a file that cannot be opened.
    """
    claim = InventoryClaim(path, parent)
    if not claim.acquire():
        claim.deleteLater()
        if hand_over(path):
            return None, None, None
        reason = f"{claim.holder()} has this inventory open"
        return open_read_only(path), None, reason
    if Path(path).is_file() and writer_active(path):
        claim.release()
        claim.deleteLater()
        return open_read_only(path), None, "another program is writing this inventory"
    try:
        inventory = Inventory.open(path)
    except BaseException:
        claim.release()
        claim.deleteLater()
        raise
    return inventory, claim, None


def claim_new(path: str | Path, parent: QObject | None = None) -> InventoryClaim | None:
    """Claim an inventory this window has just created (nobody else can have it)."""
    claim = InventoryClaim(path, parent)
    if claim.acquire():
        return claim
    claim.deleteLater()
    return None


class ReadOnlyEditor(InventoryEditor):
    """Refuses every edit with a message: the inventory is open read-only."""

    def __init__(self, inventory: Inventory, reason: str, parent: QObject | None = None):
        super().__init__(inventory, parent)
        self.reason = reason

    def run(self, command: Command) -> bool:
        self.edit_failed.emit(read_only_message(self.reason))
        return False


def read_only_message(reason: str) -> str:
    """The banner's and the refused edit's text."""
    return (
        f"Read-only: {reason}. You can look, search and explain, but not change it "
        f"here. To edit, close it in the other program, then reopen it in {APP_NAME} "
        "(File > Open Recent)."
    )


def release_quietly(claim: InventoryClaim | None) -> None:
    if claim is not None:
        with contextlib.suppress(RuntimeError):  # already deleted with its window
            claim.release()
            claim.deleteLater()
