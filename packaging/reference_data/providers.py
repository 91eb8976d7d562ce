"""Cloud and API providers: fleet PUE (ratio) and WUE (L/kWh of IT energy).

Shared by the sites table (``sites.csv``) and the engine parameters (``parameters.csv``),
so the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from .sources import CITED, ECOLOGITS, SECONDARY


@dataclass(frozen=True)
class Provider:
    """Fleet-wide figures of one cloud provider; ``wue`` in L/kWh of IT energy.

    As stated in methodology.md ("PUE and WUE"); ``check`` texts must still appear there.
    """

    label: str
    prefix: str
    pue: str
    wue: str
    check: tuple[str, ...]
    source: str
    year: str
    licence: str
    notes: str


PROVIDERS: dict[str, Provider] = {
    "aws": Provider(
        "AWS",
        "AWS",
        "1.15",
        "0.15",
        ("AWS 1.15", "WUE 0.15 L/kWh (2024)"),
        "PUE, WUE: Amazon 2024 Sustainability Report",
        "2024",
        CITED,
        "PUE and WUE are AWS's global averages, not this region's. AWS reports PUE 1.14 for 2025.",
    ),
    "azure": Provider(
        "Microsoft Azure",
        "Azure",
        "1.17",
        "0.27",
        ("Microsoft 1.18 (FY25 1.17)", "0.27"),
        "PUE, WUE: Microsoft FY2025 sustainability reporting",
        "2025",
        CITED,
        "PUE and WUE are Microsoft's fleet averages for fiscal 2025, not this region's "
        "(fleet PUE 1.18 was reported for the year before); " + SECONDARY + ".",
    ),
    "gcp": Provider(
        "Google Cloud",
        "GCP",
        "1.10",
        "0.99",
        ("Google fleet ~1.10", "Google 1.09 / 0.99"),
        f"PUE: Google 2024 Environmental Report; WUE: {ECOLOGITS}",
        "2023; 2025",
        f"{CITED}; CC BY-SA 4.0",
        "PUE is Google's fleet average (about 1.10), not this region's; "
        + SECONDARY
        + ". WUE: EcoLogits' default for Google (Google publishes no fleet WUE).",
    ),
}

API_SITES = (
    # name, provider, country, pue, wue, notes
    (
        "OpenAI API (on Azure)",
        "OpenAI",
        "US",
        "1.20",
        "0.569",
        "EcoLogits' provider default for OpenAI: Microsoft data centres in the USA.",
    ),
    (
        "Google Gemini API",
        "Google",
        "US",
        "1.09",
        "0.99",
        "EcoLogits' provider default for Google: Google data centres in the USA.",
    ),
    (
        "Anthropic API",
        "Anthropic",
        "US",
        "",
        "",
        "No published figure. EcoLogits assumes AWS and Google data centres in the USA "
        "(PUE 1.09-1.14, WUE 0.13-0.99 L/kWh); not adopted until verified.",
    ),
    (
        "Mistral AI API",
        "Mistral AI",
        "SE",
        "",
        "",
        "No published figure. EcoLogits assumes Microsoft data centres in Sweden "
        "(PUE 1.16, WUE 0.09 L/kWh); not adopted until verified.",
    ),
)
