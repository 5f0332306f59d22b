"""``ddbridge generate | variate | interpolate | extend``: render WAV files with a local model, or with
``--via-daemon`` through a running ``ddbridge serve``."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from ddbridge.cli_support import (
    add_render_options,
    load_for_rendering,
    prepare_output,
    progress_bar,
    seeds_for,
    source_stem,
    task_options,
    write_results,
)
from ddbridge.commands.request import add_source_region
from ddbridge.notes import parse_note
from ddbridge.protocol.errors import BadRequest


def _count(count: int) -> int:
    if count < 1:
        raise BadRequest(f"--count must be >= 1, got {count}")
    return count


def _positive(name: str, value: float) -> float:
    if not (math.isfinite(value) and value > 0):
        raise BadRequest(f"{name} must be > 0, got {value}")
    return value


def _absolute(path: str) -> str:
    return str(Path(path).expanduser().resolve())


def _via_daemon(args: argparse.Namespace, op: str, folder: Path, **fields) -> int:
    from ddbridge.client.via_daemon import run_via_daemon

    return run_via_daemon(args, op, folder, **fields)


def requested_seconds(args: argparse.Namespace) -> float | None:
    """``--seconds``, or ``--bars`` of 4/4 at ``--bpm`` (bars * 4 * 60 / bpm); None for the model's length."""
    if args.seconds is not None and (args.bpm is not None or args.bars is not None):
        raise BadRequest("give either --seconds or --bpm with --bars, not both")
    if (args.bpm is None) != (args.bars is None):
        raise BadRequest("--bpm and --bars go together")
    if args.bpm is not None:
        return _positive("--bars", args.bars) * 4 * 60 / _positive("--bpm", args.bpm)
    return None if args.seconds is None else _positive("--seconds", args.seconds)


def _tempo_fields(args: argparse.Namespace, seconds: float | None) -> dict:
    """The length fields of a generate request: a loop's bpm and bars as given, else seconds; and its genre."""
    fields = {"bpm": args.bpm, "bars": _whole_bars(args.bars)} if args.bpm is not None else {"seconds": seconds}
    return {**fields, "genre": args.genre}


def _whole_bars(bars: float) -> int:
    if not float(bars).is_integer():
        raise BadRequest(f"--bars must be a whole number of bars, got {bars:g}")
    return int(bars)


def run_generate(args: argparse.Namespace) -> int:
    count = _count(args.count)
    seconds = requested_seconds(args)
    note = None if args.note is None else parse_note(args.note)
    folder = prepare_output(args)
    if args.via_daemon:
        fields = {"count": count, **_tempo_fields(args, seconds), "note": note}
        return _via_daemon(args, "generate", folder, **fields)
    seeds = seeds_for(args.seed, count)
    from ddbridge.diffusion import tasks
    from ddbridge.diffusion.loop_task import tempo_network
    from ddbridge.sound import audio

    bundle = load_for_rendering(args)
    loop = args.loop or bundle.resolve_category(args.category).loop
    if loop and note is not None:
        raise BadRequest("--note is for one-shots: a loop is not retuned (it would lose its length and tempo)")
    if loop and tempo_network(bundle, args.category, loop) is not None:
        return _generate_loops(args, bundle, folder, seeds, seconds)
    if args.genre is not None:
        raise BadRequest(f"--genre is for loops (--category loop) from a model with a loop network; '{bundle.name}'"
                         " has none" if loop else "--genre is for loops: add --category loop")  # fmt: skip
    target = bundle.sample_size if seconds is None else max(1, round(seconds * bundle.sample_rate))
    length = tasks.valid_length(bundle, target, loop=args.loop)
    with progress_bar("generate") as progress:
        batch = tasks.generate(bundle, count, length, seeds=seeds, progress=progress, **task_options(args))
    if args.loop:
        batch = [audio.fit_length(item, target, circular=True) for item in batch]
    else:
        batch = batch[..., :target]
    meta = {"task": "generate"}
    if loop and args.bpm is not None and float(args.bars).is_integer():  # this model's own loop at a tempo
        meta.update(loop=True, bpm=args.bpm, bars=int(args.bars), beats=int(args.bars) * 4)
    write_results(args, folder, bundle, batch, args.category or "sample", seeds, meta, note=note)
    return 0


def _generate_loops(args: argparse.Namespace, bundle, folder: Path, seeds: list[int], seconds: float | None) -> int:
    """Loops at a tempo from ``bundle``'s loop network: exactly ``bars * 4 * 60 / bpm`` s, tagged with the tempo."""
    from ddbridge.diffusion import tasks
    from ddbridge.diffusion.loop_task import loop_network, tempo_for
    from ddbridge.loops.genres import ANY, BEATS_PER_BAR, loop_stem, resolve_genre

    bars = None if args.bars is None else _whole_bars(args.bars)
    bpm, bars = tempo_for(args.bpm, bars, None if args.bpm is not None else seconds)
    genre = resolve_genre(args.genre)
    options = {"steps": args.steps, "sampler": args.sampler, "guidance_scale": args.guidance}
    with progress_bar("generate") as progress:
        batch = tasks.generate(
            bundle, len(seeds), seeds=seeds, loop=True, tempo=(bpm, bars), genre=genre, progress=progress, **options
        )
    meta = {"task": "generate", "loop": True, "bpm": bpm, "bars": bars, "beats": bars * BEATS_PER_BAR,
            "genre": genre or ANY}  # fmt: skip
    network = loop_network(bundle)
    write_results(args, folder, network, batch, loop_stem(genre, (bpm, bars)), seeds, meta, category=genre)
    return 0


def run_variate(args: argparse.Namespace) -> int:
    from ddbridge.protocol.schema import SOURCE_REGION
    from ddbridge.sound.audio import excerpt, load_audio

    count = _count(args.count)
    region = {k: v for k in SOURCE_REGION if (v := getattr(args, k)) is not None}
    if args.via_daemon:
        fields = {"source": _absolute(args.input), "strength": args.strength, "count": count, **region}
        return _via_daemon(args, "variate", prepare_output(args), **fields)
    source, rate = excerpt(*load_audio(args.input), **{k.removeprefix("source_"): v for k, v in region.items()})
    folder = prepare_output(args)
    seeds = seeds_for(args.seed, count)
    from ddbridge.diffusion import tasks

    bundle = load_for_rendering(args)
    with progress_bar("variate") as progress:
        batch = tasks.variate(
            bundle, source, rate, args.strength, count, seeds=seeds, progress=progress, **task_options(args)
        )
    meta = {"task": "variate", "source": str(Path(args.input).resolve()), "strength": args.strength, **region}
    write_results(args, folder, bundle, batch, f"{source_stem(args.input)}_var", seeds, meta)
    return 0


def run_interpolate(args: argparse.Namespace) -> int:
    from ddbridge.sound.audio import load_audio, resample

    if args.via_daemon:
        fields = {"source_a": _absolute(args.input_a), "source_b": _absolute(args.input_b), "positions": args.positions}
        return _via_daemon(args, "interpolate", prepare_output(args), **fields)
    (a, rate_a), (b, rate_b) = load_audio(args.input_a), load_audio(args.input_b)
    if rate_b != rate_a:
        b = resample(b, rate_b, rate_a)
    folder = prepare_output(args)
    seeds = seeds_for(args.seed, len(args.positions))
    from ddbridge.diffusion import tasks

    bundle = load_for_rendering(args)
    with progress_bar("interpolate") as progress:
        batch = tasks.interpolate(
            bundle, a, b, rate_a, args.positions, seeds=seeds, progress=progress, **task_options(args)
        )
    meta = {"task": "interpolate", "sources": [str(Path(p).resolve()) for p in (args.input_a, args.input_b)]}
    stem = f"{source_stem(args.input_a)}_to_{source_stem(args.input_b)}"
    write_results(args, folder, bundle, batch, stem, seeds, meta, [{"position": p} for p in args.positions])
    return 0


def run_extend(args: argparse.Namespace) -> int:
    from ddbridge.sound.audio import load_audio

    count = _count(args.count)
    seconds = _positive("--seconds", args.seconds)
    if args.via_daemon:
        fields = {"source": _absolute(args.input), "seconds": seconds, "count": count}
        return _via_daemon(args, "extend", prepare_output(args), **fields)
    source, rate = load_audio(args.input)
    folder = prepare_output(args)
    seeds = seeds_for(args.seed, count)
    from ddbridge.diffusion import tasks

    bundle = load_for_rendering(args)
    with progress_bar("extend") as progress:
        batch = tasks.extend(bundle, source, rate, seconds, count, seeds=seeds, progress=progress, **task_options(args))
    meta = {"task": "extend", "source": str(Path(args.input).resolve()), "extend_seconds": seconds}
    write_results(args, folder, bundle, batch, f"{source_stem(args.input)}_ext", seeds, meta)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``generate``, ``variate``, ``interpolate`` and ``extend`` commands."""
    p = subparsers.add_parser("generate", help="render new sounds from noise")
    p.add_argument("--count", type=int, default=1, help="how many sounds (default: 1)")
    p.add_argument("--seconds", type=float, help="length in seconds (default: the model's sample size)")
    p.add_argument("--bpm", type=float, help="tempo for --bars")
    p.add_argument("--bars", type=float, help="length in 4/4 bars at --bpm")
    p.add_argument(
        "--genre",
        help="a loop's genre (with --category loop): house, techno, hiphop, trap, breakbeat, dnb, electro or any",
    )
    p.add_argument(
        "--note",
        help="retune a one-shot to this root note: a name (C2, F#1, Bb0; C4 is middle C) or a MIDI number 0-127; "
        "a sound without a clear pitch is left as it is",
    )
    add_render_options(p)
    p.set_defaults(func=run_generate)

    p = subparsers.add_parser("variate", help="render variations of an audio file")
    p.add_argument("input", help="WAV/AIFF/FLAC file to vary")
    add_source_region(p)
    p.add_argument("--strength", type=float, default=0.7, help="how far from the input, in (0, 1] (default: 0.7)")
    p.add_argument("--count", type=int, default=1, help="how many variations (default: 1)")
    add_render_options(p)
    p.set_defaults(func=run_variate)

    p = subparsers.add_parser("interpolate", help="render sounds between two audio files")
    p.add_argument("input_a", metavar="A", help="the sound at position 0")
    p.add_argument("input_b", metavar="B", help="the sound at position 1")
    p.add_argument(
        "--positions", type=float, nargs="+", default=[0.5], help="positions in [0, 1], one file each (default: 0.5)"
    )
    add_render_options(p)
    p.set_defaults(func=run_interpolate)

    p = subparsers.add_parser("extend", help="continue an audio file with new material")
    p.add_argument("input", help="WAV/AIFF/FLAC file to continue")
    p.add_argument("--seconds", type=float, required=True, help="how many seconds to add")
    p.add_argument("--count", type=int, default=1, help="how many continuations (default: 1)")
    add_render_options(p)
    p.set_defaults(func=run_extend)
