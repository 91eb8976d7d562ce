"""Build the shipped reference data: ``resources/reference/hardware.csv`` and ``sites.csv``.

Stdlib only; reproducible: the same inputs give byte-identical files.

Inputs, all under the project's shared material folder (``--shared``):

* ``design/methodology.md`` -- verified accelerator power (W) and embodied emissions
  (kgCO2e), provider PUE/WUE. The figures are curated in :data:`ACCELERATORS`,
  :data:`SERVERS` and :data:`PROVIDERS` (``reference_data/accelerators.py``,
  ``hardware.py`` and ``providers.py``); the script checks that each one is still stated
  in that file, so a change there fails the build instead of drifting.
* ``data/codecarbon_3.3.2/hardware/cpu_power.csv`` (MIT) -- CPU TDPs (W).
* ``data/cloud_carbon_footprint/data/grid-emissions-factors-{aws,azure,gcp}.csv``
  (Apache-2.0) -- the cloud regions, their country and, for US regions, NERC region.
  Their grid factors are *not* copied: grid factors come from the factors table.
* ``data/grid_intensity/gcp_region_carbon_info/2024.csv`` (Apache-2.0) -- Google Cloud
  regions and their locations (adds the regions Cloud Carbon Footprint lacks).

Usage::

    python packaging/build_reference.py --shared <shared folder> [--out resources/reference]

Units: TDP in W, embodied emissions in kgCO2e, lifetime in years, WUE in L/kWh.

The work is done by the modules of ``packaging/reference_data/``; the names they define
are importable from here as before.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Also importable by file path from elsewhere (the modules live beside this script).
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

# Every name the single-file script defined stays importable from here (re-exports).
from reference_data.accelerators import ACCELERATORS, PATTERSON, Hardware  # noqa: E402, F401
from reference_data.common import (  # noqa: E402, F401
    BuildError,
    _check_methodology,
    _natural,
    _normalise,
    _read_csv,
    write_csv,
)
from reference_data.hardware import CODECARBON, CPUS, SERVERS, hardware_rows  # noqa: E402, F401
from reference_data.places import AWS_LOCATIONS, COUNTRY_CODES, PLACE_FIXES, _country  # noqa: E402, F401
from reference_data.providers import API_SITES, PROVIDERS, Provider  # noqa: E402, F401
from reference_data.sites import CCF, GOOGLE_REGIONS, _cloud_row, site_rows  # noqa: E402, F401
from reference_data.sources import BLOOM, CITED, ECOLOGITS, SECONDARY, UNTAGGED  # noqa: E402, F401
from reference_data.tables import HARDWARE_COLUMNS, SITES_COLUMNS  # noqa: E402


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
