"""Rows of ``sites.csv``: AWS, Azure and Google Cloud regions, and API providers.

Regions come from Cloud Carbon Footprint (AWS, Azure, Google Cloud) and Google's own
region data; their grid factors are *not* copied (grid factors come from the factors
table). PUE is a ratio, WUE in L/kWh of IT energy.
"""

from __future__ import annotations

from pathlib import Path

from .common import BuildError, _check_methodology, _natural, _normalise, _read_csv
from .places import AWS_LOCATIONS, PLACE_FIXES, _country
from .providers import API_SITES, PROVIDERS, Provider
from .sources import ECOLOGITS

CCF = "Cloud Carbon Footprint"
GOOGLE_REGIONS = "Google Cloud region data 2024"


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
