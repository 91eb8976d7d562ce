"""Matching imported names to 50,000 deployment titles: counted with numpy against scanned.

``python bench/bench_matching.py [--reps 5] [--titles 50000] [--texts 2000] [--sample 60]``

Builds ``--titles`` deployment titles like "dep-00001" (all sharing the word "dep") plus
3,000 varied names ("Support bot EU 12", "chat us-east v2 7"...), prepares them once with
``prepare_titles`` and matches ``--texts`` distinct texts as an import of a usage file
would: exact titles in other case, "dep 42"-like near misses (one shared word: every
"dep-" title ties), varied names and texts sharing no word. Then measures, in ms:

* **counted**: ``match_title`` with the prepared index (numpy counts the shared words),
  every text, ``--reps`` times: the median over the repetitions of the whole run, and
  the median time per text;
* **word index + loop**: the same index scoring every title sharing a word in a Python
  loop (the code before the counting), on ``--sample`` texts spread over the list;
* **full scan**: ``match_title`` with the plain list of prepared titles, scoring every
  title, on the same sample.

The loops take tens of ms a text, so they run on the sample only; their time for all
texts is the sample's mean times the number of texts. The results of the counted
matching must equal both loops' on the sample (PASS/FAIL); the script exits with 1
otherwise.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from core.importing import matching  # noqa: E402

_KINDS = ["chat", "Support bot", "search", "translate", "summarise v2", "RAG assistant"]
_REGIONS = ["EU", "us", "asia", "eu-west", "us-east-1", "global"]


def titles(n: int) -> list[tuple[int, str]]:
    options = [(i, f"dep-{i:05d}") for i in range(1, n + 1)]
    for k in range(3_000):
        title = f"{_KINDS[k % 6]} {_REGIONS[k // 6 % 6]} {k // 36}"
        options.append((1_000_000 + k, title if k % 3 else title.upper()))
    return options


def texts(n: int, deployments: int) -> list[str]:
    """``n`` distinct texts: a fifth each exact titles, near misses, varied names,
    varied names with a deployment's word, and words of no title."""
    fifth = n // 5
    step = max(1, deployments // fifth)
    out = [f"DEP-{i:05d}" for i in range(1, deployments + 1, step)][:fifth]
    out += [f"dep {i}" for i in range(1, fifth + 1)]
    out += [f"{_KINDS[k % 6].lower()} {_REGIONS[k % 5]} {k // 30}" for k in range(fifth)]
    out += [f"{_KINDS[k % 6]} dep {k}" for k in range(fifth)]
    out += [f"unknown-{k}" for k in range(n - len(out))]
    assert len(set(out)) == n, "texts are not distinct"
    return out


def _timed(fn, items) -> tuple[list, list[float]]:
    results, times = [], []
    for item in items:
        t0 = time.perf_counter()
        results.append(fn(item))
        times.append((time.perf_counter() - t0) * 1000)
    return results, times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--titles", type=int, default=50_000)
    parser.add_argument("--texts", type=int, default=2_000)
    parser.add_argument("--sample", type=int, default=60)
    args = parser.parse_args()
    started = time.perf_counter()

    options = titles(args.titles)
    queries = texts(args.texts, args.titles)
    t0 = time.perf_counter()
    index = matching.prepare_titles(options)
    prepare_ms = (time.perf_counter() - t0) * 1000

    totals, per_text = [], []
    counted: list = []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        counted, times = _timed(lambda q: matching.match_title(q, options, index), queries)
        totals.append((time.perf_counter() - t0) * 1000)
        per_text.extend(times)

    step = max(1, len(queries) // args.sample)
    sample = list(range(0, len(queries), step))[: args.sample]
    looped = matching.prepare_titles(options)
    looped.scan_below = sys.maxsize  # never counted: the loop over the shared titles
    plain = list(index)
    loop_res, loop_times = _timed(
        lambda k: matching.match_title(queries[k], options, looped), sample
    )
    scan_res, scan_times = _timed(
        lambda k: matching.match_title(queries[k], options, plain), sample
    )
    same = all(counted[k] == a == b for k, a, b in zip(sample, loop_res, scan_res, strict=True))

    n = len(queries)
    print(f"{len(options):,} titles, {n:,} distinct texts, sample of {len(sample)} for the loops")
    print(f"prepare_titles: {prepare_ms:.0f} ms (once)")
    print(f"{'':22}{'median per text':>17}{f'all {n:,} texts':>18}")
    print(
        f"{'counted (numpy)':22}{statistics.median(per_text):14.3f} ms"
        f"{statistics.median(totals):15.0f} ms   (median of {args.reps} runs)"
    )
    for name, times in (("word index + loop", loop_times), ("full scan", scan_times)):
        print(
            f"{name:22}{statistics.median(times):14.3f} ms"
            f"{statistics.fmean(times) * n:15.0f} ms   (sample mean x {n:,})"
        )
    sample_counted = [per_text[k] for k in sample]  # the first run's times of the sample
    ratio = statistics.median(scan_times) / statistics.median(sample_counted)
    print(f"full scan / counted, median per text of the sample: {ratio:,.0f}x")
    print(f"results equal to the full scan on the sample: {'PASS' if same else 'FAIL'}")
    print(f"\nbenchmark took {time.perf_counter() - started:.0f} s")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
