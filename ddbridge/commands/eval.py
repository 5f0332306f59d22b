"""``ddbridge eval``: score a model against held-out procedural drums, or against real hits with ``--reference``."""

from __future__ import annotations

import argparse
import json

from ddbridge.protocol.errors import BadRequest


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "eval",
        help="score a model against held-out synthetic drums or a folder of real hits",
        description="Generate hits per category and compare them with held-out procedural drums: accuracy of a "
        "feature classifier, Fréchet distance and MMD of handcrafted features; the same for an untrained "
        "network of the same shape shows how far training has come. With --reference DIR (one sub-folder per "
        "category, kits in manifest.csv as `ddbridge data build` writes) the comparison is with real hits: the "
        "classifier's own accuracy on kits it was not fitted on, generated accuracy relative to it, tail levels, "
        "energy above 8 kHz, decay times, variety across seeds, near-duplicates, copies of training hits "
        "(--training), periodicity of pitched sounds, and each target with pass or fail. Choose settings and "
        "checkpoints on the permissive set's validation kits (--split valid); a copyleft held-out set only reports.",
    )
    p.add_argument("--reference", metavar="DIR", help="score against the real hits in DIR instead of synthetic drums")
    p.add_argument(
        "--loops",
        action="store_true",
        help="score the model's loops against the loops of --reference (a `ddbridge data loops` set): rhythm, "
        "tempo, seam, genre, drum bands and their balance, variety and copies, with targets relative to the reference",
    )
    p.add_argument(
        "--split",
        help="the manifest split of --reference to score against: one-shots: e.g. valid (the permissive set's "
        "validation kits; default: every hit); with --loops: default valid, a --heldout set: heldout",
    )
    p.add_argument(
        "--training",
        metavar="DIR",
        help="the data the model trained on: one-shots: a `ddbridge train --data` folder, for copies of training "
        "hits (default: none); with --loops: the loop set (genre judge, copies) (default: data/loops)",
    )
    p.add_argument("--per-genre", type=int, default=8, help="with --loops: loops generated per genre (default: 8)")
    p.add_argument(
        "--finish",
        action="store_true",
        help="with --reference: score the sounds as written to files (DC removed, faded, normalised), not raw output",
    )
    p.add_argument(
        "--categories",
        metavar="LIST",
        help="with --reference: comma-separated categories to score (default: the model's drum categories, "
        "kick, snare, clap, hat_closed, hat_open and tom, that DIR has)",
    )
    p.add_argument("--model", default="default", help="registry name, checkpoint, folder or hub id (default: default)")
    p.add_argument("--per-category", type=int, default=16, help="hits generated per category (default: 16)")
    p.add_argument("--steps", type=int, help="sampler steps (default: the model's)")
    p.add_argument("--sampler", help="sampler name (default: the model's)")
    p.add_argument("--guidance", type=float, help="classifier-free guidance scale for the model (default: the model's)")
    p.add_argument("--seed", type=int, default=0, help="seed of the first generated hit (default: 0)")
    p.add_argument(
        "--classifier-per-category",
        type=int,
        default=40,
        help="synthetic classifier training hits, without --reference (default: 40)",
    )
    p.add_argument("--no-baseline", dest="baseline", action="store_false", help="skip the untrained network")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (default: auto)")
    p.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ddbridge.cli_support import load_bundle, progress_bar
    from ddbridge.train.evaluate import evaluate

    if args.threads is not None:
        import torch

        if args.threads < 1:
            raise BadRequest(f"--threads must be >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    bundle = load_bundle(args)
    if args.loops:
        return _run_loops(args, bundle)
    if args.reference is not None:
        return _run_reference(args, bundle)
    with progress_bar("eval") as progress:
        report = evaluate(
            bundle, **_sampling(args), classifier_per_category=args.classifier_per_category, progress=progress
        )
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.table())
    return 0


def _run_reference(args: argparse.Namespace, bundle) -> int:
    from ddbridge.cli_support import progress_bar
    from ddbridge.train.real_eval import default_categories, evaluate_reference
    from ddbridge.train.reference import load_reference, load_training

    wanted = default_categories(bundle.categories)
    if args.categories is not None:
        wanted = [c.strip() for c in args.categories.split(",") if c.strip()]
        unknown = [c for c in wanted if bundle.categories and c not in bundle.categories]
        if not wanted or unknown:
            raise BadRequest(
                f"--categories must name categories of model '{bundle.name}' ({', '.join(bundle.categories)}), "
                f"got '{args.categories}'"
            )
    seconds = bundle.sample_size / bundle.sample_rate
    reference = load_reference(args.reference, seconds, wanted)
    if args.split is not None:
        reference.only(args.split)  # refuse a missing or empty split before generating anything
    training = None if args.training is None else load_training(args.training, seconds, wanted)
    with progress_bar("eval") as progress:
        report = evaluate_reference(
            bundle, reference, **_sampling(args), finish=args.finish, split=args.split, training=training,
            training_name=args.training, progress=progress,
        )  # fmt: skip
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.table())
    return 0


def _run_loops(args: argparse.Namespace, bundle) -> int:
    from pathlib import Path

    from ddbridge.cli_support import progress_bar
    from ddbridge.dataset.output import EVAL_ONLY
    from ddbridge.train.loop_eval import evaluate_loops

    if args.reference is None:
        raise BadRequest("--loops needs --reference DIR: a `ddbridge data loops` set (its valid split, or --heldout)")
    split = args.split or ("heldout" if (Path(args.reference) / EVAL_ONLY).is_file() else "valid")
    with progress_bar("eval") as progress:
        report = evaluate_loops(
            bundle, args.reference, split, args.training or "data/loops", per_genre=args.per_genre, steps=args.steps,
            sampler=args.sampler, guidance_scale=args.guidance, seed=args.seed, progress=progress,
        )  # fmt: skip
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.table())
    return 0


def _sampling(args: argparse.Namespace) -> dict:
    """What both evals generate with: hits per category, steps, sampler, guidance, seed, and the baseline switch."""
    return dict(
        per_category=args.per_category, steps=args.steps, sampler=args.sampler,
        guidance_scale=args.guidance, seed=args.seed, baseline=args.baseline,
    )  # fmt: skip
