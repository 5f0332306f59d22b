"""What the pool's check costs and rejects: the shipped judge's verdicts on a model's raw candidates.

Run: ``.venv/bin/python bench/pool_check.py [--model default] [--per-category 16] [--threads 2]``.
Generates candidates one at a time as the pool does (default length, sampler, steps and guidance),
times the generation and the verdict of each, and prints per category how many the judge
rejects and why (off-category or a loud tail).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from ddbridge.daemon.pool_check import PoolCheck
from ddbridge.diffusion import tasks
from ddbridge.model.checkpoints import load_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--per-category", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    bundle = load_model(args.model)
    check = PoolCheck.load()
    categories = [c for c in bundle.categories if check.knows(c)]
    gen_times, judge_times, total, rejected = [], [], 0, 0
    print(f"model {bundle.name}: {bundle.sample_size / bundle.sample_rate:.3f} s at {bundle.sample_rate} Hz")
    print(f"{'category':<11} {'rejected':>8} {'off-cat':>7} {'tail':>5}  top categories of the rejected")
    for category in categories:
        verdicts = []
        for seed in range(args.per_category):
            start = time.perf_counter()
            audio = tasks.generate(bundle, 1, seeds=[seed], category=category)[0].cpu().numpy()
            mid = time.perf_counter()
            verdicts.append(check.verdict(audio, bundle.sample_rate, category))
            gen_times.append(mid - start)
            judge_times.append(time.perf_counter() - mid)
        bad = [v for v in verdicts if not v.accepted]
        off = sum(v.top != category for v in bad)
        tops = ", ".join(sorted({v.top for v in bad if v.top != category}))
        print(f"{category:<11} {len(bad):>3} / {len(verdicts):<3} {off:>7} {len(bad) - off:>5}  {tops}")
        total, rejected = total + len(verdicts), rejected + len(bad)
    print(f"rejection rate: {100 * rejected / total:.1f} % of {total} candidates")
    gen, judge = statistics.median(gen_times), statistics.median(judge_times)
    print(f"per candidate, median: generation {gen * 1000:.0f} ms, verdict {judge * 1000:.1f} ms", end=" ")
    print(f"({100 * judge / gen:.1f} % of generating it)")


if __name__ == "__main__":
    main()
