"""A pseudo-QMF filter bank: audio ``[B, C, L]`` <-> critically sampled sub-bands ``[B, C * bands, L / bands]``.

Cosine-modulated from one Kaiser-windowed low-pass prototype whose cutoff is tuned for near-perfect
reconstruction (Nguyen's criterion: the prototype's autocorrelation vanishes at multiples of
``2 * bands``). Both directions are zero-phase around the filter centre, so band frame ``m`` sits at
audio sample ``m * bands``. ``circular=True`` wraps the signal (loops); otherwise it is zero outside.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
import torch.nn.functional as F
from scipy import optimize, signal


@functools.lru_cache(maxsize=8)
def prototype(bands: int, taps: int, attenuation_db: float) -> np.ndarray:
    """The low-pass prototype (odd ``taps``) with the cutoff that minimises the aliasing of its autocorrelation."""
    beta = signal.kaiser_beta(attenuation_db)

    def filt(cutoff: float) -> np.ndarray:
        return signal.firwin(taps, cutoff, window=("kaiser", beta), fs=2.0)

    def alias(cutoff: float) -> float:
        auto = np.correlate(filt(cutoff), filt(cutoff), mode="full")
        centre = taps - 1
        lags = np.arange(centre % (2 * bands), len(auto), 2 * bands)
        return float(np.max(np.abs(auto[lags[lags != centre]])))

    best = optimize.minimize_scalar(alias, bounds=(0.2 / bands, 1.0 / bands), method="bounded", options={"xatol": 1e-9})
    return filt(float(best.x))


@functools.lru_cache(maxsize=8)
def filters(bands: int, taps: int, attenuation_db: float) -> tuple[np.ndarray, np.ndarray]:
    """Analysis and synthesis filters, each ``[bands, taps]``."""
    h = prototype(bands, taps, attenuation_db)
    n = np.arange(taps) - (taps - 1) / 2
    k = np.arange(bands)[:, None]
    phase = (-1.0) ** k * math.pi / 4
    arg = (2 * k + 1) * math.pi / (2 * bands) * n
    return 2 * h * np.cos(arg + phase), 2 * h * np.cos(arg - phase)


class PQMF(torch.nn.Module):
    """``bands`` sub-bands (a power of two) with ``taps``-long filters (odd; default ``32 * bands + 1``, which
    for 16 bands gives a stop band below -100 dB and 55-62 dB reconstruction SNR on drum hits)."""

    def __init__(self, bands: int = 16, taps: int | None = None, attenuation_db: float = 100.0) -> None:
        super().__init__()
        if bands < 2 or bands & (bands - 1):
            raise ValueError(f"bands must be a power of two >= 2, got {bands}")
        taps = taps or 32 * bands + 1
        if taps % 2 == 0 or taps <= bands:
            raise ValueError(f"taps must be odd and larger than bands, got {taps}")
        self.bands, self.taps, self.attenuation_db = bands, taps, float(attenuation_db)
        analysis, synthesis = filters(bands, taps, self.attenuation_db)
        # conv1d correlates, so the analysis filters are flipped; conv_transpose1d convolves.
        self.register_buffer("analysis", torch.from_numpy(analysis[:, None, ::-1].copy()).float(), persistent=False)
        self.register_buffer("synthesis", torch.from_numpy(synthesis[:, None, :].copy()).float(), persistent=False)

    @property
    def centre(self) -> int:
        return (self.taps - 1) // 2

    def encode(self, audio: torch.Tensor, circular: bool = False) -> torch.Tensor:
        """``[B, C, L]`` (``L`` a multiple of ``bands``) -> ``[B, C * bands, L / bands]``, channel by channel."""
        b, c, length = audio.shape
        if length % self.bands:
            raise ValueError(f"length {length} is not a multiple of {self.bands} bands")
        x = audio.reshape(b * c, 1, length)
        pad = self.centre
        x = _wrap(x, pad, pad) if circular else F.pad(x, (pad, pad))
        y = F.conv1d(x, self.analysis.to(x.dtype), stride=self.bands)
        return y[..., : length // self.bands].reshape(b, c * self.bands, length // self.bands)

    def decode(self, bands: torch.Tensor, circular: bool = False) -> torch.Tensor:
        """``[B, C * bands, F]`` -> ``[B, C, F * bands]``; inverts :meth:`encode` up to the filters' stop band."""
        b, cb, frames = bands.shape
        c, length = cb // self.bands, frames * self.bands
        y = bands.reshape(b * c, self.bands, frames)
        out = F.conv_transpose1d(y, self.synthesis.to(y.dtype), stride=self.bands) * self.bands
        start = self.centre
        if circular:
            full = out.new_zeros(b * c, 1, length)
            for offset in range(0, out.shape[-1], length):
                piece = out[..., offset : offset + length]
                full[..., : piece.shape[-1]] += piece
            out = torch.roll(full, -start, dims=-1)
        else:
            out = out[..., start : start + length]
        return out.reshape(b, c, length)


def _wrap(x: torch.Tensor, left: int, right: int) -> torch.Tensor:
    """Circular padding by any amount (tiles the signal as often as needed)."""
    n = x.shape[-1]
    reps = -(-(left + right) // n) + 1
    tiled = x.repeat(1, 1, reps + 1)
    start = (-left) % n
    return tiled[..., start : start + n + left + right]
