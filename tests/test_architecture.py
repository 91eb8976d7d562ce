"""The dependency rule: core never imports Qt, pyqtgraph or ui; ui builds on core."""

from __future__ import annotations

import os
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import core

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6", "ui")


def _lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "lint-imports"
    command = [str(exe)] if exe.exists() else [shutil.which("lint-imports") or "lint-imports"]
    env = {**os.environ, "PYTHONPATH": str(project)}
    return subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, timeout=300
    )


def test_import_linter_contracts_hold():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken" in result.stdout


def test_import_linter_catches_a_violation(tmp_path):
    """The contracts are not vacuous: a core module importing Qt breaks them."""
    for name in ("core", "ui"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "core" / "leak.py").write_text("from PySide6 import QtCore\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "core.leak -> PySide6" in result.stdout


def test_every_core_module_imports_without_qt():
    modules = sorted(f"core.{m.name}" for m in pkgutil.iter_modules(core.__path__))
    assert "core.inventory" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"core loaded: {result.stdout}"


def test_core_tests_never_import_qt():
    for path in (ROOT / "tests" / "core").rglob("*.py"):
        text = path.read_text()
        for name in FORBIDDEN[:5]:
            assert f"import {name}" not in text and f"from {name}" not in text, path
