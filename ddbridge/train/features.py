"""Handcrafted one-shot features and the distances between feature sets used for evaluation.

Features are level-independent (each hit is peak-normalized first) and mostly logarithmic so that
their distributions are close to Gaussian, which the Fréchet distance assumes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
from scipy import fft, linalg

N_MFCC = 13
N_MELS = 40
LOW_BAND_HZ = 150.0
EPS = 1e-10

FEATURE_NAMES = (
    (
        "log_centroid",
        "log_spread",
        "log_rolloff",
        "flatness",
        "low_band_ratio",
        "log_dominant",
        "log_attack",
        "log_decay",
        "temporal_centroid",
    )
    + tuple(f"mfcc_{i}" for i in range(N_MFCC))
    + tuple(f"mfcc_std_{i}" for i in range(N_MFCC))
)
# Judge features add where the energy sits up to 20 kHz and how the level falls over time.
BAND_EDGES_HZ = (0, 60, 120, 250, 500, 1000, 2000, 4000, 8000, 12000, 16000, 20000)
ENVELOPE_TIMES_S = (0.03, 0.06, 0.12, 0.25, 0.5, 0.8)
# How long the hit rings: a short tom is heard as a kick, a short open hat as a closed one.
DECAY_DB = (20, 40, 60)
ENVELOPE_WINDOW_S = 0.02  # about the ear's integration time: brief dips and blips do not count
JUDGE_FEATURE_NAMES = (
    FEATURE_NAMES
    + tuple(f"log_band_{lo}_{hi}" for lo, hi in zip(BAND_EDGES_HZ[:-1], BAND_EDGES_HZ[1:], strict=True))
    + ("log_zero_crossings",)
    + tuple(f"level_at_{t:g}s" for t in ENVELOPE_TIMES_S)
    + tuple(f"log_decay_{d}db" for d in DECAY_DB)
)


def features(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Feature vector (see ``FEATURE_NAMES``) of one hit ``[C, L]`` or ``[L]``."""
    x = np.asarray(audio, dtype=np.float64)
    x = x.mean(axis=0) if x.ndim == 2 else x
    x = x / (np.abs(x).max() + EPS)
    power, freqs = _power_spectrogram(x, sample_rate)
    spectrum = power.sum(axis=1) + EPS
    total = spectrum.sum()
    centroid = (freqs * spectrum).sum() / total
    spread = np.sqrt(((freqs - centroid) ** 2 * spectrum).sum() / total)
    rolloff = freqs[min(np.searchsorted(np.cumsum(spectrum), 0.85 * total), len(freqs) - 1)]
    flatness = np.exp(np.log(spectrum).mean()) / spectrum.mean()
    low_ratio = spectrum[freqs < LOW_BAND_HZ].sum() / total
    dominant = np.abs(np.fft.rfft(x)).argmax() * sample_rate / len(x)
    attack, decay, temporal_centroid = _envelope_times(x, sample_rate)
    mfcc = _mfcc(power, freqs, sample_rate)
    scalars = [
        np.log(centroid + 1.0),
        np.log(spread + 1.0),
        np.log(rolloff + 1.0),
        flatness,
        low_ratio,
        np.log(dominant + 1.0),
        np.log(attack + 1e-4),
        np.log(decay + 1e-3),
        temporal_centroid,
    ]
    return np.concatenate([scalars, mfcc.mean(axis=1), mfcc.std(axis=1)]).astype(np.float64)


def judge_features(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """``features`` plus the energy share per band up to 20 kHz (log10), the zero-crossing rate of the
    first 100 ms (log), the level at fixed times after the start (dB re peak / 20, floor -100 dB) and the
    times from the peak to -20, -40 and -60 dB (``decay_times``, log seconds): see ``JUDGE_FEATURE_NAMES``.
    Bands above Nyquist read as empty."""
    x = np.asarray(audio, dtype=np.float64)
    x = x.mean(axis=0) if x.ndim == 2 else x
    x = x / (np.abs(x).max() + EPS)
    power, freqs = _power_spectrogram(x, sample_rate)
    spectrum = power.sum(axis=1) + EPS
    edges = zip(BAND_EDGES_HZ[:-1], BAND_EDGES_HZ[1:], strict=True)
    bands = [np.log10(spectrum[(freqs >= lo) & (freqs < hi)].sum() / spectrum.sum() + 1e-6) for lo, hi in edges]
    start = np.signbit(x[: max(2, sample_rate // 10)])
    crossings = np.log(np.mean(start[1:] != start[:-1]) + 1e-4)
    win = max(1, sample_rate // 100)
    levels = [
        max(10 * np.log10(np.mean(x[i : i + win] ** 2) + 1e-10) if i < len(x) else -100.0, -100.0) / 20
        for i in (int(t * sample_rate) for t in ENVELOPE_TIMES_S)
    ]
    decays = np.log(np.asarray(decay_times(x, sample_rate)) + 1e-3)
    return np.concatenate([features(x, sample_rate), bands, [crossings], levels, decays])


def envelope(x: np.ndarray, sample_rate: int, window_s: float = ENVELOPE_WINDOW_S) -> np.ndarray:
    """RMS envelope of mono ``x``: the root mean square over ``window_s`` centred on each sample (silence
    beyond the ends)."""
    win = max(1, int(round(sample_rate * window_s)))
    power = np.concatenate([[0.0], np.cumsum(np.asarray(x, dtype=np.float64) ** 2)])
    start = np.arange(len(x)) - win // 2  # the window reaches past the ends into silence
    lo, hi = np.clip(start, 0, len(x)), np.clip(start + win, 0, len(x))
    return np.sqrt(np.maximum(power[hi] - power[lo], 0.0) / win)


def decay_times(audio: np.ndarray, sample_rate: int, drops_db: tuple[float, ...] = DECAY_DB) -> tuple[float, ...]:
    """Seconds from the peak of the RMS envelope (``envelope``) to the last moment it is within each of
    ``drops_db`` of the peak: after that it stays below (a clap's gaps between claps do not end it). A
    hit still above at the end of the window reads the time to the end; silence reads 0."""
    x = np.asarray(audio, dtype=np.float64)
    x = x.mean(axis=0) if x.ndim == 2 else x
    env = envelope(x, sample_rate)
    peak_i = int(env.argmax()) if len(env) else 0
    peak = env[peak_i] if len(env) else 0.0
    if peak <= 0:
        return tuple(0.0 for _ in drops_db)
    after = env[peak_i:]
    out = []
    for drop in drops_db:
        above = np.nonzero(after >= peak * 10 ** (-drop / 20))[0]
        out.append(float(above[-1] + 1) / sample_rate)
    return tuple(out)


def feature_matrix(
    hits: Iterable[np.ndarray], sample_rate: int, extract: Callable[[np.ndarray, int], np.ndarray] = features
) -> np.ndarray:
    """Stack ``extract`` (default ``features``) of several hits into ``[N, F]``."""
    return np.stack([extract(h, sample_rate) for h in hits])


def _power_spectrogram(x: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Hann-windowed power spectrogram ``[bins, frames]`` with ~23 ms frames, and the bin frequencies."""
    n_fft = int(2 ** np.ceil(np.log2(sample_rate * 0.023)))
    hop = n_fft // 4
    x = np.pad(x, (n_fft // 2, n_fft // 2 + (-len(x)) % hop))
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop]
    power = np.abs(np.fft.rfft(frames * np.hanning(n_fft), axis=1)) ** 2
    return power.T, np.fft.rfftfreq(n_fft, 1 / sample_rate)


def _envelope_times(x: np.ndarray, sample_rate: int) -> tuple[float, float, float]:
    """Attack (10 % to 90 % of the peak), decay (peak to -30 dB) in seconds, and the temporal centroid (0..1)."""
    win = max(1, int(sample_rate * 0.002))
    env = np.sqrt(np.convolve(x**2, np.ones(win) / win, mode="same"))
    peak_i = int(env.argmax())
    peak = env[peak_i] + EPS
    attack = (np.argmax(env >= 0.9 * peak) - np.argmax(env >= 0.1 * peak)) / sample_rate
    below = np.nonzero(env[peak_i:] < peak * 10 ** (-30 / 20))[0]
    decay = (below[0] if len(below) else len(env) - peak_i) / sample_rate
    energy = env**2
    temporal_centroid = (np.arange(len(env)) * energy).sum() / (energy.sum() + EPS) / len(env)
    return max(float(attack), 0.0), float(decay), float(temporal_centroid)


def _mel_filterbank(freqs: np.ndarray, sample_rate: int, n_mels: int = N_MELS) -> np.ndarray:
    """Triangular filters ``[n_mels, bins]`` evenly spaced on the mel scale up to Nyquist."""

    def mel(f: np.ndarray | float) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    edges = 700.0 * (10 ** (np.linspace(0.0, mel(sample_rate / 2), n_mels + 2) / 2595.0) - 1.0)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs - lo) / (mid - lo)
    falling = (hi - freqs) / (hi - mid)
    return np.maximum(0.0, np.minimum(rising, falling))


def _mfcc(power: np.ndarray, freqs: np.ndarray, sample_rate: int) -> np.ndarray:
    """MFCCs ``[N_MFCC, frames]`` from a power spectrogram (log floor 80 dB below the loudest band)."""
    mel = _mel_filterbank(freqs, sample_rate) @ power
    log_mel = np.log(np.maximum(mel, mel.max() * 1e-8 + EPS))
    return fft.dct(log_mel, type=2, norm="ortho", axis=0)[:N_MFCC]


class Standardizer:
    """Per-feature z-scoring fitted on a reference set."""

    def __init__(self, reference: np.ndarray) -> None:
        self.mean = reference.mean(axis=0)
        self.std = reference.std(axis=0) + 1e-8

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.std


def frechet_distance(a: np.ndarray, b: np.ndarray, eps: float = 1e-6) -> float:
    """Fréchet distance between Gaussians fitted to feature sets ``[N, F]`` and ``[M, F]``."""
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a = np.atleast_2d(np.cov(a, rowvar=False)) if len(a) > 1 else np.zeros((a.shape[1],) * 2)
    cov_b = np.atleast_2d(np.cov(b, rowvar=False)) if len(b) > 1 else np.zeros((b.shape[1],) * 2)
    ident = np.eye(len(mu_a)) * eps
    covmean = linalg.sqrtm((cov_a + ident) @ (cov_b + ident))
    trace = np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(np.real(covmean))
    return float(max(((mu_a - mu_b) ** 2).sum() + trace, 0.0))


def mmd_rbf(a: np.ndarray, b: np.ndarray) -> float:
    """Squared maximum mean discrepancy (biased, so >= 0) with an RBF kernel; bandwidth by the median heuristic."""
    pooled = np.concatenate([a, b])
    d2 = ((pooled[:, None, :] - pooled[None, :, :]) ** 2).sum(axis=-1)
    off_diag = d2[~np.eye(len(pooled), dtype=bool)]
    bandwidth2 = np.median(off_diag) if off_diag.size and np.median(off_diag) > 0 else 1.0
    k = np.exp(-d2 / (2 * bandwidth2))
    n = len(a)
    return float(max(k[:n, :n].mean() + k[n:, n:].mean() - 2 * k[:n, n:].mean(), 0.0))
