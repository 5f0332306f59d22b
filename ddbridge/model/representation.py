"""How audio becomes the signal a network is trained on, and back.

``waveform`` (every released Dance Diffusion model): the audio itself times the model's data scale.
``pqmf``: a 16-band pseudo-QMF filter bank (full band at 1/16 of the frame rate), each band divided
by its own scale and companded (mu-law), so the quiet tail of a drum hit sits near zero where the
network's small errors expand to almost nothing. ``patch``: the same without filters, the audio cut
into ``bands``-sample patches (lossless, no band separation). Both sub-band kinds pad ``lead`` frames
of silence on each side (not for loops, which wrap), so a hit that starts at sample 0 reconstructs.

A model stores its representation as ``info["representation"]`` (absent: ``waveform``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from ddbridge.model.subband import PQMF
from ddbridge.protocol.errors import ModelLoadError

KINDS = ("waveform", "pqmf", "patch")
EXPAND_LIMIT = 1.25  # companded values past this (4x a band's peak at mu 255) are the network going astray


@dataclass(frozen=True)
class RepresentationConfig:
    """What is stored with a model. ``band_scales`` (one per band, audio units) and ``mu`` (0: no
    companding) apply to the sub-band kinds; ``band_mu`` overrides ``mu`` for the first bands of every
    channel (e.g. a gentler mu on band 0, where a loud kick's level would swing with the network's smallest
    errors); ``data_scale`` multiplies the final signal for every kind."""

    kind: str = "waveform"
    bands: int = 1
    taps: int = 0
    band_scales: tuple[float, ...] = ()
    mu: float = 0.0
    band_mu: tuple[float, ...] = ()
    data_scale: float = 1.0
    lead: int = 0

    @classmethod
    def from_info(cls, info: dict) -> RepresentationConfig:
        """The representation a model's ``info`` describes (legacy models: waveform with their ``data_scale``)."""
        raw = info.get("representation")
        scale = float(info.get("data_scale", 1.0))
        if raw is None:
            return cls(data_scale=scale)
        if not isinstance(raw, dict) or raw.get("kind") not in KINDS:
            raise ModelLoadError(f"unknown signal representation {raw!r}; this ddbridge knows {', '.join(KINDS)}")
        known = {k: raw[k] for k in ("kind", "bands", "taps", "mu", "lead") if k in raw}
        cfg = cls(
            **known,
            band_scales=tuple(float(s) for s in raw.get("band_scales", ())),
            band_mu=tuple(float(m) for m in raw.get("band_mu", ())),
            data_scale=scale,
        )
        return cfg.check()

    def to_info(self) -> dict:
        """The JSON-able form stored as ``info["representation"]`` (``data_scale`` is stored beside it)."""
        out = asdict(self)
        out.pop("data_scale")
        out["band_scales"] = list(self.band_scales)
        if self.band_mu:
            out["band_mu"] = list(self.band_mu)
        else:
            del out["band_mu"]  # a model without it stores what models always stored
        return out

    def describe(self) -> str:
        """One line for people, e.g. ``16-band PQMF (513 taps), mu-law 255, per-band scales, data scale 1``."""
        if self.kind == "waveform":
            return f"waveform, data scale {self.data_scale:g}"
        bands = f"{self.bands}-band PQMF ({self.taps} taps)" if self.kind == "pqmf" else f"{self.bands}-sample patches"
        companding = f"mu-law {self.mu:g}" if self.mu else "linear"
        if self.band_mu:
            companding += " (" + ", ".join(f"band {i}: {m:g}" for i, m in enumerate(self.band_mu)) + ")"
        return f"{bands}, {companding}, per-band scales, data scale {self.data_scale:g}"

    def check(self) -> RepresentationConfig:
        """Self, or ``ModelLoadError`` naming what a stored representation gets wrong."""
        if self.kind == "waveform":
            return self
        if self.bands < 2 or self.bands & (self.bands - 1):
            raise ModelLoadError(f"{self.kind} representation needs a power-of-two band count >= 2, got {self.bands}")
        if self.band_scales and (len(self.band_scales) != self.bands or min(self.band_scales) <= 0):
            raise ModelLoadError(f"{self.kind} representation needs {self.bands} positive band scales")
        if self.mu < 0 or self.lead < 0 or not math.isfinite(self.mu):
            raise ModelLoadError("representation mu and lead must be >= 0")
        if len(self.band_mu) > self.bands or not all(0 <= m < math.inf for m in self.band_mu):
            raise ModelLoadError(f"representation band_mu must be at most {self.bands} numbers >= 0")
        return self


class Representation:
    """Audio ``[B, C, L]`` <-> network signal ``[B, C * hop, frames]`` for one model."""

    def __init__(self, config: RepresentationConfig) -> None:
        self.config = config.check()
        self.hop = config.bands if config.kind != "waveform" else 1
        self.lead = config.lead if config.kind != "waveform" else 0
        self.pqmf = PQMF(config.bands, config.taps or None) if config.kind == "pqmf" else None

    def frames(self, length: int, net_stride: int, loop: bool = False) -> int:
        """Network frames for ``length`` audio samples (a multiple of ``hop``), lead padding included, rounded up
        to the stride."""
        frames = length // self.hop + (0 if loop else 2 * self.lead)
        return -(-frames // net_stride) * net_stride

    def encode(self, audio: torch.Tensor, frames: int, loop: bool = False) -> torch.Tensor:
        """Audio ``[B, C, L]`` (``L`` a multiple of ``hop``) as the network's signal of ``frames`` frames."""
        cfg = self.config
        if cfg.kind == "waveform":
            return F.pad(audio, (0, frames - audio.shape[-1])) * cfg.data_scale
        pad_left = 0 if loop else self.lead * self.hop
        x = F.pad(audio, (pad_left, frames * self.hop - audio.shape[-1] - pad_left))
        bands = self._split(x, loop)
        return self._compand(bands) * cfg.data_scale

    def decode(self, signal: torch.Tensor, length: int, loop: bool = False) -> torch.Tensor:
        """The network's signal back to audio ``[B, C, length]`` (float32)."""
        cfg = self.config
        signal = signal.float() / cfg.data_scale
        if cfg.kind == "waveform":
            return signal[..., :length]
        audio = self._join(self._expand(signal), loop)
        start = 0 if loop else self.lead * self.hop
        return audio[..., start : start + length]

    def keep_frames(self, keep: torch.Tensor, frames: int, loop: bool = False) -> torch.Tensor:
        """A per-sample keep mask ``[L]`` as a per-frame mask ``[frames]``: a frame is kept when all its samples
        are; the padding frames on each side follow the sample next to them."""
        per_frame = keep[: keep.shape[0] // self.hop * self.hop].reshape(-1, self.hop).all(dim=1)
        left = 0 if loop else self.lead
        right = frames - per_frame.shape[0] - left
        return torch.cat([per_frame[:1].expand(left), per_frame, per_frame[-1:].expand(right)])

    def _scales(self, like: torch.Tensor) -> torch.Tensor:
        scales = self.config.band_scales or (1.0,) * self.hop
        channels = like.shape[1] // self.hop
        return torch.tensor(scales, dtype=like.dtype, device=like.device).repeat(channels)[None, :, None]

    def _split(self, audio: torch.Tensor, loop: bool) -> torch.Tensor:
        if self.pqmf is not None:
            return self.pqmf.to(audio.device).encode(audio, circular=loop)
        b, c, n = audio.shape
        return audio.reshape(b, c, n // self.hop, self.hop).transpose(2, 3).reshape(b, c * self.hop, n // self.hop)

    def _join(self, bands: torch.Tensor, loop: bool) -> torch.Tensor:
        if self.pqmf is not None:
            return self.pqmf.to(bands.device).decode(bands, circular=loop)
        b, ch, f = bands.shape
        c = ch // self.hop
        return bands.reshape(b, c, self.hop, f).transpose(2, 3).reshape(b, c, f * self.hop)

    def _companding(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per network channel mu and log1p(mu), ``[1, C * hop, 1]`` each: ``band_mu`` for the first bands of
        every channel, else ``mu`` (0: linear)."""
        mus = list(self.config.band_mu) + [self.config.mu] * (self.hop - len(self.config.band_mu))
        mus = torch.tensor(mus, dtype=torch.float64).repeat(like.shape[1] // self.hop)[None, :, None]
        return mus.to(like), torch.log1p(mus).to(like)

    def _compand(self, bands: torch.Tensor) -> torch.Tensor:
        z = bands / self._scales(bands)
        mus, logs = self._companding(z)
        companded = torch.sign(z) * torch.log1p(mus * z.abs()) / logs.clamp_min(1e-12)
        return torch.where(mus > 0, companded, z)

    def _expand(self, y: torch.Tensor) -> torch.Tensor:
        mus, logs = self._companding(y)
        limited = y.clamp(-EXPAND_LIMIT, EXPAND_LIMIT)
        expanded = torch.sign(limited) * torch.expm1(limited.abs() * logs) / mus.clamp_min(1e-12)
        return torch.where(mus > 0, expanded, y) * self._scales(y)


def measure_band_scales(config: RepresentationConfig, batches: Iterable[torch.Tensor]) -> tuple[float, ...]:
    """Per-band scales for ``config``'s bands from training audio (batches ``[N, C, L]``): each band's peak."""
    rep = Representation(RepresentationConfig(kind=config.kind, bands=config.bands, taps=config.taps))
    peaks = torch.zeros(rep.hop)
    for audio in batches:
        n, c, length = audio.shape
        bands = rep._split(audio[..., : length // rep.hop * rep.hop].float(), loop=False)
        peaks = torch.maximum(peaks, bands.reshape(n, c, rep.hop, -1).abs().amax(dim=(0, 1, 3)))
    return tuple(max(float(v), 1e-6) for v in peaks)
