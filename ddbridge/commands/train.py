"""``ddbridge train``: train or fine-tune a model on a folder of audio; resume; export a checkpoint."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from ddbridge.protocol.errors import BadRequest
from ddbridge.train.config import DEFAULT_LR, DEFAULT_SAMPLE_RATE, DEFAULT_SAMPLE_SIZE, REPRESENTATIONS, TrainConfig

D = TrainConfig(out="")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train",
        help="train or fine-tune a model on a folder of audio",
        description="Train a Dance Diffusion model from scratch (--data) or fine-tune one (--init). Sub-folders "
        "of --data name the categories (class conditioning). Checkpoints go to OUT/checkpoints; Ctrl-C saves "
        "one; --resume continues exactly. At the end the EMA weights are exported to OUT/model-<step>.",
        argument_default=argparse.SUPPRESS,
    )
    p.add_argument("--data", help="folder of WAV/AIFF/FLAC files, one sub-folder per category for labels")
    p.add_argument("--out", help="run folder for checkpoints, demos and the exported model")
    p.add_argument("--init", help="fine-tune from this model (registry name, .ckpt, folder or hub id)")
    p.add_argument("--resume", nargs="?", const=True, metavar="CKPT", help="continue from CKPT or the newest in --out")
    p.add_argument("--name", help="exported model name (default: the --out folder's name)")
    p.add_argument("--export-only", nargs=2, metavar=("CKPT", "OUT"), help="export a training checkpoint and stop")
    p.add_argument(
        "--slim",
        nargs=2,
        metavar=("CKPT", "OUT"),
        help="write a resumable checkpoint with only the EMA weights (a quarter of the size) and stop",
    )
    p.add_argument(
        "--widen-outer",
        nargs=3,
        metavar=("FACTOR", "CKPT", "OUT"),
        help="write a resumable checkpoint whose outermost level is FACTOR times as wide, computing the same "
        "output (trained inner levels kept), and stop; resuming from it warms the learning rate up again",
    )
    n = p.add_argument_group("network (training from scratch)")
    n.add_argument("--depth", type=int, help=f"U-Net levels (default: {D.depth})")
    n.add_argument("--channels", help=f"widths per level, comma-separated (default: {D.channels})")
    n.add_argument("--attn-layers", dest="attn_layers", type=int, help=f"attention levels (default: {D.attn_layers})")
    n.add_argument(
        "--level-cond",
        dest="level_conditioning",
        action=argparse.BooleanOptionalAction,
        help="feed noise level and category to every U-Net level, not only the first "
        "(default: on; --no-level-cond keeps the released models' layout)",
    )
    n.add_argument("--sample-rate", type=int, help=f"default: the --init model's, else {DEFAULT_SAMPLE_RATE}")
    n.add_argument(
        "--sample-size", type=int, help=f"training window in samples (default: --init's, else {DEFAULT_SAMPLE_SIZE})"
    )
    n.add_argument(
        "--class-cond",
        action=argparse.BooleanOptionalAction,
        help="condition on categories (default: when the data has sub-folders)",
    )
    n.add_argument(
        "--data-scale",
        type=float,
        help="gain applied to the audio inside the diffusion (default: --init's, else 1); "
        "quiet one-shots scaled up (e.g. 4) leave less residual noise",
    )
    n.add_argument("--random-crop", action="store_true", help="random windows of long files instead of one-shots")
    n.add_argument(
        "--loops",
        action="store_true",
        help="train a loop network on a `ddbridge data loops` set: whole loops, padded circularly, conditioned "
        "on genre and on the beat grid (tempo and bars)",
    )
    n.add_argument("--audio-channels", type=int, choices=(1, 2), help=f"mono or stereo (default: {D.audio_channels})")
    n.add_argument(
        "--representation",
        choices=REPRESENTATIONS,
        help="the signal the network sees: the waveform (as the released models), or sub-bands: pqmf (a "
        "16-band filter bank: full band at 1/16 of the frame rate) or patch (the audio cut in --bands-sample "
        f"patches) (default: {D.representation})",
    )
    n.add_argument("--bands", type=int, help=f"sub-bands per audio channel (default: {D.bands})")
    n.add_argument(
        "--mu",
        type=float,
        help="mu-law companding of each sub-band, 0 = off (default: --init's, else 0; 255 keeps tails clean); "
        "with --init a new value re-compands the model's bands and the fine-tune adapts to it",
    )
    n.add_argument(
        "--band-weights",
        type=_floats,
        help="loss weights of the first sub-bands, comma-separated, the rest 1 (e.g. 4,2: band 0 counts four "
        "times, band 1 twice); may change when resuming",
    )
    n.add_argument(
        "--band-mu",
        type=_floats,
        help="mu-law companding of the first sub-bands instead of --mu, comma-separated (e.g. 15: a gentler "
        "mu on band 0, so a loud kick's level swings less with the network's errors; 0 = linear); "
        "may change when resuming or with --init: the bands are re-companded and the network adapts",
    )
    o_aug = p.add_argument_group("data")
    o_aug.add_argument(
        "--augment",
        action="store_true",
        help="vary pitch (+-3 semitones), tilt and decay, choke open hats into closed ones, and fade what "
        "runs past the window",
    )
    o_aug.add_argument("--balance", action="store_true", help="draw every category equally often")
    o_aug.add_argument(
        "--category-weights",
        type=_named_floats,
        help="draw some categories more often than others, e.g. clap=2,tom=1.5 (the rest: 1; implies "
        "--balance); may change when resuming",
    )
    o = p.add_argument_group("optimisation")
    o.add_argument("--steps", type=int, help=f"total training steps (default: {D.steps})")
    o.add_argument("--batch-size", type=int, help=f"default: {D.batch_size}")
    o.add_argument(
        "--lr", type=float, help=f"AdamW learning rate (default: {DEFAULT_LR}, or the checkpoint's when resuming)"
    )
    o.add_argument("--lr-warmup", type=int, help=f"linear warm-up steps (default: {D.lr_warmup})")
    o.add_argument("--weight-decay", type=float, help=f"default: {D.weight_decay}")
    o.add_argument("--ema-decay", type=float, help=f"EMA decay, warmed up from 0 (default: {D.ema_decay})")
    o.add_argument("--grad-clip", type=float, help=f"gradient norm clip, 0 = off (default: {D.grad_clip})")
    o.add_argument(
        "--class-dropout", type=float, help=f"share of labels dropped to the null class (default: {D.class_dropout})"
    )
    o.add_argument("--seed", type=int, help=f"default: {D.seed}")
    r = p.add_argument_group("run")
    r.add_argument("--device", help="auto, cpu, cuda or cuda:N (default: auto)")
    r.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    r.add_argument("--no-bf16", dest="bf16", action="store_false", help="full precision on CUDA")
    r.add_argument("--log-every", type=int, help=f"print mean loss and it/s every N steps (default: {D.log_every})")
    r.add_argument("--checkpoint-every", type=int, help=f"default: {D.checkpoint_every}")
    r.add_argument("--keep-checkpoints", type=int, help=f"newest checkpoints kept (default: {D.keep_checkpoints})")
    r.add_argument("--demo-every", type=int, help="render demo WAVs every N steps (default: never)")
    r.add_argument("--demo-steps", type=int, help=f"sampler steps for demos (default: {D.demo_steps})")
    r.add_argument("--default-sampler", help="sampler stored with the exported model (default: --init's, else v-iplms)")
    r.add_argument(
        "--default-steps", type=int, help="steps stored with the exported model (default: --init's, else 50)"
    )
    r.add_argument(
        "--default-guidance",
        type=float,
        help="guidance scale stored with the exported model, used when a request names a category but no scale "
        "(default: --init's, else 1)",
    )
    r.add_argument("--no-export", dest="export", action="store_false", help="do not export a model at the end")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    given = {k: v for k, v in vars(args).items() if k not in ("func", "command", "export_only", "slim", "widen_outer")}
    if getattr(args, "export_only", None):
        return export_only(*args.export_only, name=given.get("name"))
    if getattr(args, "slim", None):
        return slim_only(*args.slim)
    if getattr(args, "widen_outer", None):
        return widen_only(*args.widen_outer)
    from ddbridge.train.trainer import resume_config, train

    if "out" not in given:
        raise BadRequest("--out is required: the run folder for checkpoints and the exported model")
    resume = given.pop("resume", None)
    if resume is not None:
        cfg = resume_config(given["out"] if resume is True else resume, **given)
    else:
        cfg = TrainConfig(**given)
    reporter = _Reporter()
    signal.signal(signal.SIGTERM, _interrupt)  # a run in the background stops as Ctrl-C stops it: saved
    try:
        result = train(cfg, progress=reporter)
    finally:
        reporter.close()
    print(f"trained to step {result.step} in {result.seconds:.0f} s; checkpoint {result.checkpoint}")
    if result.export is not None:
        print(f"model: {result.export}")
    return 0


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def slim_only(checkpoint: str, out: str) -> int:
    from ddbridge.train.trainer import latest_checkpoint, read_state, slim_state

    target = _save_state(slim_state(read_state(latest_checkpoint(checkpoint))), out)
    print(f"slim checkpoint: {target} ({target.stat().st_size / 1e6:.1f} MB)")
    return 0


def widen_only(factor: str, checkpoint: str, out: str) -> int:
    from ddbridge.model.train_state import STATE_KEY
    from ddbridge.train.trainer import latest_checkpoint, read_state
    from ddbridge.train.widen import widen_state

    if not factor.isdigit():
        raise BadRequest(f"--widen-outer takes a whole factor first (e.g. 2), got '{factor}'")
    state = widen_state(read_state(latest_checkpoint(checkpoint)), int(factor))
    target = _save_state(state, out)
    widths = state[STATE_KEY]["config"]["channels"]
    print(f"widened checkpoint: {target} (channels {widths}; resume with --resume {target})")
    return 0


def _save_state(state: dict, out: str) -> Path:
    """Write a training checkpoint to ``out`` (refused if it exists) through a hidden temporary file."""
    import os

    import torch

    from ddbridge.protocol.errors import PathRefused

    target = Path(out)
    if target.exists():
        raise PathRefused(f"{target} already exists; remove it or choose another name")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    torch.save(state, tmp)
    os.replace(tmp, target)
    return target


def export_only(checkpoint: str, out: str, name: str | None = None) -> int:
    from ddbridge.train.trainer import export_model, latest_checkpoint, read_state

    path = export_model(read_state(latest_checkpoint(checkpoint)), out, name)
    print(f"model: {path}")
    return 0


class _Reporter:
    """A tqdm bar (loss, it/s) on stderr; log lines and events on stdout, above the bar."""

    def __init__(self) -> None:
        self.bar = None
        self.smoothed: float | None = None

    def __call__(self, p) -> None:
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=p.total, initial=p.step - 1, desc="train", unit="step", file=sys.stderr, disable=None)
        if p.message is not None:
            self.bar.write(p.message, file=sys.stdout)
            sys.stdout.flush()  # a run in the background logs to a file: each line as it happens
            return
        self.smoothed = p.loss if self.smoothed is None else 0.98 * self.smoothed + 0.02 * p.loss
        self.bar.set_postfix(loss=f"{self.smoothed:.4f}", refresh=False)
        self.bar.update(p.step - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _named_floats(text: str) -> dict[str, float]:
    """``clap=2,tom=1.5`` -> ``{"clap": 2.0, "tom": 1.5}`` (argparse type: a malformed list is a usage error)."""
    weights = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = None
        if not name.strip() or number is None:
            raise argparse.ArgumentTypeError(f"expected comma-separated name=number pairs, e.g. clap=2; got {text!r}")
        weights[name.strip()] = number
    return weights


def _floats(text: str) -> list[float]:
    """``4,2`` -> ``[4.0, 2.0]`` (argparse type: a malformed list is a usage error)."""
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, e.g. 4,2; got {text!r}") from None
