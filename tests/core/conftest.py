from __future__ import annotations

import pytest

from core.inventory import Inventory


@pytest.fixture
def inv(tmp_path):
    """A new inventory file on disk (with the shipped reference data)."""
    inventory = Inventory.create(tmp_path / "test.aicl")
    yield inventory
    inventory.close()


@pytest.fixture
def model_id(inv):
    return inv.insert_logged("models", [{"name": "Support bot", "version": "2"}], "fixture")[0]
