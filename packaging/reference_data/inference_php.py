"""Inference energy from Power Hungry Processing (kWh per 1,000 inferences, by task)."""

from __future__ import annotations

from pathlib import Path

from .common import _cases, _check_methodology, _methodology
from .sources import CITED
from .tables import _energy

PHP = "Luccioni, Jernite, Strubell 2024, Power Hungry Processing (FAccT 2024), Table 2"
#: Power Hungry Processing task (as in cases.json) -> (key part, inventory task, wording
#: in methodology.md).
PHP_TASKS = {
    "text_classification": ("text-classification", "classification", "text classification"),
    "extractive_QA": ("extractive-qa", "question-answering", "extractive QA"),
    "masked_language_modeling": ("masked-lm", "other", "masked LM"),
    "token_classification": (
        "token-classification",
        "token-classification",
        "token classification",
    ),
    "image_classification": (
        "image-classification",
        "image-classification",
        "image classification",
    ),
    "object_detection": ("object-detection", "object-detection", "object detection"),
    "text_generation": ("text-generation", "text-generation", "text generation"),
    "summarization": ("summarisation", "summarisation", "summarisation"),
    "image_captioning": ("image-captioning", "image-captioning", "image captioning"),
    "image_generation": ("image-generation", "image-generation", "image generation"),
}
PHP_NOTE = (
    "Mean over the task's models and datasets, measured with CodeCarbon on one node of "
    "8x NVIDIA A100-SXM4-80GB (AWS us-west-2). Range: mean +- one standard deviation "
    "(Table 2, via the project's cases file); a documented choice, not a published range."
)


def php_rows(shared: Path) -> list[dict[str, str]]:
    """Power Hungry Processing task means (kWh per 1,000 inferences)."""
    methodology = _methodology(shared)
    expected = _cases(shared)["power-hungry-task-means"]["expected"]
    means, stds = expected["kWh_per_1000_inferences_mean"], expected["kWh_per_1000_inferences_std"]
    worst = expected["least_efficient_image_generation_model_kWh_per_1000"]
    rows = []
    for name, (key, task, wording) in PHP_TASKS.items():
        mean, std = means[name], stds[name]
        _check_methodology(methodology, (f"{wording} {mean:g}",), f"Power Hungry {name}")
        low = mean - std if mean > std else None
        notes = PHP_NOTE
        if low is None:
            # mean - SD would be negative: take the low as far below the mean, as a
            # ratio, as mean + SD is above it (the Monte Carlo draws in log space)
            low = mean * mean / (mean + std)
            median = expected["medians_kWh_per_1000"][name]
            notes += (
                f" The standard deviation ({std:g}) exceeds the mean, so mean - SD is no "
                f"low value; low = mean^2 / (mean + SD) = {low:.4g} kWh instead (a documented "
                "judgement: as far below the mean, as a ratio, as mean + SD is above it), "
                f"close to the median model's {median:g} kWh. The least efficient model "
                f"used {worst:g} kWh."
            )
        if name == "text_generation":
            notes += " Only 10 new tokens per input: far below chat-length replies."
        rows.append(
            _energy(
                (mean, low, mean + std),
                key=f"php:{key}",
                task=task,
                gpu="NVIDIA A100 SXM4 80GB (8-GPU node)",
                metric="energy_per_1000_inferences",
                unit="kWh/1000 inferences",
                source=PHP,
                year=2024,
                licence=CITED,
                notes=notes,
            )
        )
    return rows
