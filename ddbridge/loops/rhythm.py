"""What a loop sounds like, measured: onset envelope, periodicity at the beat grid, peakiness, grid share, tempo,
the seam at the wrap, which drum bands play and how loud each is against the whole loop.

Every measure takes mono float audio of one loop period at ``rate`` and treats it as circular (the loop is
heard repeated), so an onset at the wrap counts once and is not an artefact of cutting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HOP = 256
N_FFT = 1024
SUBDIVISIONS = (1.0, 0.5, 0.25)  # beat, eighth, sixteenth
# Frequency bands (Hz) where each part of a kit lives: kick below, snare body/crack in the middle, hats on top.
PART_BANDS = {"kick": (30.0, 150.0), "snare": (150.0, 4000.0), "hat": (6000.0, 16000.0)}
PRESENT_DB = 10 * np.log10(0.005)  # a band that plays holds at least 0.5 % of the loop's energy


def _frames(audio: np.ndarray, hop: int) -> np.ndarray:
    """Circular STFT magnitudes ``[frames, bins]`` of a loop (the window wraps around its end)."""
    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    n = x.size // hop
    padded = np.concatenate([x[-N_FFT // 2 :], x, x[: N_FFT // 2 + hop]])
    idx = np.arange(N_FFT)[None, :] + hop * np.arange(n)[:, None]
    return np.abs(np.fft.rfft(padded[idx] * np.hanning(N_FFT), axis=1))


def onset_envelope(audio: np.ndarray, rate: int, hop: int = HOP, band: tuple[float, float] | None = None) -> np.ndarray:
    """Spectral flux (log magnitude, half-wave rectified, summed over bins; only ``band`` Hz if given), circular."""
    mag = _frames(audio, hop)
    if band is not None:
        freqs = np.fft.rfftfreq(N_FFT, 1 / rate)
        mag = mag[:, (freqs >= band[0]) & (freqs < band[1])]
    logmag = np.log1p(1000.0 * mag)
    return np.maximum(logmag - np.roll(logmag, 1, axis=0), 0.0).sum(axis=1)


def _autocorrelation(env: np.ndarray) -> np.ndarray:
    e = env - env.mean()
    spectrum = np.fft.rfft(e)
    ac = np.fft.irfft(spectrum * np.conj(spectrum), n=e.size)
    return ac / ac[0] if ac[0] > 0 else np.zeros_like(ac)


def _at(ac: np.ndarray, lag: float) -> float:
    """The circular autocorrelation at a fractional lag (linear interpolation)."""
    lo = int(np.floor(lag)) % ac.size
    frac = lag - np.floor(lag)
    return float((1 - frac) * ac[lo] + frac * ac[(lo + 1) % ac.size])


def periodicity(audio: np.ndarray, rate: int, bpm: float) -> float:
    """The highest autocorrelation of the onset envelope at the beat, the eighth or the sixteenth of ``bpm``."""
    ac = _autocorrelation(onset_envelope(audio, rate))
    beat = 60.0 / bpm * rate / HOP
    return max(_at(ac, beat * s) for s in SUBDIVISIONS)


def peakiness(audio: np.ndarray, rate: int) -> float:
    """The onset envelope's 95th percentile over its median: hits stand out of the texture (noise: about 1.3)."""
    env = onset_envelope(audio, rate)
    median = float(np.median(env))
    return float(np.percentile(env, 95) / median) if median > 0 else float("inf")


def onsets(audio: np.ndarray, rate: int) -> np.ndarray:
    """Onset times (s) of a loop: local maxima of the envelope standing clearly above its median."""
    env = onset_envelope(audio, rate)
    median = float(np.median(env))
    spread = float(np.median(np.abs(env - median))) + 1e-9
    threshold = median + 4 * spread
    left, right = np.roll(env, 1), np.roll(env, -1)
    peaks = np.flatnonzero((env > threshold) & (env >= left) & (env > right) & (env > 0.25 * env.max()))
    return peaks * HOP / rate


def grid_share(audio: np.ndarray, rate: int, bpm: float) -> float:
    """The share of onsets on the sixteenth grid of ``bpm``: within a fifth of a sixteenth of a grid line, or
    swung: late by up to 45 % of a sixteenth on an off-beat sixteenth, or by up to 75 % of one on an off-beat
    eighth. 0 when no onset is found."""
    times = onsets(audio, rate)
    if times.size == 0:
        return 0.0
    position = times / (60.0 / bpm / 4)  # in sixteenths
    on_grid = np.abs(position - np.round(position)) <= 0.2
    below = np.floor(position)
    late = position - below
    swung = ((below % 2 == 1) & (late <= 0.45)) | ((below % 4 == 2) & (late <= 0.75))
    return float(np.mean(on_grid | swung))


def tempo(audio: np.ndarray, rate: int, low: float = 60.0, high: float = 200.0) -> float:
    """The tempo (BPM) whose beat and two beats line up best with the onset envelope's autocorrelation,
    searched on a fine grid between ``low`` and ``high``."""
    hop = HOP // 2
    ac = _autocorrelation(onset_envelope(audio, rate, hop))
    candidates = np.arange(low, high, 0.05)
    scores = []
    for bpm in candidates:
        beat = 60.0 / bpm * rate / hop
        scores.append(_at(ac, beat) + 0.5 * _at(ac, 2 * beat) + 0.25 * _at(ac, beat / 2))
    return float(candidates[int(np.argmax(scores))])


def tempo_matches(estimate: float, bpm: float, tolerance: float = 0.01) -> bool:
    """Whether ``estimate`` is ``bpm`` within ``tolerance``, counting the half and double tempo (the same
    grid felt at another level) as a match."""
    return any(abs(estimate / (bpm * f) - 1) <= tolerance for f in (0.5, 1.0, 2.0))


@dataclass(frozen=True)
class Seam:
    """The wrap of a loop. ``click``: the jump from the last sample to the first over the loop's 99th-percentile
    sample-to-sample step (a click stands far out). ``level_jump_db``: how much more the level changes across
    the wrap (10 ms after against 10 ms before) than across the loudest other beat boundary; a loop whose
    tails are cut or faded at its end jumps at the wrap more than anywhere else."""

    click: float
    level_jump_db: float

    @property
    def clean(self) -> bool:
        return self.click <= 6.0 and self.level_jump_db <= 6.0


def _jump_db(x: np.ndarray, at: int, n: int) -> float:
    after = np.take(x, np.arange(at, at + n), mode="wrap")
    before = np.take(x, np.arange(at - n, at), mode="wrap")
    return float(10 * np.log10((np.mean(after**2) + 1e-12) / (np.mean(before**2) + 1e-12)))


def seam(audio: np.ndarray, rate: int, beats: int = 4) -> Seam:
    """How the end of a loop of ``beats`` beats meets its start (see :class:`Seam`)."""
    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    steps = np.abs(np.diff(x))
    typical = float(np.percentile(steps, 99)) + 1e-9
    click = abs(x[0] - x[-1]) / typical
    n = max(int(0.01 * rate), 1)
    others = [_jump_db(x, round(k * x.size / beats), n) for k in range(1, beats)]
    return Seam(float(click), _jump_db(x, 0, n) - max(others, default=0.0))


def part_levels(audio: np.ndarray, rate: int) -> dict[str, float]:
    """Per drum band (:data:`PART_BANDS`), its share of the loop's energy in dB: the loop's balance of kick,
    snare and hats, whatever its overall level."""
    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    power = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(x.size, 1 / rate)
    total = power.sum() + 1e-20
    return {part: float(10 * np.log10(power[(freqs >= low) & (freqs < high)].sum() / total + 1e-12))
            for part, (low, high) in PART_BANDS.items()}  # fmt: skip


def parts_present(audio: np.ndarray, rate: int) -> dict[str, bool]:
    """Per drum band, whether it plays hits: it holds at least 0.5 % of the loop's energy and its level, in
    23 ms frames, swings at least 12 dB (98th over 10th percentile), as a band of hits does (even hats on every
    sixteenth fall between hits) and a band of noise does not (at most 9 dB in the narrow kick band)."""
    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(x.size, 1 / rate)
    levels = part_levels(x, rate)
    out = {}
    for part, (low, high) in PART_BANDS.items():
        band = np.fft.irfft(np.where((freqs >= low) & (freqs < high), spectrum, 0), n=x.size)
        frames = band[: band.size // (4 * HOP) * 4 * HOP].reshape(-1, 4 * HOP)
        level = np.sqrt(np.mean(frames**2, axis=1)) + 1e-12
        swing = np.percentile(level, 98) / np.percentile(level, 10)
        out[part] = bool(levels[part] >= PRESENT_DB and swing >= 4.0)
    return out
