"""Rendering a batch of a pack's plan: one warm model, finished (loudness-matched) sounds and the judge's verdict.

The same code runs in the local process and inside each Ray actor, so both give the same sounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ddbridge.packs.spec import Item, PackSpec
from ddbridge.sound import audio as audio_ops


@dataclass
class Rendered:
    """One finished sound ``audio`` ``[L, C]`` at the pack's rate; ``heard_as``: the judge's top category
    (None when the category was not checked); ``on_category``: whether it passes the check."""

    item: Item
    audio: np.ndarray
    on_category: bool
    heard_as: str | None


class PackWorker:
    """Holds a warm model (on ``device``) and renders batches of a pack's plan."""

    def __init__(self, spec: PackSpec, device: str = "auto", threads: int = 0) -> None:
        from ddbridge.daemon.engine import Engine

        self.spec = spec
        self.engine = Engine([spec.model], device=device, steps=spec.steps, sampler=spec.sampler, threads=threads)
        self.check = None
        if spec.check_category:
            from ddbridge.daemon.pool_check import PoolCheck

            self.check = PoolCheck.load()

    def render(self, batch: tuple[Item, ...]) -> list[Rendered]:
        """Compute, finish and check one batch (items of one category, length and loop)."""
        from ddbridge.daemon.engine import Work

        first = batch[0]
        bundle = self.engine.bundle(None)
        choice = bundle.resolve_category(first.category)
        steps, sampler = self.engine.defaults(None)
        loop = first.loop or choice.loop
        if first.seconds is None:
            length, samples = bundle.sample_size, None
        else:
            samples = max(1, round(first.seconds * bundle.sample_rate))
            length = (
                max(1, round(samples / bundle.stride)) * bundle.stride
                if loop
                else bundle.length_for_seconds(first.seconds)
            )
        work = Work(
            "generate",
            bundle.name,
            tuple(item.seed for item in batch),
            steps,
            sampler,
            choice.category,
            bundle.guidance_for(choice, None),
            loop,
            length,
        )
        raw = self.engine.run(work)
        out = []
        for item, sound in zip(batch, raw, strict=True):
            if samples is not None:
                sound = audio_ops.fit_length(sound, samples, circular=True) if loop else sound[:, :samples]
            verdict = None
            if self.check is not None and not loop and self.check.knows(choice.label):
                verdict = self.check.verdict(sound, bundle.sample_rate, choice.label)
            finished = audio_ops.finish(
                sound,
                bundle.sample_rate,
                self.spec.sample_rate,
                normalize="loudness",
                loudness_lufs=self.spec.loudness,
                loop=loop,
            )
            on = verdict is None or verdict.accepted
            out.append(Rendered(item, finished, on, None if verdict is None else verdict.top))
        return out

    def pid(self) -> int:
        """This worker's process id."""
        import os

        return os.getpid()
