"""Sample packs: the spec, the pack on one machine (folders, manifest, licence, resume) and on a Ray cluster."""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path

import pytest
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


def test_bad_specs_are_refused():
    with pytest.raises(BadRequest, match="unknown field"):
        parse_spec({"name": "x", "sounds": [{"category": "kick", "count": 1}], "colour": "red"})
    with pytest.raises(BadRequest, match="count"):
        parse_spec({"name": "x", "sounds": [{"category": "kick", "count": 0}]})
    with pytest.raises(BadRequest, match="bpm"):
        parse_spec({"name": "x", "loops": [{"bpm": 5, "count": 1}]})


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
