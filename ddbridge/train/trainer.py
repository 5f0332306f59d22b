"""Train or fine-tune a Dance Diffusion network on a folder of audio, with exact checkpoint/resume.

The objective is Dance Diffusion's: t ~ U(0, 1), alpha, sigma = cos, sin(pi t / 2),
x_t = alpha x + sigma eps, and the network predicts v = alpha eps - sigma x. Labels are dropped
to the null class with probability ``class_dropout`` so the model supports classifier-free guidance.

Every random draw of step ``k`` (batch, crop, gain, t, noise, dropout) comes from generators seeded
by ``(seed, k)``, so a run resumed from a checkpoint continues exactly as if never interrupted.
Checkpoints are Lightning-style ``.ckpt`` files (``state_dict`` with ``diffusion.`` and
``diffusion_ema.`` weights), so ``load_model`` reads them like the released checkpoints.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ddbridge.diffusion.schedule import t_to_alpha_sigma
from ddbridge.loops.genres import GENRES
from ddbridge.model.bundle import ModelBundle
from ddbridge.model.device import pick_device
from ddbridge.model.original_format import EMA_PREFIX, TRAIN_PREFIX
from ddbridge.model.representation import Representation, measure_band_scales
from ddbridge.model.train_state import (
    STATE_KEY,
    STATE_VERSION,
    bundle_from_state,
    is_train_state,
    model_info,
    model_name,
    prefixed_weights,
    representation_config,
)
from ddbridge.model.unet import DanceDiffusionUNet, UNetConfig
from ddbridge.protocol.errors import BadRequest
from ddbridge.train.config import (
    DEFAULT_LR,
    DEFAULT_SAMPLE_RATE,
    DEFAULT_SAMPLE_SIZE,
    KEPT_UNLESS_GIVEN,
    RUN_FIELDS,
    TrainConfig,
)
from ddbridge.train.data import AudioFolder, folder_categories
from ddbridge.train.loop_data import LoopSet
from ddbridge.train.netinit import adapt_classes, new_network, parse_channels

log = logging.getLogger(__name__)
LOOP_DEFAULT_SECONDS = 2.0  # one bar at 120 BPM


@dataclass
class TrainProgress:
    """One report: after every step (``message`` None) or a notable event (log line, checkpoint, demo, export)."""

    step: int
    total: int
    loss: float
    message: str | None = None


@dataclass
class TrainResult:
    """Where a run ended: its step, the loss of every step, the last checkpoint, the exported model (if any)."""

    step: int
    losses: list[float]
    checkpoint: Path
    export: Path | None
    demos: list[Path] = field(default_factory=list)
    categories: tuple[str, ...] = ()
    seconds: float = 0.0


Progress = Callable[[TrainProgress], None]


def latest_checkpoint(path: str | Path) -> Path:
    """``path`` itself if it is a file, else the newest checkpoint in the run folder ``path``."""
    path = Path(path)
    if path.is_file():
        return path
    found = sorted((path / "checkpoints").glob("step_*.ckpt"))
    if not found:
        raise BadRequest(f"no checkpoint to resume from in '{path / 'checkpoints'}'")
    return found[-1]


def read_state(path: str | Path) -> dict:
    """A training checkpoint written by ``train`` (tensors only; nothing is unpickled)."""
    path = Path(path)
    if not path.is_file():
        raise BadRequest(f"training checkpoint not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch.load raises many types for a bad or foreign file
        raise BadRequest(
            f"{path}: not a readable training checkpoint: {str(e).splitlines()[0] if str(e) else e}"
        ) from None
    if not isinstance(state, dict) or not is_train_state(state):
        raise BadRequest(f"{path}: not a ddbridge training checkpoint (use --init to fine-tune from other models)")
    if state[STATE_KEY].get("version", 0) > STATE_VERSION:
        raise BadRequest(f"{path}: written by a newer ddbridge (state version {state[STATE_KEY]['version']})")
    return state


def _saved_config(state: dict) -> TrainConfig:
    fields = TrainConfig.__dataclass_fields__
    return TrainConfig(**{k: v for k, v in state[STATE_KEY]["config"].items() if k in fields})


def resume_config(resume: str | Path, **overrides) -> TrainConfig:
    """The configuration saved with the run at ``resume`` (a checkpoint or run folder), with run
    settings (``RUN_FIELDS`` and ``data``) replaced by ``overrides``; the rest is fixed by the checkpoint."""
    fixed = [k for k in overrides if k not in RUN_FIELDS and k != "data"]
    if fixed:
        names = ", ".join("--" + k.replace("_", "-") for k in fixed)
        raise BadRequest(f"{names} cannot change when resuming; the checkpoint fixes them")
    saved = _saved_config(read_state(latest_checkpoint(resume)))
    return dataclasses.replace(saved, **overrides, resume=str(resume))


def band_loss_weights(weights: list[float] | None, bands: int, channels: int) -> torch.Tensor:
    """Per network channel loss weights ``[channels * bands]``: ``weights`` for the first bands of every
    audio channel, 1 for the rest, scaled to a mean of 1 (so the loss keeps its size)."""
    per_band = torch.ones(bands)
    per_band[: len(weights or ())] = torch.tensor(weights or [], dtype=torch.float32)
    return (per_band / per_band.mean()).repeat(channels)


class _Run:
    """The mutable pieces of a run: network, EMA copy, optimizer, loss history, data."""

    def __init__(self, cfg: TrainConfig, progress: Progress | None) -> None:
        self.progress = progress
        self.warm_from = self.ema_from = 0
        self.demos: list[Path] = []
        state = read_state(latest_checkpoint(cfg.resume)) if cfg.resume else None
        if state is None and cfg.lr is None:
            cfg = dataclasses.replace(cfg, lr=DEFAULT_LR)
        if state is not None:
            saved = _saved_config(state)
            run_settings = {k: getattr(cfg, k) for k in RUN_FIELDS}
            run_settings |= {k: getattr(saved, k) for k in KEPT_UNLESS_GIVEN if run_settings[k] is None}
            data, scale = cfg.data or saved.data, saved.data_scale or 1.0  # runs before data scales had 1
            cfg = dataclasses.replace(saved, **run_settings, data=data, resume=cfg.resume, data_scale=scale)
        if not cfg.data:
            raise BadRequest("no training data: pass --data FOLDER")
        self.cfg = cfg = dataclasses.replace(cfg, data=str(Path(cfg.data).expanduser().resolve())).check()
        self.device = torch.device(pick_device(cfg.device))
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        if state is not None:
            self._restore(state)
            if (saved.band_mu or None) != (cfg.band_mu or None):
                self.ema_from = self.step  # re-companded: the EMA warms up again on the new signal
        else:
            self._start()
        cfg = self.cfg
        channels = self.net.config.io_channels // cfg.hop
        if cfg.loops:
            self.data: AudioFolder | LoopSet = LoopSet(cfg.data, cfg.sample_rate, self.net.stride * cfg.hop)
        else:
            self.data = AudioFolder(
                cfg.data, cfg.sample_rate, cfg.sample_size, channels,
                one_shot=not cfg.random_crop, augment=cfg.augment, balance=cfg.balance,
                category_weights=cfg.category_weights,
            )  # fmt: skip
        if cfg.hop > 1 and not cfg.band_scales:
            scales = measure_band_scales(representation_config(dataclasses.asdict(cfg)), self.data.windows())
            self.cfg = cfg = dataclasses.replace(cfg, band_scales=list(scales))
        self.rep = Representation(representation_config(dataclasses.asdict(cfg)))
        self.frames = self.rep.frames(cfg.sample_size, self.net.stride)
        if (cfg.band_weights or cfg.band_mu) and cfg.hop == 1:  # known only now: an init model brings its own
            source = f"'{cfg.init}' is a waveform model" if cfg.init else "the representation is waveform"
            option = "--band-weights" if cfg.band_weights else "--band-mu"
            raise BadRequest(f"{option} is for a sub-band representation (pqmf or patch); {source}")
        self.loss_weights = band_loss_weights(cfg.band_weights, cfg.hop, channels).to(self.device)
        self.use_labels = bool(self.net.config.num_classes) and self.data.labelled and cfg.class_cond is not False
        missing = [c for c in self.data.categories if c not in self.categories] if self.use_labels else []
        if missing:
            raise BadRequest(f"the data has categories the model lacks: {', '.join(missing)}")
        self.label_map = np.array([self.categories.index(c) for c in self.data.categories] if self.use_labels else [])

    def _start(self) -> None:
        cfg = self.cfg
        labels = GENRES if cfg.loops else folder_categories(cfg.data)
        if cfg.loops and cfg.init:
            raise BadRequest("a loop network is trained from scratch (--loops cannot take --init)")
        conditioned = bool(labels) if cfg.class_cond is None else cfg.class_cond
        if conditioned and not labels:
            raise BadRequest(
                f"class conditioning needs labelled data: put the files of '{cfg.data}' in one sub-folder per category"
            )
        if cfg.init:
            from ddbridge.model.checkpoints import load_model

            bundle = load_model(cfg.init)
            net, categories = bundle.net, bundle.categories
            scale = bundle.data_scale
            rep = bundle.representation.config
            cfg = dataclasses.replace(
                cfg, representation=rep.kind, bands=rep.bands if rep.kind != "waveform" else cfg.bands,
                mu=rep.mu if cfg.mu is None else cfg.mu,
                band_mu=(list(rep.band_mu) or None) if cfg.band_mu is None else cfg.band_mu,
                band_scales=list(rep.band_scales) or None, audio_channels=bundle.audio_channels,
            )  # fmt: skip
            sampler, steps = bundle.info.get("default_sampler"), bundle.info.get("default_steps")
            guidance = bundle.info.get("default_guidance")
            if conditioned:
                net, categories = adapt_classes(net, categories, labels, cfg.seed)
            rate, size = bundle.sample_rate, bundle.sample_size
            if bundle.info.get("assumed") and not (cfg.sample_rate and cfg.sample_size):
                log.warning(
                    "%s does not record its %s; assuming %d Hz and %d samples (set --sample-rate/--sample-size)",
                    cfg.init, " and ".join(bundle.info["assumed"]), rate, size,
                )  # fmt: skip
        else:
            config = UNetConfig(
                io_channels=cfg.audio_channels * cfg.hop,
                depth=cfg.depth,
                channels=parse_channels(cfg.channels, cfg.depth),
                n_attn_layers=cfg.attn_layers,
                level_conditioning=cfg.level_conditioning,
                num_classes=len(labels) if conditioned else 0,
                beat_conditioning=cfg.loops,
            )
            net, categories = new_network(config, cfg.seed), tuple(labels) if conditioned else ()
            net.set_loop(cfg.loops)
            rate, size, scale = DEFAULT_SAMPLE_RATE, DEFAULT_SAMPLE_SIZE, 1.0
            if cfg.loops:  # a loop network's default length: one bar at 120 BPM, to the nearest valid length
                stride = net.stride * cfg.hop
                size = max(1, round((cfg.sample_rate or rate) * LOOP_DEFAULT_SECONDS / stride)) * stride
            sampler = steps = guidance = None
        self.cfg = cfg = dataclasses.replace(
            cfg,
            sample_rate=cfg.sample_rate or rate,
            sample_size=cfg.sample_size or size,
            data_scale=cfg.data_scale or scale,
            default_sampler=cfg.default_sampler or sampler,
            default_steps=cfg.default_steps or steps,
            default_guidance=guidance if cfg.default_guidance is None else cfg.default_guidance,
        )
        _check_size(cfg.sample_size, net.stride * cfg.hop)
        self.categories = tuple(categories)
        self.net = net.to(self.device).train()
        self.ema = copy.deepcopy(self.net).requires_grad_(False)
        self.opt = self._optimizer()
        self.step, self.losses = 0, []

    def _restore(self, state: dict) -> None:
        meta = state[STATE_KEY]
        config = UNetConfig.from_dict(meta["unet"])
        self.categories = tuple(meta["categories"])
        self.net = DanceDiffusionUNet(config)
        self.net.set_loop(config.beat_conditioning)  # a loop network trains padded circularly
        ema = prefixed_weights(state, EMA_PREFIX)
        self.net.load_state_dict(prefixed_weights(state, TRAIN_PREFIX) or ema)  # a slim checkpoint: from the EMA
        self.net.to(self.device).train()
        self.ema = copy.deepcopy(self.net).requires_grad_(False)
        self.ema.load_state_dict(ema)
        self.opt = self._optimizer()
        self.step, self.losses = int(state["global_step"]), [float(x) for x in meta["losses"]]
        self.ema_from = int(meta.get("ema_from", 0))
        if "optimizer" in state:
            self.opt.load_state_dict(state["optimizer"])
        else:
            self.warm_from = self.step  # fresh optimizer moments: warm the learning rate up again

    def _optimizer(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(self.net.parameters(), lr=self.cfg.lr, weight_decay=self.cfg.weight_decay)

    def _class_labels(self, labels: np.ndarray, gen: torch.Generator) -> torch.Tensor | None:
        """Network class indices for data labels, dropped to the null class at the configured rate."""
        null = self.net.config.num_classes
        if not null:
            return None
        idx = np.where(labels >= 0, self.label_map[np.maximum(labels, 0)], null) if self.use_labels else null
        idx = np.broadcast_to(idx, labels.shape)
        drop = (torch.rand(len(labels), generator=gen) < self.cfg.class_dropout).numpy()
        return torch.from_numpy(np.where(drop, null, idx)).to(self.device)

    def train_step(self) -> float:
        cfg, step = self.cfg, self.step
        rng = np.random.default_rng([cfg.seed, step])
        gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
        extra = {}
        if cfg.loops:
            audio, labels, extra["beats"] = self.data.batch(rng, cfg.batch_size)
            frames = audio.shape[-1] // cfg.hop
            x = self.rep.encode(torch.from_numpy(audio).to(self.device), frames, loop=True)
        else:
            audio, labels = self.data.batch(rng, cfg.batch_size)
            x = self.rep.encode(torch.from_numpy(audio).to(self.device), self.frames)
        t = torch.rand(len(x), generator=gen)
        eps = torch.randn(x.shape, generator=gen).to(self.device)
        alpha, sigma = (a[:, None, None].to(self.device) for a in t_to_alpha_sigma(t))
        class_labels = self._class_labels(labels, gen)
        for group in self.opt.param_groups:
            group["lr"] = cfg.lr * min(1.0, (step - self.warm_from + 1) / max(cfg.lr_warmup, 1))
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device.type == "cuda" and cfg.bf16):
            v = self.net(x * alpha + eps * sigma, t.to(self.device), class_labels, **extra)
        loss = ((v.float() - (eps * alpha - x * sigma)).pow(2).mean(dim=(0, 2)) * self.loss_weights).mean()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), cfg.grad_clip)
        self.opt.step()
        since = step - self.ema_from
        self._update_ema(min(cfg.ema_decay, (1 + since) / (10 + since)))
        self.step += 1
        value = float(loss.item())
        self.losses.append(value)
        return value

    @torch.no_grad()
    def _update_ema(self, decay: float) -> None:
        for e, p in zip(self.ema.parameters(), self.net.parameters(), strict=True):
            e.lerp_(p, 1 - decay)

    def state(self) -> dict:
        return {
            "state_dict": {
                **{TRAIN_PREFIX + k: v for k, v in self.net.state_dict().items()},
                **{EMA_PREFIX + k: v for k, v in self.ema.state_dict().items()},
            },
            "global_step": self.step,
            "optimizer": self.opt.state_dict(),
            STATE_KEY: {
                "version": STATE_VERSION,
                "config": dataclasses.asdict(self.cfg),
                "unet": self.net.config.to_dict(),
                "categories": list(self.categories),
                "losses": self.losses,
                "ema_from": self.ema_from,
            },
        }

    def save(self) -> Path:
        """Write ``out/checkpoints/step_NNNNNNN.ckpt`` atomically and drop all but the newest few."""
        folder = Path(self.cfg.out) / "checkpoints"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"step_{self.step:07d}.ckpt"
        tmp = folder / f".{path.name}.tmp"
        torch.save(self.state(), tmp)
        os.replace(tmp, path)
        for old in sorted(folder.glob("step_*.ckpt"))[: -max(self.cfg.keep_checkpoints, 1)]:
            old.unlink()
        return path

    def bundle(self) -> ModelBundle:
        """The EMA network as a usable model (shares the EMA weights; no copy)."""
        cfg = dataclasses.asdict(self.cfg)
        info = model_info(cfg, self.step, self.losses)
        return ModelBundle(self.ema, model_name(cfg), self.cfg.sample_rate, self.cfg.sample_size, self.categories, info)

    def demo(self) -> list[Path]:
        """One hit per category (or one unconditional) from the EMA weights, into ``out/demos/step_N``."""
        from ddbridge.diffusion.tasks import generate
        from ddbridge.sound.render import write_wav

        bundle = self.bundle()
        folder = (Path(self.cfg.out) / "demos" / f"step_{self.step:07d}").resolve()
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for category in self.categories or (None,):
            audio = generate(bundle, seeds=[self.cfg.seed], steps=self.cfg.demo_steps, category=category)
            meta = {"seed": self.cfg.seed, "step": self.step, "category": category, "model": bundle.name}
            paths.append(write_wav(audio[0].numpy().T, bundle.sample_rate, folder, category or "demo", metadata=meta))
        return paths

    def report(self, loss: float, message: str | None = None) -> None:
        if self.progress is not None:
            self.progress(TrainProgress(self.step, self.cfg.steps, loss, message))


def _check_size(sample_size: int, stride: int) -> None:
    if sample_size < stride or sample_size % stride:
        lower, upper = sample_size // stride * stride, (sample_size // stride + 1) * stride
        raise BadRequest(
            f"sample size {sample_size} must be a multiple of the network stride {stride} "
            f"(nearest: {lower or upper}{f' or {upper}' if lower else ''})"
        )


def slim_state(state: dict) -> dict:
    """A training checkpoint with only its EMA weights, in half precision, and run settings (about an eighth of
    the size, for keeping in a repository): resuming from it restarts from the EMA weights with fresh
    optimizer moments and a new warm-up."""
    weights = {k: v.half() if v.is_floating_point() else v
               for k, v in state["state_dict"].items() if k.startswith(EMA_PREFIX)}  # fmt: skip
    return {**{k: v for k, v in state.items() if k != "optimizer"}, "state_dict": weights}


def export_model(state: dict, path: str | Path, name: str | None = None) -> Path:
    """Save a training checkpoint's EMA weights as a ddbridge model (folder, or ``.safetensors`` + ``.json``)."""
    from ddbridge.model.checkpoints import save_model

    return save_model(bundle_from_state(state, name), Path(path))


def train(cfg: TrainConfig, progress: Progress | None = None) -> TrainResult:
    """Run (or resume) training up to ``cfg.steps`` steps; checkpoint, demo and export along the way.

    Ctrl-C writes a checkpoint before stopping, so ``resume`` picks up where it left off.
    """
    started = time.monotonic()
    run = _Run(cfg, progress)
    cfg = run.cfg
    window_start, window_time = run.step, time.monotonic()
    try:
        while run.step < cfg.steps:
            loss = run.train_step()
            if not math.isfinite(loss):
                raise BadRequest(f"loss became {loss} at step {run.step}; lower --lr or check the data")
            run.report(loss)
            if cfg.log_every and run.step % cfg.log_every == 0:
                now = time.monotonic()
                rate = (run.step - window_start) / max(now - window_time, 1e-9)
                mean = float(np.mean(run.losses[window_start:]))
                run.report(loss, f"step {run.step}/{cfg.steps}  loss {mean:.4f}  {rate:.2f} it/s")
                window_start, window_time = run.step, now
            if cfg.checkpoint_every and run.step % cfg.checkpoint_every == 0 and run.step < cfg.steps:
                run.report(loss, f"checkpoint {run.save()}")
            if cfg.demo_every and run.step % cfg.demo_every == 0:
                paths = run.demo()
                run.demos += paths
                run.report(loss, f"demos in {paths[0].parent}")
    except KeyboardInterrupt:
        saved = run.save()
        run.report(run.losses[-1] if run.losses else float("nan"), f"interrupted; state saved to {saved}")
        raise
    checkpoint = run.save()
    last = run.losses[-1] if run.losses else float("nan")
    run.report(last, f"checkpoint {checkpoint}")
    exported = None
    if cfg.export:
        target = Path(cfg.out) / f"model-{run.step:07d}"
        if target.exists():
            run.report(last, f"model {target} already exists; not exported again")
        else:
            exported = export_model(run.state(), target)
            run.report(last, f"exported model to {exported}")
    return TrainResult(
        run.step, run.losses, checkpoint, exported, run.demos, run.categories, time.monotonic() - started
    )
