"""Inference energy from the ML.ENERGY leaderboard: GPU J per token, request or image."""

from __future__ import annotations

import statistics
from pathlib import Path

from .common import _json
from .tables import _energy

MLENERGY = "ML.ENERGY leaderboard v3 (Chung et al. 2025)"
#: Size buckets: key part, label, architecture, active parameters (billions, inclusive).
MLENERGY_BUCKETS = (
    ("dense-8b", "dense ~8B", "Dense Transformer", 8, 8),
    ("dense-12b-14b", "dense 12-14B", "Dense Transformer", 12, 14),
    ("dense-27b-32b", "dense 27-32B", "Dense Transformer", 27, 32),
    ("dense-70b", "dense ~70B", "Dense Transformer", 70, 70),
    ("dense-405b", "dense 405B", "Dense Transformer", 405, 405),
    ("moe-3b-5b-active", "MoE, 3-5B active", "MoE", 3, 5),
    ("moe-17b-37b-active", "MoE, 17-37B active", "MoE", 17, 37),
)
#: file, key part, inventory task, description, metrics (metric, field, unit)
TOKEN = ("gpu_energy_per_output_token", "energy_per_token_joules", "J/token")
REQUEST = ("gpu_energy_per_request", "energy_per_request_joules", "J/request")
MLENERGY_TASKS = (
    ("lm-arena-chat", "chat", "chat", "LLM chat (LM Arena prompts)", (TOKEN, REQUEST)),
    ("gpqa", "reasoning", "text-generation", "GPQA Diamond by reasoning models", (TOKEN,)),
)
MLENERGY_METHOD = (
    "Measured GPU energy only (no host, no PUE), all GPUs of the configuration together. "
    "Aggregation: every configuration of the bucket's models on this GPU type (all GPU "
    "counts, batch limits and weight precisions); central = median, low = min, high = max."
)
GPU_NAMES = {"H100": "NVIDIA H100 SXM", "B200": "NVIDIA B200"}
GPU_NOTES = {
    "H100": " The dataset says 'H100'; taken as the SXM part, since measured draws reach "
    "694 W per GPU, above the PCIe (350 W) and NVL (400 W) TDPs.",
    "B200": "",
}


def _spread(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def _configs(shared: Path, task: str) -> list[dict]:
    return _json(shared / "data" / "mlenergy_v3" / f"{task}.json")["configurations"]


def _mlenergy(key: str, file: str, task: str, params: str, gpu: str, metric: tuple, chosen, notes):
    """One ML.ENERGY summary row: median, min and max of ``metric`` over ``chosen``."""
    name, field, unit = metric
    return _energy(
        _spread([c[field] for c in chosen]),
        key=key,
        task=task,
        model_params_b=params,
        gpu=GPU_NAMES[gpu],
        metric=name,
        unit=unit,
        source=f"{MLENERGY}, {file}.json",
        year=2026,
        licence="Apache-2.0",
        notes=f"{notes} {MLENERGY_METHOD}{GPU_NOTES[gpu]}",
    )


def _in_bucket(config: dict, gpu: str, arch: str, low: float, high: float) -> bool:
    active = config["activated_params_billions"]
    return config["gpu_model"] == gpu and config["architecture"] == arch and low <= active <= high


def mlenergy_rows(shared: Path) -> list[dict[str, str]]:
    """GPU energy per output token (and per chat request) by size bucket and GPU type."""
    rows = []
    for file, part, task, described, metrics in MLENERGY_TASKS:
        configs = _configs(shared, file)
        for bucket, label, arch, low, high in MLENERGY_BUCKETS:
            params = f"{low:g}" if low == high else f"{low:g}-{high:g}"
            for gpu in GPU_NAMES:
                chosen = [c for c in configs if _in_bucket(c, gpu, arch, low, high)]
                if not chosen:
                    continue
                names = ", ".join(sorted({c["model_id"].split("/")[1] for c in chosen}))
                notes = f"{described}; {label}: {names}; {len(chosen)} configurations."
                for metric in metrics:
                    key = f"mlenergy:{part}:{gpu.lower()}:{bucket}:{metric[0].split('_')[-1]}"
                    rows.append(_mlenergy(key, file, task, params, gpu, metric, chosen, notes))
    configs = _configs(shared, "text-to-image")
    image = ("gpu_energy_per_image", "energy_per_image_joules", "J/image")
    for gpu in GPU_NAMES:
        chosen = [c for c in configs if c["gpu_model"] == gpu]
        names = ", ".join(sorted({c["model_id"].split("/")[1] for c in chosen}))
        notes = (
            f"Text to image, 1024x1024, 20-50 denoising steps; models: {names}; "
            f"{len(chosen)} configurations."
        )
        key = f"mlenergy:text-to-image:{gpu.lower()}:image"
        task, params = "image-generation", "0.6-12"
        rows.append(_mlenergy(key, "text-to-image", task, params, gpu, image, chosen, notes))
    return rows
