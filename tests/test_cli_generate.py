"""``ddbridge generate | variate | interpolate | extend`` run as real subprocesses on a tiny saved model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from tiny_models import tiny_bundle

from ddbridge.cli import main
from ddbridge.model.checkpoints import save_model
from ddbridge.sound.render import read_metadata

RATE = 8000


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    bundle = tiny_bundle(("kick", "snare"), name="tiny-drums", sample_rate=RATE, defaults={"default_steps": 4}, attn=1)
    return save_model(bundle, tmp_path_factory.mktemp("models") / "tiny-drums")


@pytest.fixture(scope="module")
def source_wav(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("in") / "loop.wav"
    t = np.arange(300) / 16000
    sf.write(path, (0.5 * np.sin(2 * np.pi * 300 * t)).astype(np.float32), 16000)  # mono, another rate
    return path


def ddbridge(*args: str | Path) -> subprocess.CompletedProcess:
    """The real command line in a fresh interpreter."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "ddbridge", *map(str, args)], capture_output=True, text=True, env=env, timeout=120
    )


def printed_paths(result: subprocess.CompletedProcess) -> list[Path]:
    assert result.returncode == 0, result.stderr
    return [Path(line) for line in result.stdout.splitlines()]


def run_main(capsys, *args: str | Path) -> tuple[int, str, str]:
    """The same entry point in this process (the model is tiny; a fresh interpreter costs more than the run)."""
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_generate_subprocess_writes_numbered_wavs_and_prints_them(model_dir, tmp_path, capsys):
    out = tmp_path / "Samples" / "new"  # created on demand
    common = ["--model", model_dir, "--out", out, "--sample-rate", RATE, "--steps", 3, "--seconds", 0.02]
    result = ddbridge("generate", "--category", "kick", "--count", 3, "--seed", 41, *common)
    paths = printed_paths(result)
    assert [p.name for p in paths] == ["kick_0001_s41.wav", "kick_0002_s42.wav", "kick_0003_s43.wav"]
    assert all(p.parent == out for p in paths)
    for p, seed in zip(paths, (41, 42, 43), strict=True):
        info = sf.info(p)
        assert info.samplerate == RATE and info.channels == 2 and info.subtype == "PCM_24"
        assert 100 < info.frames <= 160  # 0.02 s, less any leading silence
        meta = read_metadata(p)
        assert meta["seed"] == seed and meta["model"] == "tiny-drums" and meta["category"] == "kick"
        assert meta["steps"] == 3 and meta["task"] == "generate" and meta["sampler"] == "v-iplms"
        data, _ = sf.read(p)
        assert np.abs(data).max() == pytest.approx(10 ** (-1 / 20), abs=1e-4)  # peak-normalised to -1 dBFS
    # The same seed alone gives the same sound (up to float noise between batch sizes).
    code, stdout, _ = run_main(capsys, "generate", "--category", "kick", "--seed", 42, *common)
    assert code == 0 and Path(stdout.strip()).name == "kick_0004_s42.wav"
    np.testing.assert_allclose(sf.read(stdout.strip())[0], sf.read(paths[1])[0], atol=1e-4)


def test_generate_loop_with_bpm_and_random_seed(model_dir, tmp_path, capsys):
    common = ["--model", model_dir, "--out", tmp_path, "--sample-rate", RATE, "--steps", 3]
    code, stdout, stderr = run_main(
        capsys, "generate", "--loop", "--bpm", 120, "--bars", 0.01, "--bit-depth", 16, *common
    )
    assert code == 0
    seed = int(stderr.split("seeds")[1].split()[0])  # random seed, announced
    path = Path(stdout.strip())
    assert path.name == f"sample_0001_s{seed}.wav"
    info = sf.info(path)
    assert info.frames == 160 and info.subtype == "PCM_16"  # 0.01 bar at 120 BPM = 0.02 s, exactly
    assert read_metadata(path)["loop"] is True


def test_generate_on_a_note_says_what_was_done_in_the_sidecar_and_on_stderr(model_dir, tmp_path, capsys):
    common = ["--model", model_dir, "--out", tmp_path, "--sample-rate", RATE, "--steps", 2, "--seconds", 0.5]
    code, stdout, stderr = run_main(capsys, "generate", "--category", "kick", "--note", "C2", "--seed", 5, *common)
    assert code == 0
    path = Path(stdout.strip())
    meta = read_metadata(path)
    assert meta["note_asked"] == "C2" and isinstance(meta["tuned"], bool) and meta["tuning"] in stderr
    assert ("midi_note" in meta) is meta["tuned"] and sf.info(path).frames <= 0.5 * RATE
    assert (b"smpl" in path.read_bytes()) is meta["tuned"]  # a root note only where it is true
    code, stdout, _ = run_main(capsys, "generate", "--category", "kick", "--note", "36", "--seed", 5, *common)
    assert code == 0 and read_metadata(Path(stdout.strip()))["note_asked"] == "C2"


def test_variate_interpolate_extend(model_dir, source_wav, tmp_path, capsys):
    common = ["--model", model_dir, "--out", tmp_path, "--sample-rate", 16000, "--seed", 7, "--steps", 3]
    code, stdout, _ = run_main(capsys, "variate", source_wav, "--strength", 0.5, "--count", 2, *common)
    var = [Path(line) for line in stdout.splitlines()]
    assert code == 0 and [p.name for p in var] == ["loop_var_0001_s7.wav", "loop_var_0002_s8.wav"]
    assert read_metadata(var[0])["strength"] == 0.5 and read_metadata(var[0])["source"] == str(source_wav)
    assert abs(sf.info(var[0]).frames - 300) <= 4
    code, stdout, _ = run_main(capsys, "interpolate", source_wav, var[0], "--positions", 0.25, 0.75, *common)
    inter = [Path(line) for line in stdout.splitlines()]
    assert code == 0 and [p.name for p in inter] == ["loop_to_loop_var_0001_s7.wav", "loop_to_loop_var_0002_s8.wav"]
    assert [read_metadata(p)["position"] for p in inter] == [0.25, 0.75]
    code, stdout, _ = run_main(capsys, "extend", source_wav, "--seconds", 0.01, *common)
    ext = Path(stdout.strip())
    assert code == 0 and ext.name == "loop_ext_0001_s7.wav" and abs(sf.info(ext).frames - 460) <= 4


def test_bad_input_subprocess_exits_2_with_one_line(model_dir, tmp_path):
    result = ddbridge("generate", "--category", "clap", "--model", model_dir, "--out", tmp_path, "--seed", 1)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip() == (
        "ddbridge: error: unknown category 'clap' for model 'tiny-drums'; choose one of: kick, snare, loop; "
        "aliases: bass_drum, bd, kick_drum, kicks, sd, snare_drum, snares"
    )


@pytest.mark.parametrize(
    "args,message",
    [
        (["variate", "{wav}", "--strength", "1.5"], "strength must be in (0, 1]"),
        (["variate", "{missing}"], "no audio file"),
        (["generate", "--bpm", "120"], "--bpm and --bars go together"),
        (["generate", "--seconds", "1", "--bars", "2", "--bpm", "90"], "either --seconds or --bpm"),
        (["generate", "--bit-depth", "8"], "--bit-depth must be 16, 24 or 32"),
        (["generate", "--sampler", "nope"], "unknown sampler 'nope'"),
        (["generate", "--guidance", "3"], "needs a category"),
        (["generate", "--count", "0"], "--count must be >= 1"),
        (["extend", "{wav}", "--seconds", "-1"], "--seconds must be > 0"),
        (["interpolate", "{wav}", "{wav}", "--positions", "2"], "positions"),
        (["generate", "--out", "{file}"], "is a file"),
        (["generate", "--device", "toaster"], "unknown device 'toaster'"),
        (["generate", "--note", "H9"], "note 'H9' is not a note"),
        (["generate", "--note", "200"], "outside 0-127"),
        (["generate", "--category", "loop", "--note", "C2"], "--note is for one-shots"),
    ],
)
def test_bad_input_exits_2_with_one_line(model_dir, source_wav, tmp_path, capsys, args, message):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    args = [a.format(wav=source_wav, missing=tmp_path / "nope.wav", file=blocker) for a in args]
    if "--out" not in args:
        args += ["--out", tmp_path / "out"]
    code, stdout, stderr = run_main(capsys, *args, "--model", model_dir, "--seed", 1, "--steps", 1)
    assert code == 2 and stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ddbridge: error: ") and message in lines[0]
    assert not list(tmp_path.rglob("*.wav"))  # nothing written


def test_four_kicks_from_the_bundled_default_model(tmp_path):
    """The README's main job: ``ddbridge generate --category kick --count 4 --out DIR`` with no network."""
    result = ddbridge("generate", "--category", "kick", "--count", 4, "--out", tmp_path)
    paths = printed_paths(result)
    assert len(paths) == 4 and sorted(tmp_path.glob("*.wav")) == sorted(paths)
    sounds = []
    for p in paths:
        info = sf.info(p)
        assert (info.samplerate, info.channels) == (44100, 1)  # the default model makes mono one-shots
        data, _ = sf.read(p, dtype="float32")
        assert np.sqrt(np.mean(data**2)) > 1e-3  # not silent
        assert np.abs(data).max() < 0.999  # not clipping (peak-normalised to -1 dBFS)
        assert read_metadata(p)["model"] == "default"
        sounds.append(data)
    assert all(not np.array_equal(a, b) for i, a in enumerate(sounds) for b in sounds[i + 1 :])  # distinct
