"""Colour-blind-safe chart colours (Okabe & Ito, "Color Universal Design", 2008).

One colour per lifecycle phase, keyed by the engine's kind names, plus the colours of
location-based and market-based emissions and of the savings between them. The dashboard
and the printed report both use these, so a phase reads the same everywhere.

Pure Python on purpose (no Qt import): the report can use it without a running app.
Colours are ``'#rrggbb'`` strings.
"""

from __future__ import annotations

# The Okabe-Ito set, named as in the paper.
BLACK = "#000000"
ORANGE = "#e69f00"
SKY_BLUE = "#56b4e9"
BLUISH_GREEN = "#009e73"
YELLOW = "#f0e442"
BLUE = "#0072b2"
VERMILLION = "#d55e00"
REDDISH_PURPLE = "#cc79a7"
GREY = "#999999"

PHASE_COLORS: dict[str, str] = {
    "training": BLUE,
    "inference": ORANGE,
    "api": REDDISH_PURPLE,
    "embodied": GREY,
}

LOCATION = VERMILLION
MARKET = SKY_BLUE
SAVINGS = BLUISH_GREEN

# Neutral series (uncertainty band, single-series bars) when no phase applies.
NEUTRAL = "#4d4d4d"


def _mix(color: str, toward: str, amount: float) -> str:
    """Blend ``color`` toward ``toward`` by ``amount`` (0 = unchanged, 1 = ``toward``)."""
    a = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(toward[i : i + 2], 16) for i in (1, 3, 5)]
    mixed = [round(x + (y - x) * amount) for x, y in zip(a, b, strict=True)]
    return "#" + "".join(f"{v:02x}" for v in mixed)


def dark_variant(color: str) -> str:
    """The same hue lightened so it keeps its contrast on a dark background."""
    return _mix(color, "#ffffff", 0.25)


def phase_colors(dark: bool = False) -> dict[str, str]:
    """Phase colours for a light (default) or dark background."""
    if not dark:
        return dict(PHASE_COLORS)
    return {kind: dark_variant(c) for kind, c in PHASE_COLORS.items()}


def series_colors(dark: bool = False) -> dict[str, str]:
    """Location, market, savings and neutral colours for a light or dark background."""
    base = {"location": LOCATION, "market": MARKET, "savings": SAVINGS, "neutral": NEUTRAL}
    if dark:
        base = {k: dark_variant(v) for k, v in base.items()}
        base["neutral"] = "#c8c8c8"
    return base
