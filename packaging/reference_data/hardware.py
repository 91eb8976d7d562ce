"""Rows of ``hardware.csv``: accelerators, servers and data-centre CPUs.

Units: TDP in W, embodied emissions in kgCO2e per unit, lifetime in years.
"""

from __future__ import annotations

from pathlib import Path

from .accelerators import ACCELERATORS, Hardware
from .common import BuildError, _check_methodology, _normalise, _read_csv
from .sources import BLOOM, ECOLOGITS, SECONDARY

SERVERS: tuple[Hardware, ...] = (
    Hardware(
        "HPE Apollo 6500 server (no GPUs)",
        "server",
        "HPE",
        "",
        ("HPE Apollo server without GPUs 2,500 kg",),
        f"{BLOOM} via Boavizta e-footprint",
        "2023",
        "CC BY 4.0",
        embodied_kgco2e="2500",
        notes=(
            "HPE Apollo 6500 Gen10 Plus node of the Jean Zay A100 partition, "
            f"excluding its 8 GPUs; {SECONDARY}."
        ),
    ),
    Hardware(
        "8x NVIDIA A100 node (HPE Apollo 6500, incl. GPUs)",
        "server",
        "HPE",
        "",
        ("8xA100 node 3,700 kg",),
        f"{BLOOM} via Morrison et al. 2025",
        "2023; 2025",
        "CC BY 4.0",
        embodied_kgco2e="3700",
        notes=(
            "Whole node including its 8 A100 GPUs (2,500 + 8 x 150 kg): do not add "
            f"the GPU rows again; {SECONDARY}."
        ),
    ),
    Hardware(
        "8x NVIDIA H100 server (no GPUs)",
        "server",
        "",
        "",
        ("8xH100 server without GPUs 5,700 kg (EcoLogits via Boavizta) [V]", "3 y (EcoLogits"),
        f"{ECOLOGITS} (BoaviztAPI server; embodied and lifetime)",
        "2025",
        "CC BY-SA 4.0",
        embodied_kgco2e="5700",
        lifetime_years="3",
        notes=(
            "p5.48xlarge-like 8-GPU server excluding its GPUs; with 8 NVIDIA H100 "
            "SXM (164 kg each) the server totals 7,012 kg."
        ),
    ),
)

#: Data-centre CPUs taken from CodeCarbon's table (name as CodeCarbon spells it).
CPUS = (
    ("AMD EPYC 7742", "AMD"),
    ("AMD EPYC 7763", "AMD"),
    ("Intel Xeon Platinum 8380", "Intel"),
    ("Intel Xeon Platinum 8480+", "Intel"),
)
CODECARBON = "CodeCarbon 3.3.2 cpu_power.csv"


def hardware_rows(shared: Path) -> list[dict[str, str]]:
    """Accelerator, server and CPU rows (TDP in W, embodied in kgCO2e)."""
    methodology = _normalise((shared / "design" / "methodology.md").read_text("utf-8"))
    rows = []
    for hw in (*ACCELERATORS, *SERVERS):
        _check_methodology(methodology, hw.check, hw.name)
        rows.append(
            {
                "name": hw.name,
                "kind": hw.kind,
                "vendor": hw.vendor,
                "tdp_w": hw.tdp_w,
                "embodied_kgco2e": hw.embodied_kgco2e,
                "lifetime_years": hw.lifetime_years,
                "source": hw.source,
                "notes": hw.notes,
                "year": hw.year,
                "licence": hw.licence,
            }
        )
    tdps = {
        r["Name"]: r["TDP"]
        for r in _read_csv(shared / "data" / "codecarbon_3.3.2" / "hardware" / "cpu_power.csv")
    }
    for name, vendor in CPUS:
        if name not in tdps:
            raise BuildError(f"cpu_power.csv has no CPU named {name!r}")
        tdp = f"{float(tdps[name]):g}"
        rows.append(
            {
                "name": name,
                "kind": "cpu",
                "vendor": vendor,
                "tdp_w": tdp,
                "embodied_kgco2e": "",
                "lifetime_years": "",
                "source": CODECARBON,
                "notes": "Manufacturer TDP as tabulated by CodeCarbon.",
                "year": "2026",
                "licence": "MIT",
            }
        )
    return rows
