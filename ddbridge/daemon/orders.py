"""A validated job request turned into an ``Order``: the engine's ``Work`` and how to write its sounds."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ddbridge.daemon.config import OutputConfig
from ddbridge.daemon.engine import Engine, Work
from ddbridge.daemon.outputs import Outputs
from ddbridge.protocol.errors import BadAudio, BadRequest
from ddbridge.protocol.schema import SOURCE_REGION

Notify = Callable[[dict], None]

SEED_LIMIT = 2**32
STEMS = {"generate": "sample", "variate": "variation", "interpolate": "interpolation", "extend": "extension"}


@dataclass
class Order:
    """A validated job request: what to compute and how to write it."""

    request: dict
    work: Work
    out_dir: Path | None  # None when the reply delivers the audio
    sample_rate: int
    bit_depth: int
    normalize: str | None
    samples: int | None
    stem: str
    category: str | None  # the requested category as resolved: what files are named and tagged with
    wait: bool
    from_pool: bool = False
    listeners: list[tuple[Notify, bool]] = field(default_factory=list)
    in_memory: bool = False  # a ``Core.sound`` request: the result is a ``Sound``, no file is written
    deliver_reply: bool = False  # ``deliver: "reply"``: the reply carries WAV bytes, no file is written


def prepare(r: dict, engine: Engine, output: OutputConfig, outputs: Outputs) -> Order:
    """The ``Order`` for validated job request ``r``, its defaults taken from the model and ``output``."""
    op = r["op"]
    bundle = engine.bundle(r.get("model"))
    choice = bundle.resolve_category(r.get("category"))
    steps, sampler = engine.defaults(bundle.name)
    steps, sampler = int(r.get("steps", steps)), r.get("sampler", sampler)
    if sampler not in engine.samplers():
        raise BadRequest(f"unknown sampler '{sampler}'; choose one of: {', '.join(engine.samplers())}")
    guidance = bundle.guidance_for(choice, r.get("guidance_scale"))
    loop = bool(r.get("loop", False)) or choice.loop
    count = len(r.get("positions", [0.5])) if op == "interpolate" else int(r.get("count", 1))
    seeds = _seeds(r.get("seed"), count)
    work = Work(op, bundle.name, seeds, steps, sampler, choice.category, guidance, loop)
    samples = None
    if op == "generate":
        seconds = r.get("seconds")
        if seconds is None:
            work = replace(work, length=bundle.sample_size)
        else:
            samples = max(1, int(round(seconds * bundle.sample_rate)))
            stride = bundle.stride
            length = max(1, round(samples / stride)) * stride if loop else bundle.length_for_seconds(seconds)
            work = replace(work, length=length)
    elif op == "variate":
        work = replace(work, sources=(_source(r["source"], "source"),), strength=float(r.get("strength", 0.7)))
        region = {k: bool(r[k]) if k == "source_reverse" else float(r[k]) for k in SOURCE_REGION if k in r}
        work = replace(work, **region)
    elif op == "interpolate":
        sources = (_source(r["source_a"], "source_a"), _source(r["source_b"], "source_b"))
        work = replace(work, sources=sources, positions=tuple(float(p) for p in r.get("positions", [0.5])))
    elif op == "extend":
        work = replace(work, sources=(_source(r["source"], "source"),), seconds=float(r["seconds"]))
    stem = choice.label or STEMS[op]
    normalize = r.get("normalize", "peak")
    deliver_reply = r.get("deliver") == "reply"
    if deliver_reply and ("out_dir" in r or "project_dir" in r or r.get("wait") is False):
        raise BadRequest("deliver 'reply' writes no file here: leave out out_dir, project_dir and wait false")
    return Order(
        request=r,
        work=work,
        out_dir=None if deliver_reply else outputs.resolve(r.get("out_dir"), r.get("project_dir"), stem),
        sample_rate=int(r.get("sample_rate") or output.sample_rate or bundle.sample_rate),
        bit_depth=int(r.get("bit_depth", output.bit_depth)),
        normalize=None if normalize == "none" else normalize,
        samples=samples,
        stem=stem,
        category=choice.label,
        wait=bool(r.get("wait", True)),
        deliver_reply=deliver_reply,
    )


def _seeds(seed: int | None, count: int) -> tuple[int, ...]:
    if seed is None:
        return tuple(secrets.randbelow(SEED_LIMIT) for _ in range(count))
    return tuple((int(seed) + i) % SEED_LIMIT for i in range(count))


def _source(path: str, name: str) -> str:
    p = Path(path)
    if not p.is_absolute():
        raise BadRequest(f"{name} must be an absolute path, got '{path}'")
    if not p.is_file():
        raise BadAudio(f"{name} '{path}' is not an existing file")
    return str(p)
