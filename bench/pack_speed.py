"""Sounds per second building one pack here (one process) and on a local Ray cluster with 2 workers.

    python bench/pack_speed.py [--model default] [--count 24] [--steps 10]

Prints both rates, their ratio and the measured cost of one batch, from which the scaling to N
GPU workers is estimated (the driver's share per sound bounds it).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from ddbridge.packs.builder import PackBuilder, local_backend
from ddbridge.packs.ray_backend import ray_backend
from ddbridge.packs.spec import parse_spec
from ddbridge.packs.worker import PackWorker


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--model", default="default")
    p.add_argument("--count", type=int, default=24)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--batch", type=int, default=4)
    args = p.parse_args()
    half = args.count // 2
    spec = parse_spec(
        {
            "name": "Bench",
            "model": args.model,
            "steps": args.steps,
            "batch": args.batch,
            "check_category": True,
            "min_distance": 0.0,
            "sounds": [{"category": "kick", "count": half}, {"category": "snare", "count": args.count - half}],
        }
    )
    worker = PackWorker(spec, "cpu", 1)
    batch = spec.batches()[0]
    worker.render(batch)
    costs = []
    for _ in range(3):
        t = time.perf_counter()
        worker.render(batch)
        costs.append(time.perf_counter() - t)
    per_batch = statistics.median(costs)
    rates = {}
    for label, make in (
        ("local", lambda: local_backend(spec, "cpu", 1)),
        ("ray x2", lambda: ray_backend(spec, "local", 2)),
    ):
        with tempfile.TemporaryDirectory() as out:
            t = time.perf_counter()
            summary = PackBuilder(spec, Path(out)).build(make(), progress=False)
            rates[label] = len(spec.items) / (time.perf_counter() - t)
        print(f"{label:7} {rates[label]:.3f} sounds/s (kept {summary['kept']}, off-category {summary['off_category']})")
    print(f"ratio ray x2 / local: {rates['ray x2'] / rates['local']:.2f}")
    print(
        f"one batch of {len(batch)} on one worker: {per_batch:.3f} s ({len(batch) / per_batch:.3f} sounds/s per worker)"
    )


if __name__ == "__main__":
    main()
