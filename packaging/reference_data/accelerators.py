"""Accelerators (GPUs, TPUs) of ``hardware.csv``: TDP in W, embodied kgCO2e, lifetime in years.

Curated from ``design/methodology.md``; each row's ``check`` texts must still appear
there, so a change there fails the build instead of drifting.
"""

from __future__ import annotations

from dataclasses import dataclass

from .sources import BLOOM, CITED, ECOLOGITS, SECONDARY, UNTAGGED


@dataclass(frozen=True)
class Hardware:
    """One hardware row; ``tdp_w`` in W, ``embodied_kgco2e`` in kgCO2e per unit.

    Curated from methodology.md ("Accelerator power", "Embodied emissions"); ``check`` is
    text that must appear in methodology.md (whitespace-normalised).
    """

    name: str
    kind: str
    vendor: str
    tdp_w: str
    check: tuple[str, ...]
    source: str
    year: str
    licence: str
    embodied_kgco2e: str = ""
    lifetime_years: str = ""
    notes: str = ""


PATTERSON = "Patterson et al. 2021, arXiv:2104.10350"

ACCELERATORS: tuple[Hardware, ...] = (
    Hardware(
        "NVIDIA V100 SXM2",
        "accelerator",
        "NVIDIA",
        "300",
        ("V100 SXM2 300 [V]",),
        "NVIDIA V100 datasheet",
        "2017",
        CITED,
    ),
    Hardware(
        "NVIDIA V100 PCIe",
        "accelerator",
        "NVIDIA",
        "250",
        ("V100 PCIe 250",),
        "NVIDIA V100 datasheet",
        "2017",
        CITED,
        notes=UNTAGGED,
    ),
    Hardware(
        "NVIDIA A100 SXM4",
        "accelerator",
        "NVIDIA",
        "400",
        ("A100 SXM 400 [V]", "A100 GPU 150 kgCO2e"),
        f"TDP: NVIDIA A100 datasheet; embodied: {BLOOM}",
        "2020; 2023",
        f"{CITED}; CC BY 4.0",
        embodied_kgco2e="150",
        notes=(
            "40 GB and 80 GB. Embodied: BLOOM's per-GPU figure for the A100 SXM4 "
            "80GB, read in secondary sources citing the paper; secondary source; "
            "verify. BLOOM's 6-year lifetime is not confirmed in the paper, so no "
            "lifetime is set."
        ),
    ),
    Hardware(
        "NVIDIA A100 PCIe 40GB",
        "accelerator",
        "NVIDIA",
        "250",
        ("A100 PCIe 40GB 250 [V]",),
        "NVIDIA A100 datasheet",
        "2020",
        CITED,
        notes="No published embodied figure for the PCIe card.",
    ),
    Hardware(
        "NVIDIA A100 PCIe 80GB",
        "accelerator",
        "NVIDIA",
        "300",
        ("A100 PCIe 80GB 300 [V]",),
        "NVIDIA A100 datasheet",
        "2021",
        CITED,
        notes="No published embodied figure for the PCIe card.",
    ),
    Hardware(
        "NVIDIA H100 SXM",
        "accelerator",
        "NVIDIA",
        "700",
        ("H100 SXM 700 [V]", "H100 164 kg", "3 y (EcoLogits"),
        f"TDP: NVIDIA H100 datasheet; embodied and lifetime: {ECOLOGITS} (NVIDIA HGX H100 PCF)",
        "2022; 2025",
        f"{CITED}; CC BY-SA 4.0",
        embodied_kgco2e="164",
        lifetime_years="3",
        notes=(
            "Embodied per GPU of an HGX H100 board as used by EcoLogits; NVIDIA's "
            f"PCF summary itself not read; {SECONDARY}."
        ),
    ),
    Hardware(
        "NVIDIA H100 PCIe",
        "accelerator",
        "NVIDIA",
        "350",
        ("H100 PCIe 350",),
        "NVIDIA H100 datasheet",
        "2022",
        CITED,
        notes=(
            f"Configurable 300-350 W; {UNTAGGED}. The HGX H100 embodied figure "
            "covers the SXM board only, so none is set here."
        ),
    ),
    Hardware(
        "NVIDIA H100 NVL",
        "accelerator",
        "NVIDIA",
        "400",
        ("H100 NVL 400 [V]",),
        "NVIDIA H100 NVL datasheet",
        "2023",
        CITED,
        notes="The HGX H100 embodied figure covers the SXM board only; none set here.",
    ),
    Hardware(
        "NVIDIA H200 SXM",
        "accelerator",
        "NVIDIA",
        "700",
        ("H200 SXM 700 [S]",),
        "NVIDIA H200 specifications",
        "2024",
        CITED,
        notes=SECONDARY,
    ),
    Hardware(
        "NVIDIA B200",
        "accelerator",
        "NVIDIA",
        "1000",
        ("B200 1000 [S]",),
        "NVIDIA HGX B200 specifications",
        "2024",
        CITED,
        notes=SECONDARY,
    ),
    Hardware(
        "NVIDIA L4",
        "accelerator",
        "NVIDIA",
        "72",
        ("L4 72 [V]",),
        "NVIDIA L4 datasheet",
        "2023",
        CITED,
    ),
    Hardware(
        "NVIDIA T4",
        "accelerator",
        "NVIDIA",
        "70",
        ("T4 70 [V]",),
        "NVIDIA T4 datasheet",
        "2018",
        CITED,
    ),
    Hardware(
        "NVIDIA A10G",
        "accelerator",
        "NVIDIA",
        "150",
        ("A10G 150 [V]",),
        "NVIDIA A10G specifications (AWS EC2 G5)",
        "2021",
        CITED,
        notes="Sold only inside AWS G5 instances.",
    ),
    Hardware(
        "NVIDIA L40S",
        "accelerator",
        "NVIDIA",
        "350",
        ("L40S 350 [V]",),
        "NVIDIA L40S datasheet",
        "2023",
        CITED,
    ),
    Hardware(
        "NVIDIA P100",
        "accelerator",
        "NVIDIA",
        "300",
        ("Patterson Table 3: P100 271 W",),
        f"{PATTERSON} (Tables 1 and 3)",
        "2021",
        CITED,
        notes=(
            "Not in the methodology's accelerator list; added for the published "
            "Strubell 2019 and Patterson 2021 cases, which state a 300 W chip TDP. "
            "Measured average system power per chip 271 W (Patterson Table 3)."
        ),
    ),
    Hardware(
        "AMD MI250X",
        "accelerator",
        "AMD",
        "560",
        ("MI250X 560 [S]",),
        "AMD Instinct MI250X specifications",
        "2021",
        CITED,
        notes=SECONDARY,
    ),
    Hardware(
        "AMD MI300X",
        "accelerator",
        "AMD",
        "750",
        ("MI300X 750 [S]",),
        "AMD Instinct MI300X specifications",
        "2023",
        CITED,
        notes=SECONDARY,
    ),
    Hardware(
        "Google TPU v2",
        "accelerator",
        "Google",
        "280",
        ("TPU v2 280 (measured average 221) [V]",),
        f"{PATTERSON} (Table 3)",
        "2021",
        CITED,
        notes="Measured average system power per chip 221 W (Patterson Table 3).",
    ),
    Hardware(
        "Google TPU v3",
        "accelerator",
        "Google",
        "450",
        ("TPU v3 450 (measured 283) [V]",),
        f"{PATTERSON} (Table 3)",
        "2021",
        CITED,
        notes="Measured average system power per chip 283 W (Patterson Table 3).",
    ),
)
