"""The core's side of the pool: one template per category of the default model, plain ``generate``
orders served from it, and refills run as the worker's idle work once requests have gone quiet.

Loops at a tempo are pooled at the tempo last asked: a plain loop request of the default model (no
seed, its default steps, sampler and guidance, ``pool`` not false) at another tempo or genre than the
pool's is computed, and its tempo and genre become the pool's loop template, filled like the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ddbridge.daemon.config import PoolConfig
from ddbridge.daemon.engine import Engine, Work
from ddbridge.daemon.jobs import JobQueue
from ddbridge.daemon.orders import Order
from ddbridge.daemon.pool import Candidate, Pool
from ddbridge.daemon.pool_check import PoolCheck
from ddbridge.diffusion.loop_task import loop_network, tempo_for
from ddbridge.loops.genres import loop_samples
from ddbridge.protocol.errors import Cancelled
from ddbridge.sound import audio as audio_ops

POOL_QUIET_S = 0.25  # the pool refills only after this long without job requests


def pool_templates(engine: Engine, categories: list[str]) -> list[Work]:
    """One ``generate`` template per category (``categories``, else the default model's, else none). ``loop`` on a
    model with a loop network is left to the loop template (:func:`first_loop`)."""
    name = engine.default_model
    bundle = engine.bundle(name)
    steps, sampler = engine.defaults(name)
    names = categories or list(bundle.categories) or [None]
    # Names that resolve alike ("hat" and "hat_closed"; any name on a model without categories) share one pool.
    resolved = {(c.category, c.loop): c for c in map(bundle.resolve_category, names)}
    if loop_network(bundle) is not None:
        resolved = {key: c for key, c in resolved.items() if not c.loop}
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


def loop_template(engine: Engine, tempo: tuple[float, int], genre: str | None = None) -> Work:
    """A plain loop request's work on the default model: ``tempo`` (bpm, bars) in ``genre`` (None: any) with the
    defaults of the network that makes it (its loop network, else the model itself at the loop's length)."""
    name = engine.default_model
    bundle = engine.bundle(name)
    loops = loop_network(bundle)
    maker = loops or bundle
    steps, sampler = engine.defaults(name, maker)
    if loops is not None:
        choice = loops.resolve_category(genre)
        return Work(
            "generate", name, (), steps, sampler, choice.category, loops.guidance_for(choice, None), True,
            tempo=tempo, genre=genre, by_loop_network=True,
        )  # fmt: skip
    choice = bundle.resolve_category("loop")
    length = max(1, round(loop_samples(*tempo, bundle.sample_rate) / bundle.stride)) * bundle.stride
    guidance = bundle.guidance_for(choice, None)
    return Work("generate", name, (), steps, sampler, choice.category, guidance, True, length, tempo=tempo)


def first_loop(engine: Engine, categories: list[str]) -> Work | None:
    """The loop template to start with: one bar at 120 BPM, any genre, when ``categories`` name ``loop`` and the
    default model has a loop network; else None (the first plain loop request sets it)."""
    bundle = engine.bundle(engine.default_model)
    if loop_network(bundle) is None or not any(bundle.resolve_category(c).loop for c in categories):
        return None
    return loop_template(engine, tempo_for(None, None))


class PoolKeeper:
    """Owns the ``Pool``: takes from it for orders and fills it when the ``queue`` has been idle a while."""

    def __init__(self, engine: Engine, config: PoolConfig, queue: JobQueue, sample_rate: int) -> None:
        self.engine, self.queue = engine, queue
        check = PoolCheck.load() if config.check else None
        loop = first_loop(engine, config.categories)
        self.pool = Pool(pool_templates(engine, config.categories), config.size, check, loop)
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
        work = order.work
        if work.tempo is not None and work.model == self.engine.default_model:
            plain = loop_template(self.engine, work.tempo, work.genre)
            if replace(work, seeds=()) == plain:
                self.pool.set_loop(plain)  # the tempo last asked: served from now on (when it is new, computed)
        return self.pool.take(work, len(work.seeds))

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
            made_at = self.engine.output_rate(work)  # a loop network may have its own rate
            finished = [
                {fmt: audio_ops.finish(item, made_at, rate, normalize=normalize, loop=work.loop)} for item in audio
            ]
            self.pool.add(work, audio, made_at, finished)

        return fill

    def _recently_busy(self) -> bool:
        return time.monotonic() - self._last_job_request < POOL_QUIET_S
