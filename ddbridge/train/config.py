"""The settings of a training run (no torch import, so the CLI can show them cheaply)."""

from __future__ import annotations

from dataclasses import dataclass

from ddbridge.protocol.errors import BadRequest

DEFAULT_SAMPLE_RATE = 22050
DEFAULT_SAMPLE_SIZE = 16384
# Settings that may change when a run is resumed; everything else comes from the checkpoint.
RUN_FIELDS = (
    "out", "steps", "device", "threads", "bf16", "log_every", "checkpoint_every", "keep_checkpoints",
    "demo_every", "demo_steps", "default_sampler", "default_steps", "default_guidance", "export", "name",
    "augment", "balance", "category_weights", "band_weights", "band_mu", "lr",
)  # fmt: skip
# Run settings that a resumed run keeps from its checkpoint unless they are given (None: not given).
KEPT_UNLESS_GIVEN = ("band_weights", "band_mu", "category_weights", "lr")
DEFAULT_LR = 2e-4
REPRESENTATIONS = ("waveform", "pqmf", "patch")


@dataclass
class TrainConfig:
    """Everything a training run needs.

    The network shape (``depth``, ``channels``, ``attn_layers``, ``level_conditioning``) applies to
    training from scratch; with ``init`` the loaded model's shape is kept. ``sample_rate`` and
    ``sample_size`` None mean the loaded model's, else ``DEFAULT_SAMPLE_RATE``/``DEFAULT_SAMPLE_SIZE``.
    ``class_cond`` None means "when the data has labels". ``data_scale`` multiplies the audio
    before the diffusion sees it (None: the ``init`` model's, else 1, as in the released models);
    quiet one-shots scaled up leave less residual noise. ``representation`` is the signal the network
    sees (``waveform``, or ``pqmf``/``patch`` sub-bands: ``bands`` per audio channel, each scaled by
    its peak over the data, measured when the run starts, then mu-law companded with ``mu``; 0 = off;
    None: the ``init`` model's, else 0; a fine-tune may change it, the network then adapts).
    ``band_mu`` companding of the first bands of every channel instead of ``mu`` (None: the ``init``
    model's, else none); a resumed run or a fine-tune may change it, the network then adapts.
    ``band_weights`` weighs the loss of the first bands of every channel (the rest: 1; normalised to a
    mean of 1), e.g. to spend more of the network on band 0, where kicks and toms live. ``lr`` None
    means ``DEFAULT_LR``. ``augment`` varies pitch, tilt, gain and decay and chokes open hats into
    closed ones; ``balance`` draws every category equally often, or as often as ``category_weights``
    says (unnamed ones: 1; weights imply ``balance``). A resumed run keeps its checkpoint's
    ``KEPT_UNLESS_GIVEN`` (``lr``, ``band_weights``, ``band_mu``, ``category_weights``) unless given.
    ``default_sampler``/``default_steps``/``default_guidance`` None mean the ``init`` model's sampler
    defaults, else the bundle defaults. ``loops`` trains a loop network on a ``ddbridge data loops`` set:
    whole loops, circular padding, conditioned on genre and on the beat grid.
    """

    out: str
    data: str | None = None
    init: str | None = None
    resume: str | None = None
    name: str | None = None
    depth: int = 9
    channels: str = "16,16,32,32,64,64,128,128,256"
    attn_layers: int = 2
    level_conditioning: bool = True
    sample_rate: int | None = None
    sample_size: int | None = None
    class_cond: bool | None = None
    data_scale: float | None = None
    random_crop: bool = False
    loops: bool = False
    audio_channels: int = 2
    representation: str = "waveform"
    bands: int = 16
    mu: float | None = None
    band_scales: list[float] | None = None
    band_weights: list[float] | None = None
    band_mu: list[float] | None = None
    augment: bool = False
    balance: bool = False
    category_weights: dict[str, float] | None = None
    steps: int = 10000
    batch_size: int = 8
    lr: float | None = None
    lr_warmup: int = 100
    weight_decay: float = 1e-2
    ema_decay: float = 0.999
    grad_clip: float = 1.0
    class_dropout: float = 0.1
    seed: int = 0
    device: str = "auto"
    threads: int | None = None
    bf16: bool = True
    log_every: int = 100
    checkpoint_every: int = 1000
    keep_checkpoints: int = 3
    demo_every: int = 0
    demo_steps: int = 25
    default_sampler: str | None = None
    default_steps: int | None = None
    default_guidance: float | None = None
    export: bool = True

    @property
    def hop(self) -> int:
        """Audio samples per network frame: the bands per channel of a sub-band representation, else 1."""
        return 1 if self.representation == "waveform" else self.bands

    def check(self) -> TrainConfig:
        """Return self, or raise BadRequest naming the first out-of-range setting."""
        rules = [
            ("steps", self.steps >= 1, ">= 1"),
            ("batch_size", self.batch_size >= 1, ">= 1"),
            ("lr", self.lr is None or self.lr > 0, "> 0"),
            ("lr_warmup", self.lr_warmup >= 0, ">= 0"),
            ("weight_decay", self.weight_decay >= 0, ">= 0"),
            ("ema_decay", 0 <= self.ema_decay < 1, "in [0, 1)"),
            ("grad_clip", self.grad_clip >= 0, ">= 0 (0 = off)"),
            ("class_dropout", 0 <= self.class_dropout <= 1, "in [0, 1]"),
            ("seed", self.seed >= 0, ">= 0"),
            ("depth", self.depth >= 1, ">= 1"),
            ("attn_layers", self.attn_layers >= 0, ">= 0"),
            ("sample_rate", self.sample_rate is None or self.sample_rate > 0, "> 0"),
            ("sample_size", self.sample_size is None or self.sample_size > 0, "> 0"),
            ("data_scale", self.data_scale is None or 0 < self.data_scale < 1e3, "in (0, 1000)"),
            ("audio_channels", self.audio_channels in (1, 2), "1 or 2"),
            ("representation", self.representation in REPRESENTATIONS, "one of " + ", ".join(REPRESENTATIONS)),
            ("bands", self.bands >= 2 and not self.bands & (self.bands - 1), "a power of two >= 2"),
            ("mu", self.mu is None or 0 <= self.mu <= 1e5, "in [0, 100000]"),
            ("threads", self.threads is None or self.threads >= 1, ">= 1"),
            ("log_every", self.log_every >= 0, ">= 0"),
            ("checkpoint_every", self.checkpoint_every >= 0, ">= 0"),
            ("keep_checkpoints", self.keep_checkpoints >= 1, ">= 1"),
            ("demo_every", self.demo_every >= 0, ">= 0"),
            ("demo_steps", self.demo_steps >= 1, ">= 1"),
            ("default_guidance", self.default_guidance is None or 0 <= self.default_guidance <= 30, "in [0, 30]"),
        ]
        weights = self.band_weights or []
        rules.append(("band_weights", len(weights) <= self.bands and all(w > 0 for w in weights),
                      f"at most {self.bands} positive numbers (one per band)"))  # fmt: skip
        mus = self.band_mu or []
        rules.append(("band_mu", len(mus) <= self.bands and all(0 <= m <= 1e5 for m in mus),
                      f"at most {self.bands} numbers in [0, 100000] (one per band)"))  # fmt: skip
        rules.append(("category_weights", all(w > 0 for w in (self.category_weights or {}).values()),
                      "positive numbers, e.g. clap=2"))  # fmt: skip
        for name, ok, want in rules:
            if not ok:
                raise BadRequest(f"{name.replace('_', '-')} must be {want}, got {getattr(self, name)}")
        return self
