"""Robustness tests: the few that build windows run on Qt's offscreen platform with
private settings (as ``tests/ui`` does); the others never import Qt."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def private_qsettings(tmp_path, qapp):
    """QSettings in this test's temporary folder, never the user's."""
    from PySide6.QtCore import QSettings

    from ui.app import configure_application_names

    configure_application_names()
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    QSettings().clear()
    return tmp_path / "settings"
