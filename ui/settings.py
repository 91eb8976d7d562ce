"""Every persisted user setting, with its type and default, in one place (QSettings)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

from core import APP_NAME, INVENTORY_SUFFIX

MAX_RECENT = 8


def data_dir() -> Path:
    """The per-user data folder (created if missing).

    ``~/.local/share/AI Carbon Ledger`` on Linux, ``%LOCALAPPDATA%\\AI Carbon Ledger`` on
    Windows, ``~/Library/Application Support/AI Carbon Ledger`` on macOS. (AppDataLocation
    would add the organisation name, which is the same words again.)
    """
    generic = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
    path = Path(generic) / APP_NAME
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_inventory_path() -> Path:
    """Where the default inventory lives: one file in the per-user data folder."""
    return data_dir() / f"inventory{INVENTORY_SUFFIX}"


def demo_inventory_path() -> Path:
    return data_dir() / f"demo{INVENTORY_SUFFIX}"


class SettingsStore:
    """Typed access to QSettings; keys are spelled only here."""

    def __init__(self, settings: QSettings | None = None):
        self._s = settings or QSettings()

    # recent files -------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self._s.value("files/recent", [])
        if isinstance(value, str):  # QSettings returns a lone string for one-item lists
            value = [value]
        return [str(v) for v in (value or [])]

    def add_recent_file(self, path: Path | str) -> None:
        text = str(Path(path).resolve())
        recent = [p for p in self.recent_files() if p != text]
        self._s.setValue("files/recent", [text, *recent][:MAX_RECENT])

    def remove_recent_file(self, path: Path | str) -> None:
        text = str(Path(path).resolve())
        self._s.setValue("files/recent", [p for p in self.recent_files() if p != text])

    def last_inventory(self) -> str | None:
        value = self._s.value("files/last_inventory", None)
        return str(value) if value else None

    def set_last_inventory(self, path: Path | str | None) -> None:
        self._s.setValue("files/last_inventory", str(Path(path).resolve()) if path else "")

    # window state -----------------------------------------------------------------
    def window_geometry(self) -> QByteArray | None:
        return self._bytes("window/geometry")

    def set_window_geometry(self, data: QByteArray) -> None:
        self._s.setValue("window/geometry", data)

    def window_state(self) -> QByteArray | None:
        return self._bytes("window/state")

    def set_window_state(self, data: QByteArray) -> None:
        self._s.setValue("window/state", data)

    def splitter_state(self) -> QByteArray | None:
        return self._bytes("window/splitter")

    def set_splitter_state(self, data: QByteArray) -> None:
        self._s.setValue("window/splitter", data)

    def current_page(self) -> str:
        return str(self._s.value("window/page", "models"))

    def set_current_page(self, key: str) -> None:
        self._s.setValue("window/page", key)

    def sync(self) -> None:
        self._s.sync()

    def _bytes(self, key: str) -> QByteArray | None:
        value = self._s.value(key, None)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None
