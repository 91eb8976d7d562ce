"""Inference energy from single published figures: EcoLogits' per-token formula, Gemini."""

from __future__ import annotations

from pathlib import Path

from .common import _cases, _check_methodology, _methodology
from .sources import CITED, FIXED, SECONDARY
from .tables import INFERENCE_COLUMNS, _energy, _row

ECOLOGITS_DOC = "EcoLogits methodology (GenAI Impact 2025), LLM inference"
ECOLOGITS_FORMULA = (
    "GPU Wh per output token = a x exp(b x B) x P_active + c, P_active in billions, batch "
    "size B (64 by default); fitted by EcoLogits on ML.ENERGY H100 data. Request Wh = PUE x "
    "(server share + GPUs x tokens x per-token Wh). The engine finds the GPUs as the "
    "ecologits:memory_overhead, :quantization_bits and :gpu_memory_gb rows say and takes "
    "its host overhead default as the server share."
)
ECOLOGITS_COEFFS = (
    ("a", "1.1665e-6", "Wh per output token per billion active parameters"),
    ("b", "-0.0112", "per unit of batch size"),
    ("c", "4.053e-5", "Wh per output token"),
    ("batch", "64", "requests per batch"),
)


#: How EcoLogits finds the number of GPUs that hold a model ("GPUs x tokens x per-token Wh"
#: in the methodology notes, which do not say how the count is found).
ECOLOGITS_GPUS = (
    ("memory_overhead", "1.2", "ratio of the model's memory to its weights"),
    ("quantization_bits", "16", "bits per parameter"),
    ("gpu_memory_gb", "80", "GB per GPU"),
)
ECOLOGITS_GPU_SOURCE = (
    "EcoLogits methodology (GenAI Impact 2025), LLM inference, 'Estimating the number of "
    "active GPUs'; EcoLogits code, ecologits/impacts/llm.py (MODEL_QUANTIZATION_BITS)"
)
ECOLOGITS_GPU_NOTE = (
    "Not in the methodology notes, which give 'GPUs x tokens x per-token Wh' without saying "
    "how the GPU count is found; read in EcoLogits' methodology page "
    "(genai-impact/ecologits, docs/methodology/llm_inference.md): M_model = 1.2 x P_total "
    "x Q / 8 (GB, P_total in billions of total parameters), GPUs = ceil(M_model / M_GPU), "
    "M_GPU = 80 GB for an NVIDIA H100 80GB. Q = 16 bits is the default of EcoLogits' code "
    "of the same coefficients (the page names Q without a value). That code also rounds "
    "the count up to a power of two; not adopted, since the methodology page rounds up to "
    "whole GPUs only. " + FIXED
)


def ecologits_rows(shared: Path) -> list[dict[str, str]]:
    """The EcoLogits per-token formula coefficients, as written in methodology.md, and the
    constants of its GPU count (not in methodology.md; see :data:`ECOLOGITS_GPU_NOTE`)."""
    checks = ("a=1.1665e-6, b=-0.0112, c=4.053e-5", "batch B=64 by default")
    checks += ("GPUs x tokens x per-token Wh",)
    _check_methodology(_methodology(shared), checks, "EcoLogits coefficients")
    gpus = [
        _row(
            INFERENCE_COLUMNS,
            key=f"ecologits:{name}",
            task="text-generation",
            gpu="NVIDIA H100 80GB",
            metric="ecologits_coeff",
            central=value,
            low=value,
            high=value,
            unit=unit,
            source=ECOLOGITS_GPU_SOURCE,
            year=2025,
            licence="CC BY-SA 4.0; MPL-2.0",
            notes=ECOLOGITS_GPU_NOTE,
        )
        for name, value, unit in ECOLOGITS_GPUS
    ]
    coefficients = [
        _row(
            INFERENCE_COLUMNS,
            key=f"ecologits:{name}",
            task="text-generation",
            gpu="NVIDIA H100",
            metric="ecologits_coeff",
            central=value,
            low=value,
            high=value,
            unit=unit,
            source=ECOLOGITS_DOC,
            year=2025,
            licence="CC BY-SA 4.0",
            notes=f"{ECOLOGITS_FORMULA} {FIXED}",
        )
        for name, value, unit in ECOLOGITS_COEFFS
    ]
    return coefficients + gpus


GEMINI_BOUNDARIES = (
    (
        *("median-text-prompt", "energy_Wh"),
        "Comprehensive boundary: active accelerators, host CPU/DRAM, idle provisioned "
        "machines and data-centre overhead (PUE).",
    ),
    (
        *("median-text-prompt-accelerators", "narrow_accelerator_only_energy_Wh"),
        "Narrow boundary: active accelerators only.",
    ),
)


def gemini_rows(shared: Path) -> list[dict[str, str]]:
    """Google's Gemini Apps median text prompt (2025), comprehensive and narrow boundary."""
    expected = _cases(shared)["gemini-apps-median-text-prompt-2025"]["expected"]
    note = (
        "Median Gemini Apps text prompt, May 2025; token counts not disclosed. "
        f"{SECONDARY} (press reports of Google's technical paper). Single figure."
    )
    return [
        _energy(
            (expected[field],) * 3,
            key=f"gemini-apps:{key}",
            task="chat",
            gpu="Google TPU",
            metric="energy_per_request",
            unit="Wh/request",
            source="Google 2025, Measuring the environmental impact of delivering AI at "
            "Google Scale",
            year=2025,
            licence=CITED,
            notes=f"{boundary} {note}",
        )
        for key, field, boundary in GEMINI_BOUNDARIES
    ]
