"""A WAV's top-level RIFF chunks, read from the chunk layout (written here, not ddbridge's writer)."""

from __future__ import annotations

import struct
from pathlib import Path


def riff_chunks(path: str | Path) -> dict[bytes, bytes]:
    """``{id: body}`` of the file's top-level chunks (id, u32 size, body, a pad byte when the size is odd);
    asserts the RIFF/WAVE header, a RIFF size that matches the file and chunks that fill it exactly."""
    data = Path(path).read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE" and struct.unpack("<I", data[4:8])[0] == len(data) - 8
    chunks, pos = {}, 12
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        chunks[cid] = data[pos + 8 : pos + 8 + size]
        pos += 8 + size + size % 2
    assert pos == len(data)
    return chunks
