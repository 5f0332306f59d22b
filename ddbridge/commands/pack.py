"""``ddbridge pack SPEC --out DIR``: build a sample pack from a TOML spec, here or on a Ray cluster."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "pack",
        help="build a sample pack (categories, counts, loops at BPMs) from a TOML spec",
        description="Build a sample pack: finished, loudness-matched sounds, near-duplicates and off-category "
        "sounds dropped, foldered, with manifest.csv/json and LICENSE.txt. Run it again to resume.",
    )
    p.add_argument("spec", help="the pack's TOML spec (see the README, 'Sample packs')")
    p.add_argument("--out", required=True, metavar="DIR", help="folder the pack's folder goes into")
    p.add_argument("--ray", metavar="ADDRESS", help="run on a Ray cluster: its address, auto, or local (start one)")
    p.add_argument("--workers", type=int, default=0, help="Ray actors (default: one per GPU, else per CPU)")
    p.add_argument("--device", default="auto", help="auto, cuda, mps or cpu (without --ray)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ddbridge.packs.builder import PackBuilder, local_backend
    from ddbridge.packs.spec import load_spec
    from ddbridge.protocol.errors import BadRequest

    spec = load_spec(args.spec)
    out = Path(args.out).expanduser()
    if not out.is_dir():
        raise BadRequest(f"--out {out} is not an existing folder")
    if args.ray:
        from ddbridge.packs.ray_backend import ray_backend

        backend = ray_backend(spec, args.ray, args.workers)
    else:
        backend = local_backend(spec, args.device)
    summary = PackBuilder(spec, out).build(backend)
    print(
        f"{summary['pack']}: {summary['kept']} of {summary['planned']} sounds kept; "
        f"off-category {summary['off_category']} ({summary['off_category_rate']:.1%}), "
        f"near-duplicates {summary['duplicate']} ({summary['duplicate_rate']:.1%}) -> {out / spec.name}"
    )
    return 0
