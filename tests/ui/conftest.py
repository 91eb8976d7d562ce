"""UI test fixtures: offscreen Qt, private QSettings, and no leftover threads or timers."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QSettings, QThreadPool, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from ui.app import configure_application_names


@pytest.fixture(autouse=True)
def fresh_settings(tmp_path, qapp):
    """QSettings and the per-user data folder live in this test's temporary folder."""
    configure_application_names()
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    QSettings().clear()
    yield tmp_path / "settings"


@pytest.fixture(autouse=True)
def no_leftover_threads_or_timers(qapp):
    """Fail a test that leaves pool work or an active timer behind (as napari does).

    Windows are closed and deleted first: what still runs after that has leaked.
    """
    yield
    pool = QThreadPool.globalInstance()
    assert pool.waitForDone(5000), "a thread-pool task was still running"
    for widget in QApplication.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    active = [repr(t) for t in qapp.findChildren(QTimer) if t.isActive()]
    assert not active, f"timers still running: {active}"


class MessageLog:
    """Stands in for QMessageBox's static functions and records what was said."""

    def __init__(self, monkeypatch, answer=QMessageBox.StandardButton.Yes):
        self.messages: list[tuple[str, str, str]] = []
        self.answer = answer
        for kind in ("critical", "warning", "information", "about"):
            monkeypatch.setattr(QMessageBox, kind, self._record(kind))
        monkeypatch.setattr(QMessageBox, "question", self._question)

    def _record(self, kind):
        def show(_parent, title, text, *args, **kwargs):
            self.messages.append((kind, title, text))
            return QMessageBox.StandardButton.Ok

        return staticmethod(show)

    def _question(self, _parent, title, text, *args, **kwargs):
        self.messages.append(("question", title, text))
        return self.answer

    def texts(self, kind=None):
        return [m[2] for m in self.messages if kind is None or m[0] == kind]


@pytest.fixture
def messages(monkeypatch):
    return MessageLog(monkeypatch)
