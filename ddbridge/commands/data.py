"""``ddbridge data build``: a labelled set of real drum one-shots from freely licensed Debian packages."""

from __future__ import annotations

import argparse
import sys
import time


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
            f"(MIT, CC0, public domain: {', '.join(PERMISSIVE)}), which may train shipped weights; --heldout "
            f"builds an evaluation-only set from the copyleft ones ({', '.join(HELDOUT)}), marked EVAL_ONLY."
        ),
    )
    b.add_argument("--out", required=True, help="output folder (new, empty, or an earlier build to replace)")
    b.add_argument("--sources", nargs="+", metavar="NAME", help="some of the set's sources (default: all of them)")
    b.add_argument("--heldout", action="store_true", help="build the evaluation-only set from copyleft kits")
    b.set_defaults(func=run_build)


def run_build(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ddbridge.categories import CATEGORIES
    from ddbridge.dataset.build import build
    from ddbridge.dataset.sources import select

    sources = select(args.sources, args.heldout)
    started = time.monotonic()
    with tqdm(desc="data", unit="job", file=sys.stderr, disable=None) as bar:

        def progress(done: int, total: int, label: str) -> None:
            bar.total = total
            bar.set_postfix_str(label[:40])
            bar.update(done - bar.n)

        report = build(args.out, sources, heldout=args.heldout, progress=progress)
    print(f"wrote {report.total} hits to {report.folder} in {time.monotonic() - started:.0f} s")
    for category in CATEGORIES:
        print(f"  {category:<11} {report.categories[category]:>5}")
    print("  by source: " + ", ".join(f"{s} {n}" for s, n in report.sources.items()))
    print(f"  dropped: {report.silent} silent renders, {report.duplicates} duplicates")
    if args.heldout:
        print("  EVAL ONLY: never train shipped weights on this set")
    return 0
