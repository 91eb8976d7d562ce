"""Proof that the installed app works: build the PyInstaller bundle and use it.

Marked ``bundle`` and skipped unless asked for with ``AICL_BUNDLE_TEST=1``, since it
builds for about a minute. It needs PyInstaller
(``pip install -e ".[packaging]"``) and, for the desktop part, Linux with Xvfb,
xdotool, xdg-utils, shared-mime-info, desktop-file-utils and libfile-mimeinfo-perl.
``AICL_BUNDLE_DIR=dist/ai-carbon-ledger`` reuses a bundle built before instead of
building one.

What it proves, as the user would meet it: the bundle and its archive build; the frozen
app's ``--version`` and ``--selftest`` (demo inventory, estimate, every page, report to
PDF) pass offscreen and on an X server; ``install.sh`` installs it for the user with a
valid .desktop entry and MIME type; ``gio open`` and ``xdg-open`` on an inventory file
start the app on that file (its window title names it); a second open of the same file
brings the first window forward instead of opening a second one; ``uninstall.sh``
removes it all again. Timings are printed (run with ``-s`` to see them).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import APP_NAME, INVENTORY_SUFFIX, __version__

pytestmark = [
    pytest.mark.bundle,
    pytest.mark.slow,
    pytest.mark.timeout(1200),  # the build alone takes one to four minutes
    pytest.mark.skipif(
        os.environ.get("AICL_BUNDLE_TEST") != "1", reason="set AICL_BUNDLE_TEST=1 to build"
    ),
]

ROOT = Path(__file__).resolve().parent.parent
MIME = "application/x-ai-carbon-ledger-inventory"
EXE = "ai-carbon-ledger"
LINUX = sys.platform.startswith("linux")


def _need(*tools: str) -> None:
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """The bundle folder: built now into a temporary dist/ (or AICL_BUNDLE_DIR)."""
    given = os.environ.get("AICL_BUNDLE_DIR")
    if given:
        return Path(given).resolve()
    pytest.importorskip("PyInstaller")
    out = tmp_path_factory.mktemp("bundle")
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "build.py"), "--dist", str(out / "dist"),
         "--build", str(out / "build")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    report = json.loads((out / "dist" / "build-report.json").read_text(encoding="utf-8"))
    print(
        f"\nbuild: {time.perf_counter() - started:.0f} s; bundle "
        f"{report['bundle_bytes'] / 2**20:.1f} MiB in {report['bundle_files']} files; "
        f"archive {report['archive_bytes'] / 2**20:.1f} MiB"
    )
    assert Path(report["archive"]).stat().st_size > 10 * 2**20
    return Path(report["bundle"])


def _exe(bundle: Path) -> Path:
    return bundle / (f"{EXE}-cli.exe" if sys.platform == "win32" else EXE)


@pytest.fixture
def home(tmp_path) -> dict[str, str]:
    """An environment whose per-user folders are all inside ``tmp_path``."""
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QT_", "XDG_"))}
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_DIRS="/usr/local/share:/usr/share",
        XDG_RUNTIME_DIR=str(tmp_path / "run"),
    )
    (tmp_path / "run").mkdir(mode=0o700)
    return env


@pytest.fixture
def xserver(home) -> Iterator[dict[str, str]]:
    """``home`` plus DISPLAY of a private Xvfb screen."""
    _need("Xvfb", "xdotool")
    display = f":{100 + os.getpid() % 400}"
    server = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    env = dict(home, DISPLAY=display)
    for _ in range(100):
        if subprocess.run(["xdotool", "getmouselocation"], env=env,
                          capture_output=True).returncode == 0:  # fmt: skip
            break
        time.sleep(0.05)
    else:
        server.kill()
        pytest.fail("Xvfb did not start")
    yield env
    server.terminate()
    server.wait(10)


def _selftest(bundle: Path, env: dict[str, str]) -> str:
    started = time.perf_counter()
    result = subprocess.run(
        [str(_exe(bundle)), "--selftest"], env=env, capture_output=True, text=True, timeout=180
    )
    print(
        f"\nselftest ({env.get('QT_QPA_PLATFORM', 'xcb')}): {time.perf_counter() - started:.1f} s"
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    for step in ("fonts", "icon", "demo inventory", "estimate", "main window", "report to PDF"):
        assert f"ok    {step}:" in out, out
    assert "(bundle," in out and "self-test passed" in out
    assert "DejaVu Sans" in out  # the bundled fonts were registered
    return out


def test_version(bundle, home):
    result = subprocess.run([str(_exe(bundle)), "--version"], env=home,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{APP_NAME} {__version__}"


def test_selftest_offscreen(bundle, home):
    _selftest(bundle, dict(home, QT_QPA_PLATFORM="offscreen"))


def test_selftest_on_an_x_server(bundle, xserver):
    out = _selftest(bundle, dict(xserver, QT_QPA_PLATFORM="xcb"))
    assert "Qt platform: xcb" in out


def _windows(env: dict[str, str], title: str) -> list[str]:
    found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", title],
                           env=env, capture_output=True, text=True)  # fmt: skip
    return found.stdout.split()


def _wait_window(env: dict[str, str], title: str, timeout: float = 60) -> tuple[str, float]:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if found := _windows(env, title):
            return found[0], time.perf_counter() - started
        time.sleep(0.05)
    pytest.fail(f"no window titled {title!r} within {timeout} s")


def _make_inventory(bundle: Path, env: dict[str, str], path: Path) -> None:
    result = subprocess.run([str(_exe(bundle)), "new", str(path)], env=env,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(path) as conn:  # an ordinary SQLite file underneath
        assert conn.execute("SELECT count(*) FROM sites").fetchone()[0] > 0


@pytest.mark.skipif(not LINUX, reason="Linux desktop integration")
def test_opened_from_the_file_manager_and_once_only(bundle, xserver, tmp_path):
    _need("gio", "xdg-open", "xdg-mime", "update-mime-database", "desktop-file-validate")
    env = xserver
    installed = subprocess.run([str(bundle / "install.sh")], env=env,
                               capture_output=True, text=True, timeout=300)  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr
    data = Path(env["XDG_DATA_HOME"])
    desktop = data / "applications" / f"{EXE}.desktop"
    valid = subprocess.run(["desktop-file-validate", str(desktop)], capture_output=True, text=True)
    assert valid.returncode == 0 and "error" not in valid.stdout, valid.stdout
    assert (data / "icons" / "hicolor" / "48x48" / "apps" / f"{EXE}.png").is_file()

    docs = tmp_path / "Documents"
    docs.mkdir()
    first = docs / f"Scope 3 2026{INVENTORY_SUFFIX}"
    _make_inventory(bundle, env, first)
    query = subprocess.run(["xdg-mime", "query", "filetype", str(first)], env=env,
                           capture_output=True, text=True)  # fmt: skip
    assert query.stdout.strip() == MIME
    default = subprocess.run(["xdg-mime", "query", "default", MIME], env=env,
                             capture_output=True, text=True)  # fmt: skip
    assert default.stdout.strip() == f"{EXE}.desktop"

    title = f"{first.stem} — {APP_NAME}"
    launched = subprocess.run(["gio", "open", str(first)], env=env, timeout=60)
    assert launched.returncode == 0
    window, seconds = _wait_window(env, title)
    print(f"\ncold start through gio open to the window on the file: {seconds:.2f} s")
    pid = subprocess.run(["xdotool", "getwindowpid", window], env=env,
                         capture_output=True, text=True).stdout.strip()  # fmt: skip
    exe = Path(os.readlink(f"/proc/{pid}/exe"))
    assert exe == data.parent / "lib" / EXE / EXE  # the installed copy, not the build
    try:
        # a second open of the same file brings that window forward: no second window
        second = subprocess.run([str(exe), str(first)], env=env, capture_output=True,
                                text=True, timeout=60)  # fmt: skip
        assert second.returncode == 0, second.stderr
        assert "already open" in second.stdout
        assert _windows(env, title) == [window]

        # xdg-open (what most file managers and browsers call) on another inventory
        other = docs / f"Training runs{INVENTORY_SUFFIX}"
        _make_inventory(bundle, env, other)
        # (without a desktop environment xdg-open runs the app and waits for it)
        opener = subprocess.Popen(["xdg-open", str(other)], env=env)
        other_window, seconds = _wait_window(env, f"{other.stem} — {APP_NAME}")
        print(f"cold start through xdg-open: {seconds:.2f} s")
        other_pid = subprocess.run(["xdotool", "getwindowpid", other_window], env=env,
                                   capture_output=True, text=True).stdout.strip()  # fmt: skip
        os.kill(int(other_pid), signal.SIGTERM)
        opener.wait(30)
    finally:
        os.kill(int(pid), signal.SIGTERM)
        time.sleep(0.5)

    removed = subprocess.run([str(data.parent / "lib" / EXE / "uninstall.sh")], env=env,
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    assert removed.returncode == 0, removed.stderr
    assert not desktop.exists() and not (data.parent / "lib" / EXE).exists()
    assert not (data / "mime" / "packages" / f"{EXE}.xml").exists()
    assert first.is_file() and other.is_file()  # the user's inventories stay
