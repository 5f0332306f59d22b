"""Packs on a Ray cluster: one actor per worker (per GPU where there are GPUs) holding a warm model.

Batches go to the actors, at most two waiting per actor; results stream back to the driver, which
writes the files (``builder.PackBuilder``). An actor whose process dies is restarted by Ray and its
unfinished batches run again there (``max_restarts`` / ``max_task_retries``): the driver decides
each sound once, by its place in the plan, so nothing is lost or written twice.
"""

from __future__ import annotations

from collections.abc import Iterator

from ddbridge.packs.spec import Item, PackSpec
from ddbridge.packs.worker import PackWorker, Rendered

IN_FLIGHT = 2


class RayPool:
    """Actors on the cluster at ``address`` (``auto``: the running cluster; ``local``: start one here)."""

    def __init__(self, spec: PackSpec, address: str = "auto", workers: int = 0) -> None:
        import ray

        if not ray.is_initialized():
            ray.init(address=None if address == "local" else address, log_to_driver=False)
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        count = workers or gpus or max(1, int(resources.get("CPU", 1)))
        actor = ray.remote(num_cpus=1, num_gpus=1 if gpus else 0, max_restarts=-1, max_task_retries=-1)(PackWorker)
        device = "cuda" if gpus else "cpu"
        self.actors = [actor.remote(spec, device, 1) for _ in range(count)]

    def pids(self) -> list[int]:
        import ray

        return ray.get([a.pid.remote() for a in self.actors])

    def run(self, batches: list[tuple[Item, ...]]) -> Iterator[list[Rendered]]:
        """Yield each batch's results as soon as it finishes."""
        import ray

        queue = list(reversed(batches))
        owner: dict = {}
        load = {i: 0 for i in range(len(self.actors))}
        while queue or owner:
            for i in load:
                while queue and load[i] < IN_FLIGHT:
                    ref = self.actors[i].render.remote(queue.pop())
                    owner[ref], load[i] = i, load[i] + 1
            (done,), _ = ray.wait(list(owner), num_returns=1)
            load[owner.pop(done)] -= 1
            yield ray.get(done)

    def close(self) -> None:
        import ray

        for a in self.actors:
            ray.kill(a)


def ray_backend(spec: PackSpec, address: str = "auto", workers: int = 0):
    """A ``builder.Backend`` running the batches on Ray actors."""

    def run(batches: list[tuple[Item, ...]]) -> Iterator[list[Rendered]]:
        pool = RayPool(spec, address, workers)
        try:
            yield from pool.run(batches)
        finally:
            pool.close()

    return run
