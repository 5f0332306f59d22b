"""``ddbridge models``: list, inspect, trim and convert models."""

from __future__ import annotations

import argparse
from pathlib import Path

from ddbridge.protocol.errors import ModelLoadError, PathRefused


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``models`` and its actions to the CLI."""
    parser = subparsers.add_parser("models", help="list, inspect, trim and convert models")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="named models: released, your own and the bundled default")
    listing.set_defaults(func=_list)

    info = actions.add_parser("info", help="shape, size and sample rate of a model")
    info.add_argument("source", help="model name, path (.ckpt, diffusers folder, ddbridge folder) or hub id")
    _trust_flag(info)
    info.set_defaults(func=_info)

    trim = actions.add_parser("trim", help="keep only the EMA weights of a training checkpoint (~4x smaller)")
    trim.add_argument("input", type=Path, help="original training .ckpt")
    trim.add_argument("output", type=Path, help="new .ckpt to write (never overwritten)")
    _trust_flag(trim)
    trim.set_defaults(func=_trim)

    convert = actions.add_parser("convert", help="write a model in ddbridge's own format (safetensors + JSON)")
    convert.add_argument("source", help="model name, path or hub id")
    convert.add_argument("output", type=Path, help="folder, or NAME.safetensors for a file pair (never overwritten)")
    convert.add_argument("--name", help="name stored with the model (default: the source's)")
    convert.add_argument("--sample-rate", type=int, help="sample rate the model was trained at, if the source lacks it")
    convert.add_argument("--sample-size", type=int, help="training length in samples, if the source lacks it")
    _trust_flag(convert)
    convert.set_defaults(func=_convert)


def _trust_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trust-checkpoint",
        action="store_true",
        help="allow checkpoints that pickle Python objects (can run code: only for files you trust)",
    )


def _list(args: argparse.Namespace) -> int:
    from ddbridge.model.registry import list_models, models_dir

    rows = [("NAME", "KIND", "RATE", "SIZE", "STATUS", "PATH")]
    for e in list_models():
        rate = f"{e.sample_rate}" if e.sample_rate else "?"
        size = f"{e.sample_size}" if e.sample_size else "?"
        rows.append((e.name, e.kind, rate, size, "present" if e.path else "missing", str(e.path or "")))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print(("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1]).rstrip())
    print(f"\nmodels folder: {models_dir()}  (missing released models: put NAME.ckpt there, or load harmonai/NAME)")
    return 0


def _info(args: argparse.Namespace) -> int:
    from ddbridge.model.checkpoints import load_model
    from ddbridge.model.weights import describe

    bundle = load_model(args.source, trust_pickle=args.trust_checkpoint)
    info = dict(bundle.info)
    params = bundle.net.num_parameters()
    rows = [
        ("name", bundle.name),
        ("format", info.pop("format", "?") + (f" ({info.pop('weights')} weights)" if "weights" in info else "")),
        ("source", info.pop("source", "?")),
        ("sample rate", f"{bundle.sample_rate} Hz"),
        ("sample size", f"{bundle.sample_size} samples ({bundle.sample_size / bundle.sample_rate:.2f} s)"),
        ("network", describe(bundle.net.config)),
        ("signal", f"{bundle.representation.config.describe()}; {bundle.audio_channels}-channel audio"),
        ("parameters", f"{params:,} ({params * 4 / 1e6:.0f} MB as float32)"),
        ("length step", f"{bundle.stride} samples"),
        ("categories", ", ".join(bundle.categories) or "none (unconditional)"),
        ("defaults", f"{bundle.default_sampler}, {bundle.default_steps} steps, guidance {bundle.default_guidance:g}"),
        ("diffusers", _diffusers_note(bundle)),
    ]
    assumed = info.pop("assumed", None)
    for shown in ("default_sampler", "default_steps", "default_guidance", "representation", "data_scale"):
        info.pop(shown, None)
    rows += [(str(k).replace("_", " "), str(v)) for k, v in info.items()]
    width = max(len(k) for k, _ in rows) + 1
    for key, value in rows:
        print(f"{key + ':':<{width}} {value}")
    if assumed:
        print(f"note: the file does not record its {' or '.join(assumed)}; assumed training defaults")
    return 0


def _diffusers_note(bundle) -> str:
    from ddbridge.model.diffusers_format import diffusers_incompatibility

    if bundle.representation.config.kind != "waveform":
        return "its signal is sub-bands, not audio (a diffusers pipeline would play the bands)"
    return diffusers_incompatibility(bundle.net.config) or "convertible"


def _trim(args: argparse.Namespace) -> int:
    from ddbridge.model.original_format import trim_checkpoint
    from ddbridge.model.weights import describe

    if not args.input.is_file():
        raise ModelLoadError(f"checkpoint not found: {args.input}")
    _refuse_existing(args.output)
    config = trim_checkpoint(args.input, args.output, trust_pickle=args.trust_checkpoint)
    before, after = args.input.stat().st_size, args.output.stat().st_size
    print(f"wrote {args.output}: {_gb(after)} (from {_gb(before)}), {describe(config)} network, EMA weights")
    return 0


def _convert(args: argparse.Namespace) -> int:
    from ddbridge.model.checkpoints import load_model, save_model

    _refuse_existing(args.output)
    bundle = load_model(
        args.source, trust_pickle=args.trust_checkpoint, sample_rate=args.sample_rate, sample_size=args.sample_size
    )
    if args.name:
        bundle.name = args.name
    save_model(bundle, args.output)
    print(f"wrote {args.output}: '{bundle.name}', {bundle.sample_rate} Hz, {bundle.sample_size} samples")
    if "assumed" in bundle.info:
        print(f"note: {' and '.join(bundle.info['assumed'])} assumed; pass --sample-rate/--sample-size if wrong")
    return 0


def _refuse_existing(path: Path) -> None:
    if path.exists():
        raise PathRefused(f"{path} already exists; remove it or choose another name")


def _gb(size: int) -> str:
    return f"{size / 1e9:.2f} GB" if size >= 1e8 else f"{size / 1e6:.1f} MB"
