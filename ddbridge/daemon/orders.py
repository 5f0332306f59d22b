"""A validated job request turned into an ``Order``: the engine's ``Work`` and how to write its sounds."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ddbridge.daemon.config import OutputConfig
from ddbridge.daemon.engine import Engine, Work
from ddbridge.daemon.outputs import Outputs
from ddbridge.diffusion.loop_task import tempo_for, tempo_network
from ddbridge.loops.genres import loop_samples, loop_stem, resolve_genre
from ddbridge.model.bundle import ModelBundle
from ddbridge.notes import parse_note
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
    folder: str  # the project folder files go into (``Samples/Generated/<folder>/``)
    category: str | None  # the requested category as resolved: what files are named and tagged with
    wait: bool
    note: int | None = None  # the MIDI root note a one-shot is retuned to
    from_pool: bool = False
    listeners: list[tuple[Notify, bool]] = field(default_factory=list)
    in_memory: bool = False  # a ``Core.sound`` request: the result is a ``Sound``, no file is written
    deliver_reply: bool = False  # ``deliver: "reply"``: the reply carries WAV bytes, no file is written


def prepare(r: dict, engine: Engine, output: OutputConfig, outputs: Outputs) -> Order:
    """The ``Order`` for validated job request ``r``, its defaults taken from the model and ``output``."""
    op = r["op"]
    bundle = engine.bundle(r.get("model"))
    choice = bundle.resolve_category(r.get("category"))
    loop = bool(r.get("loop", False)) or choice.loop
    loops = tempo_network(bundle, r.get("category"), loop) if loop and op == "generate" else None
    maker = loops or bundle  # the network that computes it: a loop network has its own defaults and genres
    genre = _genre(r, loop, loops, bundle)
    steps, sampler = engine.defaults(bundle.name, maker)
    steps, sampler = int(r.get("steps", steps)), r.get("sampler", sampler)
    if sampler not in engine.samplers():
        raise BadRequest(f"unknown sampler '{sampler}'; choose one of: {', '.join(engine.samplers())}")
    conditioned = maker.resolve_category(genre) if loops else choice
    guidance = maker.guidance_for(conditioned, r.get("guidance_scale"))
    count = len(r.get("positions", [0.5])) if op == "interpolate" else int(r.get("count", 1))
    seeds = _seeds(r.get("seed"), count)
    category = conditioned.category if loops else choice.category
    work = Work(op, bundle.name, seeds, steps, sampler, category, guidance, loop, genre=genre,
                by_loop_network=loops is not None)  # fmt: skip
    samples = None
    if op == "generate":
        seconds = r.get("seconds")
        tempo = _tempo(r, loop, loops)
        if loops is not None:
            work = replace(work, tempo=tempo)
        elif tempo is not None:  # a loop at a tempo from a model without a loop network: its exact length
            samples = loop_samples(*tempo, bundle.sample_rate)
            work = replace(work, tempo=tempo, length=max(1, round(samples / bundle.stride)) * bundle.stride)
        elif seconds is None:
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
    note = _note(r, loop)
    folder = choice.label or STEMS[op]
    stem = loop_stem(genre, work.tempo) if work.tempo else folder
    normalize = r.get("normalize", "peak")
    deliver_reply = r.get("deliver") == "reply"
    if deliver_reply and ("out_dir" in r or "project_dir" in r or r.get("wait") is False):
        raise BadRequest("deliver 'reply' writes no file here: leave out out_dir, project_dir and wait false")
    return Order(
        request=r,
        work=work,
        out_dir=None if deliver_reply else outputs.resolve(r.get("out_dir"), r.get("project_dir"), folder),
        sample_rate=int(r.get("sample_rate") or output.sample_rate or bundle.sample_rate),
        bit_depth=int(r.get("bit_depth", output.bit_depth)),
        normalize=None if normalize == "none" else normalize,
        samples=samples,
        stem=stem,
        folder=folder,
        category=choice.label,
        wait=bool(r.get("wait", True)),
        note=note,
        deliver_reply=deliver_reply,
    )


def _genre(r: dict, loop: bool, loops: ModelBundle | None, bundle: ModelBundle) -> str | None:
    """The request's genre (None: any); ``BadRequest`` when it is given for something other than a loop network."""
    genre = resolve_genre(r.get("genre"))
    if genre is None:
        return None
    if not loop:
        raise BadRequest("genre is for loops: ask for category loop (or loop true)")
    if loops is None:
        raise BadRequest(f"model '{bundle.name}' has no loop network for this request, so it takes no genre")
    return genre


def _note(r: dict, loop: bool) -> int | None:
    """The request's root note as a MIDI number; ``BadRequest`` for a loop, which keeps its length and tempo."""
    if "note" not in r:
        return None
    note = parse_note(r["note"])
    if loop:
        raise BadRequest("note is for one-shots: a loop is not retuned (it would lose its length and tempo)")
    return note


def _tempo(r: dict, loop: bool, loops: ModelBundle | None) -> tuple[float, int] | None:
    """``(bpm, bars)`` of a loop request (a loop network's default when none is given); None when not a loop."""
    given = "bpm" in r or "bars" in r
    if given and not loop:
        raise BadRequest("bpm and bars are for loops: ask for category loop (or loop true)")
    if given and "seconds" in r:
        raise BadRequest("give a loop's length as seconds or as bars at a bpm, not both")
    if loops is not None:
        return tempo_for(r.get("bpm"), r.get("bars"), r.get("seconds"))
    if given:
        if "bpm" not in r or "bars" not in r:
            raise BadRequest("a loop's tempo needs both bpm and bars")
        return float(r["bpm"]), int(r["bars"])
    return None


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
