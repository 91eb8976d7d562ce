"""Energy per inference from the reference figures: per request (Power Hungry Processing
by task, ML.ENERGY chat by size bucket) and per output token (EcoLogits: the GPUs holding
the model x one GPU's Wh per token), with their ranges."""

from __future__ import annotations

import math

import numpy as np

from core.assumptions import Assumptions

#: model task -> Power Hungry Processing task (kWh per 1,000 inferences)
_PHP_TASK = {
    "classification": "php:text-classification",
    "token-classification": "php:token-classification",
    "question-answering": "php:extractive-qa",
    "text-generation": "php:text-generation",
    "summarisation": "php:summarisation",
    "image-classification": "php:image-classification",
    "image-captioning": "php:image-captioning",
    "object-detection": "php:object-detection",
    "image-generation": "php:image-generation",
    "embedding": "php:masked-lm",
}
_CHAT_TASKS = ("chat", "code")
#: ML.ENERGY dense buckets (billions of parameters) for chat energy per request/token ranges
_MLE_BUCKETS = (
    (8, "dense-8b"),
    (13, "dense-12b-14b"),
    (30, "dense-27b-32b"),
    (70, "dense-70b"),
    (405, "dense-405b"),
)
#: model size assumed when a model's parameter count is unknown (closed API models)
UNKNOWN_PARAMS_B = 70.0


def token_wh(params_b: np.ndarray | float, a: Assumptions) -> np.ndarray:
    """EcoLogits energy per output token of one GPU (Wh) for ``params_b`` billion active
    parameters: a x exp(b x batch) x P_active + c."""
    c = {k: float(a.inference[f"ecologits:{k}"]["central"]) for k in ("a", "b", "c", "batch")}
    return c["a"] * math.exp(c["b"] * c["batch"]) * np.asarray(params_b, dtype=float) + c["c"]


#: EcoLogits' GPU count (methodology page; Q from its code): 1.2 x P_total x 16 bits / 8
#: GB over 80 GB per GPU, rounded up. Used when the reference table lacks the rows.
_GPU_COUNT_DEFAULTS = {"memory_overhead": 1.2, "quantization_bits": 16.0, "gpu_memory_gb": 80.0}


def model_memory_gb(params_total_b: np.ndarray | float, a: Assumptions) -> np.ndarray:
    """GPU memory (GB) to hold a model of ``params_total_b`` billion parameters for
    inference, as EcoLogits estimates it: overhead x P_total x bits per parameter / 8."""
    c = {
        k: float(a.inference[f"ecologits:{k}"]["central"]) if f"ecologits:{k}" in a.inference else v
        for k, v in _GPU_COUNT_DEFAULTS.items()
    }
    p = np.asarray(params_total_b, dtype=float)
    return c["memory_overhead"] * p * c["quantization_bits"] / 8.0


def token_gpus(params_total_b: np.ndarray | float, a: Assumptions) -> np.ndarray:
    """Number of GPUs that hold the model (EcoLogits): its memory (:func:`model_memory_gb`)
    over one GPU's memory (``ecologits:gpu_memory_gb``, 80 GB), rounded up; at least 1."""
    row = a.inference.get("ecologits:gpu_memory_gb")
    gpu_gb = float(row["central"]) if row else _GPU_COUNT_DEFAULTS["gpu_memory_gb"]
    need = model_memory_gb(params_total_b, a) / gpu_gb
    # a hair of tolerance: 1.2 x 33.33 x 2 is 80 GB, one GPU, whatever the rounding
    return np.maximum(np.ceil(need - 1e-9), 1.0)


def token_energy_wh(
    params_active_b: np.ndarray | float, params_total_b: np.ndarray | float, a: Assumptions
) -> np.ndarray:
    """GPU energy per output token of the whole model (Wh): the GPUs holding it
    (:func:`token_gpus`, from total parameters) x one GPU's energy per token
    (:func:`token_wh`, from active parameters). Server share (the engine's host overhead)
    and PUE come on top, as for every method."""
    return token_gpus(params_total_b, a) * token_wh(params_active_b, a)


def token_range(
    active_b: np.ndarray, total_b: np.ndarray, known: np.ndarray, a: Assumptions
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per model: GPU energy per output token (Wh, :func:`token_energy_wh`) and its range
    as ratios to it (low, high).

    The range is ML.ENERGY's measured spread for the nearest H100 size bucket (all GPUs
    of each configuration), as a ratio to its median, widened to take in the measured
    minimum and maximum themselves (the formula with its GPU count lies above the
    measured median for large models). A model of unknown size (``known`` False) is
    taken at :data:`UNKNOWN_PARAMS_B` with a range from the least energy measured for an
    8B model to the most measured for a 405B one (or the formula's own figures for those
    sizes, where further out).
    """
    wh = token_energy_wh(active_b, total_b, a)
    mle_j, mle_lo, mle_hi = mle_range(active_b, "token", a)
    lo = np.minimum(np.minimum(mle_lo, mle_j * mle_lo / 3600.0 / wh), 1.0)
    hi = np.maximum(np.maximum(mle_hi, mle_j * mle_hi / 3600.0 / wh), 1.0)
    if not np.all(known):
        ends = np.array([8.0, 405.0])
        e_wh = token_energy_wh(ends, ends, a)
        e_j, e_lo, e_hi = mle_range(ends, "token", a)
        ref = token_energy_wh(UNKNOWN_PARAMS_B, UNKNOWN_PARAMS_B, a)
        least = min(e_wh[0], e_j[0] * e_lo[0] / 3600.0) / ref
        most = max(e_wh[1], e_j[1] * e_hi[1] / 3600.0) / ref
        lo = np.where(known, lo, min(least, 1.0))
        hi = np.where(known, hi, max(most, 1.0))
    return wh, lo, hi


#: why input tokens do not count (a documented exclusion)
INPUT_TOKENS_NOTE = (
    "input tokens are not counted: the methodology notes give no input-token term (the "
    "EcoLogits formula is per output token)"
)


def _bucket(params_b: float) -> str:
    return min(_MLE_BUCKETS, key=lambda bk: abs(math.log(bk[0] / max(params_b, 0.1))))[1]


def mle_range(params_b: np.ndarray, metric: str, a: Assumptions) -> tuple[np.ndarray, ...]:
    """ML.ENERGY H100 chat figures per line by nearest dense size bucket: (central in J,
    low/central, high/central) for ``metric`` ``token`` (J/token) or ``request``.

    Looks up each distinct model size once, then maps back (a million usage rows have a
    handful of sizes)."""
    sizes, inverse = np.unique(np.asarray(params_b, dtype=float), return_inverse=True)
    table = np.empty((3, len(sizes)))
    for i, p in enumerate(sizes.tolist()):
        row = a.inference[f"mlenergy:chat:h100:{_bucket(p)}:{metric}"]
        c = float(row["central"])
        table[:, i] = (c, float(row["low"]) / c, float(row["high"]) / c)
    out = table[:, inverse.ravel()]
    return out[0], out[1], out[2]
