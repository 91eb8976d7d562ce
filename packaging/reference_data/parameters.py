"""Engine parameters of ``parameters.csv``: fleet PUE/WUE per provider and curated defaults.

Each :class:`Param` has a central value and a plausible low..high range in its ``unit``,
curated from ``design/methodology.md`` (:mod:`utilisation` also reads ``cases.json``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .providers import API_SITES, PROVIDERS
from .sources import CITED


@dataclass(frozen=True)
class Param:
    """One named default; ``check`` holds texts methodology.md must still contain."""

    name: str
    central: float
    low: float
    high: float
    unit: str
    applies_to: str
    source: str
    year: str
    licence: str
    notes: str
    check: tuple[str, ...] = ()


#: Hyperscale fleet PUE and on-site WUE (L/kWh) figures stated in methodology.md.
HYPERSCALE_PUE = (1.09, 1.10, 1.15, 1.17, 1.18, 1.20)
HYPERSCALE_WUE = (0.15, 0.27, 0.569, 0.99)
RANGE_NOTES = {
    "pue": "Range: documented judgement. A region's PUE is taken to lie within the spread "
    "of the fleet averages published for hyperscale providers in the methodology notes "
    "(Google 1.09 and ~1.10, AWS 1.15, Microsoft 1.17-1.18, OpenAI on Azure 1.20); "
    "providers publish fleet averages, not per-region figures.",
    "wue": "Range: documented judgement. On-site WUE is taken to lie within the spread of "
    "the provider figures in the methodology notes (AWS 0.15, Microsoft 0.27, OpenAI on "
    "Azure 0.569, Google 0.99 L/kWh); on-site water varies strongly with climate and "
    "cooling design, which fleet averages hide.",
}
ECOLOGITS = "EcoLogits methodology update (GenAI Impact 2025), provider table"
#: API providers of providers.API_SITES with published figures -> parameter key.
API_KEYS = {"OpenAI": "openai", "Google": "google-api"}
API_CHECKS = {
    "openai": ("OpenAI on Azure 1.20 / 0.569 [V]",),
    "google-api": ("Google 1.09 / 0.99",),
}


def _providers() -> list[tuple]:
    """(key, PUE, WUE, applies to, source, year, licence, note, checks) per provider.

    The same curated figures as the sites table (:mod:`sites`), so the two agree.
    """
    out = []
    for key, p in PROVIDERS.items():
        figures = (float(p.pue), float(p.wue), f"{p.label} regions")
        out.append((key, *figures, p.source, p.year, p.licence, p.notes, p.check))
    for name, provider, _country, pue, wue, notes in API_SITES:
        if pue and provider in API_KEYS:
            key = API_KEYS[provider]
            figures = (float(pue), float(wue), name, ECOLOGITS, "2025", "CC BY-SA 4.0")
            out.append((key, *figures, notes, API_CHECKS[key]))
    return out


def _provider_params() -> list[Param]:
    """``pue:<key>`` and ``wue:<key>`` for each cloud and API provider."""
    params = []
    for key, pue, wue, applies, source, year, licence, note, check in _providers():
        for kind, value, spread, unit, what in (
            ("pue", pue, HYPERSCALE_PUE, "ratio", applies),
            ("wue", wue, HYPERSCALE_WUE, "L/kWh", f"{applies}; on-site water per kWh of IT"),
        ):
            low, high = min(*spread, value), max(*spread, value)
            notes = f"{note} {RANGE_NOTES[kind]}"
            name = f"{kind}:{key}"
            params.append(
                Param(name, value, low, high, unit, what, source, year, licence, notes, check)
            )
    return params


PUE_AVERAGE = Param(
    "pue_industry_average",
    1.56,
    min(HYPERSCALE_PUE),
    1.58,
    "ratio",
    "own and colocation sites without a PUE of their own",
    "Uptime Institute global data center survey 2024 (average PUE)",
    "2024",
    CITED,
    "Status not recorded in the methodology notes; verify against Uptime's survey report. "
    "Range: spread of published averages: low = best hyperscale fleet average in the notes "
    "(1.09, Google via EcoLogits), high = Uptime 2018 average 1.58. Individual facilities "
    "can lie outside this range.",
    ("Industry average (Uptime survey) 1.56 (2024), 1.58 (2018)",),
)
LIFETIME = Param(
    "embodied_lifetime_years",
    4,
    3,
    6,
    "years",
    "hardware without a lifetime of its own (embodied amortisation)",
    "EcoLogits and Boavizta (3 y); OLMo and Cloud Carbon Footprint (4 y); LLMCarbon (5 y); "
    "BLOOM (6 y), as listed in the methodology notes",
    "2023; 2025",
    CITED,
    "Central 4 y (OLMo, Cloud Carbon Footprint); range: spread of published values (3-6 y). "
    "BLOOM's 6 y is itself a reconstruction, not confirmed in the paper.",
    (
        "Lifetimes in use: 3 y (EcoLogits, Boavizta), 4 y (OLMo, Cloud Carbon Footprint), "
        "5 y (LLMCarbon), 6 y (BLOOM)",
    ),
)
SERVER_SHARE = Param(
    "embodied_server_per_accelerator_kgco2e",
    712.5,
    312.5,
    712.5,
    "kgCO2e per accelerator",
    "the server around each accelerator (chassis, CPUs, memory, storage), amortised with it",
    "EcoLogits methodology via Boavizta (8x H100 server without GPUs, 5,700 kg); "
    "Luccioni et al. 2023 (BLOOM; HPE Apollo server without GPUs, 2,500 kg)",
    "2023; 2025",
    CITED,
    "Per accelerator slot of an 8-accelerator server: 5,700 kg / 8 (central and high), "
    "2,500 kg / 8 (low). Range: spread of published values. BLOOM's figure is read in "
    "secondary sources citing the paper; secondary source; verify.",
    (
        "8xH100 server without GPUs 5,700 kg (EcoLogits via Boavizta) [V]",
        "HPE Apollo server without GPUs 2,500 kg",
    ),
)
