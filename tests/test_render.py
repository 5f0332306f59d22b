"""Atomic, unique, metadata-carrying WAV writing (ddbridge.sound.render)."""

from __future__ import annotations

import json
import re
import struct
import threading

import numpy as np
import pytest
import soundfile as sf

from ddbridge.protocol.errors import BadRequest, PathRefused
from ddbridge.sound import render

RATE = 44100


def clip(frames: int = 2000, channels: int = 2, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).uniform(-0.9, 0.9, size=(frames, channels))).astype(np.float32)


def riff_chunks(data: bytes) -> list[tuple[bytes, int]]:
    """Walk a RIFF file independently of the module under test; check every size field adds up."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    chunks, pos = [], 12
    while pos < len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        chunks.append((cid, size))
        pos += 8 + size + size % 2
    assert pos == len(data)
    return chunks


def test_write_wav_name_content_and_no_leftovers(tmp_path):
    a = clip()
    path = render.write_wav(a, RATE, tmp_path, "kick", bit_depth=32, metadata={"seed": 123456})
    assert path == tmp_path / "kick_0001_s123456.wav"
    data, rate = sf.read(path, dtype="float32")
    assert rate == RATE
    np.testing.assert_array_equal(data, a)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kick_0001_s123456.json", "kick_0001_s123456.wav"]


def test_counter_is_next_free_and_seedless_names(tmp_path):
    (tmp_path / "kick_0041_s9.wav").write_bytes(b"someone else's")
    p1 = render.write_wav(clip(), RATE, tmp_path, "kick", metadata={"seed": 9})
    p2 = render.write_wav(clip(), RATE, tmp_path, "kick")
    p3 = render.write_wav(clip(), RATE, tmp_path, "snare", metadata={"seed": 1})
    assert [p.name for p in (p1, p2, p3)] == ["kick_0042_s9.wav", "kick_0043.wav", "snare_0001_s1.wav"]


@pytest.mark.parametrize("bit_depth,subtype,tol", [(16, "PCM_16", 2**-15), (24, "PCM_24", 2**-23), (32, "FLOAT", 0)])
def test_bit_depths(tmp_path, bit_depth, subtype, tol):
    a = clip()
    path = render.write_wav(a, RATE, tmp_path, "hat", bit_depth=bit_depth, metadata={"seed": 1})
    info = sf.info(path)
    assert info.subtype == subtype and info.samplerate == RATE and info.frames == len(a) and info.channels == 2
    data, _ = sf.read(path, dtype="float32")
    np.testing.assert_allclose(data, a, atol=tol * 1.01)


def test_metadata_round_trip_and_valid_riff(tmp_path):
    meta = {"seed": 77, "model": "tiny", "sampler": "dpmpp-2m", "steps": 20, "category": "kick", "strength": 0.5}
    path = render.write_wav(clip(1001, 1), RATE, tmp_path, "kick", bit_depth=24, metadata=meta)
    assert render.read_metadata(path) == meta
    assert json.loads(path.with_suffix(".json").read_text()) == meta
    data = path.read_bytes()
    ids = [cid for cid, _ in riff_chunks(data)]
    assert ids[0] == b"fmt " and b"data" in ids and ids[-1] == b"LIST"
    # libsndfile parses the INFO chunk on its own: ICMT is the comment, ISFT the software.
    with sf.SoundFile(path) as f:
        assert json.loads(f.comment) == meta and f.software == "ddbridge" and f.frames == 1001


def test_read_metadata_falls_back_to_the_sidecar(tmp_path):
    path = tmp_path / "plain.wav"
    sf.write(path, clip(), RATE)
    assert render.read_metadata(path) == {}
    path.with_suffix(".json").write_text('{"seed": 5}')
    assert render.read_metadata(path) == {"seed": 5}


def test_never_overwrites_an_existing_file(tmp_path):
    first = render.write_wav(clip(seed=1), RATE, tmp_path, "kick", metadata={"seed": 5})
    before = first.read_bytes()
    # A file with the next number and the same seed appears behind the writer's back.
    squatter = tmp_path / "kick_0002_s5.wav"
    squatter.write_bytes(b"precious")
    second = render.write_wav(clip(seed=2), RATE, tmp_path, "kick", metadata={"seed": 5})
    assert second == tmp_path / "kick_0003_s5.wav"
    assert squatter.read_bytes() == b"precious" and first.read_bytes() == before


def test_publish_refuses_existing_names(tmp_path):
    temp, final = tmp_path / ".x.partial", tmp_path / "x.wav"
    temp.write_bytes(b"new")
    final.write_bytes(b"old")
    with pytest.raises(FileExistsError):
        render._publish(temp, final)
    assert final.read_bytes() == b"old"


def test_concurrent_writers_get_unique_names(tmp_path):
    paths, errors = [], []

    def writer(i: int) -> None:
        try:
            for j in range(3):
                paths.append(render.write_wav(clip(500, seed=i), RATE, tmp_path, "kick", metadata={"seed": i, "j": j}))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(paths) == 24 and len(set(paths)) == 24
    counters = sorted(int(re.match(r"kick_(\d+)_s\d+\.wav", p.name).group(1)) for p in paths)
    assert counters == list(range(1, 25))  # every number used once, none shared across seeds
    for p in paths:
        meta = render.read_metadata(p)
        assert p.name.endswith(f"_s{meta['seed']}.wav")
        assert sf.info(p).frames == 500
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_refused_and_bad_requests(tmp_path):
    with pytest.raises(PathRefused, match="absolute"):
        render.write_wav(clip(), RATE, "relative/dir", "kick")
    with pytest.raises(PathRefused, match="does not exist"):
        render.write_wav(clip(), RATE, tmp_path / "missing", "kick")
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    with pytest.raises(PathRefused, match="is a file"):
        render.write_wav(clip(), RATE, afile, "kick")
    with pytest.raises(BadRequest):
        render.write_wav(clip(), RATE, tmp_path, "kick", bit_depth=8)
    with pytest.raises(BadRequest):
        render.write_wav(clip(), RATE, tmp_path, "///")
    assert list(tmp_path.iterdir()) == [afile]


def test_stem_is_sanitised(tmp_path):
    path = render.write_wav(clip(), RATE, tmp_path, "../open hat", metadata={"seed": 3})
    assert path.parent == tmp_path and path.name == "open-hat_0001_s3.wav"


def test_clean_partials(tmp_path):
    leftovers = [tmp_path / ".kick_abc.wav.partial", tmp_path / ".kick_0003.reserve.partial"]
    for p in leftovers:
        p.write_bytes(b"")
    keep = render.write_wav(clip(), RATE, tmp_path, "kick", metadata={"seed": 1})
    (tmp_path / "notes.partial").write_text("not ours: not hidden")
    assert sorted(render.clean_partials(tmp_path)) == sorted(leftovers)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [keep.name, keep.with_suffix(".json").name, "notes.partial"]
    )
