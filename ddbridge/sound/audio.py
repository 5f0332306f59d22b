"""Audio finishing and I/O: DC removal, silence trim, fade, normalisation, resampling, loading.

Arrays are channels-first ``[C, L]`` float32 everywhere except ``finish``'s result, which is
frames-first ``[L, C]`` as audio files and ``render.write_wav`` expect.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import numpy as np
import soxr

from ddbridge.protocol.errors import BadAudio, BadRequest

DC_CUTOFF_HZ = 10.0
DC_TAIL_MS = 100.0
SILENCE_DB = -60.0
PREROLL_MS = 2.0
FADE_OUT_MS = 10.0
LOUDNESS_TARGET = -14.0

Normalize = Literal["peak", "loudness"] | None


def as_array(audio) -> np.ndarray:
    """A float32 ``[C, L]`` NumPy copy of a NumPy array or torch tensor (1-D means mono)."""
    if hasattr(audio, "detach"):
        audio = audio.detach().float().cpu().numpy()
    a = np.array(audio, dtype=np.float32)
    if a.ndim == 1:
        a = a[None]
    if a.ndim != 2:
        raise BadAudio(f"audio must be [channels, samples], got shape {tuple(a.shape)}")
    return a


def check_audio(audio: np.ndarray) -> np.ndarray:
    """Return ``audio`` if it is non-empty and finite, else raise ``BadAudio``."""
    if audio.size == 0 or audio.shape[-1] == 0:
        raise BadAudio("audio is empty")
    if not np.isfinite(audio).all():
        raise BadAudio("audio contains NaN or infinite samples")
    return audio


def to_channels(audio: np.ndarray, channels: int) -> np.ndarray:
    """Convert ``[C, L]`` to ``channels``: mono is duplicated, a mono target gets the channel mean,
    and other mismatches keep the first channels (L/R of a surround file)."""
    c = audio.shape[0]
    if c == channels:
        return audio
    if c == 1:
        return np.repeat(audio, channels, axis=0)
    if channels == 1:
        return audio.mean(axis=0, keepdims=True)
    if c > channels:
        return audio[:channels]
    raise BadAudio(f"cannot turn {c}-channel audio into {channels} channels")


def to_mono(audio: np.ndarray) -> np.ndarray:
    """Average all channels into one: ``[1, L]``."""
    return to_channels(audio, 1)


def to_stereo(audio: np.ndarray) -> np.ndarray:
    """Two channels: mono is duplicated, more channels keep the first two."""
    return to_channels(audio, 2)


def resample(audio, from_rate: float, to_rate: float) -> np.ndarray:
    """Resample ``[C, L]`` audio (NumPy or torch) with soxr's high-quality filter; returns float32 ``[C, L']``."""
    a = as_array(audio)
    if from_rate <= 0 or to_rate <= 0:
        raise BadRequest(f"sample rates must be > 0, got {from_rate} -> {to_rate}")
    if from_rate == to_rate:
        return a
    out = soxr.resample(np.ascontiguousarray(a.T), from_rate, to_rate, quality="HQ")
    return np.ascontiguousarray(out.T, dtype=np.float32)


def fit_length(audio, length: int, *, circular: bool = False) -> np.ndarray:
    """Stretch ``[C, L]`` audio to exactly ``length`` samples by resampling.

    ``circular`` treats the audio as one period of a loop (the filter sees the wrap-around, not
    silence), so a seamless loop stays seamless.
    """
    a = as_array(audio)
    n = a.shape[-1]
    if n == length:
        return a
    if length < 1:
        raise BadRequest(f"cannot fit audio into {length} samples")
    if circular:
        return resample(np.tile(a, 3), n, length)[:, length : 2 * length]
    out = resample(a, n, length)
    if out.shape[-1] >= length:
        return out[:, :length]
    return np.pad(out, ((0, 0), (0, length - out.shape[-1])), mode="edge")


def remove_dc_offset(audio: np.ndarray, sample_rate: float) -> np.ndarray:
    """Take out a constant offset and slow drift without touching the attack or raising the tail.

    The offset is estimated from the last ``DC_TAIL_MS`` (where a one-shot has decayed) and
    subtracted, which can only lower that stretch's energy; a causal first-order high-pass at
    ``DC_CUTOFF_HZ`` starting from rest then removes drift. Being causal it neither rings before
    the attack nor leaves more than its own decaying state (time constant ~16 ms) after the sound.
    """
    from scipy import signal  # imported on first use: slow to import, and not needed to load or check audio

    a = audio.astype(np.float64)
    tail = max(1, min(a.shape[-1] // 4, int(round(DC_TAIL_MS * sample_rate / 1000))))
    a = a - a[:, -tail:].mean(axis=-1, keepdims=True)
    b, den = signal.butter(1, DC_CUTOFF_HZ, btype="highpass", fs=sample_rate)
    return signal.lfilter(b, den, a, axis=-1).astype(np.float32)


def trim_leading_silence(
    audio: np.ndarray, sample_rate: float, threshold_db: float = SILENCE_DB, preroll_ms: float = PREROLL_MS
) -> np.ndarray:
    """Drop the start until any channel exceeds ``threshold_db`` dBFS, keeping ``preroll_ms`` before it.

    Audio that never exceeds the threshold is returned unchanged.
    """
    loud = np.flatnonzero(np.abs(audio).max(axis=0) > 10 ** (threshold_db / 20))
    if loud.size == 0:
        return audio
    start = max(0, int(loud[0]) - int(round(preroll_ms * sample_rate / 1000)))
    return audio[:, start:]


def fade_out(audio: np.ndarray, sample_rate: float, ms: float) -> np.ndarray:
    """Apply a half-cosine fade over the last ``ms`` milliseconds, ending at exactly 0."""
    n = min(audio.shape[-1], int(round(ms * sample_rate / 1000)))
    if n <= 0:
        return audio
    out = audio.copy()
    out[:, -n:] *= (0.5 + 0.5 * np.cos(np.linspace(0, np.pi, n))).astype(np.float32)
    return out


def _k_weighting(sample_rate: float) -> np.ndarray:
    """ITU-R BS.1770 K-weighting (high shelf, then high-pass) as second-order sections for any rate."""
    # High shelf: +4 dB above ~1.7 kHz.
    k = math.tan(math.pi * 1681.974450955533 / sample_rate)
    q = 0.7071752369554196
    vh = 10 ** (3.999843853973347 / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf_b = [(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0]
    shelf = [*shelf_b, 1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    # High-pass at ~38 Hz.
    k = math.tan(math.pi * 38.13547087602444 / sample_rate)
    q = 0.5003270373238773
    a0 = 1 + k / q + k * k
    highpass = [1.0, -2.0, 1.0, 1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    return np.array([shelf, highpass])


def loudness(audio: np.ndarray, sample_rate: float) -> float:
    """Ungated K-weighted loudness of the whole clip in LUFS (-inf for silence)."""
    from scipy import signal

    weighted = signal.sosfilt(_k_weighting(sample_rate), audio.astype(np.float64), axis=-1)
    power = float(np.mean(weighted**2, axis=-1).sum())
    return -0.691 + 10 * math.log10(power) if power > 0 else -math.inf


def normalize_peak(audio: np.ndarray, peak_db: float = -1.0) -> np.ndarray:
    """Scale so the largest absolute sample is exactly ``peak_db`` dBFS (silence stays silent)."""
    peak = float(np.abs(audio).max(initial=0.0))
    if peak == 0:
        return audio
    return (audio.astype(np.float64) * (10 ** (peak_db / 20) / peak)).astype(np.float32)


def normalize_loudness(
    audio: np.ndarray, sample_rate: float, target_lufs: float = LOUDNESS_TARGET, peak_db: float = -1.0
) -> np.ndarray:
    """Scale toward ``target_lufs``, but never so far that the peak exceeds ``peak_db`` dBFS."""
    current = loudness(audio, sample_rate)
    peak = float(np.abs(audio).max(initial=0.0))
    if peak == 0 or not math.isfinite(current):
        return audio
    gain = min(10 ** ((target_lufs - current) / 20), 10 ** (peak_db / 20) / peak)
    return (audio.astype(np.float64) * gain).astype(np.float32)


def finish(
    audio,
    sample_rate: int,
    target_rate: int | None = None,
    *,
    normalize: Normalize = "peak",
    peak_db: float = -1.0,
    loudness_lufs: float = LOUDNESS_TARGET,
    trim_silence: bool = True,
    silence_db: float = SILENCE_DB,
    fade_out_ms: float = FADE_OUT_MS,
    remove_dc: bool = True,
    loop: bool = False,
    frames: int | None = None,
) -> np.ndarray:
    """Turn raw model output ``[C, L]`` into a file-ready float32 ``[L, C]`` array at ``target_rate``.

    Steps: DC removal, leading-silence trim, resampling, fade-out, then peak or loudness
    normalisation; the result never exceeds ``peak_db`` dBFS when normalising and never clips.
    ``loop=True`` keeps a loop seamless: no trim or fade, DC removal by the mean only, and
    wrap-around resampling to ``frames`` samples (default ``round(L * target_rate / sample_rate)``; a loop
    at a tempo passes its exact length at ``target_rate``).
    """
    if normalize not in ("peak", "loudness", None):
        raise BadRequest(f"normalize must be 'peak', 'loudness' or None, got {normalize!r}")
    if not peak_db <= 0:
        raise BadRequest(f"peak_db must be <= 0 dBFS, got {peak_db}")
    if fade_out_ms < 0:
        raise BadRequest(f"fade_out_ms must be >= 0, got {fade_out_ms}")
    a = check_audio(as_array(audio))
    rate = target_rate or sample_rate
    if loop:
        if remove_dc:
            a = a - a.mean(axis=-1, keepdims=True)
        a = fit_length(a, frames or max(1, round(a.shape[-1] * rate / sample_rate)), circular=True)
    else:
        if remove_dc:
            a = remove_dc_offset(a, sample_rate)
        if trim_silence:
            a = trim_leading_silence(a, sample_rate, silence_db)
        a = fade_out(resample(a, sample_rate, rate), rate, fade_out_ms)
    if normalize == "peak":
        a = normalize_peak(a, peak_db)
    elif normalize == "loudness":
        a = normalize_loudness(a, rate, loudness_lufs, peak_db)
    else:
        a = np.clip(a, -1.0, 1.0)
    return np.ascontiguousarray(a.T, dtype=np.float32)


def load_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Read a WAV/AIFF/FLAC (anything libsndfile reads) as float32 ``[C, L]`` and its rate.

    Raises ``BadAudio`` for missing, unreadable, empty or non-finite files.
    """
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise BadAudio(f"no audio file at {path}")
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as e:
        raise BadAudio(f"cannot read audio from {path}: {e}") from None
    try:
        audio = check_audio(np.ascontiguousarray(data.T))
    except BadAudio as e:
        raise BadAudio(f"{path}: {e}") from None
    return audio, int(rate)


def excerpt(
    audio: np.ndarray,
    sample_rate: float,
    start: float = 0.0,
    seconds: float | None = None,
    reverse: bool = False,
    playrate: float = 1.0,
) -> tuple[np.ndarray, float]:
    """The part of ``[C, L]`` audio a DAW shows: ``seconds`` from ``start`` (to the end when None or
    past it), reversed if asked, played at ``playrate`` with the pitch following (returned as the
    rate the part now plays at). ``BadAudio`` when nothing of the audio is left."""
    if start < 0 or (seconds is not None and seconds <= 0) or playrate <= 0:
        raise BadRequest(f"bad source region: start {start}, seconds {seconds}, playrate {playrate}")
    first = int(round(start * sample_rate))
    last = audio.shape[-1] if seconds is None else min(audio.shape[-1], first + int(round(seconds * sample_rate)))
    if first >= audio.shape[-1] or last <= first:
        length = audio.shape[-1] / sample_rate
        raise BadAudio(f"the source is {length:.3f} s long: nothing of it is left from {start:g} s on")
    part = audio[..., first:last]
    if reverse:
        part = part[..., ::-1]
    return np.ascontiguousarray(part), sample_rate * playrate
