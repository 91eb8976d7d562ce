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
    "(server share + GPUs x tokens x per-token Wh)."
)
ECOLOGITS_COEFFS = (
    ("a", "1.1665e-6", "Wh per output token per billion active parameters"),
    ("b", "-0.0112", "per unit of batch size"),
    ("c", "4.053e-5", "Wh per output token"),
    ("batch", "64", "requests per batch"),
)


def ecologits_rows(shared: Path) -> list[dict[str, str]]:
    """The EcoLogits per-token formula coefficients, as written in methodology.md."""
    checks = ("a=1.1665e-6, b=-0.0112, c=4.053e-5", "batch B=64 by default")
    _check_methodology(_methodology(shared), checks, "EcoLogits coefficients")
    return [
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
