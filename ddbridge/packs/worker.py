"""Rendering a batch of a pack's plan: one warm model, finished (loudness-matched) sounds and the judge's verdict.

The same code runs in the local process and inside each Ray actor, so both give the same sounds. Loops at a
tempo come from the model's loop network when it has one (in their genre, exactly as long as their bars), else
from the model itself, run circularly at that length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ddbridge.loops.genres import check_tempo, loop_samples
from ddbridge.packs.spec import Item, PackSpec
from ddbridge.protocol.errors import BadRequest
from ddbridge.sound import audio as audio_ops

if TYPE_CHECKING:
    from ddbridge.model.bundle import ModelBundle


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
        check_loops(spec, self.engine.bundle(None))
        self.check = None
        if spec.check_category:
            from ddbridge.daemon.pool_check import PoolCheck

            self.check = PoolCheck.load()

    def render(self, batch: tuple[Item, ...]) -> list[Rendered]:
        """Compute, finish and check one batch (items of one category, length and loop)."""
        from ddbridge.daemon.engine import Work
        from ddbridge.diffusion.loop_task import loop_network

        first = batch[0]
        bundle = self.engine.bundle(None)
        loops = loop_network(bundle) if first.tempo else None
        if loops is not None:
            return self._render_loops(batch, loops)
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

    def _render_loops(self, batch: tuple[Item, ...], loops) -> list[Rendered]:
        """A batch of loops at one tempo and genre from the loop network: exactly as long as their bars."""
        from ddbridge.daemon.engine import Work

        first = batch[0]
        choice = loops.resolve_category(first.genre)
        steps, sampler = self.engine.defaults(None, loops)
        guidance = loops.guidance_for(choice, None)
        seeds = tuple(item.seed for item in batch)
        work = Work(
            "generate", self.engine.default_model, seeds, steps, sampler, choice.category, guidance, True,
            tempo=first.tempo, genre=first.genre, by_loop_network=True,
        )  # fmt: skip
        raw = self.engine.run(work)
        frames = loop_samples(*first.tempo, self.spec.sample_rate)
        finish = {"normalize": "loudness", "loudness_lufs": self.spec.loudness, "loop": True, "frames": frames}
        return [
            Rendered(item, audio_ops.finish(sound, loops.sample_rate, self.spec.sample_rate, **finish), True, None)
            for item, sound in zip(batch, raw, strict=True)
        ]

    def pid(self) -> int:
        """This worker's process id."""
        import os

        return os.getpid()


def check_loops(spec: PackSpec, bundle: ModelBundle) -> None:
    """``BadRequest`` before anything is made when ``bundle`` cannot make the plan's loops: a genre without a
    loop network, or a tempo outside the loop network's range."""
    from ddbridge.diffusion.loop_task import loop_network

    loops = loop_network(bundle)
    for tempo, genre in dict.fromkeys((item.tempo, item.genre) for item in spec.items if item.tempo):
        if genre is not None and loops is None:
            raise BadRequest(f"pack '{spec.name}': model '{spec.model}' has no loop network: its loops take no genre")
        if loops is not None:
            try:
                check_tempo(*tempo)
            except BadRequest as e:
                raise BadRequest(f"pack '{spec.name}': loops at {tempo[0]:g} BPM, {tempo[1]} bar(s): {e}") from None
