"""``ddbridge generate | variate | interpolate | extend --via-daemon`` against a real daemon, and with none."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import soundfile as sf
from daemon_helpers import SAMPLE_RATE, DaemonProcess, build_tiny_model, free_port

from ddbridge.cli import main
from ddbridge.sound.render import read_metadata

NOT_RUNNING = "ddbridge: error: ddbridge is not running; start it with `ddbridge serve`"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    model = build_tiny_model(tmp_path_factory.mktemp("model"))
    with DaemonProcess(model, tmp_path_factory.mktemp("via"), pool_size=0) as d:
        yield d


@pytest.fixture
def out(daemon) -> Path:
    return daemon.out / uuid.uuid4().hex[:8]  # made by the command


def via(daemon, capsys, *args) -> tuple[int, list[Path], str]:
    """Run the command line in this process; its exit status, the paths it printed, its stderr."""
    code = main([str(a) for a in (*args, "--via-daemon", "--endpoint", daemon.endpoint, "--sample-rate", SAMPLE_RATE)])
    captured = capsys.readouterr()
    return code, [Path(line) for line in captured.out.splitlines()], captured.err


def test_generate_prints_the_daemons_files_one_path_a_line(daemon, out, capsys):
    code, paths, err = via(daemon, capsys, "generate", "--category", "kick", "--count", 2, "--seed", 7, "--out", out)
    assert code == 0 and err == ""
    assert paths == [out / "kick_0001_s7.wav", out / "kick_0002_s8.wav"]
    for path, seed in zip(paths, (7, 8), strict=True):
        meta = read_metadata(path)
        assert (meta["seed"], meta["category"], meta["model"], meta["op"]) == (seed, "kick", "tiny", "generate")
        assert sf.info(path).samplerate == SAMPLE_RATE


def test_random_seeds_are_announced_on_stderr_like_the_local_run(daemon, out, capsys):
    code, paths, err = via(daemon, capsys, "generate", "--count", 2, "--seconds", 0.1, "--bit-depth", 16, "--out", out)
    assert code == 0 and len(paths) == 2
    seeds = [read_metadata(p)["seed"] for p in paths]
    assert err == f"ddbridge: seeds {seeds[0]} {seeds[1]}\n"
    assert all(sf.info(p).subtype == "PCM_16" and p.name.startswith("sample_") for p in paths)


def test_variate_interpolate_and_extend_go_through_the_daemon(daemon, out, capsys):
    code, (source,), _ = via(daemon, capsys, "generate", "--category", "snare", "--seed", 1, "--out", out)
    assert code == 0
    code, (var,), _ = via(daemon, capsys, "variate", source, "--strength", 0.5, "--seed", 2, "--out", out)
    assert code == 0 and read_metadata(var)["source"] == str(source) and read_metadata(var)["strength"] == 0.5
    code, inter, _ = via(daemon, capsys, "interpolate", source, var, "--positions", 0.25, 0.75, "--out", out)
    assert code == 0 and [read_metadata(p)["position"] for p in inter] == [0.25, 0.75]
    code, (ext,), _ = via(daemon, capsys, "extend", source, "--seconds", 0.05, "--seed", 3, "--out", out)
    assert code == 0 and read_metadata(ext)["op"] == "extend"
    assert sf.info(ext).frames > sf.info(source).frames


def test_variate_varies_only_the_part_asked_for(daemon, out, capsys):
    code, (source,), _ = via(daemon, capsys, "generate", "--seconds", 1.0, "--seed", 1, "--out", out)
    assert code == 0 and sf.info(source).duration > 0.5
    part = ["--source-start", 0.1, "--source-seconds", 0.4, "--source-reverse", "--source-playrate", 2]
    code, (var,), _ = via(daemon, capsys, "variate", source, *part, "--seed", 2, "--out", out)
    assert code == 0
    meta = read_metadata(var)
    assert (meta["source_start"], meta["source_seconds"], meta["source_reverse"], meta["source_playrate"]) == (
        0.1,
        0.4,
        True,
        2.0,
    )
    assert sf.info(var).duration <= 0.2 + 1e-3  # 0.4 s of the source played twice as fast
    local = [*part, "--seed", 2, "--model", daemon.model, "--sample-rate", SAMPLE_RATE, "--out", out / "local"]
    assert main([str(a) for a in ("variate", source, *local)]) == 0
    (mine,) = [Path(line) for line in capsys.readouterr().out.splitlines()]
    assert read_metadata(mine)["source_playrate"] == 2.0
    assert abs(sf.info(mine).duration - sf.info(var).duration) < 2e-3  # the same part, run without the daemon


@pytest.mark.parametrize(
    "args,message",
    [
        (["generate", "--category", "clap"], "unknown category 'clap' for model 'tiny'; choose one of: kick, snare"),
        (["generate", "--model", "elsewhere"], "model 'elsewhere' is not loaded; loaded: tiny"),
        (["generate", "--device", "cpu"], "--device does not apply with --via-daemon"),
        (["generate", "--peak-db", "-3"], "--peak-db does not apply with --via-daemon"),
        (["extend", "{wav}", "--seconds", "1", "--loop"], "--loop does not apply to extend"),
        (["generate", "--timeout", "0"], "--timeout must be > 0"),
    ],
)
def test_errors_are_one_line_with_exit_status_2(daemon, out, capsys, args, message):
    wav = daemon.out / "not-there.wav"
    code, paths, err = via(daemon, capsys, *[a.replace("{wav}", str(wav)) for a in args], "--out", out)
    assert code == 2 and paths == []
    assert err.startswith("ddbridge: error: ") and message in err and err.count("\n") == 1


def test_daemon_down_is_one_clear_line_and_exit_2_within_the_timeout(tmp_path, capsys):
    endpoint = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    started = time.monotonic()
    code = main(["generate", "--via-daemon", "--endpoint", endpoint, "--timeout", "0.5", "--out", str(tmp_path)])
    elapsed = time.monotonic() - started
    assert code == 2 and elapsed < 2.0
    assert capsys.readouterr().err == NOT_RUNNING + "\n"

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    args = [sys.executable, "-m", "ddbridge", "variate", str(tmp_path / "x.wav"), "--via-daemon"]
    args += ["--endpoint", endpoint, "--timeout", "1", "--out", str(tmp_path)]
    result = subprocess.run(args, capture_output=True, text=True, env=env, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", NOT_RUNNING + "\n")
