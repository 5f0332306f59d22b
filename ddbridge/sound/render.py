"""WAV writing: atomic, never over an existing file, unique numbered names, metadata inside and beside.

A result is written to a hidden ``.<stem>_<token>.partial`` file in the target folder, synced,
then published under ``<stem>_<NNNN>_s<seed>.wav`` with a hard link, which fails rather than
replace anything. The counter is claimed with an exclusive hidden reservation file so that
concurrent writers (threads or processes) never share a number. Metadata goes into a RIFF
``LIST/INFO`` chunk (``ICMT`` = compact JSON, ``ISFT`` = "ddbridge") and a ``<name>.json`` sidecar.
"""

from __future__ import annotations

import json
import os
import re
import struct
import uuid
from pathlib import Path

import numpy as np

from ddbridge.protocol.errors import BadAudio, BadRequest, PathRefused
from ddbridge.sound.wav_chunks import playback_chunks

SUBTYPES = {16: "PCM_16", 24: "PCM_24", 32: "FLOAT"}
SOFTWARE = "ddbridge"
PARTIAL_SUFFIX = ".partial"


def _check_dir(out_dir: str | Path) -> Path:
    d = Path(out_dir)
    if not d.is_absolute():
        raise PathRefused(f"output folder must be an absolute path, got '{out_dir}'")
    if d.exists() and not d.is_dir():
        raise PathRefused(f"output folder '{d}' is a file")
    if not d.is_dir():
        raise PathRefused(f"output folder '{d}' does not exist")
    return d


def _safe_stem(stem: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_-]+", "-", stem.strip()).strip("-")
    if not s:
        raise BadRequest(f"file name stem {stem!r} has no usable characters")
    return s


def _info_chunk(metadata: dict) -> bytes:
    """A RIFF ``LIST/INFO`` chunk holding the metadata as compact ASCII JSON and the software name."""
    body = b"INFO"
    for key, text in ((b"ICMT", json.dumps(metadata, separators=(",", ":"), sort_keys=True)), (b"ISFT", SOFTWARE)):
        data = text.encode("ascii") + b"\0"
        body += key + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")
    return b"LIST" + struct.pack("<I", len(body)) + body


def _riff_chunks(data: bytes):
    """Yield ``(id, payload)`` for each top-level chunk of a RIFF/WAVE byte string."""
    pos = 12
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        yield cid, data[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size % 2)


def _info_fields(payload: bytes) -> dict[bytes, bytes]:
    fields = {}
    pos = 4
    while pos + 8 <= len(payload):
        key, size = payload[pos : pos + 4], struct.unpack("<I", payload[pos + 4 : pos + 8])[0]
        fields[key] = payload[pos + 8 : pos + 8 + size].rstrip(b"\0")
        pos += 8 + size + (size % 2)
    return fields


def read_metadata(path: str | Path) -> dict:
    """Metadata written by ``write_wav``: from the WAV's INFO chunk, else its JSON sidecar, else ``{}``."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise BadAudio(f"cannot read {path}: {e.strerror}") from None
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise BadAudio(f"{path} is not a WAV file")
    for cid, payload in _riff_chunks(data):
        if cid == b"LIST" and payload[:4] == b"INFO":
            comment = _info_fields(payload).get(b"ICMT")
            if comment:
                try:
                    return json.loads(comment.decode("ascii"))
                except (UnicodeDecodeError, ValueError):
                    break
    sidecar = path.with_suffix(".json")
    if sidecar.is_file():
        return json.loads(sidecar.read_text(encoding="utf-8"))
    return {}


def _counter_pattern(stem: str) -> re.Pattern:
    return re.compile(rf"^\.?{re.escape(stem)}_(\d{{4,}})(?:_s\d+)?(?:\.wav|\.json|\.reserve\.partial)$")


def _next_counter(out_dir: Path, stem: str) -> int:
    pattern = _counter_pattern(stem)
    used = [int(m.group(1)) for name in os.listdir(out_dir) if (m := pattern.match(name))]
    return max(used, default=0) + 1


def _counter_taken(out_dir: Path, stem: str, n: int) -> bool:
    pattern = _counter_pattern(stem)
    return any(
        (m := pattern.match(name)) and int(m.group(1)) == n and not name.endswith(PARTIAL_SUFFIX)
        for name in os.listdir(out_dir)
    )


def _publish(temp: Path, final: Path) -> None:
    """Give ``temp``'s content the name ``final`` without ever replacing an existing file.

    Raises ``FileExistsError`` when ``final`` exists. ``temp`` may remain (as a second link).
    """
    try:
        os.link(temp, final)
    except FileExistsError:
        raise
    except OSError:
        # No hard links on this file system (FAT, some network shares): claim the name exclusively, then fill it.
        os.close(os.open(final, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        os.replace(temp, final)


def _sync_dir(d: Path) -> None:
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open folders; NTFS journals the rename itself.
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_temp(out_dir: Path, stem: str, suffix: str, write) -> Path:
    temp = out_dir / f".{stem}_{uuid.uuid4().hex[:12]}{suffix}{PARTIAL_SUFFIX}"
    try:
        write(temp)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def encode_wav(audio, sample_rate: int, *, bit_depth: int = 24, metadata: dict | None = None) -> bytes:
    """``audio`` ``[L, C]`` (or ``[L]``) as the bytes of a WAV file with ``metadata`` in its INFO chunk (a loop at a
    tempo also gets ``acid`` and ``smpl`` chunks, a tuned one-shot ``smpl``: :mod:`ddbridge.sound.wav_chunks`).

    ``bit_depth`` is 16 or 24 (PCM) or 32 (float). These are the bytes ``write_wav`` publishes.
    """
    import io

    import soundfile as sf

    if bit_depth not in SUBTYPES:
        raise BadRequest(f"bit depth must be 16, 24 or 32 (float), got {bit_depth}")
    if not (isinstance(sample_rate, int) and sample_rate > 0):
        raise BadRequest(f"sample rate must be a positive integer, got {sample_rate}")
    a = np.asarray(audio, dtype=np.float32)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[0] == 0 or not np.isfinite(a).all():
        raise BadAudio(f"audio to write must be finite [frames, channels], got shape {a.shape}")
    if bit_depth != 32:
        a = np.clip(a, -1.0, 1.0)
    metadata = _checked_metadata(metadata)
    buffer = io.BytesIO()
    sf.write(buffer, a, sample_rate, subtype=SUBTYPES[bit_depth], format="WAV")
    data = bytearray(buffer.getvalue())
    if len(data) % 2:
        data += b"\0"
    data += playback_chunks(metadata, sample_rate, a.shape[0]) + _info_chunk(metadata)
    data[4:8] = struct.pack("<I", len(data) - 8)
    return bytes(data)


def _checked_metadata(metadata: dict | None) -> dict:
    metadata = dict(metadata or {})
    try:
        json.dumps(metadata)
    except (TypeError, ValueError) as e:
        raise BadRequest(f"metadata must be JSON-serialisable: {e}") from None
    return metadata


def write_wav(
    audio,
    sample_rate: int,
    out_dir: str | Path,
    stem: str,
    *,
    bit_depth: int = 24,
    metadata: dict | None = None,
) -> Path:
    """Write ``audio`` ``[L, C]`` (or ``[L]``) as ``<out_dir>/<stem>_<NNNN>_s<seed>.wav`` and return its path.

    ``bit_depth`` is 16 or 24 (PCM) or 32 (float). ``metadata`` (JSON-serialisable; ``seed`` names
    the file) is stored in the WAV and in a ``.json`` sidecar. The folder must be absolute and exist.
    """
    _check_dir(out_dir)
    _safe_stem(stem)
    data = encode_wav(audio, sample_rate, bit_depth=bit_depth, metadata=metadata)
    return write_wav_bytes(data, out_dir, stem, metadata=metadata)


def write_wav_bytes(data: bytes, out_dir: str | Path, stem: str, *, metadata: dict | None = None) -> Path:
    """Publish the WAV file ``data`` (from ``encode_wav``) as ``write_wav`` does: same names, sidecar, atomicity."""
    out_dir = _check_dir(out_dir)
    stem = _safe_stem(stem)
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE" or len(data) < 44:
        raise BadAudio("the audio to write is not a WAV file")
    metadata = _checked_metadata(metadata)
    seed = metadata.get("seed")
    suffix = f"_s{int(seed)}" if seed is not None else ""
    sidecar_text = json.dumps(metadata, indent=2, sort_keys=True) + "\n"

    def write_audio(p: Path) -> None:
        with open(p, "xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    def write_sidecar(p: Path) -> None:
        with open(p, "x", encoding="utf-8") as f:
            f.write(sidecar_text)
            f.flush()
            os.fsync(f.fileno())

    try:
        wav_temp = _write_temp(out_dir, stem, ".wav", write_audio)
        json_temp = _write_temp(out_dir, stem, ".json", write_sidecar)
    except OSError as e:
        raise PathRefused(f"cannot write into '{out_dir}': {e.strerror or e}") from None
    try:
        return _claim_and_publish(out_dir, stem, suffix, wav_temp, json_temp)
    except OSError as e:
        raise PathRefused(f"cannot write into '{out_dir}': {e.strerror or e}") from None
    finally:
        wav_temp.unlink(missing_ok=True)
        json_temp.unlink(missing_ok=True)


def _claim_and_publish(out_dir: Path, stem: str, suffix: str, wav_temp: Path, json_temp: Path) -> Path:
    n = _next_counter(out_dir, stem)
    while True:
        reservation = out_dir / f".{stem}_{n:04d}.reserve{PARTIAL_SUFFIX}"
        try:
            os.close(os.open(reservation, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            n += 1
            continue
        try:
            if _counter_taken(out_dir, stem, n):
                n += 1
                continue
            final = out_dir / f"{stem}_{n:04d}{suffix}.wav"
            sidecar = final.with_suffix(".json")
            try:
                # The sidecar first: once the WAV is visible its metadata is complete.
                _publish(json_temp, sidecar)
            except FileExistsError:
                n += 1
                continue
            try:
                _publish(wav_temp, final)
            except FileExistsError:
                os.replace(sidecar, json_temp)  # take our sidecar back and try the next number
                n += 1
                continue
            _sync_dir(out_dir)
            return final
        finally:
            reservation.unlink(missing_ok=True)


def clean_partials(out_dir: str | Path) -> list[Path]:
    """Remove leftover hidden ``*.partial`` files (crashed writes) from ``out_dir``; return what was removed."""
    d = Path(out_dir)
    removed = []
    if not d.is_dir():
        return removed
    for p in d.iterdir():
        if p.name.startswith(".") and p.name.endswith(PARTIAL_SUFFIX) and p.is_file():
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed
