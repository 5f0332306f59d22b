"""What the page draws, computed with numpy on the server: waveform peaks, spectrograms, the similarity map.

The map places sounds by the evaluation's handcrafted features (``ddbridge.train.features``):
standardised, then projected on their first two principal components.
"""

from __future__ import annotations

import base64
import threading
from pathlib import Path

import numpy as np

from ddbridge.protocol.errors import BadAudio

PEAK_BUCKETS = 120
SPEC_ROWS = 96
SPEC_COLUMNS = 200
SPEC_FLOOR_DB = -90.0
SPEC_LOW_HZ = 30.0
MAP_RATE = 16000  # features are computed at one rate so that sounds of any rate compare


def read(path: Path) -> tuple[np.ndarray, int]:
    """A WAV as float32 ``[L, C]`` and its rate; ``BadAudio`` when it cannot be read."""
    import soundfile as sf

    try:
        audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (OSError, RuntimeError, sf.LibsndfileError) as e:
        raise BadAudio(f"cannot read '{path}': {e}") from None
    if audio.shape[0] == 0:
        raise BadAudio(f"'{path}' holds no audio")
    return audio, rate


def peaks(path: Path, buckets: int = PEAK_BUCKETS) -> dict:
    """Per-bucket minimum and maximum of the channel mix, as integers in -100..100 of full scale."""
    audio, rate = read(path)
    mono = audio.mean(axis=1)
    edges = np.linspace(0, len(mono), buckets + 1).astype(int)
    lows, highs = [], []
    for start, end in zip(edges[:-1], edges[1:], strict=True):
        part = mono[start : max(end, start + 1)]
        lows.append(float(part.min()))
        highs.append(float(part.max()))
    return {"min": _percent(lows), "max": _percent(highs), "seconds": round(len(mono) / rate, 4)}


def _percent(values: list[float]) -> list[int]:
    return np.clip(np.round(np.asarray(values) * 100), -100, 100).astype(int).tolist()


def spectrogram(path: Path, rows: int = SPEC_ROWS, columns: int = SPEC_COLUMNS) -> dict:
    """A log-frequency magnitude spectrogram: ``rows`` x ``columns`` bytes (0 = floor, 255 = loudest),
    lowest frequency first, base64-encoded row by row."""
    audio, rate = read(path)
    mono = audio.mean(axis=1).astype(np.float64)
    n_fft = 1 << int(np.ceil(np.log2(max(rate * 0.02, 64))))
    hop = max(1, (len(mono) + n_fft) // columns)
    padded = np.pad(mono, (n_fft // 2, n_fft // 2 + hop * columns))
    starts = np.arange(columns) * hop
    frames = np.stack([padded[s : s + n_fft] for s in starts]) * np.hanning(n_fft)
    magnitude = np.abs(np.fft.rfft(frames, axis=1))  # [columns, bins]
    freqs = np.fft.rfftfreq(n_fft, 1 / rate)
    targets = np.geomspace(SPEC_LOW_HZ, rate / 2, rows)
    image = np.stack([np.interp(targets, freqs, column) for column in magnitude], axis=1)  # [rows, columns]
    db = 20 * np.log10(image / (image.max() + 1e-12) + 1e-12)
    scaled = np.clip((db - SPEC_FLOOR_DB) / -SPEC_FLOOR_DB, 0, 1) * 255
    data = base64.b64encode(scaled.astype(np.uint8).tobytes()).decode("ascii")
    return {"rows": rows, "columns": columns, "low_hz": SPEC_LOW_HZ, "high_hz": rate / 2, "data": data}


def layout(vectors: np.ndarray) -> np.ndarray:
    """``[N, F]`` feature vectors -> ``[N, 2]`` positions in 0..1: the first two principal components."""
    n = len(vectors)
    if n == 0:
        return np.zeros((0, 2))
    if n == 1:
        return np.full((1, 2), 0.5)
    x = np.nan_to_num(vectors, nan=0.0, posinf=0.0, neginf=0.0)
    std = x.std(axis=0)
    x = (x[:, std > 1e-9] - x.mean(axis=0)[std > 1e-9]) / std[std > 1e-9]
    if x.shape[1] == 0:
        return np.full((n, 2), 0.5)
    u, s, _vt = np.linalg.svd(x, full_matrices=False)
    coords = u[:, :2] * s[:2]
    if coords.shape[1] == 1:
        coords = np.concatenate([coords, np.zeros((n, 1))], axis=1)
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    span = np.where(hi - lo > 1e-12, hi - lo, 1.0)
    return np.where(hi - lo > 1e-12, (coords - lo) / span, 0.5)


class SimilarityMap:
    """Feature vectors per sound, cached until the file changes, and the map of a set of sounds."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[float, np.ndarray]] = {}
        self._lock = threading.Lock()

    def points(self, entries: list[dict]) -> list[dict]:
        """``{"path", "x", "y"}`` for each library entry that can be read."""
        kept, vectors = [], []
        for entry in entries:
            vector = self._features(Path(entry["path"]), entry["mtime"])
            if vector is not None:
                kept.append(entry)
                vectors.append(vector)
        coords = layout(np.stack(vectors)) if vectors else np.zeros((0, 2))
        return [
            {"path": e["path"], "x": round(float(x), 4), "y": round(float(y), 4)}
            for e, (x, y) in zip(kept, coords, strict=True)
        ]

    def _features(self, path: Path, mtime: float) -> np.ndarray | None:
        from ddbridge.sound.audio import resample
        from ddbridge.train.features import features

        key = str(path)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        try:
            audio, rate = read(path)
        except BadAudio:
            return None
        mono = audio.mean(axis=1)[None, :]
        vector = features(resample(mono, rate, MAP_RATE), MAP_RATE)
        with self._lock:
            self._cache[key] = (mtime, vector)
        return vector
