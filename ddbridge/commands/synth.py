"""``ddbridge synth``: write a labelled data set of procedural drum one-shots."""

from __future__ import annotations

import argparse
import sys

from ddbridge.categories import CATEGORIES
from ddbridge.protocol.errors import BadRequest


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "synth",
        help="write procedural drum one-shots (training data)",
        description="Write OUT/<category>/<category>_<i>.wav; hit i is rendered with seed SEED+i.",
    )
    p.add_argument("--out", required=True, help="output folder (created if missing)")
    p.add_argument("--per-category", type=int, required=True, help="hits per category")
    p.add_argument("--seed", type=int, default=0, help="seed of the first hit (default: 0)")
    p.add_argument(
        "--categories",
        nargs="+",
        metavar="CATEGORY",
        help=f"some of: {' '.join(CATEGORIES)} (default: all)",
    )
    p.add_argument("--sample-rate", type=int, default=44100, help="default: 44100")
    p.add_argument("--seconds", type=float, default=1.0, help="length of each hit (default: 1.0)")
    p.add_argument("--bit-depth", type=int, default=24, choices=(16, 24), help="default: 24")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ddbridge.cli_support import out_dir
    from ddbridge.dataset.synth import check_categories, write_dataset  # scipy: imported late

    if args.seed < 0:
        raise BadRequest(f"--seed must be >= 0, got {args.seed}")
    if args.per_category < 1:
        raise BadRequest(f"--per-category must be >= 1, got {args.per_category}")
    categories = check_categories(args.categories or CATEGORIES)
    folder = out_dir(args.out)
    total = args.per_category * len(categories)
    with tqdm(total=total, desc="synth", unit="file", file=sys.stderr, disable=None) as bar:
        paths = write_dataset(
            folder,
            args.per_category,
            seed=args.seed,
            categories=categories,
            sample_rate=args.sample_rate,
            seconds=args.seconds,
            bit_depth=args.bit_depth,
            progress=lambda done, total: bar.update(done - bar.n),
        )
    print(f"wrote {len(paths)} files to {folder}")
    return 0
