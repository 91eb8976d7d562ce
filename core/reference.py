"""Shipped reference data (placeholder until the reference tables land)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.inventory import Inventory


def seed(inv: Inventory) -> None:
    """Load the shipped hardware types and sites into a new inventory."""
