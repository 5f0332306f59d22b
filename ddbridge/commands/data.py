"""``ddbridge data build``: a labelled set of real drum one-shots from freely licensed Debian packages."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    from ddbridge.dataset.sources import HELDOUT, PERMISSIVE

    p = subparsers.add_parser("data", help="build training data from installed sample packages")
    sub = p.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    b = sub.add_parser(
        "build",
        help="render and collect real drum one-shots into one folder per category",
        description=(
            "Write OUT/<category>/<source>_<kit>_<what>.wav (mono, 44.1 kHz, 24-bit, onset at the start, "
            "peak -1 dBFS) with OUT/manifest.csv and OUT/NOTICE. By default only permissive sources "
            f"(MIT, CC0, public domain: {', '.join(PERMISSIVE)}), which may train shipped weights; whole kits "
            "form the manifest's 'valid' split, which `ddbridge train` leaves out and `ddbridge eval --split "
            f"valid` scores against. --heldout builds an evaluation-only set from the copyleft ones "
            f"({', '.join(HELDOUT)}), marked EVAL_ONLY (split 'heldout')."
        ),
    )
    b.add_argument("--out", required=True, help="output folder (new, empty, or an earlier build to replace)")
    b.add_argument("--sources", nargs="+", metavar="NAME", help="some of the set's sources (default: all of them)")
    b.add_argument("--heldout", action="store_true", help="build the evaluation-only set from copyleft kits")
    b.set_defaults(func=run_build)
    loops = sub.add_parser(
        "loops",
        help="render drum loops by genre and tempo (pattern grammar, permissive kits, Sonic Pi breaks)",
        description=(
            "Write OUT/<genre>/<source>_<kit>_<n>.flac (mono, 44.1 kHz, 16-bit, exactly bars * 4 * 60 / bpm "
            "seconds, seamless when repeated) with OUT/manifest.csv (genre, bpm, bars, kit, licence, origin, "
            "split) and OUT/NOTICE. Patterns come from ddbridge's grammar, played by the GM kits of the permissive "
            "SoundFonts (fluidsynth), by kits of procedural, model-made and Sonic Pi one-shots, plus Sonic Pi's "
            "CC0 breaks. Whole kits form the 'valid' split, which never trains. The same options give the same set."
        ),
    )
    loops.add_argument("--out", required=True, help="output folder (new, empty, or an earlier loop build to replace)")
    loops.add_argument("--per-genre", type=int, default=300, help="SoundFont loops per genre (default 300)")
    loops.add_argument("--synth-kits", type=int, default=60, help="kits of procedural one-shots (default 60)")
    loops.add_argument("--model-kits", type=int, default=30, help="kits made by the one-shot model (default 30)")
    loops.add_argument("--real-kits", type=int, default=24, help="kits of Sonic Pi's one-shots (default 24)")
    loops.add_argument("--loops-per-kit", type=int, default=12, help="loops per one-shot kit (default 12)")
    loops.add_argument("--model", default="default", help="the one-shot model that makes the model kits")
    loops.add_argument("--seed", type=int, default=0, help="everything is drawn from this seed (default 0)")
    loops.add_argument(
        "--heldout",
        action="store_true",
        help="build the evaluation-only set instead: Hydrogen's demo songs cut into bars (h2cli) and the grammar "
        "played by the copyleft Hydrogen and AVL kits; marked EVAL_ONLY",
    )
    loops.add_argument("--hits", help="with --heldout: a `data build --heldout` set to take the kits from (default: "
                       "build one)")  # fmt: skip
    loops.set_defaults(func=run_loops)


@contextmanager
def _job_bar(desc: str, unit: str) -> Iterator[Callable[[int, int, str], None]]:
    """A tqdm bar on stderr fed with ``progress(done, total, label)``, as the data builds report."""
    from tqdm import tqdm

    with tqdm(desc=desc, unit=unit, file=sys.stderr, disable=None) as bar:

        def progress(done: int, total: int, label: str) -> None:
            bar.total = total
            bar.set_postfix_str(label[:40])
            bar.update(done - bar.n)

        yield progress


def run_build(args: argparse.Namespace) -> int:
    from ddbridge.categories import CATEGORIES
    from ddbridge.dataset.build import build
    from ddbridge.dataset.sources import select

    sources = select(args.sources, args.heldout)
    started = time.monotonic()
    with _job_bar("data", "job") as progress:
        report = build(args.out, sources, heldout=args.heldout, progress=progress)
    print(f"wrote {report.total} hits to {report.folder} in {time.monotonic() - started:.0f} s")
    for category in CATEGORIES:
        valid = f"  ({report.valid[category]} valid)" if report.valid[category] else ""
        print(f"  {category:<11} {report.categories[category]:>5}{valid}")
    print("  by source: " + ", ".join(f"{s} {n}" for s, n in report.sources.items()))
    print(f"  dropped: {report.silent} silent renders, {report.duplicates} duplicates")
    if args.heldout:
        print("  EVAL ONLY: never train shipped weights on this set")
    return 0


def run_loops(args: argparse.Namespace) -> int:
    from ddbridge.dataset.loop_build import Plan, build

    if args.heldout:
        from ddbridge.dataset.loop_heldout import build_heldout

        report = build_heldout(args.out, None if args.hits is None else Path(args.hits), seed=args.seed)
        print(f"wrote {report.total} held-out loops to {report.folder} (EVAL ONLY: never train on them)")
        print("  by genre: " + ", ".join(f"{g} {n}" for g, n in sorted(report.genres.items())))
        return 0
    plan = Plan(
        soundfont_per_genre=args.per_genre, synth_kits=args.synth_kits, model_kits=args.model_kits,
        real_kits=args.real_kits, loops_per_kit=args.loops_per_kit, seed=args.seed, model=args.model,
    )  # fmt: skip
    started = time.monotonic()
    with _job_bar("loops", "run") as progress:
        report = build(args.out, plan, progress=progress)
    print(f"wrote {report.total} loops to {report.folder} in {time.monotonic() - started:.0f} s")
    print("  by genre: " + ", ".join(f"{g} {n}" for g, n in sorted(report.genres.items())))
    print("  by source: " + ", ".join(f"{s} {n}" for s, n in report.sources.items()))
    print("  by split: " + ", ".join(f"{s} {n}" for s, n in report.splits.items()))
    return 0
