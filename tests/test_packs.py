"""Sample packs: the spec, the pack on one machine (folders, manifest, licence, resume) and on a Ray cluster."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from daemon_helpers import build_tiny_model

from ddbridge.packs.builder import PackBuilder, local_backend
from ddbridge.packs.spec import parse_spec
from ddbridge.protocol.errors import BadRequest

CREATED = re.compile(rb'"created": ?"[^"]*"')


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> str:
    return str(build_tiny_model(tmp_path_factory.mktemp("model")))


def spec_of(model: str, **changes):
    data = {
        "name": "Test Pack",
        "model": model,
        "seed": 100,
        "batch": 2,
        "sample_rate": 8000,
        "check_category": False,
        "sounds": [{"category": "kick", "count": 4}, {"category": "snare", "count": 3, "seconds": 0.2}],
        "loops": [{"bpm": 120, "bars": 1, "count": 2}],
        **changes,
    }
    return parse_spec(data)


def pack_files(root: Path) -> dict[str, bytes]:
    """Every sound and sidecar of a pack, its creation time left out."""
    return {
        p.relative_to(root).as_posix(): CREATED.sub(b"", p.read_bytes())
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix in (".wav", ".json") and ".pack" not in p.parts and "manifest" not in p.name
    }


@pytest.fixture(scope="module")
def local_pack(model, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("local")
    PackBuilder(spec_of(model), out).build(local_backend(spec_of(model), "cpu", 1), progress=False)
    return out / "Test Pack"


def test_a_pack_is_foldered_with_a_manifest_and_licence(local_pack):
    files = pack_files(local_pack)
    names = sorted(n for n in files if n.endswith(".wav"))
    assert names[:4] == [f"Kick/Test_Pack_kick_000{i + 1}_s{100 + i}.wav" for i in range(4)]
    assert [n for n in names if n.startswith("Loops/120 BPM/")] == [
        "Loops/120 BPM/Test_Pack_loop_120bpm_0001_s107.wav",
        "Loops/120 BPM/Test_Pack_loop_120bpm_0002_s108.wav",
    ]
    manifest = json.loads((local_pack / "manifest.json").read_text())
    assert manifest["planned"] == 9 and manifest["kept"] == len(names) == len(manifest["sounds"])
    assert {s["category"] for s in manifest["sounds"]} == {"kick", "snare", "loop"}
    first = manifest["sounds"][0]
    assert first["seed"] == 100 and "log_centroid" in first["features"]
    csv_lines = (local_pack / "manifest.csv").read_text().splitlines()
    assert csv_lines[0].startswith("file,category,seed,model") and len(csv_lines) == len(names) + 1
    assert "CC0-1.0" in (local_pack / "LICENSE.txt").read_text()


def test_sounds_are_loudness_matched(local_pack):
    import soundfile as sf

    from ddbridge.sound.audio import loudness

    for path in local_pack.glob("Kick/*.wav"):
        audio = sf.read(path)[0].T
        at_target = abs(loudness(audio, 8000) + 14.0) < 0.1
        peak_limited = abs(audio).max() > 10 ** (-1.1 / 20)  # never louder than -1 dBFS peak
        assert at_target or peak_limited


def test_near_duplicates_are_dropped(model, tmp_path):
    spec = spec_of(model, min_distance=1e9)  # every sound is "near" the first of its category
    summary = PackBuilder(spec, tmp_path).build(local_backend(spec, "cpu", 1), progress=False)
    assert summary["kept"] == 3 and summary["duplicate"] == 6  # one per category survives


def test_off_category_sounds_are_dropped_and_counted(model, tmp_path):
    spec = spec_of(model, check_category=True, loops=[])
    summary = PackBuilder(spec, tmp_path).build(local_backend(spec, "cpu", 1), progress=False)
    manifest = json.loads((tmp_path / "Test Pack" / "manifest.json").read_text())
    # A random tiny network makes noise, not drums: the judge hears most of it as something else.
    assert summary["off_category"] > 0 and manifest["off_category_rate"] == round(summary["off_category"] / 7, 4)
    assert summary["kept"] + summary["off_category"] + summary["duplicate"] == 7
    assert len(list((tmp_path / "Test Pack").rglob("*.wav"))) == summary["kept"]


def test_an_interrupted_pack_resumes_to_the_same_result(model, local_pack, tmp_path):
    spec = spec_of(model)

    def interrupted(batches):
        for n, results in enumerate(local_backend(spec, "cpu", 1)(batches)):
            yield results
            if n == 1:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        PackBuilder(spec, tmp_path).build(interrupted, progress=False)
    state = tmp_path / "Test Pack" / ".pack" / "state.jsonl"
    lines = state.read_text().splitlines()
    assert len(lines) == 4
    state.write_text("\n".join(lines[:-1]) + "\n")  # the last decision was lost in the crash, its file was not
    PackBuilder(spec, tmp_path).build(local_backend(spec, "cpu", 1), progress=False)
    assert pack_files(tmp_path / "Test Pack") == pack_files(local_pack)


# -- loops in a genre, from a model's loop network ------------------------------------------------------

LOOPS = [
    {"genre": "house", "bpm": 124, "bars": 2, "count": 2},
    {"genre": "jungle", "bpm": 172.5, "bars": 1, "count": 1},  # an alias of dnb
    {"bpm": 120, "bars": 1, "count": 1},  # no genre: any
]


@pytest.fixture(scope="module")
def loop_model(tmp_path_factory) -> str:
    return str(build_tiny_model(tmp_path_factory.mktemp("loop model"), loops=True))


def loop_spec(model: str, **changes):
    return spec_of(model, **{"sounds": [{"category": "kick", "count": 2}], "loops": LOOPS, **changes})


@pytest.fixture(scope="module")
def loop_pack(loop_model, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("loops")
    spec = loop_spec(loop_model)
    PackBuilder(spec, out).build(local_backend(spec, "cpu", 1), progress=False)
    return out / "Test Pack"


def _acid(path: Path) -> tuple[int, int, float]:
    """(flags, beats, tempo) of a WAV's acid chunk, read from the RIFF layout."""
    data, pos = path.read_bytes(), 12
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if cid == b"acid":
            flags, _, _, _, beats, _, _, tempo = struct.unpack("<IHHfIHHf", data[pos + 8 : pos + 8 + size])
            return flags, beats, tempo
        pos += 8 + size + size % 2
    raise AssertionError(f"{path.name} has no acid chunk")


def test_loops_in_a_genre_are_foldered_and_named_by_genre_and_tempo(loop_pack):
    names = sorted(n for n in pack_files(loop_pack) if n.startswith("Loops/") and n.endswith(".wav"))
    assert names == [
        "Loops/120 BPM/Test_Pack_loop_120bpm_0001_s105.wav",
        "Loops/Drum and Bass/172.5 BPM/Test_Pack_loop_dnb_172-5bpm_0001_s104.wav",
        "Loops/House/124 BPM/Test_Pack_loop_house_124bpm_0001_s102.wav",
        "Loops/House/124 BPM/Test_Pack_loop_house_124bpm_0002_s103.wav",
    ]
    for name, (bpm, bars, genre) in zip(
        names, [(120, 1, "any"), (172.5, 1, "dnb"), (124, 2, "house"), (124, 2, "house")], strict=True
    ):
        path = loop_pack / name
        assert sf.info(path).frames == round(bars * 4 * 60 / bpm * 8000)  # exactly its bars at the pack's rate
        meta = json.loads(path.with_suffix(".json").read_text())
        assert (meta["loop"], meta["bpm"], meta["bars"], meta["genre"]) == (True, bpm, bars, genre)
        assert meta["beats"] == 4 * bars
        flags, beats, tempo = _acid(path)
        assert (flags & 0x01, beats, tempo) == (0, 4 * bars, pytest.approx(bpm))
    kick = json.loads(next(loop_pack.glob("Kick/*.json")).read_text())
    assert "bpm" not in kick and kick["loop"] is False


def test_the_manifest_has_tempo_bars_and_genre(loop_pack):
    manifest = json.loads((loop_pack / "manifest.json").read_text())
    tempo = {s["file"]: (s["bpm"], s["bars"], s["genre"]) for s in manifest["sounds"]}
    assert tempo["Loops/House/124 BPM/Test_Pack_loop_house_124bpm_0001_s102.wav"] == (124, 2, "house")
    assert tempo["Kick/Test_Pack_kick_0001_s100.wav"] == (None, None, None)
    with open(loop_pack / "manifest.csv", newline="") as f:
        rows = {row["file"]: row for row in csv.DictReader(f)}
    assert list(next(iter(rows.values())))[:8] == ["file", "category", "seed", "model", "loop", "bpm", "bars", "genre"]
    dnb = rows["Loops/Drum and Bass/172.5 BPM/Test_Pack_loop_dnb_172-5bpm_0001_s104.wav"]
    assert (dnb["loop"], dnb["bpm"], dnb["bars"], dnb["genre"]) == ("True", "172.5", "1", "dnb")
    assert [rows["Kick/Test_Pack_kick_0001_s100.wav"][c] for c in ("bpm", "bars", "genre")] == ["", "", ""]


def test_pack_loops_are_the_loop_networks_loops_for_their_seeds(loop_model, loop_pack):
    import torch

    from ddbridge.diffusion import tasks
    from ddbridge.model.checkpoints import load_model
    from ddbridge.sound import audio as audio_ops

    bundle = load_model(loop_model)
    with torch.inference_mode():
        raw = tasks.generate(bundle, 1, loop=True, tempo=(124.0, 2), genre="house", seeds=[103], steps=2)
    expected = audio_ops.finish(raw[0].numpy(), 8000, 8000, normalize="loudness", loudness_lufs=-14.0, loop=True)
    made, _ = sf.read(loop_pack / "Loops/House/124 BPM/Test_Pack_loop_house_124bpm_0002_s103.wav", dtype="float32")
    assert made.shape == expected.shape
    np.testing.assert_allclose(made, expected, atol=1e-4)  # 24 bit, and float noise between batch sizes
    other, _ = sf.read(loop_pack / "Loops/House/124 BPM/Test_Pack_loop_house_124bpm_0001_s102.wav", dtype="float32")
    assert not np.allclose(other, expected, atol=1e-2)


def test_loops_the_model_cannot_make_are_refused_before_anything_is_written(model, loop_model, tmp_path):
    for source, loops, words in [
        (model, [{"genre": "house", "bpm": 124, "count": 1}], "has no loop network"),
        (loop_model, [{"bpm": 60, "count": 1}], "loops at 60 BPM, 1 bar(s): bpm must be 70-180"),
        (loop_model, [{"bpm": 120, "bars": 3, "count": 1}], "bars must be one of 1, 2, 4"),
    ]:
        spec = loop_spec(source, loops=loops)
        with pytest.raises(BadRequest, match=re.escape(words)):
            PackBuilder(spec, tmp_path).build(local_backend(spec, "cpu", 1), progress=False)
        assert not list((tmp_path / "Test Pack").rglob("*.wav"))  # not even the kicks planned before them


def test_bad_specs_are_refused():
    with pytest.raises(BadRequest, match="unknown field"):
        parse_spec({"name": "x", "sounds": [{"category": "kick", "count": 1}], "colour": "red"})
    with pytest.raises(BadRequest, match="count"):
        parse_spec({"name": "x", "sounds": [{"category": "kick", "count": 0}]})
    with pytest.raises(BadRequest, match="bpm"):
        parse_spec({"name": "x", "loops": [{"bpm": 5, "count": 1}]})
    with pytest.raises(BadRequest, match=re.escape("loops[0]: unknown genre 'polka'; choose one of: house")):
        parse_spec({"name": "x", "loops": [{"bpm": 120, "genre": "polka", "count": 1}]})
    with pytest.raises(BadRequest, match="'genre' must be a name"):
        parse_spec({"name": "x", "loops": [{"bpm": 120, "genre": 7, "count": 1}]})
    with pytest.raises(BadRequest, match="category, genre, count, bpm, bars"):
        parse_spec({"name": "x", "loops": [{"bpm": 120, "style": "house", "count": 1}]})


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_a_ray_cluster_makes_the_same_pack(ray_cluster, model, local_pack, tmp_path):
    from ddbridge.packs.ray_backend import ray_backend

    spec = spec_of(model)
    PackBuilder(spec, tmp_path).build(ray_backend(spec, "auto", 2), progress=False)
    assert pack_files(tmp_path / "Test Pack") == pack_files(local_pack)


def test_a_ray_cluster_makes_the_same_loops_in_a_genre(ray_cluster, loop_model, loop_pack, tmp_path):
    from ddbridge.packs.ray_backend import ray_backend

    spec = loop_spec(loop_model)
    PackBuilder(spec, tmp_path).build(ray_backend(spec, "auto", 2), progress=False)
    assert pack_files(tmp_path / "Test Pack") == pack_files(loop_pack)


def test_a_killed_worker_is_retried_with_nothing_lost_or_doubled(ray_cluster, model, local_pack, tmp_path):
    from ddbridge.packs.ray_backend import RayPool

    spec = spec_of(model)
    pool = RayPool(spec, "auto", 2)
    victim = pool.pids()[0]

    def killing(batches):
        for n, results in enumerate(pool.run(batches)):
            if n == 0:
                os.kill(victim, signal.SIGKILL)
            yield results

    try:
        PackBuilder(spec, tmp_path).build(killing, progress=False)
        assert victim not in pool.pids()  # the worker really died and was restarted
    finally:
        pool.close()
    assert pack_files(tmp_path / "Test Pack") == pack_files(local_pack)
    lines = (tmp_path / "Test Pack" / ".pack" / "state.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["index"] for line in lines) == list(range(9))
