"""The core's side of the pool: one template per category of the default model, plain ``generate``
orders served from it, and refills run as the worker's idle work once requests have gone quiet."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from ddbridge.daemon.config import PoolConfig
from ddbridge.daemon.engine import Engine, Work
from ddbridge.daemon.jobs import JobQueue
from ddbridge.daemon.orders import Order
from ddbridge.daemon.pool import Candidate, Pool
from ddbridge.daemon.pool_check import PoolCheck
from ddbridge.protocol.errors import Cancelled
from ddbridge.sound import audio as audio_ops

POOL_QUIET_S = 0.25  # the pool refills only after this long without job requests


def pool_templates(engine: Engine, categories: list[str]) -> list[Work]:
    """One ``generate`` template per category (``categories``, else the default model's, else none)."""
    name = engine.default_model
    bundle = engine.bundle(name)
    steps, sampler = engine.defaults(name)
    names = categories or list(bundle.categories) or [None]
    # Names that resolve alike ("hat" and "hat_closed"; any name on a model without categories) share one pool.
    resolved = {(c.category, c.loop): c for c in map(bundle.resolve_category, names)}
    return [
        Work(
            "generate",
            name,
            (),
            steps,
            sampler,
            c.category,
            bundle.guidance_for(c, None),
            c.loop,
            bundle.sample_size,
        )
        for c in resolved.values()
    ]


class PoolKeeper:
    """Owns the ``Pool``: takes from it for orders and fills it when the ``queue`` has been idle a while."""

    def __init__(self, engine: Engine, config: PoolConfig, queue: JobQueue, sample_rate: int) -> None:
        self.engine, self.queue = engine, queue
        check = PoolCheck.load() if config.check else None
        self.pool = Pool(pool_templates(engine, config.categories), config.size, check)
        self._format = (sample_rate, "peak")  # the last format served
        self._last_job_request = 0.0

    def note_job_request(self) -> None:
        """A job request arrived: fills hold off for ``POOL_QUIET_S``."""
        self._last_job_request = time.monotonic()

    def take(self, order: Order) -> list[Candidate] | None:
        """Pool candidates for a plain ``generate`` the pool holds enough of, else None."""
        r = order.request
        if r["op"] != "generate" or "seed" in r or not r.get("pool", True):
            return None
        return self.pool.take(order.work, len(order.work.seeds))

    def serve(self, order: Order, candidates: list[Candidate]) -> list[np.ndarray | None]:
        """Each candidate's version finished in the order's format (None: finish it now); later fills
        finish their sounds in this format ahead of time."""
        fmt = (order.sample_rate, order.normalize)
        self._format = fmt
        return [None if order.samples else c.finished.get(fmt) for c in candidates]

    def idle_work(self) -> Callable[[], None] | None:
        """The next fill for the worker to run while idle, or None (requests are recent, or the pool is full)."""
        if self._recently_busy():
            return None
        work = self.pool.next_fill()
        if work is None:
            return None

        def fill() -> None:
            def yield_to_requests(_fraction: float) -> None:
                if self.queue.has_waiting() or self.queue.closed or self._recently_busy():
                    raise Cancelled("pool fill paused for a request")

            try:
                audio = self.engine.run(work, yield_to_requests)
            except Cancelled:
                return
            rate, normalize = fmt = self._format
            bundle = self.engine.bundle(work.model)
            finished = [
                {fmt: audio_ops.finish(item, bundle.sample_rate, rate, normalize=normalize, loop=work.loop)}
                for item in audio
            ]
            self.pool.add(work, audio, bundle.sample_rate, finished)

        return fill

    def _recently_busy(self) -> bool:
        return time.monotonic() - self._last_job_request < POOL_QUIET_S
