"""Shared pieces of the rendering CLI commands: common options, model loading, progress, seeds, writing."""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from ddbridge.model.device import pick_device
from ddbridge.protocol.errors import BadRequest, PathRefused

DEFAULT_ENDPOINT = "tcp://127.0.0.1:5555"  # client.connection.DEFAULT_ENDPOINT, not imported here: it loads zmq

SEED_LIMIT = 2**32


def add_render_options(parser: argparse.ArgumentParser) -> None:
    """Options every rendering command shares: model, sampling, output folder and file format."""
    g = parser.add_argument_group("model and sampling")
    g.add_argument(
        "--model", default="default", help="registry name, checkpoint file, folder or hub id (default: default)"
    )
    g.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (default: auto)")
    g.add_argument("--seed", type=int, help="seed of the first result; the next ones use seed+1, ... (default: random)")
    g.add_argument("--steps", type=int, help="sampler steps (default: the model's)")
    g.add_argument("--sampler", help="sampler name, e.g. v-iplms, dpmpp-2m (default: the model's)")
    g.add_argument(
        "--category", help="category, alias (hat, 808, ...) or loop; a model without categories uses it as a label"
    )
    g.add_argument(
        "--guidance", type=float, help="classifier-free guidance scale with --category (default: the model's)"
    )
    g.add_argument("--loop", action="store_true", help="seamless loop: circular padding, no trim or fade")
    o = parser.add_argument_group("output")
    o.add_argument("--out", default=".", help="output folder, created if missing (default: the current folder)")
    o.add_argument("--sample-rate", type=int, default=44100, help="file sample rate (default: 44100)")
    o.add_argument("--bit-depth", type=int, default=24, help="16, 24 or 32 (float) (default: 24)")
    o.add_argument("--normalize", default="peak", help="peak, loudness or none (default: peak, to --peak-db)")
    o.add_argument("--peak-db", type=float, default=-1.0, help="peak level in dBFS (default: -1)")
    d = parser.add_argument_group("daemon")
    d.add_argument("--via-daemon", action="store_true", help="send the request to a running `ddbridge serve` instead")
    d.add_argument(
        "--endpoint", default=DEFAULT_ENDPOINT, help=f"the daemon's ZeroMQ address (default: {DEFAULT_ENDPOINT})"
    )
    d.add_argument(
        "--timeout", type=float, default=5.0, help="seconds to wait for the daemon to answer at all (default: 5)"
    )


def out_dir(path: str) -> Path:
    """The absolute output folder, created if missing; ``PathRefused`` when it is a file or cannot be made."""
    d = Path(path).expanduser().resolve()
    if d.exists() and not d.is_dir():
        raise PathRefused(f"output folder '{d}' is a file")
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise PathRefused(f"cannot create output folder '{d}': {e.strerror or e}") from None
    return d


def source_stem(path: str | Path) -> str:
    """A source file's name without extension or a ddbridge ``_NNNN_sSEED`` suffix (``kick_0003_s42`` -> ``kick``)."""
    return re.sub(r"_\d{4,}(_s\d+)?$", "", Path(path).stem) or Path(path).stem


def seeds_for(seed: int | None, count: int) -> list[int]:
    """``seed, seed+1, ...`` or fresh random seeds (announced on stderr so a result can be re-made)."""
    from ddbridge.diffusion.calls import random_seeds

    if seed is None:
        seeds = random_seeds(count)
        print(f"ddbridge: seeds {' '.join(map(str, seeds))}", file=sys.stderr)
        return seeds
    if not 0 <= seed or seed + count > SEED_LIMIT:
        raise BadRequest(f"--seed must be in [0, {SEED_LIMIT - count}], got {seed}")
    return list(range(seed, seed + count))


def load_bundle(args: argparse.Namespace):
    """Load ``--model`` onto ``--device``."""
    from ddbridge.model.checkpoints import load_model

    return load_model(args.model, device=pick_device(args.device))


def load_for_rendering(args: argparse.Namespace):
    """:func:`load_bundle`, then resolve ``--category`` against the model.

    ``args.category`` becomes the resolved name the files carry (``hat`` -> ``hat_closed``), and a
    ``loop`` category turns on ``args.loop``.
    """
    bundle = load_bundle(args)
    choice = bundle.resolve_category(args.category)
    args.category, args.loop = choice.label, args.loop or choice.loop
    return bundle


@contextlib.contextmanager
def progress_bar(label: str) -> Iterator[Callable[[float], None]]:
    """A tqdm bar on stderr (hidden when stderr is not a terminal) fed with 0..1 fractions."""
    from tqdm import tqdm

    with tqdm(total=1000, desc=label, unit="‰", file=sys.stderr, disable=None, leave=False) as bar:

        def update(fraction: float) -> None:
            bar.update(int(fraction * 1000) - bar.n)

        yield update


def normalize_mode(name: str) -> str | None:
    if name not in ("peak", "loudness", "none"):
        raise BadRequest(f"--normalize must be peak, loudness or none, got '{name}'")
    return None if name == "none" else name


def prepare_output(args: argparse.Namespace) -> Path:
    """Check the output options and create the output folder, before any slow work; return the folder."""
    from ddbridge.sound import render

    if args.bit_depth not in render.SUBTYPES:
        raise BadRequest(f"--bit-depth must be 16, 24 or 32, got {args.bit_depth}")
    if args.sample_rate <= 0:
        raise BadRequest(f"--sample-rate must be > 0, got {args.sample_rate}")
    if not args.peak_db <= 0:
        raise BadRequest(f"--peak-db must be <= 0, got {args.peak_db}")
    normalize_mode(args.normalize)
    return out_dir(args.out)


def write_results(
    args: argparse.Namespace,
    folder: Path,
    bundle,
    batch,
    stem: str,
    seeds: list[int],
    metadata: dict,
    per_item: list[dict] | None = None,
    *,
    category: str | None = None,
    note: int | None = None,
) -> list[Path]:
    """Finish each item of ``batch`` ``[B, C, L]`` and write it into ``folder``; print and return the paths.

    ``metadata`` goes with every file, ``per_item[i]`` with file i only. ``category`` is what ``bundle``
    was conditioned on when not ``--category`` (a loop network's genre). With ``note`` (MIDI) each sound is
    retuned to it (``sound.tuning``) and what was done is said on stderr.
    """
    from ddbridge.loops.genres import loop_samples
    from ddbridge.sound import audio, render
    from ddbridge.sound.tuning import tune

    mode = normalize_mode(args.normalize)
    choice = bundle.resolve_category(category or args.category)
    guidance = bundle.guidance_for(choice, args.guidance)
    paths = []
    for i, (item, seed) in enumerate(zip(batch, seeds, strict=True)):
        loop = args.loop or metadata.get("loop", False)
        frames = loop_samples(metadata["bpm"], metadata["bars"], args.sample_rate) if "bpm" in metadata else None
        finished = audio.finish(
            item, bundle.sample_rate, args.sample_rate, normalize=mode, peak_db=args.peak_db, loop=loop, frames=frames
        )
        tuning = None
        if note is not None:
            finished, tuning = tune(finished, args.sample_rate, note)
        meta = {
            "seed": seed,
            "model": bundle.name,
            "sampler": args.sampler or bundle.default_sampler,
            "steps": args.steps or bundle.default_steps,
            "category": args.category,
            "conditioned": choice.index is not None,
            "loop": args.loop,
            **metadata,
            **(per_item[i] if per_item else {}),
        }
        if guidance != 1.0:
            meta["guidance_scale"] = guidance
        if tuning is not None:
            meta.update(tuning.metadata())
        path = render.write_wav(finished, args.sample_rate, folder, stem, bit_depth=args.bit_depth, metadata=meta)
        if tuning is not None:
            print(f"ddbridge: {path.name}: {tuning.message}", file=sys.stderr)
        print(path, flush=True)
        paths.append(path)
    return paths


def task_options(args: argparse.Namespace) -> dict:
    """Keyword arguments the ``tasks`` functions share, taken from the common options."""
    return {
        "steps": args.steps,
        "sampler": args.sampler,
        "category": args.category,
        "guidance_scale": args.guidance,
        "loop": args.loop,
    }
