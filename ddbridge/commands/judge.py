"""``ddbridge judge``: fit the drum judge on real hits and save it, or score a saved one on unseen hits."""

from __future__ import annotations

import argparse
import json

from ddbridge.protocol.errors import BadRequest


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "judge",
        help="fit the drum judge (the classifier that checks pool candidates) or score it on real hits",
        description="The judge recognises drum categories from handcrafted features; the daemon's pool keeps only "
        "candidates it accepts. `fit DIR --out FILE` fits one on a folder that `ddbridge data build` wrote "
        "(never an evaluation-only one) and saves it; `test DIR` scores a saved judge on real hits.",
    )
    sub = p.add_subparsers(dest="action", required=True)
    fit = sub.add_parser("fit", help="fit a judge on real hits and save it as JSON")
    fit.add_argument("data", metavar="DIR", help="real hits, one sub-folder per category (ddbridge data build)")
    fit.add_argument("--out", required=True, help="the JSON file to write (shipped: ddbridge/assets/judge/drums.json)")
    fit.add_argument("--categories", metavar="LIST", help="comma-separated categories (default: the eval's drums)")
    fit.add_argument("--test", metavar="DIR", help="then score it on the real hits of DIR (kits it was not fitted on)")
    fit.add_argument(
        "--no-augment",
        dest="augment",
        action="store_false",
        help="fit on the real hits alone, without their pitched, tilted, half-open and choked variants",
    )
    fit.add_argument("--seed", type=int, default=0, help="seed of the variants' random draws (default: 0)")
    fit.set_defaults(func=run_fit)
    test = sub.add_parser("test", help="score a saved judge on the real hits of a folder")
    test.add_argument("data", metavar="DIR", help="real hits, one sub-folder per category")
    test.add_argument("--judge", help="the judge file (default: the shipped one)")
    test.add_argument("--json", action="store_true", help="print the scores as JSON")
    test.set_defaults(func=run_test)


def run_fit(args: argparse.Namespace) -> int:
    from ddbridge.train.judge_file import CATEGORIES, fit_folder, save_judge, score_folder

    categories = CATEGORIES
    if args.categories is not None:
        categories = tuple(c.strip() for c in args.categories.split(",") if c.strip())
        if len(categories) < 2:
            raise BadRequest(f"--categories needs at least two categories, got '{args.categories}'")
    judge = fit_folder(args.data, categories, augment=args.augment, seed=args.seed)
    cv = judge.info["cross_validation"]
    hits = ", ".join(f"{c} {n}" for c, n in judge.info["fitted_on"].items())
    extra = f" and {judge.info['variants']['total']} variants" if "variants" in judge.info else ""
    print(f"fitted on {sum(judge.info['fitted_on'].values())} hits ({hits}){extra}; l2 {judge.info['l2']:g}")
    chosen = cv["balanced_accuracy"][str(judge.info["l2"])]
    print(f"held out by {cv['held_out']}: {_pct(chosen)} (mean over categories)")
    if args.test is not None:
        scores = score_folder(judge, args.test)
        judge.info["tested_on"] = {k: scores[k] for k in ("hits", "per_category", "balanced", "overall")}
        print(_table(scores, args.test))
    print(f"saved {save_judge(judge, args.out)}")
    return 0


def run_test(args: argparse.Namespace) -> int:
    from ddbridge.train.judge_file import DEFAULT_JUDGE, load_judge, score_folder

    scores = score_folder(load_judge(args.judge or DEFAULT_JUDGE), args.data)
    print(json.dumps(scores, indent=2) if args.json else _table(scores, args.data))
    return 0


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _table(scores: dict, folder: str) -> str:
    mean, overall = _pct(scores["balanced"]), _pct(scores["overall"])
    lines = [f"judge on {folder}: {mean} (mean over categories), {overall} of all hits"]
    lines += [f"  {c:<11} {scores['hits'][c]:>4} hits  {_pct(a):>7}" for c, a in scores["per_category"].items()]
    return "\n".join(lines)
