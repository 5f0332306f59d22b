"""The warm model host: loads the configured models once, picks the device, and runs batched tasks.

The engine never touches sockets or files other than reading source audio; it turns a ``Work``
description into raw audio ``[B, C, L]`` at the model's rate.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ddbridge.diffusion import tasks
from ddbridge.diffusion.loop_task import loop_network
from ddbridge.diffusion.samplers import SAMPLERS
from ddbridge.loops.genres import BARS, BPM_RANGE, GENRES
from ddbridge.model.bundle import ModelBundle
from ddbridge.protocol.errors import BadRequest, ModelLoadError, Unavailable, UnknownModel
from ddbridge.sound import audio as audio_ops

log = logging.getLogger(__name__)

HALF_DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass(frozen=True)
class Work:
    """One model call. Jobs whose ``Work`` differs only in ``seeds`` can be merged into one batch."""

    op: str
    model: str
    seeds: tuple[int, ...]
    steps: int
    sampler: str
    category: str | None = None
    guidance_scale: float = 1.0
    loop: bool = False
    length: int | None = None
    tempo: tuple[float, int] | None = None  # a loop's (bpm, bars)
    genre: str | None = None
    by_loop_network: bool = False  # made by the model's loop network (``category`` is then the genre)
    sources: tuple[str, ...] = ()
    strength: float = 0.7
    positions: tuple[float, ...] = ()
    seconds: float = 0.0
    source_start: float = 0.0  # variate: the part of the source to vary (see audio.excerpt)
    source_seconds: float | None = None
    source_reverse: bool = False
    source_playrate: float = 1.0

    def batch_key(self) -> tuple | None:
        """Equal keys can share a forward pass; only generation from noise is batched across requests."""
        if self.op != "generate":
            return None
        return dataclasses.astuple(dataclasses.replace(self, seeds=()))

    @staticmethod
    def merge(works: Sequence[Work]) -> Work:
        """One ``Work`` computing all of ``works`` (same batch key) in order."""
        return dataclasses.replace(works[0], seeds=tuple(s for w in works for s in w.seeds))


def pick_device(name: str = "auto") -> torch.device:
    """``auto`` chooses CUDA, then Apple MPS, then the CPU; a named device must be available."""
    mps = getattr(torch.backends, "mps", None)
    mps_ok = bool(mps and mps.is_available())
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "mps" if mps_ok else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise Unavailable("CUDA was requested but is not available on this machine")
    if name == "mps" and not mps_ok:
        raise Unavailable("MPS was requested but is not available on this machine")
    return torch.device(name)


class Engine:
    """Hosts loaded models and runs ``Work`` on them. Not thread-safe: one worker thread calls ``run``."""

    def __init__(
        self,
        sources: Sequence[str],
        device: str = "auto",
        dtype: str = "float32",
        compile: bool = False,
        steps: int = 0,
        sampler: str = "",
        threads: int = 0,
    ) -> None:
        from ddbridge.model.checkpoints import load_model

        if threads:
            torch.set_num_threads(threads)
        self.device = pick_device(device)
        self.models: dict[str, ModelBundle] = {}
        for source in sources:
            bundle = load_model(source, device=self.device)
            if bundle.name in self.models:
                raise ModelLoadError(f"two configured models are both named '{bundle.name}'")
            bundle.net.eval().requires_grad_(False)
            self.models[bundle.name] = bundle
        if not self.models:
            raise ModelLoadError("no model configured")
        self.default_model = next(iter(self.models))
        if sampler and sampler not in SAMPLERS:
            raise BadRequest(f"unknown sampler '{sampler}'; choose one of: {', '.join(SAMPLERS)}")
        self._steps, self._sampler = steps, sampler
        self.half = HALF_DTYPES.get(dtype) if self.device.type == "cuda" else None
        if dtype != "float32" and self.half is None:
            log.warning("%s needs CUDA; running in float32 on %s", dtype, self.device)
        if compile and self.device.type == "cuda":
            self._compile()
        else:
            self._warm_up()

    @property
    def device_name(self) -> str:
        name = str(self.device)
        if self.device.type == "cuda":
            name += f" ({torch.cuda.get_device_name(self.device)})"
        return name + (f", {str(self.half).removeprefix('torch.')}" if self.half else "")

    def bundle(self, name: str | None) -> ModelBundle:
        """The loaded model ``name`` (None: the default); ``UnknownModel`` listing the loaded ones."""
        key = name or self.default_model
        try:
            return self.models[key]
        except KeyError:
            raise UnknownModel(f"model '{key}' is not loaded; loaded: {', '.join(self.models)}") from None

    def defaults(self, name: str | None, network: ModelBundle | None = None) -> tuple[int, str]:
        """(steps, sampler) used when a request names neither, for model ``name`` (or the ``network`` it makes a
        request with: its loop network)."""
        bundle = network or self.bundle(name)
        return self._steps or bundle.default_steps, self._sampler or bundle.default_sampler

    def output_rate(self, work: Work) -> int:
        """The sample rate of what ``work`` computes (a loop network may have its own)."""
        bundle = self.bundle(work.model)
        return (loop_network(bundle) or bundle).sample_rate if work.by_loop_network else bundle.sample_rate

    def describe(self) -> list[dict]:
        """What the ``models`` reply lists for each loaded model."""
        out = []
        for name, b in self.models.items():
            steps, sampler = self.defaults(name)
            out.append(
                {
                    "name": name,
                    "default": name == self.default_model,
                    "sample_rate": b.sample_rate,
                    "sample_size": b.sample_size,
                    "seconds": b.sample_size / b.sample_rate,
                    "categories": list(b.categories),
                    "default_sampler": sampler,
                    "default_steps": steps,
                    **_loops(loop_network(b)),
                }
            )
        return out

    @staticmethod
    def samplers() -> list[str]:
        return list(SAMPLERS)

    def run(self, work: Work, progress: Callable[[float], None] | None = None) -> np.ndarray:
        """Compute ``work``; float32 ``[len(seeds), C, L]`` at the model's rate."""
        bundle = self.bundle(work.model)
        common = dict(
            seeds=list(work.seeds),
            steps=work.steps,
            sampler=work.sampler,
            category=work.category,
            guidance_scale=work.guidance_scale,
            loop=work.loop,
            progress=progress,
            device=self.device,
        )
        sources = [audio_ops.load_audio(path) for path in work.sources]
        with self._precision():
            if work.op == "generate":
                if work.by_loop_network:
                    common.update(category="loop", loop=True)
                out = tasks.generate(
                    bundle, count=len(work.seeds), length=work.length, tempo=work.tempo, genre=work.genre, **common
                )
            elif work.op == "variate":
                ((audio, rate),) = sources
                audio, rate = audio_ops.excerpt(
                    audio, rate, work.source_start, work.source_seconds, work.source_reverse, work.source_playrate
                )
                out = tasks.variate(bundle, audio, rate, strength=work.strength, count=len(work.seeds), **common)
            elif work.op == "interpolate":
                (a, rate_a), (b, rate_b) = sources
                if rate_b != rate_a:
                    b = audio_ops.resample(b, rate_b, rate_a)
                out = tasks.interpolate(bundle, a, b, rate_a, positions=work.positions, **common)
            elif work.op == "extend":
                ((audio, rate),) = sources
                out = tasks.extend(bundle, audio, rate, work.seconds, count=len(work.seeds), **common)
            else:
                raise BadRequest(f"the engine cannot run op '{work.op}'")
        return out.float().cpu().numpy()

    def _precision(self):
        if self.half is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda", dtype=self.half)

    def _warm_up(self) -> None:
        """One short step per model, so the first request does not pay for lazy initialisation."""
        for name, bundle in self.models.items():
            category, guidance = _typical_category(bundle)
            length = min(bundle.sample_size, bundle.stride * 4)  # the shortest input reflect padding allows
            self.run(Work("generate", name, (0,), 1, self.defaults(name)[1], category, guidance, length=length))
            loops = loop_network(bundle)
            if loops is not None and loops is not bundle:  # the first loop is as quick as the first hit
                _, sampler = self.defaults(name, loops)
                tempo = (120.0, 1)
                self.run(Work("generate", name, (0,), 1, sampler, None, 1.0, True, tempo=tempo, by_loop_network=True))

    def _compile(self) -> None:
        """Compile every network and run each once per batch shape it will most often see."""
        for name, bundle in self.models.items():
            bundle.net.compile()
            _, sampler = self.defaults(name)
            category, guidance = _typical_category(bundle)
            for count in (1, 2):
                self.run(Work("generate", name, tuple(range(count)), 1, sampler, category, guidance))
            log.info("compiled and warmed %s", name)


def _typical_category(bundle: ModelBundle) -> tuple[str | None, float]:
    """A category requests to ``bundle`` will use (its first, if any) and the guidance they get by default."""
    choice = bundle.resolve_category(bundle.categories[0] if bundle.categories else None)
    return choice.category, bundle.guidance_for(choice, None)


def _loops(network: ModelBundle | None) -> dict:
    """The ``loops`` entry of a model with a loop network (its genres, tempo range and bar counts); {} without one."""
    if network is None:
        return {}
    genres = [g for g in GENRES if g in network.categories]
    return {"loops": {"genres": genres, "bpm": list(BPM_RANGE), "bars": list(BARS)}}
