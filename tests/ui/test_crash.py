"""Unhandled exceptions: a log with version and platform, and a dialog that says the
inventory is safe; from the main thread and from worker threads."""

from __future__ import annotations

import platform
import sys
import threading
from pathlib import Path

from core import APP_NAME, __version__
from ui import crash


def _raise(exc: BaseException):
    try:
        raise exc
    except BaseException as caught:
        return type(caught), caught, caught.__traceback__


def test_log_folder_follows_the_platform_convention(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    folder = crash.log_dir()
    assert folder.is_dir()
    if sys.platform.startswith("linux"):
        assert folder == tmp_path / "state" / APP_NAME / "log"


def test_crash_log_names_version_platform_inventory_and_traceback(tmp_path):
    path = crash.write_crash_log(
        *_raise(ZeroDivisionError("boom")), inventory=Path("/x/y.aicl"), directory=tmp_path
    )
    text = path.read_text(encoding="utf-8")
    assert path.parent == tmp_path and path.name.startswith("crash-")
    assert f"{APP_NAME} {__version__}" in text
    assert platform.platform() in text
    assert "Inventory: /x/y.aicl" in text
    assert "ZeroDivisionError: boom" in text and "Traceback" in text


def test_main_thread_exception_is_logged_and_shown(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    handler = crash.CrashHandler(lambda: tmp_path / "mine.aicl")
    handler.install()
    try:
        assert sys.excepthook == handler._on_sys_exception
        with qtbot.waitSignal(handler.reported) as reported:
            sys.excepthook(*_raise(KeyError("site_id")))
    finally:
        handler.uninstall()
    log = Path(reported.args[0])
    assert log.parent == crash.log_dir()
    assert "KeyError: 'site_id'" in log.read_text(encoding="utf-8")
    assert f"Inventory: {tmp_path / 'mine.aicl'}" in log.read_text(encoding="utf-8")
    dialog = handler.dialog
    assert dialog is not None and dialog.isVisible()
    assert "Your inventory is safe" in dialog.text()
    assert str(log) in dialog.informativeText()
    assert "KeyError" in dialog.detailedText()
    assert dialog.open_folder_button.text() == "Open Log Folder"

    # a second exception while the dialog is open is logged, not shown again
    handler.install()
    try:
        with qtbot.waitSignal(handler.reported):
            sys.excepthook(*_raise(ValueError("again")))
    finally:
        handler.uninstall()
    assert handler.dialog is dialog
    dialog.done(0)
    assert handler.dialog is None
    assert sys.excepthook is not handler._on_sys_exception


def test_worker_thread_exception_reaches_the_main_thread(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    handler = crash.CrashHandler(show_dialog=False)
    handler.install()
    main = threading.current_thread()
    seen = []
    handler.reported.connect(lambda path: seen.append((threading.current_thread(), path)))
    try:

        def work():
            raise RuntimeError("worker failed")

        thread = threading.Thread(target=work, name="estimate-worker")
        with qtbot.waitSignal(handler.reported, timeout=5000):
            thread.start()
            thread.join()
    finally:
        handler.uninstall()
    assert seen and seen[0][0] is main  # reported on the main thread, where widgets live
    text = Path(seen[0][1]).read_text(encoding="utf-8")
    assert "Where: estimate-worker" in text and "RuntimeError: worker failed" in text
