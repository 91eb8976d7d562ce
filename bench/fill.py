"""Build (or reuse) a large synthetic inventory for the benchmarks.

``python bench/fill.py [--deployments N] [--usage-rows N] [--seed S] [--force]``

The inventory is made with ``Inventory.create`` and then filled directly with
``executemany`` inside one transaction: this is synthetic benchmark data, so nothing is
written to the change log. Values are realistic (ISO dates in 2025-2026, requests,
tokens, device-hours, energy, some blanks). The file is cached in ``bench/out/`` (ignored
by git) under a name made of the parameters, and reused while it exists.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from core import migrations, schema  # noqa: E402
from core.inventory import Inventory  # noqa: E402

OUT_DIR = Path(__file__).resolve().parent / "out"
#: bump when the generated data changes, so that old cached files are not reused
GENERATOR_VERSION = 1
N_MODELS = 500
CHUNK = 100_000

FAMILIES = (
    "llama", "mistral", "qwen", "gemma", "phi", "bert", "roberta", "whisper", "sdxl",
    "clip", "t5", "falcon", "yolo", "resnet", "e5", "bge", "deberta", "vit", "mixtral",
    "codegen",
)  # fmt: skip
FAMILY_TASKS = {
    "llama": "chat", "mistral": "text-generation", "qwen": "chat", "gemma": "chat",
    "phi": "text-generation", "bert": "classification", "roberta": "classification",
    "whisper": "speech", "sdxl": "image-generation", "clip": "image-classification",
    "t5": "summarisation", "falcon": "text-generation", "yolo": "object-detection",
    "resnet": "image-classification", "e5": "embedding", "bge": "embedding",
    "deberta": "question-answering", "vit": "image-classification", "mixtral": "chat",
    "codegen": "code",
}  # fmt: skip
SIZES = ("0.1b", "0.3b", "1b", "3b", "7b", "8b", "13b", "34b", "70b", "180b")
PROVIDERS = ("in-house", "Meta", "Mistral AI", "Alibaba", "Google", "Microsoft", "OpenAI")
TEAMS = ("search", "support", "platform", "research", "marketing", "risk", "legal", "hr")
PURPOSES = (
    "chat", "search", "summarise", "support", "code-assist", "classify", "embed",
    "translate", "moderation", "batch",
)  # fmt: skip
ENVS = ("prod", "staging", "dev")
REGIONS = ("eu", "us", "asia", "uk", "nordics")

#: (name, kind, provider, region code, country, grid region, PUE, WUE)
OWN_SITES = (
    ("Bench DC Paris", "own", "in-house", None, "FR", "FR", 1.35, 0.4),
    ("Bench DC Frankfurt", "colocation", "Equinix", None, "DE", "DE", 1.4, 0.3),
    ("Bench cloud europe-west1", "cloud", "Google Cloud", "europe-west1", "BE", "BE", 1.1, 0.2),
    ("Bench cloud us-east-1", "cloud", "AWS", "us-east-1", "US", "US-VA", 1.15, 0.25),
    ("Bench cloud eastus", "cloud", "Azure", "eastus", "US", "US-VA", 1.18, 0.5),
    ("Bench API provider", "api", "OpenAI", None, "US", "US", None, None),
    ("Bench DC Stockholm", "own", "in-house", None, "SE", "SE3", 1.2, 0.1),
)
#: (name, kind, vendor, TDP W, embodied kgCO2e, lifetime years)
OWN_HARDWARE = (
    ("Bench H100 SXM", "accelerator", "NVIDIA", 700.0, 2500.0, 5.0),
    ("Bench A100 80GB", "accelerator", "NVIDIA", 400.0, 2000.0, 5.0),
    ("Bench L4", "accelerator", "NVIDIA", 72.0, 300.0, 5.0),
    ("Bench T4", "accelerator", "NVIDIA", 70.0, 250.0, 5.0),
    ("Bench MI300X", "accelerator", "AMD", 750.0, 2600.0, 5.0),
    ("Bench 2-socket CPU server", "server", "Dell", 800.0, 1500.0, 6.0),
)

DAY0 = dt.date(2025, 1, 1)
N_DAYS = (dt.date(2026, 12, 31) - DAY0).days + 1
DATES = np.array([(DAY0 + dt.timedelta(days=i)).isoformat() for i in range(N_DAYS)])


def schema_fingerprint() -> str:
    """Short hash of the tables' description, so a schema change makes a new file."""
    text = repr((migrations.LATEST_VERSION, [t.fields for t in schema.TABLES.values()]))
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def cached_path(deployments: int, usage_rows: int, seed: int) -> Path:
    name = (
        f"inventory-g{GENERATOR_VERSION}-{schema_fingerprint()}-d{deployments}-u{usage_rows}"
        f"-s{seed}.aicl"
    )
    return OUT_DIR / name


def _columns(table: str) -> tuple[str, ...]:
    """Stored column names of ``table`` (from the schema description)."""
    return schema.table(table).field_names


def _insert(inv: Inventory, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    marks = ", ".join("?" * len(columns))
    inv.conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def _nullable(values: np.ndarray, blank: np.ndarray) -> list:
    """``values`` as a Python list with ``None`` where ``blank``."""
    out = values.tolist()
    for i in np.flatnonzero(blank).tolist():
        out[i] = None
    return out


def _fill_models(inv: Inventory, rng: np.random.Generator) -> list[int]:
    cols = _columns("models")
    rows, seen = [], set()
    while len(rows) < N_MODELS:
        family = FAMILIES[rng.integers(len(FAMILIES))]
        size = SIZES[rng.integers(len(SIZES))]
        name = f"{family}-{size}"
        version = f"v{rng.integers(1, 30)}"
        if (name, version) in seen:
            continue
        seen.add((name, version))
        total = float(size.removesuffix("b"))
        active = total if rng.random() < 0.8 else round(total / 4, 2)
        values = {
            "name": name,
            "version": version,
            "owner": TEAMS[rng.integers(len(TEAMS))],
            "task": FAMILY_TASKS[family],
            "params_total_b": total,
            "params_active_b": active,
            "provider": PROVIDERS[rng.integers(len(PROVIDERS))],
            "tags": "benchmark,synthetic",
            "notes": None,
        }
        rows.append(tuple(values.get(c) for c in cols))
    _insert(inv, "models", cols, rows)
    return [r[0] for r in inv.conn.execute("SELECT id FROM models ORDER BY id")]


def _fill_sites_and_hardware(inv: Inventory) -> tuple[list[int], list[int]]:
    cols = _columns("sites")
    rows = []
    for name, kind, provider, region, country, grid, pue, wue in OWN_SITES:
        values = {
            "name": name,
            "kind": kind,
            "provider": provider,
            "region_code": region,
            "country": country,
            "grid_region": grid,
            "pue": pue,
            "wue": wue,
            "source": "synthetic benchmark data",
        }
        rows.append(tuple(values.get(c) for c in cols))
    _insert(inv, "sites", cols, rows)
    cols = _columns("hardware")
    rows = []
    for name, kind, vendor, tdp, embodied, lifetime in OWN_HARDWARE:
        values = {
            "name": name,
            "kind": kind,
            "vendor": vendor,
            "tdp_w": tdp,
            "embodied_kgco2e": embodied,
            "lifetime_years": lifetime,
            "source": "synthetic benchmark data",
        }
        rows.append(tuple(values.get(c) for c in cols))
    _insert(inv, "hardware", cols, rows)
    sites = [r[0] for r in inv.conn.execute("SELECT id FROM sites ORDER BY id")]
    hardware = [r[0] for r in inv.conn.execute("SELECT id FROM hardware ORDER BY id")]
    return sites, hardware


def _fill_deployments(
    inv: Inventory,
    rng: np.random.Generator,
    n: int,
    model_ids: list[int],
    site_ids: list[int],
    hardware_ids: list[int],
) -> np.ndarray:
    """Insert ``n`` deployments; return their start day numbers (days since 2025-01-01)."""
    cols = _columns("deployments")
    model_names = dict(inv.conn.execute("SELECT id, name FROM models"))
    models = rng.choice(np.array(model_ids), n)
    kinds = rng.choice(np.array(["self-hosted", "cloud", "api"]), n, p=[0.35, 0.5, 0.15])
    sites = rng.choice(np.array(site_ids), n)
    hardware = rng.choice(np.array(hardware_ids), n)
    devices = rng.choice(
        np.array([1, 2, 4, 8, 16, 32, 64]), n, p=[0.3, 0.2, 0.2, 0.15, 0.1, 0.03, 0.02]
    )
    start = rng.integers(0, N_DAYS - 184, n)
    end = np.minimum(start + rng.integers(30, 540, n), N_DAYS - 1)
    open_ended = rng.random(n) < 0.7
    purposes = rng.integers(len(PURPOSES), size=n)
    envs = rng.choice(len(ENVS), n, p=[0.6, 0.25, 0.15])
    regions = rng.integers(len(REGIONS), size=n)
    is_api = kinds == "api"
    rows = []
    for i in range(n):
        family = model_names[int(models[i])].split("-")[0]
        name = f"{family}-{PURPOSES[purposes[i]]}-{REGIONS[regions[i]]}-{ENVS[envs[i]]}-{i + 1:05d}"
        values = {
            "name": name,
            "model_id": int(models[i]),
            "kind": str(kinds[i]),
            "site_id": int(sites[i]),
            "hardware_id": None if is_api[i] else int(hardware[i]),
            "device_count": None if is_api[i] else int(devices[i]),
            "start_date": str(DATES[start[i]]),
            "end_date": None if open_ended[i] else str(DATES[end[i]]),
            "notes": None,
        }
        rows.append(tuple(values.get(c) for c in cols))
    _insert(inv, "deployments", cols, rows)
    return start


def _fill_usage(
    inv: Inventory, rng: np.random.Generator, n: int, deployment_ids: np.ndarray, starts: np.ndarray
) -> None:
    cols = _columns("usage")
    # Busy deployments log more usage: a skewed share per deployment.
    weights = rng.lognormal(0.0, 1.0, len(deployment_ids))
    weights /= weights.sum()
    for offset in range(0, n, CHUNK):
        m = min(CHUNK, n - offset)
        which = rng.choice(len(deployment_ids), m, p=weights)
        length = rng.choice(np.array([1, 7, 30]), m, p=[0.5, 0.3, 0.2])
        first = starts[which]
        period_start = first + (rng.random(m) * (N_DAYS - 30 - first)).astype(np.int64)
        period_end = period_start + length - 1
        requests = np.round(rng.lognormal(7.0, 1.6, m) * length).astype(np.int64)
        input_tokens = (requests * rng.lognormal(6.0, 0.7, m)).astype(np.int64)
        output_tokens = (requests * rng.lognormal(5.0, 0.7, m)).astype(np.int64)
        device_hours = np.round(length * 24 * rng.uniform(0.05, 1.0, m) * rng.integers(1, 9, m), 2)
        energy = np.round(device_hours * rng.uniform(0.15, 0.7, m), 3)
        no_energy = rng.random(m) < 0.2
        boundary = rng.choice(np.array(["device", "it", "facility"]), m, p=[0.6, 0.25, 0.15])
        values = {
            "deployment_id": deployment_ids[which].tolist(),
            "period_start": DATES[period_start].tolist(),
            "period_end": DATES[period_end].tolist(),
            "requests": _nullable(requests, rng.random(m) < 0.02),
            "input_tokens": _nullable(input_tokens, rng.random(m) < 0.1),
            "output_tokens": _nullable(output_tokens, rng.random(m) < 0.1),
            "device_hours": _nullable(device_hours, rng.random(m) < 0.05),
            "energy_kwh": _nullable(energy, no_energy),
            "energy_boundary": _nullable(boundary, no_energy),
        }
        blank = [None] * m  # fields this generator does not know (notes, newer fields)
        columns = [values.get(c, blank) for c in cols]
        _insert(inv, "usage", cols, list(zip(*columns, strict=True)))


def build(path: Path, deployments: int, usage_rows: int, seed: int) -> None:
    """Create the inventory at ``path`` (which must not exist) and fill it."""
    rng = np.random.default_rng(seed)
    inv = Inventory.create(path)
    try:
        inv.conn.execute("PRAGMA synchronous = OFF")  # synthetic data: no need to fsync
        with inv.transaction():
            model_ids = _fill_models(inv, rng)
            site_ids, hardware_ids = _fill_sites_and_hardware(inv)
            starts = _fill_deployments(inv, rng, deployments, model_ids, site_ids, hardware_ids)
            deployment_ids = np.array(
                [r[0] for r in inv.conn.execute("SELECT id FROM deployments ORDER BY id")]
            )
            _fill_usage(inv, rng, usage_rows, deployment_ids, starts)
    finally:
        inv.close()


def fill_large_inventory(
    path: str | os.PathLike[str] | None = None,
    deployments: int = 50_000,
    usage_rows: int = 1_000_000,
    seed: int = 0,
    *,
    force: bool = False,
    quiet: bool = False,
) -> Path:
    """The path of an inventory with ``deployments`` deployments and ``usage_rows`` usage rows.

    Without ``path`` the file lives in ``bench/out/`` under a name made of the parameters
    and is reused if it exists (unless ``force``). With ``path`` it is built there (the
    file must not exist yet), or copied from the cached file if that exists.
    """
    cached = cached_path(deployments, usage_rows, seed)
    target = Path(path) if path is not None else cached
    if cached.exists() and not force:
        if target != cached:
            import shutil

            shutil.copyfile(cached, target)
        if not quiet:
            size = cached.stat().st_size / 1e6
            print(f"Reusing {cached.relative_to(ROOT)} ({size:,.0f} MB)")
        return target
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_name(cached.name + f".building-{os.getpid()}")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    t0 = time.perf_counter()
    try:
        build(tmp, deployments, usage_rows, seed)
        os.replace(tmp, cached)
    finally:
        for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            p.unlink(missing_ok=True)
    elapsed = time.perf_counter() - t0
    if not quiet:
        size = cached.stat().st_size / 1e6
        print(
            f"Built {cached.relative_to(ROOT)}: {deployments:,} deployments, "
            f"{usage_rows:,} usage rows, {size:,.0f} MB in {elapsed:.1f} s"
        )
    if target != cached:
        import shutil

        shutil.copyfile(cached, target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployments", type=int, default=50_000)
    parser.add_argument("--usage-rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    args = parser.parse_args()
    path = fill_large_inventory(
        deployments=args.deployments, usage_rows=args.usage_rows, seed=args.seed, force=args.force
    )
    import sqlite3

    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)  # leave it as is
    try:
        counts = ", ".join(
            f"{conn.execute(f'SELECT count(*) FROM {t}').fetchone()[0]:,} {t}"
            for t in schema.TABLES
        )
    finally:
        conn.close()
    print(f"Contents: {counts}")


if __name__ == "__main__":
    main()
