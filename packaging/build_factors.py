"""Build the shipped factor tables in ``resources/reference/``.

* ``grid_factors.csv`` -- location-based grid emission factors in g per kWh by zone and year:
  countries and the world (Ember via Our World in Data), US states (EPA eGRID2023 via
  CodeCarbon), Chinese provinces (MEE/NBS via CodeCarbon), Swedish and Norwegian bidding
  zones (CodeCarbon), Google Cloud regions (Google, 2019-2024) and AWS/Azure regions (Cloud
  Carbon Footprint).
* ``parameters.csv`` -- named engine defaults with a central value and a plausible range,
  including the ranges of grid factors (``grid_range:*``, computed from the grid table).
* ``inference_energy.csv`` -- energy per inference, per token and per image, the
  EcoLogits per-token formula coefficients and the constants of its GPU count.

Stdlib only; reproducible: the same inputs give byte-identical files. Curated figures are
checked against ``design/methodology.md`` and ``reference/cases.json`` under ``--shared``,
so a change there fails the build instead of drifting.

Usage::

    python packaging/build_factors.py --shared <shared folder> [--out resources/reference]

Units: grid factors in g per kWh (CO2 or CO2e as the ``gas`` column says), PUE as a
ratio, WUE in L/kWh of IT energy, energy in kWh, J or Wh as each row's ``unit`` says.

The work is done by the modules of ``packaging/reference_data/`` (one per data family,
assembled in ``factor_tables.py``); the names they define are importable from here as
before.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Also importable by file path from elsewhere (the modules live beside this script).
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

# Every name the single-file script defined or imported stays importable from here.
from reference_data.common import (  # noqa: E402, F401
    GRAMS_PER_LB,
    BuildError,
    _cases,
    _check_methodology,
    _dec,
    _fmt,
    _json,
    _methodology,
    _normalise,
    _read_csv,
    _sig,
    write_csv,
)
from reference_data.equivalences import (  # noqa: E402, F401
    EQUIVALENCES,
    GA_CHECK,
    GA_NOTE,
    GREEN_ALGORITHMS,
    LB_TO_KG,
    STRUBELL,
)
from reference_data.factor_tables import (  # noqa: E402, F401
    KIND_ORDER,
    grid_rows,
    inference_rows,
    parameter_list,
    parameter_rows,
)
from reference_data.grid_cloud import (  # noqa: E402, F401
    CCF,
    CCF_PROVIDERS,
    CCF_VINTAGES,
    CFE_NOTE,
    GOOGLE_GRID,
    GOOGLE_LIFECYCLE,
    GOOGLE_NOTES,
    GOOGLE_YEARS,
    PLACE_FIXES,
    ccf_rows,
    google_rows,
)
from reference_data.grid_countries import (  # noqa: E402, F401
    _ISO3_TO_ISO2,
    ISO3_TO_ISO2,
    OWID,
    OWID_CODES,
    OWID_COLUMN,
    OWID_KOSOVO,
    owid_rows,
)
from reference_data.grid_ranges import (  # noqa: E402, F401
    country_fallback_param,
    grid_range_params,
    world_fallback_param,
    year_gap_params,
)
from reference_data.grid_subnational import (  # noqa: E402, F401
    CHINA_NOTE,
    CODECARBON,
    EGRID_NOTE,
    NORDIC_NOTE,
    NORDIC_ZONES,
    PRIVATE_INFRA,
    _subnational,
    china_rows,
    egrid_rows,
    nordic_rows,
)
from reference_data.inference_mlenergy import (  # noqa: E402, F401
    GPU_NAMES,
    GPU_NOTES,
    MLENERGY,
    MLENERGY_BUCKETS,
    MLENERGY_METHOD,
    MLENERGY_TASKS,
    REQUEST,
    TOKEN,
    _configs,
    _in_bucket,
    _mlenergy,
    _spread,
    mlenergy_rows,
)
from reference_data.inference_php import (  # noqa: E402, F401
    PHP,
    PHP_NOTE,
    PHP_TASKS,
    php_rows,
)
from reference_data.inference_published import (  # noqa: E402, F401
    ECOLOGITS_COEFFS,
    ECOLOGITS_DOC,
    ECOLOGITS_FORMULA,
    ECOLOGITS_GPU_NOTE,
    ECOLOGITS_GPU_SOURCE,
    ECOLOGITS_GPUS,
    GEMINI_BOUNDARIES,
    ecologits_rows,
    gemini_rows,
)
from reference_data.parameters import (  # noqa: E402, F401
    API_CHECKS,
    API_KEYS,
    ECOLOGITS,
    HYPERSCALE_PUE,
    HYPERSCALE_WUE,
    LIFETIME,
    PUE_AVERAGE,
    RANGE_NOTES,
    SERVER_SHARE,
    Param,
    _provider_params,
    _providers,
)
from reference_data.providers import (  # noqa: E402, F401
    API_SITES,
    PROVIDERS,
)
from reference_data.sources import (  # noqa: E402, F401
    CITED,
    FIXED,
    SECONDARY,
)
from reference_data.tables import (  # noqa: E402, F401
    GRID_COLUMNS,
    INFERENCE_COLUMNS,
    PARAMETER_COLUMNS,
    _energy,
    _row,
)
from reference_data.utilisation import (  # noqa: E402, F401
    STRUBELL_RUNS,
    UTILISATION_CHECKS,
    UTILISATION_EVIDENCE,
    _host_overhead,
    _utilisation_inference,
    _utilisation_training,
)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shared", type=Path, required=True, help="the shared material folder (design/, data/)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent.parent / "resources" / "reference",
        help="output folder (default: resources/reference)",
    )
    args = parser.parse_args(argv)
    try:
        grid, skipped = grid_rows(args.shared)
        params = parameter_rows(args.shared)
        inference = inference_rows(args.shared)
    except (BuildError, OSError, KeyError, ValueError) as exc:
        print(f"build_factors: {exc}", file=sys.stderr)
        return 1
    write_csv(args.out / "grid_factors.csv", GRID_COLUMNS, grid)
    write_csv(args.out / "parameters.csv", PARAMETER_COLUMNS, params)
    write_csv(args.out / "inference_energy.csv", INFERENCE_COLUMNS, inference)
    print(
        f"wrote {len(grid)} grid factors, {len(params)} parameters and {len(inference)} "
        f"inference energy rows to {args.out}"
    )
    if skipped:
        print(f"cloud regions without a dated factor, not shipped: {', '.join(skipped)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
