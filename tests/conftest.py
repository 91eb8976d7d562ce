"""Shared fixtures: keep every test away from the user's own settings and data."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_user_dirs(tmp_path_factory, monkeypatch):
    """Point the per-user data and config folders at a fresh temporary place."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    return home


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory):
    """The demo inventory, built once per test module (tests that change it use ``demo``)."""
    from core.demo import build_demo

    path = tmp_path_factory.mktemp("demo") / "demo.aicl"
    build_demo(path).close()
    return path


@pytest.fixture
def demo(demo_path, tmp_path):
    """A private copy of the demo inventory, open."""
    from core.inventory import Inventory

    with Inventory.open(demo_path) as src:
        src.save_copy(tmp_path / "demo.aicl")
    inv = Inventory.open(tmp_path / "demo.aicl")
    yield inv
    inv.close()
