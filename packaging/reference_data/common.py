"""Helpers shared by the reference-data builds: errors, input files, numbers, CSV output.

Stdlib only. Numbers written to the tables go through :class:`~decimal.Decimal`, so the
text does not depend on binary floating point and the output is byte-for-byte stable.
"""

from __future__ import annotations

import csv
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

#: Grams per pound (exact, by definition of the international pound).
GRAMS_PER_LB = Decimal("453.59237")


class BuildError(Exception):
    """An input file is missing, malformed or disagrees with the curated figures."""


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _natural(code: str) -> list[object]:
    """Sort key putting ``europe-west2`` before ``europe-west10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", code)]


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise BuildError(f"{path}: missing input file")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [
            {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
            for row in csv.DictReader(fh)
        ]


def _check_methodology(methodology: str, checks: tuple[str, ...], what: str) -> None:
    for snippet in checks:
        if _normalise(snippet) not in methodology:
            raise BuildError(f"methodology.md no longer states {snippet!r} (for {what})")


def _dec(text: str, where: str) -> Decimal:
    """``text`` as a finite, non-negative Decimal, or a BuildError naming ``where``."""
    try:
        value = Decimal(text)
    except ArithmeticError:
        raise BuildError(f"{where}: {text!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise BuildError(f"{where}: {text!r} is not a finite non-negative number")
    return value


def _fmt(value: Decimal, places: int | None = None) -> str:
    """Plain decimal text without exponent or trailing zeros, optionally rounded."""
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places))
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _sig(value: float | None) -> str:
    """Four significant digits as plain decimal text; ``None`` becomes an empty cell."""
    return "" if value is None else _fmt(Decimal(f"{value:.4g}"))


def _json(path: Path) -> Any:
    if not path.is_file():
        raise BuildError(f"{path}: missing input file")
    return json.loads(path.read_text("utf-8"))


def _methodology(shared: Path) -> str:
    return _normalise((shared / "design" / "methodology.md").read_text("utf-8"))


def _cases(shared: Path) -> dict[str, dict]:
    return {c["id"]: c for c in _json(shared / "reference" / "cases.json")}


def write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    """Write ``rows`` as UTF-8 CSV with ``\\n`` line ends (stable across platforms)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
