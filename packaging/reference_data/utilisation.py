"""Accelerator utilisation (fraction of TDP) and host overhead, derived from published runs."""

from __future__ import annotations

import statistics
from pathlib import Path

from .common import BuildError, _cases, _json
from .parameters import Param
from .sources import CITED, SECONDARY

#: (label, measured W, rated W) behind ``utilisation_training``.
UTILISATION_EVIDENCE = (
    ("TPU v2 (Patterson)", 221, 280),
    ("TPU v3 (Patterson)", 283, 450),
    ("P100 (Patterson)", 271, 300),
    ("V100 (Patterson)", 325, 300),
    ("H100 SXM (ML.ENERGY, low)", 610, 700),
    ("H100 SXM (ML.ENERGY, high)", 690, 700),
)
UTILISATION_CHECKS = (
    "TPU v2 280 (measured average 221) [V]",
    "TPU v3 450 (measured 283) [V]",
    "Patterson Table 3: P100 271 W",
    "V100 325 W system power per chip",
    "ML.ENERGY saw 610-690 W on a saturated H100",
    "V100 SXM2 300 [V]",
    "H100 SXM 700 [V]",
)


#: Strubell et al. 2019 Table 3 runs (whole-system power for all GPUs) and their GPUs' TDP
STRUBELL_RUNS = (
    ("strubell2019-transformer-base", 300),  # P100
    ("strubell2019-transformer-big", 300),  # P100
    ("strubell2019-elmo", 300),  # P100 (table)
    ("strubell2019-bert-base-gpu", 300),  # V100 SXM2
)


def _utilisation_training(shared: Path) -> Param:
    """Accelerator-only draw as a fraction of TDP.

    The engine adds host overhead on top of accelerator power, so evidence measured as
    system power (Patterson: per chip, host share included; Strubell: whole machine) is
    first divided by (1 + central host overhead); ML.ENERGY measured the GPUs alone.
    """
    cases = _cases(shared)
    p100_tdp = cases["patterson2021-transformer-big-p100-us-average"]["inputs"]["chip_TDP_W"]
    if p100_tdp != 300:
        raise BuildError(f"cases.json gives a P100 TDP of {p100_tdp} W, not 300 W")
    host = _host_overhead(shared).central
    points = []
    for label, w, tdp in UTILISATION_EVIDENCE:
        system = "Patterson" in label
        points.append((label, w / (1 + host) / tdp if system else w / tdp))
    for case_id, tdp in STRUBELL_RUNS:
        inp = cases[case_id]["inputs"]
        per_gpu = inp["avg_total_power_W"] / inp["gpu_count"]
        points.append((f"{case_id} (Strubell)", per_gpu / (1 + host) / tdp))
    ratios = [r for _, r in points]
    listed = "; ".join(f"{label} {r:.2f}" for label, r in points)
    return Param(
        "utilisation_training",
        round(statistics.median(ratios), 2),
        round(min(ratios), 2),
        round(max(ratios), 2),
        "fraction of TDP",
        "accelerator average power during training = TDP x this (host overhead added apart)",
        "Patterson et al. 2021, arXiv:2104.10350 (Table 3); Strubell et al. 2019 (Table 3); "
        "ML.ENERGY (Chung et al. 2025) as stated in the methodology notes",
        "2019; 2021; 2025",
        CITED,
        f"Accelerator-only power / TDP. System-power evidence (Patterson per chip, Strubell "
        f"whole machine) divided by (1 + host overhead {host:.2f}) first, since the engine "
        f"adds the host apart. Points: {listed}. Central: median; low and high: the "
        "smallest and largest point (spread of published values). ML.ENERGY's 610-690 W was "
        "measured on a saturated H100 serving inference, not training.",
        UTILISATION_CHECKS,
    )


def _utilisation_inference(shared: Path) -> Param:
    ratios = [
        c["avg_power_watts"] / c["num_gpus"] / 700
        for task in ("lm-arena-chat", "gpqa")
        for c in _json(shared / "data" / "mlenergy_v3" / f"{task}.json")["configurations"]
        if c["gpu_model"] == "H100"
    ]
    return Param(
        "utilisation_inference",
        round(statistics.median(ratios), 2),
        round(min(ratios), 2),
        round(max(ratios), 2),
        "fraction of TDP",
        "accelerator average power while serving LLM requests = TDP x this",
        "ML.ENERGY leaderboard v3 (Chung et al. 2025), lm-arena-chat and gpqa",
        "2026",
        "Apache-2.0",
        "Per-GPU average power (avg_power_watts / num_gpus) over 700 W, for all "
        f"{len(ratios)} H100 configurations of the two LLM tasks (every model, GPU count and "
        "batch limit). Central: median; low/high: min/max (spread of measured values). "
        "H100 taken as the SXM part: measured draws up to 694 W exceed the PCIe and NVL "
        "TDPs. Benchmarks keep a full request queue, so idle periods of a real deployment "
        "are not included. B200 not used: its 1,000 W TDP is a secondary figure.",
        ("H100 SXM 700 [V]",),
    )


def _host_overhead(shared: Path) -> Param:
    cases = _cases(shared)
    gemini = cases["gemini-apps-median-text-prompt-2025"]["inputs"]["energy_breakdown_percent"]
    idle_kwh = cases["bloom-176b-training-total"]["inputs"]["idle_infrastructure_energy_kWh"]
    dynamic_kwh = cases["bloom-176b-training-dynamic"]["expected"]["dynamic_energy_kWh"]
    accel, host_pct = gemini["accelerators_TPU"], gemini["host_CPU_DRAM"]
    host = host_pct / accel
    host_idle = (host_pct + gemini["idle_machines"]) / accel
    bloom = idle_kwh / dynamic_kwh
    return Param(
        "host_overhead_ratio",
        round(host, 2),
        round(host, 2),
        round(max(host_idle, bloom), 2),
        "ratio to accelerator power",
        "server power beyond the accelerators (CPU, DRAM, ...) = accelerator power x this",
        "Google 2025, Gemini Apps median prompt energy breakdown; Luccioni et al. 2023 (BLOOM)",
        "2025; 2023",
        CITED,
        f"Central: Gemini host CPU/DRAM {host_pct}% / accelerators {accel}% = {host:.3f}. "
        f"High: the larger of Gemini (host + idle machines) / accelerators = {host_idle:.3f} "
        f"and BLOOM idle and infrastructure / dynamic energy = {idle_kwh:,} / {dynamic_kwh:,} "
        f"kWh = {bloom:.3f}. Low = central: no published value below it in the shared "
        "material (spread of published values). Strubell et al. 2019 give whole-system power "
        f"only, which cannot be split into host and GPUs. Both inputs: {SECONDARY}.",
    )
