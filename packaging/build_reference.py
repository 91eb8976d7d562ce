"""Build the shipped reference data: ``resources/reference/hardware.csv`` and ``sites.csv``.

Stdlib only; reproducible: the same inputs give byte-identical files.

Inputs, all under the project's shared material folder (``--shared``):

* ``design/methodology.md`` -- verified accelerator power (W) and embodied emissions
  (kgCO2e), provider PUE/WUE. The figures are curated in :data:`ACCELERATORS`,
  :data:`SERVERS` and :data:`PROVIDERS` below; the script checks that each one is still
  stated in that file, so a change there fails the build instead of drifting.
* ``data/codecarbon_3.3.2/hardware/cpu_power.csv`` (MIT) -- CPU TDPs (W).
* ``data/cloud_carbon_footprint/data/grid-emissions-factors-{aws,azure,gcp}.csv``
  (Apache-2.0) -- the cloud regions, their country and, for US regions, NERC region.
  Their grid factors are *not* copied: grid factors come from the factors table.
* ``data/grid_intensity/gcp_region_carbon_info/2024.csv`` (Apache-2.0) -- Google Cloud
  regions and their locations (adds the regions Cloud Carbon Footprint lacks).

Usage::

    python packaging/build_reference.py --shared <shared folder> [--out resources/reference]

Units: TDP in W, embodied emissions in kgCO2e, lifetime in years, WUE in L/kWh.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from dataclasses import dataclass
from pathlib import Path

HARDWARE_COLUMNS = (
    "name",
    "kind",
    "vendor",
    "tdp_w",
    "embodied_kgco2e",
    "lifetime_years",
    "source",
    "notes",
    "year",
    "licence",
)
SITES_COLUMNS = (
    "name",
    "kind",
    "provider",
    "region_code",
    "country",
    "grid_region",
    "pue",
    "wue",
    "grid_factor_g_per_kwh",
    "grid_factor_source",
    "source",
    "notes",
    "year",
    "licence",
)

SECONDARY = "secondary source; verify"
UNTAGGED = "status not recorded in the methodology notes; verify against the datasheet"
#: Licence entry for a single published figure (a fact, cited; no licence attaches).
CITED = "cited fact"

# --------------------------------------------------------------------------------------
# Hardware, curated from methodology.md ("Accelerator power", "Embodied emissions").
# ``check`` is text that must appear in methodology.md (whitespace-normalised).
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hardware:
    """One hardware row; ``tdp_w`` in W, ``embodied_kgco2e`` in kgCO2e per unit."""

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


BLOOM = "Luccioni et al. 2023 (BLOOM)"
ECOLOGITS = "EcoLogits methodology update 2025"
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

# --------------------------------------------------------------------------------------
# Sites: provider PUE/WUE (methodology.md "PUE and WUE") and country names to ISO codes.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Provider:
    """Fleet-wide figures of one cloud provider; ``wue`` in L/kWh of IT energy."""

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

CCF = "Cloud Carbon Footprint"
GOOGLE_REGIONS = "Google Cloud region data 2024"

#: Country or place names in the source files -> ISO 3166-1 alpha-2.
COUNTRY_CODES: dict[str, str] = {
    # countries
    "Australia": "AU",
    "Bahrain": "BH",
    "Belgium": "BE",
    "Brazil": "BR",
    "Canada": "CA",
    "China": "CN",
    "England": "GB",
    "Finland": "FI",
    "France": "FR",
    "Germany": "DE",
    "Hong Kong": "HK",
    "India": "IN",
    "Indonesia": "ID",
    "Ireland": "IE",
    "Italy": "IT",
    "Japan": "JP",
    "Mexico": "MX",
    "Netherlands": "NL",
    "Singapore": "SG",
    "South Africa": "ZA",
    "South Korea": "KR",
    "Sweden": "SE",
    "Switzerland": "CH",
    "Taiwan": "TW",
    "United States": "US",
    # US states and places
    "Arizona": "US",
    "California": "US",
    "Columbus": "US",
    "Dallas": "US",
    "Georgia": "US",
    "Illinois": "US",
    "Iowa": "US",
    "Las Vegas": "US",
    "Los Angeles": "US",
    "Northern Virginia": "US",
    "Oklahoma": "US",
    "Oregon": "US",
    "Salt Lake City": "US",
    "South Carolina": "US",
    "Texas": "US",
    "Virginia": "US",
    "Washington": "US",
    "Wyoming": "US",
    # other cities
    "Berlin": "DE",
    "Brussels": "BE",
    "Cardiff": "GB",
    "Chennai": "IN",
    "Dammam": "SA",
    "Delhi": "IN",
    "Doha": "QA",
    "Eemshaven": "NL",
    "Frankfurt": "DE",
    "Gavle": "SE",
    "Helsinki": "FI",
    "Jakarta": "ID",
    "Johannesburg": "ZA",
    "London": "GB",
    "Madrid": "ES",
    "Melbourne": "AU",
    "Milan": "IT",
    "Montréal": "CA",
    "Mumbai": "IN",
    "Osaka": "JP",
    "Paris": "FR",
    "Pune": "IN",
    "Santiago": "CL",
    "Seoul": "KR",
    "Stockholm": "SE",
    "Sydney": "AU",
    "São Paulo": "BR",
    "Tel Aviv": "IL",
    "Tokyo": "JP",
    "Toronto": "CA",
    "Turin": "IT",
    "Warsaw": "PL",
    "Zürich": "CH",
}

#: AWS region code -> AWS's location name (as AWS names its regions).
AWS_LOCATIONS: dict[str, str] = {
    "us-east-1": "N. Virginia",
    "us-east-2": "Ohio",
    "us-west-1": "N. California",
    "us-west-2": "Oregon",
    "us-gov-east-1": "GovCloud US-East",
    "us-gov-west-1": "GovCloud US-West",
    "af-south-1": "Cape Town",
    "ap-east-1": "Hong Kong",
    "ap-south-1": "Mumbai",
    "ap-northeast-3": "Osaka",
    "ap-northeast-2": "Seoul",
    "ap-southeast-1": "Singapore",
    "ap-southeast-2": "Sydney",
    "ap-northeast-1": "Tokyo",
    "ca-central-1": "Canada Central",
    "cn-north-1": "Beijing",
    "cn-northwest-1": "Ningxia",
    "eu-central-1": "Frankfurt",
    "eu-west-1": "Ireland",
    "eu-west-2": "London",
    "eu-south-1": "Milan",
    "eu-west-3": "Paris",
    "eu-north-1": "Stockholm",
    "me-south-1": "Bahrain",
    "sa-east-1": "São Paulo",
}

#: Spelling fixes for place names in the source files.
PLACE_FIXES: dict[str, str] = {
    "S\u0101o Paulo": "S\u00e3o Paulo",  # Google's 2024 file has a macron a, not a tilde
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


def _country(place: str, where: str) -> str:
    try:
        return COUNTRY_CODES[place]
    except KeyError:
        raise BuildError(f"{where}: no ISO country code for {place!r}; add it") from None


def _cloud_row(
    provider: Provider,
    code: str,
    name: str,
    country: str,
    grid_region: str,
    region_source: str,
    region_licence: str,
) -> dict[str, str]:
    return {
        "name": name,
        "kind": "cloud",
        "provider": provider.label,
        "region_code": code,
        "country": country,
        "grid_region": grid_region,
        "pue": provider.pue,
        "wue": provider.wue,
        "grid_factor_g_per_kwh": "",
        "grid_factor_source": "",
        "source": f"Regions: {region_source}; {provider.source}",
        "notes": provider.notes,
        "year": provider.year,
        "licence": f"{region_licence}; {provider.licence}",
    }


def site_rows(shared: Path) -> list[dict[str, str]]:
    """Cloud regions (AWS, Azure, Google Cloud) and API providers."""
    methodology = _normalise((shared / "design" / "methodology.md").read_text("utf-8"))
    for key, provider in PROVIDERS.items():
        _check_methodology(methodology, provider.check, key)
    _check_methodology(
        methodology, ("OpenAI on Azure 1.20 / 0.569", "Google 1.09 / 0.99"), "API providers"
    )
    ccf = shared / "data" / "cloud_carbon_footprint" / "data"
    rows: list[dict[str, str]] = []

    aws = PROVIDERS["aws"]
    for r in _read_csv(ccf / "grid-emissions-factors-aws.csv"):
        code = r["Region"]
        if code not in AWS_LOCATIONS:
            raise BuildError(f"AWS region {code!r} has no location name; add it")
        rows.append(
            _cloud_row(
                aws,
                code,
                f"AWS {code} ({AWS_LOCATIONS[code]})",
                _country(r["Country"], f"AWS {code}"),
                r["NERC Region"],
                CCF,
                "Apache-2.0",
            )
        )

    azure = PROVIDERS["azure"]
    for r in _read_csv(ccf / "grid-emissions-factors-azure.csv"):
        display, place = r["Region"], r["Location"]
        code = display.lower().replace(" ", "")
        rows.append(
            _cloud_row(
                azure,
                code,
                f"Azure {display} ({place})",
                _country(place, f"Azure {display}"),
                r["NERC Region"],
                CCF,
                "Apache-2.0",
            )
        )

    gcp = PROVIDERS["gcp"]
    google = {
        r["Google Cloud Region"]: r["Location"]
        for r in _read_csv(
            shared / "data" / "grid_intensity" / "gcp_region_carbon_info" / "2024.csv"
        )
    }
    ccf_gcp = {
        r["Region"]: r["Location"] for r in _read_csv(ccf / "grid-emissions-factors-gcp.csv")
    }
    for code in sorted(set(google) | set(ccf_gcp), key=_natural):
        sources = []
        if code in ccf_gcp:
            sources.append(CCF)
        if code in google:
            sources.append(GOOGLE_REGIONS)
        # Google's own location name is the more specific one (e.g. Eemshaven).
        place = google.get(code) or ccf_gcp[code]
        place = PLACE_FIXES.get(place, place)
        country_place = ccf_gcp.get(code, place)
        rows.append(
            _cloud_row(
                gcp,
                code,
                f"GCP {code} ({place})",
                _country(country_place, f"GCP {code}"),
                "",
                ", ".join(sources),
                "Apache-2.0",
            )
        )

    for name, provider, country, pue, wue, notes in API_SITES:
        published = bool(pue)
        rows.append(
            {
                "name": name,
                "kind": "api",
                "provider": provider,
                "region_code": "",
                "country": country,
                "grid_region": "",
                "pue": pue,
                "wue": wue,
                "grid_factor_g_per_kwh": "",
                "grid_factor_source": "",
                "source": f"{ECOLOGITS} (provider table"
                + (")" if published else "; location only)"),
                "notes": notes,
                "year": "2025",
                "licence": "CC BY-SA 4.0",
            }
        )

    names = [r["name"] for r in rows]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise BuildError(f"duplicate site names: {', '.join(duplicates)}")
    return rows


def write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    """Write ``rows`` as UTF-8 CSV with ``\\n`` line ends (stable across platforms)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shared",
        type=Path,
        required=True,
        help="the shared material folder (holds design/ and data/)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent.parent / "resources" / "reference",
        help="output folder (default: resources/reference)",
    )
    args = parser.parse_args(argv)
    try:
        hardware = hardware_rows(args.shared)
        sites = site_rows(args.shared)
    except (BuildError, OSError) as exc:
        print(f"build_reference: {exc}", file=sys.stderr)
        return 1
    write_csv(args.out / "hardware.csv", HARDWARE_COLUMNS, hardware)
    write_csv(args.out / "sites.csv", SITES_COLUMNS, sites)
    print(f"wrote {len(hardware)} hardware rows and {len(sites)} site rows to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
