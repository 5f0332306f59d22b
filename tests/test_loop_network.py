"""Loops at a tempo: loop mode of the shipped one-shot model, the loop network, its training, data and files."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from ddbridge.dataset.loop_build import Plan, build
from ddbridge.diffusion import tasks
from ddbridge.diffusion.loop_task import generate_loop, tempo_for
from ddbridge.loops import rhythm
from ddbridge.loops.genres import loop_samples
from ddbridge.model.checkpoints import load_model, save_model
from ddbridge.protocol.errors import BadRequest
from ddbridge.sound.render import encode_wav
from tests.tiny_models import save_with_loop_network, tiny_bundle, tiny_loop_network

REPO = Path(__file__).resolve().parents[1]


def _level_db(audio: torch.Tensor) -> float:
    return float(10 * torch.log10(audio.pow(2).mean() + 1e-20))


def test_loop_mode_of_the_shipped_model_sounds_like_its_normal_mode():
    """Circular padding took the edge a one-shot network places its hit by: loops came out silent, and
    normalising silence gave white noise. A loop of the model's own length must sound like a normal hit."""
    bundle = load_model("default")
    for category in ("kick", "snare"):
        normal = tasks.generate(bundle, 1, seeds=[11], category=category, steps=4)
        looped = tasks.generate(bundle, 1, seeds=[11], category=category, steps=4, loop=True)
        assert _level_db(normal) > -40 and abs(_level_db(looped) - _level_db(normal)) < 3
        flatness = float(np.exp(np.mean(np.log(np.abs(np.fft.rfft(looped[0, 0].numpy())) ** 2 + 1e-20))) /
                         np.mean(np.abs(np.fft.rfft(looped[0, 0].numpy())) ** 2))  # fmt: skip
        assert flatness < 0.05  # a hit, not noise


def test_a_one_shot_longer_than_the_window_is_one_sound_then_silence():
    """A one-shot network asked for twice its window made two or three hits; now it makes its one sound."""
    bundle = load_model("default")
    window = bundle.sample_size
    normal = tasks.generate(bundle, 1, seeds=[5], category="bass", steps=4)
    longer = tasks.generate(bundle, 1, 2 * window, seeds=[5], category="bass", steps=4)
    assert longer.shape[-1] == 2 * window
    torch.testing.assert_close(longer[..., :window], normal)
    assert float(longer[..., window:].abs().max()) == 0.0


def test_fold_adds_what_runs_past_the_end_onto_the_start():
    audio = torch.arange(10.0)[None, None]
    assert tasks.fold(audio, 4)[0, 0].tolist() == [0 + 4 + 8, 1 + 5 + 9, 2 + 6, 3 + 7]


def test_a_loop_network_makes_exact_lengths_per_seed():
    net = tiny_loop_network()
    for bpm, bars in ((120.0, 1), (97.3, 2), (174.0, 4)):
        out = generate_loop(net, 2, bpm=bpm, bars=bars, genre="house", seeds=[1, 2])
        assert out.shape == (2, 2, loop_samples(bpm, bars, net.sample_rate)) and torch.isfinite(out).all()
    pair = generate_loop(net, 2, bpm=130, bars=1, genre="techno", seeds=[5, 6])
    alone = generate_loop(net, 1, bpm=130, bars=1, genre="techno", seeds=[6])
    torch.testing.assert_close(pair[1:], alone, atol=1e-3, rtol=1e-3)  # batching changes only rounding
    same = generate_loop(net, 1, bpm=130, bars=1, genre="jungle", seeds=[5])
    torch.testing.assert_close(same, generate_loop(net, 1, bpm=130, bars=1, genre="dnb", seeds=[5]))
    assert not torch.allclose(same, pair[:1])  # the genre conditions the network


def test_a_loop_network_refuses_what_it_cannot_make():
    net = tiny_loop_network()
    for bpm, bars in ((60, 1), (200, 1), (120, 3)):
        with pytest.raises(BadRequest, match="bpm must be 70-180|bars must be one of 1, 2, 4"):
            generate_loop(net, 1, bpm=bpm, bars=bars)
    with pytest.raises(BadRequest, match="unknown genre 'waltz'"):
        generate_loop(net, 1, genre="waltz")
    with pytest.raises(BadRequest, match="has no loop network"):
        generate_loop(tiny_bundle(), 1)
    with pytest.raises(ValueError, match="needs the window's beats"):
        net.net(torch.zeros(1, net.net.config.io_channels, net.net.stride), torch.zeros(1))


def test_tempo_defaults_and_lengths_in_seconds():
    assert tempo_for(None, None) == (120.0, 1)
    assert tempo_for(None, None, 2.0) == (120.0, 1)
    assert tempo_for(None, None, 6.0) == (80.0, 2)  # one bar would be 40 BPM
    with pytest.raises(BadRequest, match="not 1, 2 or 4 bars at 70-180 BPM"):
        tempo_for(None, None, 1.0)
    with pytest.raises(BadRequest, match="both bpm and bars"):
        tempo_for(120, None)


def test_a_model_carries_its_loop_network_and_generate_routes_loops_to_it(tmp_path):
    path = save_with_loop_network(tiny_bundle(("kick", "snare"), name="drums", sample_rate=8000), tmp_path)
    bundle = load_model(path)
    assert bundle.loop_network is not None and bundle.loop_network.net.config.beat_conditioning
    out = tasks.generate(bundle, 1, category="loop", seeds=[3], tempo=(124.0, 2), genre="house")
    assert out.shape[-1] == loop_samples(124.0, 2, 8000)
    direct = generate_loop(bundle.loop_network, 1, bpm=124, bars=2, genre="house", seeds=[3])
    torch.testing.assert_close(out, direct)


def test_a_loop_network_named_relative_to_the_model_is_found_beside_it(tmp_path, monkeypatch):
    save_model(tiny_loop_network(), tmp_path / "models" / "drums-loops")
    one_shot = tiny_bundle(("kick",), name="drums", sample_rate=8000)
    one_shot.info["loop_model"] = "../drums-loops"
    path = save_model(one_shot, tmp_path / "models" / "drums")
    monkeypatch.chdir(tmp_path)  # not the models folder
    assert load_model(path).loop_network is not None


def test_a_one_shot_category_asked_as_a_loop_stays_that_one_shot(tmp_path):
    bundle = load_model(save_with_loop_network(tiny_bundle(("kick",), name="drums", sample_rate=8000), tmp_path))
    kick_loop = tasks.generate(bundle, 1, 256, seeds=[2], category="kick", loop=True)
    assert kick_loop.shape[-1] == 256  # the kick, not a bar from the loop network
    drum_loop = tasks.generate(bundle, 1, seeds=[2], loop=True, tempo=(120.0, 1))
    assert drum_loop.shape[-1] == loop_samples(120.0, 1, 8000)


def test_loop_files_carry_acid_and_smpl_chunks_that_libsndfile_reads(tmp_path):
    info = shutil.which("sndfile-info")
    assert info, "sndfile-info (Debian sndfile-programs) reads the chunks as a host would"
    frames = loop_samples(124, 2, 44100)
    data = encode_wav(np.zeros((frames, 1)), 44100, metadata={"loop": True, "bpm": 124.0, "beats": 8, "seed": 1})
    (tmp_path / "loop.wav").write_bytes(data)
    text = subprocess.run([info, str(tmp_path / "loop.wav")], capture_output=True, text=True, check=True).stdout
    assert "acid : 24" in text and "Tempo     : 124.000000" in text and "Beats     : 8" in text
    assert "Loop," in text and "StretchOn" in text and "Meter     : 4/4" in text
    assert "Loop Count   : 1" in text and f"Start :     0  End : {frames - 1}" in text
    one_shot = encode_wav(np.zeros((100, 1)), 44100, metadata={"seed": 1})
    assert b"acid" not in one_shot and b"smpl" not in one_shot


def test_cli_generates_tagged_loops_at_a_tempo(tmp_path):
    path = save_with_loop_network(tiny_bundle(("kick",), name="drums", sample_rate=8000), tmp_path / "models")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "ddbridge", "generate", "--model", str(path), "--category", "loop", "--genre",
           "boom-bap", "--bpm", "92", "--bars", "2", "--count", "2", "--seed", "40", "--sample-rate", "8000",
           "--out", str(out)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    files = sorted(out.glob("*.wav"))
    assert [f.name for f in files] == ["loop_hiphop_92bpm_0001_s40.wav", "loop_hiphop_92bpm_0002_s41.wav"]
    audio, rate = sf.read(files[0])
    assert rate == 8000 and len(audio) == loop_samples(92, 2, 8000)
    meta = __import__("json").loads(files[0].with_suffix(".json").read_text())
    assert (meta["bpm"], meta["bars"], meta["beats"], meta["genre"], meta["loop"]) == (92, 2, 8, "hiphop", True)
    assert b"acid" in files[0].read_bytes()
    bad = subprocess.run(cmd[:6] + ["--genre", "house", "--out", str(out)], capture_output=True, text=True)
    assert bad.returncode != 0 and "--genre is for loops" in bad.stderr


@pytest.fixture(scope="module")
def loop_set(tmp_path_factory):
    """A small loop set: the csound SoundFont's kits, procedural kits and Sonic Pi's kits and breaks."""
    out = tmp_path_factory.mktemp("loops") / "set"
    plan = Plan(soundfont_per_genre=2, synth_kits=2, model_kits=0, real_kits=1, loops_per_kit=3, soundfonts=("csound",))
    report = build(out, plan)
    return out, report


def test_the_loop_set_is_exact_seamless_and_listed(loop_set):
    out, report = loop_set
    with (out / "manifest.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == report.total >= 7 * 2 + 3 * 3
    assert {"csound", "synth", "sonicpi", "sonicpi-breaks"} <= {r["source"] for r in rows}
    assert {r["split"] for r in rows} == {"train", "valid"}
    assert all(r["licence"] for r in rows) and "CC0" in (out / "NOTICE").read_text()
    for row in rows[:: max(len(rows) // 25, 1)]:
        audio, rate = sf.read(out / row["path"])
        assert len(audio) == loop_samples(float(row["bpm"]), int(row["bars"]), rate)
        assert rhythm.seam(audio, rate, int(row["bars"]) * 4).click <= 2.0
    valid_kits = {r["kit"] for r in rows if r["split"] == "valid"}
    assert not valid_kits & {r["kit"] for r in rows if r["split"] == "train"}  # whole kits held out
    with pytest.raises(Exception, match="not empty"):
        (out.parent / "taken").mkdir()
        (out.parent / "taken" / "mine.txt").write_text("a user's file")
        build(out.parent / "taken", Plan(soundfont_per_genre=1, synth_kits=0, model_kits=0, real_kits=0,
                                         soundfonts=("csound",)))  # fmt: skip
    assert (out.parent / "taken" / "mine.txt").read_text() == "a user's file"


def _tiny_loop_run(data: Path, out: Path, channels: str):
    """The settings of a two-step loop run on ``data`` with a tiny three-level network of ``channels``."""
    from ddbridge.train.config import TrainConfig

    return TrainConfig(
        out=str(out), data=str(data), loops=True, representation="pqmf", bands=4, mu=255, audio_channels=1,
        sample_rate=44100, depth=3, channels=channels, attn_layers=0, steps=2, batch_size=2, checkpoint_every=0,
        log_every=0, threads=1,
    )  # fmt: skip


def test_a_loop_network_trains_circularly_and_resumes(loop_set, tmp_path):
    from ddbridge.train.trainer import resume_config, train

    data, _ = loop_set
    result = train(_tiny_loop_run(data, tmp_path / "run", "8,8,8"))
    bundle = load_model(result.export)
    assert bundle.net.config.beat_conditioning and bundle.categories[0] == "house"
    assert bundle.representation.config.lead == 0 and bundle.sample_size % bundle.stride == 0
    more = train(resume_config(str(tmp_path / "run"), steps=3))
    assert more.step == 3
    out = generate_loop(bundle, 1, bpm=128, bars=1, genre="techno", steps=2)
    assert out.shape[-1] == loop_samples(128, 1, 44100)

    # Shipping it is one command: the loop network beside the one-shot model, which then makes its loops.
    one_shot = save_model(tiny_bundle(("kick",), name="default", sample_rate=44100), tmp_path / "assets" / "default")
    checkpoint = max((tmp_path / "run" / "checkpoints").glob("step_*.ckpt"))
    env = {**os.environ, "SHIPPED": str(tmp_path / "assets" / "default-loops"), "ONE_SHOT": str(one_shot),
           "PYTHON": sys.executable}  # fmt: skip
    shipped = subprocess.run(["bash", str(REPO / "scripts" / "train_loops.sh"), "ship", str(checkpoint)],
                             env=env, capture_output=True, text=True)  # fmt: skip
    assert shipped.returncode == 0, shipped.stderr
    carrier = load_model(one_shot)
    assert carrier.info["loop_model"] == "../default-loops" and carrier.loop_network is not None
    torch.testing.assert_close(
        generate_loop(carrier, 1, bpm=128, bars=1, genre="techno", steps=2, seeds=[5]),
        generate_loop(load_model(checkpoint), 1, bpm=128, bars=1, genre="techno", steps=2, seeds=[5]),
    )


def test_a_loop_run_resumes_from_its_checkpoint_widened(loop_set, tmp_path):
    """`ddbridge train --widen-outer 2 CKPT OUT` gives the same loops (to rounding) from a wider network, and the
    run goes on from it."""
    from ddbridge.train.trainer import resume_config, train

    data, _ = loop_set
    checkpoint = train(_tiny_loop_run(data, tmp_path / "run", "4,12,12")).checkpoint
    wide = tmp_path / "wide" / "checkpoints" / checkpoint.name
    command = [sys.executable, "-m", "ddbridge", "train", "--widen-outer", "2", str(checkpoint), str(wide)]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "channels 8,12,12" in done.stdout
    again = subprocess.run(command, capture_output=True, text=True)
    assert again.returncode != 0 and "already exists" in again.stderr
    narrow, wider = load_model(checkpoint), load_model(wide)
    assert wider.net.config.channels == (8, 12, 12) and narrow.net.config.channels == (4, 12, 12)
    torch.testing.assert_close(
        generate_loop(wider, 1, bpm=128, bars=1, genre="techno", steps=2, seeds=[5]),
        generate_loop(narrow, 1, bpm=128, bars=1, genre="techno", steps=2, seeds=[5]), atol=3e-3, rtol=0,
    )  # fmt: skip
    assert train(resume_config(str(tmp_path / "wide"), steps=4)).step == 4


def test_training_refuses_an_evaluation_only_loop_set(loop_set, tmp_path):
    from ddbridge.train.loop_data import LoopSet

    data, _ = loop_set
    marked = tmp_path / "heldout"
    shutil.copytree(data, marked)
    (marked / "EVAL_ONLY").write_text("copyleft")
    with pytest.raises(BadRequest, match="evaluation-only"):
        LoopSet(marked, 44100, 64)


def test_the_loop_eval_scores_a_model_against_reference_loops(loop_set):
    from ddbridge.train.loop_eval import evaluate_loops

    data, _ = loop_set
    bundle = tiny_loop_network(sample_rate=44100, bands=4)
    report = evaluate_loops(bundle, data, "valid", data, per_genre=2, steps=2, min_reference=1)
    names = {t.name for t in report.targets}
    assert "loops exactly bars * 4 * 60 / bpm long" in names and "genre recognised, generated / real" in names
    exact = next(t for t in report.targets if t.name.startswith("loops exactly"))
    assert exact.passed  # an untrained network still makes exact lengths
    tempo = next(t for t in report.targets if t.name.startswith("loops at the asked tempo"))
    assert not tempo.passed  # but no rhythm
    balance = [t for t in report.targets if "drum balance" in t.name]
    assert len(balance) == len(report.rows) and not any(t.passed for t in balance)  # nor a drum kit's balance
    assert "periodicity" in report.table() and "drum balance" in report.table()


def test_the_held_out_loops_cut_hydrogen_songs_into_seamless_bars_and_are_eval_only(tmp_path):
    from ddbridge.dataset.loop_heldout import build_heldout, song_tempo
    from ddbridge.dataset.output import EVAL_ONLY

    demo = tmp_path / "songs"
    demo.mkdir()
    song = shutil.copy("/usr/share/hydrogen/data/demo_songs/TR808kit-demo.h2song", demo)
    bpm = song_tempo(song)
    # Copyleft kits come from a held-out one-shot set; any `data build` layout stands in for one here.
    hits = tmp_path / "hits"
    from ddbridge.dataset.synth import render

    rows = ["path,category,source,kit,licence,origin,seconds"]
    for category in ("kick", "snare", "hat_closed", "hat_open", "clap"):
        (hits / category).mkdir(parents=True)
        sf.write(hits / category / "a.wav", render(category, 1, 44100, 0.5).T, 44100)
        rows.append(f"{category}/a.wav,{category},hydrogen,testkit,GPL-2,test,0.5")
    (hits / "manifest.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "heldout"
    report = build_heldout(out, hits, songs=demo)  # renders the song once: h2cli takes ~25 s a song
    with (out / "manifest.csv").open(newline="") as f:
        bars = [row for row in csv.DictReader(f) if row["kit"] == "hydrogen-demo"]
    assert len(bars) >= 8 and report.genres["any"] == len(bars)
    for row in bars:
        assert float(row["bpm"]) == bpm
        audio, rate = sf.read(out / row["path"], dtype="float32")
        assert rate == 44100 and audio.size == loop_samples(bpm, 1, 44100)
        assert rhythm.seam(audio, 44100).click <= 2.0
    assert (out / EVAL_ONLY).is_file()
    assert all(report.genres[g] == 2 for g in ("house", "trap", "dnb"))


def test_a_hydrogen_render_that_hangs_is_tried_once_more(tmp_path, monkeypatch):
    # h2cli now and then hangs after a render; a stand-in that hangs on its first call shows the retry.
    from ddbridge.dataset import loop_heldout

    fake = tmp_path / "bin" / "h2cli"
    fake.parent.mkdir()
    fake.write_text(
        f"#!{sys.executable}\n"
        "import sys, pathlib, time, numpy, soundfile\n"
        f"marker = pathlib.Path({str(tmp_path / 'called')!r})\n"
        "if not marker.exists():\n"
        "    marker.touch(); time.sleep(60)\n"
        "out = sys.argv[sys.argv.index('-o') + 1]\n"
        "soundfile.write(out, numpy.full(44100, 0.25, numpy.float32), 44100)\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    monkeypatch.setattr(loop_heldout, "RENDER_TIMEOUT_S", 3)
    audio = loop_heldout.render_song(Path("any.h2song"))
    assert audio.size == 44100 and np.allclose(audio, 0.25, atol=1e-3)
    (tmp_path / "called").unlink()
    monkeypatch.setattr(loop_heldout, "RENDER_ATTEMPTS", 1)
    with pytest.raises(loop_heldout.DDBridgeError, match="hung rendering any.h2song: no result after 1 x 3 s"):
        loop_heldout.render_song(Path("any.h2song"))
