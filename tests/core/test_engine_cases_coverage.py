"""Published footprints against the engine's P5-P95 range, given only what a user knows.

Each case of ``tests/data/reference_cases.json`` that a user can enter without the
published power, PUE or grid factor (hardware from the shipped list, device count, hours,
a place from the shipped sites or a country; for inference the model's task or size and
the requests or tokens) is estimated with the shipped defaults. The published figure
should lie inside the reported P5-P95 range of the phase it is comparable with. The rate
is measured and printed (run with ``-s``) with each case's P5 / published / P95.

The test fails when a case not listed in ``KNOWN_MISSES`` falls outside its range, or
when the rate drops below the floor measured when the cases were added. A known miss
that comes inside is printed, so its entry can be removed and the floor raised.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core import reference
from core.estimate import Engine
from core.inventory import Inventory

CASES = {
    c["id"]: c
    for c in json.loads(
        (Path(__file__).resolve().parents[1] / "data" / "reference_cases.json").read_text()
    )
}
LB = 0.45359237  # kg per pound
SAMPLES, SEED = 2000, 1


def _shipped(table: str, name: str, fields: tuple[str, ...]) -> dict:
    row = next(r for r in reference.load_csv(table) if r["name"] == name)
    return {k: row[k] for k in fields if row.get(k) is not None}


def shipped_hardware(name: str) -> dict:
    """A row of the shipped hardware list, as a user picks it."""
    return _shipped(
        "hardware", name, ("name", "kind", "tdp_w", "embodied_kgco2e", "lifetime_years")
    )


def shipped_site(name: str) -> dict:
    """A row of the shipped site list (cloud regions, API providers), as a user picks it:
    with its shipped name, so its PUE and WUE are reference figures (defaults with the
    provider's range), as for a site seeded into an inventory."""
    return _shipped(
        "sites",
        name,
        ("name", "kind", "provider", "region_code", "country", "grid_region", "pue", "wue"),
    )


def _inventory(path: Path, site: dict, hardware: dict | None, model: dict) -> tuple:
    inv = Inventory.create(path, reference_data=False)
    model_id = inv.insert_logged("models", [{"name": "M", **model}], "t")[0]
    site_id = inv.insert_logged("sites", [{"name": "S", **site}], "t")[0]
    hw_id = inv.insert_logged("hardware", [hardware], "t")[0] if hardware else None
    return inv, {"model_id": model_id, "site_id": site_id, "hardware_id": hw_id}


def training(hardware: str, devices: int, hours: float, zone: str, year: int):
    """A training run: shipped hardware, device count, wall-clock hours, an own site in a
    country (``FR``) or a sub-national grid (``US-IA``), dated in ``year``."""

    def build(path: Path) -> Inventory:
        site = {"kind": "own", "country": zone[:2]}
        if "-" in zone:
            site["grid_region"] = zone
        inv, common = _inventory(path, site, shipped_hardware(hardware), {})
        inv.insert_logged(
            "training_runs",
            [
                {
                    "name": "r",
                    "kind": "pre-training",
                    **common,
                    "device_count": devices,
                    "wall_hours": hours,
                    "start_date": f"{year}-06-01",
                    "end_date": f"{year}-06-01",
                }
            ],
            "t",
        )
        return inv

    return build


def usage(
    site: str,
    model: dict,
    *,
    kind: str,
    start: str,
    hardware: str | None = None,
    devices: int | None = None,
    **counts: int,
):
    """A deployment at a shipped site with one usage row of ``counts`` (requests,
    output_tokens) in the month starting ``start``."""

    def build(path: Path) -> Inventory:
        hw = shipped_hardware(hardware) if hardware else None
        inv, common = _inventory(path, shipped_site(site), hw, model)
        dep = inv.insert_logged(
            "deployments", [{"name": "d", "kind": kind, "device_count": devices, **common}], "t"
        )[0]
        end = start[:8] + "28"
        inv.insert_logged(
            "usage",
            [{"deployment_id": dep, "period_start": start, "period_end": end, **counts}],
            "t",
        )
        return inv

    return build


@dataclass(frozen=True)
class UserCase:
    """One published figure (kgCO2e) and how a user would enter the activity behind it.

    ``phase`` is the estimate row compared (``training``, ``inference``, ``api``,
    ``embodied``). ``circular``: the engine's default for this very quantity is the
    published figure (only grid and PUE are estimated), so containment says little.
    """

    case_id: str
    published_kg: float
    what: str
    build: Callable[[Path], Inventory]
    phase: str
    circular: bool = False


P100, V100, TPU2, A100, H100 = (
    "NVIDIA P100",
    "NVIDIA V100 SXM2",
    "Google TPU v2",
    "NVIDIA A100 SXM4",
    "NVIDIA H100 SXM",
)
BLOOM_GPU_HOURS = CASES["bloom-176b-training-dynamic"]["inputs"]["gpu_hours"]
BLOOM_GPUS = CASES["bloom-176b-training-dynamic"]["inputs"]["gpu_count"]
BLOOM = training(A100, BLOOM_GPUS, BLOOM_GPU_HOURS / BLOOM_GPUS, "FR", 2022)
PHP = CASES["power-hungry-task-means"]
PHP_G_PER_KWH = PHP["inputs"]["region_carbon_intensity_gCO2e_per_kWh"]
#: Power Hungry Processing task -> the model task a user would choose for it
PHP_USER_TASK = {
    "text_classification": "classification",
    "extractive_QA": "question-answering",
    "masked_language_modeling": "embedding",
    "token_classification": "token-classification",
    "image_classification": "image-classification",
    "object_detection": "object-detection",
    "text_generation": "text-generation",
    "summarization": "summarisation",
    "image_captioning": "image-captioning",
    "image_generation": "image-generation",
}


def _strubell(case_id: str, hardware: str) -> UserCase:
    inp = CASES[case_id]["inputs"]
    return UserCase(
        case_id,
        CASES[case_id]["expected"]["co2e_lbs"] * LB,
        "operational CO2e (Table 3)",
        training(hardware, inp["gpu_count"], inp["training_hours"], "US", 2018),
        "training",
    )


def _patterson(case_id: str, hardware: str, zone: str) -> UserCase:
    inp = CASES[case_id]["inputs"]
    return UserCase(
        case_id,
        CASES[case_id]["expected"]["gross_tCO2e"] * 1000,
        "gross (location-based) CO2e (Table 1)",
        training(hardware, inp["processor_count"], inp["training_days"] * 24, zone, 2019),
        "training",
    )


def _php(task: str) -> UserCase:
    kwh = PHP["expected"]["kWh_per_1000_inferences_mean"][task]
    return UserCase(
        f"power-hungry-task-means/{task}",
        kwh * PHP_G_PER_KWH / 1000,
        f"1,000 inferences x {PHP_G_PER_KWH} g/kWh (Table 2)",
        usage(
            "AWS us-west-2 (Oregon)",
            {"task": PHP_USER_TASK[task]},
            kind="cloud",
            start="2023-06-01",
            hardware=A100,
            devices=8,
            requests=PHP["inputs"]["inferences"],
        ),
        "inference",
        circular=True,
    )


USER_CASES = [
    _strubell("strubell2019-transformer-base", P100),
    _strubell("strubell2019-transformer-big", P100),
    _strubell("strubell2019-elmo", P100),
    _strubell("strubell2019-bert-base-gpu", V100),
    _strubell("strubell2019-nas", P100),
    _patterson("patterson2021-transformer-big-p100-us-average", P100, "US"),
    _patterson("patterson2021-transformer-big-p100-iowa", P100, "US-IA"),
    _patterson("patterson2021-evolved-transformer-medium-tpuv2-iowa", TPU2, "US-IA"),
    # the estimate covers host, idle share and PUE: it compares with BLOOM's dynamic plus
    # idle and infrastructure energy; the embodied part is the next case
    UserCase(
        "bloom-176b-training-total",
        (
            CASES["bloom-176b-training-total"]["expected"]["dynamic_tCO2e"]
            + CASES["bloom-176b-training-total"]["expected"]["idle_tCO2e"]
        )
        * 1000,
        "operational CO2e: dynamic + idle and infrastructure (Table 2)",
        BLOOM,
        "training",
    ),
    UserCase(
        "bloom-176b-embodied",
        CASES["bloom-176b-embodied"]["expected"]["embodied_tCO2e"] * 1000,
        "embodied CO2e allocated to the run",
        BLOOM,
        "embodied",
    ),
    UserCase(
        "ecologits-h100-server-embodied",
        CASES["ecologits-h100-server-embodied"]["expected"]["per_hour_kgCO2e"],
        "embodied CO2e of one 8x H100 server-hour",
        training(H100, 8, 1.0, "FR", 2025),
        "embodied",
        circular=True,
    ),
    *[_php(task) for task in PHP["expected"]["kWh_per_1000_inferences_mean"]],
    # one median prompt to a chat model of undisclosed size at Google; the published
    # figure is market-based (and includes embodied), the range location-based
    UserCase(
        "gemini-apps-median-text-prompt-2025",
        CASES["gemini-apps-median-text-prompt-2025"]["expected"]["gCO2e"] / 1000,
        "CO2e of one median text prompt (market-based)",
        usage(
            "Google Gemini API",
            {"task": "chat", "provider": "Google"},
            kind="api",
            start="2025-05-01",
            requests=1,
        ),
        "api",
    ),
    UserCase(
        "mistral-le-chat-400-token-response",
        CASES["mistral-le-chat-400-token-response"]["expected"]["gCO2e"] / 1000,
        "CO2e of one 400-token reply (LCA, incl. upstream and manufacturing)",
        usage(
            "Mistral AI API",
            {"task": "chat", "provider": "Mistral AI", "params_total_b": 123},
            kind="api",
            start="2025-07-01",
            requests=1,
            output_tokens=CASES["mistral-le-chat-400-token-response"]["inputs"]["output_tokens"],
        ),
        "api",
    ),
]

#: cases in cases.json with no user-known expression, and why
NOT_EXPRESSIBLE = {
    "bloom-176b-training-dynamic": "GPU energy at TDP only (no host, idle or PUE): the "
    "engine reports facility energy; bloom-176b-training-total is its counterpart",
}

_PHP_OFFSET = (
    "the estimate is 1.36x the published figure: AWS us-west-2 has only a 2019 factor "
    "(Cloud Carbon Footprint, eGRID WECC, 351 g/kWh) against the paper's 297.6, and the "
    "AWS PUE 1.15 is applied to what CodeCarbon measured without one; the 2019 factor's "
    "range for a 2023 activity (four years away) and the PUE's range do not quite reach it"
)
#: published figures outside the P5-P95 range, and why
KNOWN_MISSES = {
    "bloom-176b-embodied": "the shipped defaults amortise over 4 years (range 3-6) with the "
    "EcoLogits H100 server share of 712.5 kg per GPU (range down to BLOOM's 312.5); BLOOM "
    "used 6 years at 85 % utilisation and 312.5 kg: central 26.7 t, P5 18 t",
    "power-hungry-task-means/image_classification": "below P5: " + _PHP_OFFSET,
    "power-hungry-task-means/summarization": "below P5: " + _PHP_OFFSET,
    "mistral-le-chat-400-token-response": "20x above P95: the published figure is a life-"
    "cycle one (upstream and manufacturing included), the API estimate is electricity "
    "only (4 GPUs hold the 123B model: 295 GB over 80 GB); Swedish grid (41 g/kWh)",
}
#: cases whose estimate is 0 by design (nothing a user entered gives an energy)
NOT_ESTIMATED: set[str] = set()
#: the coverage measured: all cases, and without the circular (13 / 23 and 9 / 12 when
#: the cases were added; raised when grid factors, shipped provider PUEs and the Power
#: Hungry Processing image generation low got their ranges, and tokens their GPU count;
#: 17 -> 19 when token classification and image captioning became model tasks)
FLOOR_ALL = 19 / 23
FLOOR_INDEPENDENT = 10 / 12


def estimate_range(case: UserCase, folder: Path) -> tuple[float, float, float]:
    """(central, P5, P95) kgCO2e of the case's phase, location-based."""
    with case.build(folder / "case.aicl") as inv:
        rows = Engine(inv).estimate(None, by="phase", samples=SAMPLES, seed=SEED).rows
    row = next((r for r in rows if r.kind == case.phase), None)
    if row is None:
        return 0.0, 0.0, 0.0
    return row.location_kgco2e, row.low_kgco2e, row.high_kgco2e


def test_every_case_is_measured_once():
    ids = {c.case_id.split("/")[0] for c in USER_CASES}
    assert ids | set(NOT_EXPRESSIBLE) == set(CASES)
    assert len({c.case_id for c in USER_CASES}) == len(USER_CASES)


def test_user_known_ranges_contain_the_published_figures(tmp_path):
    inside: dict[str, bool] = {}
    lines, odd = [], []
    for i, case in enumerate(USER_CASES):
        folder = tmp_path / str(i)
        folder.mkdir()
        central, low, high = estimate_range(case, folder)
        if not 0 <= low <= high or (central <= 0) != (case.case_id in NOT_ESTIMATED):
            odd.append((case.case_id, central, low, high))
        ok = low <= case.published_kg <= high
        inside[case.case_id] = ok
        flag = "inside" if ok else "OUTSIDE"
        note = " (circular)" if case.circular else ""
        lines.append(
            f"{case.case_id}{note}: P5 {low:,.6g} / published {case.published_kg:,.6g} / "
            f"P95 {high:,.6g} kg (central {central:,.6g}) {flag}"
        )
        if not ok:
            lines.append(f"    {KNOWN_MISSES.get(case.case_id, 'NEW MISS')}")
        elif case.case_id in KNOWN_MISSES:
            lines.append("    now inside: remove it from KNOWN_MISSES and raise the floor")
    independent = [c.case_id for c in USER_CASES if not c.circular]
    n_in, n_ind = sum(inside.values()), sum(inside[c] for c in independent)
    rate, rate_ind = n_in / len(inside), n_ind / len(independent)
    lines.append(
        f"P5-P95 contains the published figure in {n_in} of {len(inside)} cases "
        f"({rate:.0%}); without the circular ones in {n_ind} of {len(independent)} "
        f"({rate_ind:.0%})"
    )
    lines += [f"not measured: {case_id}: {why}" for case_id, why in NOT_EXPRESSIBLE.items()]
    print("\n" + "\n".join(lines))
    assert not odd, f"estimates without a proper range, or unexpectedly zero: {odd}"
    new = sorted(c for c, ok in inside.items() if not ok and c not in KNOWN_MISSES)
    assert not new, f"published figures now outside the P5-P95 range: {new}"
    assert rate >= FLOOR_ALL
    assert rate_ind >= FLOOR_INDEPENDENT
