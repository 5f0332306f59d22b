"""Training data, the trainer (loss falls, exact resume, export, fine-tuning) and ``ddbridge train``."""

from __future__ import annotations

import logging
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
import torch

from ddbridge.cli import main
from ddbridge.dataset.synth import write_dataset
from ddbridge.diffusion.tasks import generate
from ddbridge.model.bundle import DEFAULT_SAMPLER, DEFAULT_STEPS, ModelBundle
from ddbridge.model.checkpoints import load_model, save_model
from ddbridge.model.unet import UNetConfig
from ddbridge.protocol.errors import BadAudio, BadRequest
from ddbridge.train.data import UNLABELLED, AudioFolder
from ddbridge.train.netinit import adapt_classes, new_network, parse_channels
from ddbridge.train.trainer import TrainConfig, read_state, train

CATS = ("hat_closed", "kick", "snare")
TINY = dict(
    depth=4, channels="8", attn_layers=0, sample_rate=8000, sample_size=2048, batch_size=4, lr=3e-3, lr_warmup=0
)
TINY_FLAGS = (
    "--depth 4 --channels 8 --attn-layers 0 --sample-rate 8000 --sample-size 2048 --batch-size 2 --log-every 1".split()
)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("drums")
    write_dataset(root, 2, seed=0, categories=("kick", "snare", "hat_closed"), sample_rate=16000, seconds=0.3)
    return root


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory):
    """30 steps with a checkpoint at 15, demos and an export at the end."""
    out = tmp_path_factory.mktemp("run_a")
    cfg = TrainConfig(
        out=str(out), data=str(data), steps=30, checkpoint_every=15, log_every=10, demo_every=30, demo_steps=2, **TINY
    )
    events = []
    result = train(cfg, progress=events.append)
    return cfg, result, events


def test_dataset_labels_come_from_sub_folders(data):
    ds = AudioFolder(data, 8000, 2048)
    assert ds.categories == CATS
    assert len(ds) == 6
    for path, label in zip(ds.files, ds.labels, strict=True):
        assert path.parent.name == CATS[label]
    assert all(c.shape == (2, 2048) and c.dtype == np.float32 for c in ds.clips)  # 0.3 s at 8 kHz, cut to the window


def test_files_in_the_root_make_the_set_unlabelled(data, tmp_path):
    shutil.copytree(data, tmp_path / "d")
    shutil.copy(data / "kick" / "kick_0.wav", tmp_path / "d" / "loose.wav")
    ds = AudioFolder(tmp_path / "d", 8000, 2048)
    assert ds.categories == () and (ds.labels == UNLABELLED).all() and len(ds) == 7
    with pytest.raises(BadRequest, match="outside sub-folders"):
        AudioFolder(tmp_path / "d", 8000, 2048, labelled=True)


def test_channels_are_matched_and_audio_resampled(tmp_path):
    (tmp_path / "a").mkdir()
    mono = np.sin(np.linspace(0, 200, 44100)).astype(np.float32) * 0.5
    sf.write(tmp_path / "a" / "mono.flac", mono, 44100)
    ds = AudioFolder(tmp_path, 16000, 32768, channels=2)
    clip = ds.clips[0]
    assert clip.shape == (2, 16000)
    assert np.array_equal(clip[0], clip[1])
    assert AudioFolder(tmp_path, 16000, 4096, channels=1).clips[0].shape == (1, 4096)


def test_one_shot_items_keep_the_attack_and_are_augmented(data):
    ds = AudioFolder(data, 8000, 2048, max_offset_ms=0.0)
    clip = ds.clips[0]
    gains = []
    for seed in range(24):
        item = ds.item(0, np.random.default_rng(seed))
        gain = float((item * clip).sum() / (clip * clip).sum())
        np.testing.assert_allclose(item, gain * clip, atol=1e-6)
        gains.append(gain)
    gains = np.array(gains)
    assert (np.abs(gains) >= 10 ** (-6 / 20) - 1e-6).all() and (np.abs(gains) <= 1 + 1e-6).all()
    assert (gains > 0).any() and (gains < 0).any()  # polarity flips
    shifted = AudioFolder(data, 8000, 2048, max_offset_ms=5.0)
    offsets = {int(np.argmax(np.abs(shifted.item(1, np.random.default_rng(s))).max(axis=0) > 0)) for s in range(20)}
    assert max(offsets) <= 40 and len(offsets) > 1  # a small random delay, never a random crop


def test_random_crops_for_long_files(tmp_path):
    sf.write(tmp_path / "loop.wav", np.random.default_rng(0).uniform(-0.5, 0.5, (8000, 2)).astype(np.float32), 8000)
    ds = AudioFolder(tmp_path, 8000, 1024, one_shot=False, gain_db=(0.0, 0.0), flip_polarity=False)
    assert ds.clips[0].shape == (2, 8000)
    crops = [ds.item(0, np.random.default_rng(s)) for s in range(3)]
    assert all(c.shape == (2, 1024) for c in crops)
    assert not np.array_equal(crops[0], crops[1])
    audio, labels = ds.batch(np.random.default_rng(1), 5)
    assert audio.shape == (5, 2, 1024) and list(labels) == [UNLABELLED] * 5


def test_clear_errors_for_missing_empty_and_unreadable_data(tmp_path, caplog):
    with pytest.raises(BadRequest, match="does not exist"):
        AudioFolder(tmp_path / "nope", 8000, 2048)
    with pytest.raises(BadRequest, match="no audio files"):
        AudioFolder(tmp_path, 8000, 2048)
    (tmp_path / "kick").mkdir()
    (tmp_path / "kick" / "broken.wav").write_bytes(b"RIFF....WAVEjunk")
    with pytest.raises(BadAudio, match="none of the 1 audio files"):
        AudioFolder(tmp_path, 8000, 2048)
    sf.write(tmp_path / "kick" / "good.wav", np.full((800, 2), 0.1, np.float32), 8000)
    with caplog.at_level(logging.WARNING):
        ds = AudioFolder(tmp_path, 8000, 2048)
    assert [p.name for p in ds.files] == ["good.wav"] and [p.name for p, _ in ds.skipped] == ["broken.wav"]
    assert "skipping unreadable audio file" in caplog.text and "broken.wav" in caplog.text


def test_training_loss_falls(trained):
    _, result, events = trained
    losses = np.array(result.losses)
    assert result.step == 30 and len(losses) == 30 and np.isfinite(losses).all()
    assert losses[-10:].mean() < 0.7 * losses[:10].mean()
    assert result.categories == CATS
    messages = [e.message for e in events if e.message]
    assert any(m.startswith("step 10/30  loss") and "it/s" in m for m in messages)
    assert [e.step for e in events if e.message is None] == list(range(1, 31))


def test_demos_are_rendered_per_category(trained):
    cfg, result, _ = trained
    assert sorted(p.name.split("_0")[0] for p in result.demos) == list(CATS)
    for path in result.demos:
        assert path.parent.name == "step_0000030" and path.is_relative_to(cfg.out)
        audio, rate = sf.read(str(path))
        assert rate == 8000 and audio.shape == (2048, 2) and np.isfinite(audio).all()


def test_resume_continues_exactly(trained, tmp_path):
    cfg, result, _ = trained
    resumed = train(
        TrainConfig(
            out=str(tmp_path),
            resume=f"{cfg.out}/checkpoints/step_0000015.ckpt",
            steps=30,
            checkpoint_every=15,
            log_every=10,
            export=False,
        )
    )
    assert resumed.step == 30
    assert resumed.losses == result.losses
    a, b = read_state(result.checkpoint), read_state(resumed.checkpoint)
    assert a["global_step"] == b["global_step"] == 30
    for key, value in a["state_dict"].items():
        assert torch.equal(value, b["state_dict"][key]), key
    opt_a, opt_b = a["optimizer"]["state"], b["optimizer"]["state"]
    assert opt_a.keys() == opt_b.keys()
    for i in opt_a:
        assert all(torch.equal(opt_a[i][k], opt_b[i][k]) for k in opt_a[i])


def test_export_reloads_and_generates(trained):
    _, result, _ = trained
    bundle = load_model(result.export)
    assert bundle.categories == CATS and (bundle.sample_rate, bundle.sample_size) == (8000, 2048)
    assert bundle.net.config.level_conditioning  # new networks hear t and the class at every level
    assert bundle.info["training"]["steps"] == 30 and bundle.default_sampler == "v-iplms"
    state = read_state(result.checkpoint)
    for key, value in bundle.net.state_dict().items():
        assert torch.equal(value, state["state_dict"]["diffusion_ema." + key]), key
    audio = generate(bundle, 2, seeds=[1, 2], steps=3, category="kick")
    assert audio.shape == (2, 2, 2048) and torch.isfinite(audio).all()


def test_training_checkpoints_load_as_their_model_and_fine_tune(trained, data, tmp_path):
    _, result, _ = trained
    exported, checkpoint = load_model(result.export), load_model(result.checkpoint)
    assert checkpoint.net.config == exported.net.config and checkpoint.categories == CATS
    assert (checkpoint.sample_rate, checkpoint.sample_size, checkpoint.data_scale) == (8000, 2048, 1.0)
    assert checkpoint.default_sampler == exported.default_sampler and checkpoint.info["weights"] == "ema"
    for key, value in exported.net.state_dict().items():
        assert torch.equal(value, checkpoint.net.state_dict()[key]), key
    tuned = train(
        TrainConfig(out=str(tmp_path), data=str(data), init=str(result.checkpoint), steps=2, batch_size=2, log_every=0)
    )
    assert load_model(tuned.export).categories == CATS


def test_fine_tune_from_an_unconditional_model_adds_classes(data, tmp_path):
    base = ModelBundle(new_network(UNetConfig(depth=4, channels=(8,) * 4, n_attn_layers=0), 3), "base", 8000, 2048)
    save_model(base, tmp_path / "base")
    result = train(
        TrainConfig(
            out=str(tmp_path / "ft"),
            data=str(data),
            init=str(tmp_path / "base"),
            steps=2,
            batch_size=2,
            log_every=0,
            name="tuned",
        )
    )
    tuned = load_model(result.export)
    assert tuned.name == "tuned" and tuned.categories == CATS and tuned.net.config.num_classes == 3
    assert (tuned.sample_rate, tuned.sample_size) == (8000, 2048) and tuned.data_scale == 1.0


def test_data_scale_and_sampler_defaults_are_kept_with_the_model_and_inherited_by_fine_tunes(data, tmp_path):
    settings = dict(data=str(data), steps=2, batch_size=2, log_every=0)
    fast = dict(default_sampler="dpmpp-2m", default_steps=8, default_guidance=2.0)
    first = train(TrainConfig(out=str(tmp_path / "a"), data_scale=4.0, **fast, **{**TINY, **settings}))
    first_model = load_model(first.export)
    assert (first_model.data_scale, first_model.default_sampler, first_model.default_steps) == (4.0, "dpmpp-2m", 8)
    from_checkpoint = load_model(first.checkpoint)  # a checkpoint carries the same settings as its export
    assert (from_checkpoint.data_scale, from_checkpoint.default_sampler, from_checkpoint.default_guidance) == (
        4.0,
        "dpmpp-2m",
        2.0,
    )
    second = load_model(train(TrainConfig(out=str(tmp_path / "b"), init=str(first.export), **settings)).export)
    assert (second.data_scale, second.default_sampler, second.default_steps) == (4.0, "dpmpp-2m", 8)
    assert first_model.default_guidance == second.default_guidance == 2.0
    third = train(
        TrainConfig(out=str(tmp_path / "c"), init=str(first.export), data_scale=2.0, default_steps=12, **settings)
    )
    third_model = load_model(third.export)
    assert (third_model.data_scale, third_model.default_sampler, third_model.default_steps) == (2.0, "dpmpp-2m", 12)
    scratch = load_model(train(TrainConfig(out=str(tmp_path / "d"), **{**TINY, **settings})).export)
    assert (scratch.default_sampler, scratch.default_steps, scratch.default_guidance) == (
        DEFAULT_SAMPLER,
        DEFAULT_STEPS,
        1,
    )


def test_classes_without_names_are_refused_for_labelled_fine_tuning():
    net = new_network(UNetConfig(depth=3, channels=(8,) * 3, n_attn_layers=0, num_classes=3), 0)
    with pytest.raises(BadRequest, match="3 classes but names 0 categories"):
        adapt_classes(net, (), ("kick", "snare"), seed=1)


def test_adapted_network_starts_from_the_old_output():
    net = new_network(UNetConfig(depth=3, channels=(8,) * 3, n_attn_layers=0), 0).eval()
    x, t = torch.randn(2, 2, 64), torch.rand(2)
    adapted, cats = adapt_classes(net, (), ("kick", "snare"), seed=1)
    assert cats == ("kick", "snare") and adapted.config.num_classes == 2
    with torch.no_grad():
        torch.testing.assert_close(adapted(x, t, torch.tensor([0, 1])), net(x, t))
    more, cats = adapt_classes(adapted, cats, ("snare", "clap"), seed=2)
    assert cats == ("kick", "snare", "clap")
    old, new = adapted.class_embed.weight, more.class_embed.weight
    assert torch.equal(new[:2], old[:2]) and torch.equal(new[-1], old[-1])


def test_bad_settings_are_refused(data, tmp_path):
    with pytest.raises(BadRequest, match="multiple of the network stride 8"):
        train(TrainConfig(out=str(tmp_path), data=str(data), **{**TINY, "sample_size": 2044}))
    with pytest.raises(BadRequest, match="class_dropout|class-dropout"):
        train(TrainConfig(out=str(tmp_path), data=str(data), class_dropout=1.5))
    with pytest.raises(BadRequest, match="data-scale must be in"):
        train(TrainConfig(out=str(tmp_path), data=str(data), data_scale=-1.0))
    with pytest.raises(BadRequest, match="no checkpoint to resume"):
        train(TrainConfig(out=str(tmp_path), resume=str(tmp_path)))
    assert parse_channels("16,32", 4) == (16, 32, 32, 32)
    with pytest.raises(BadRequest):
        parse_channels("16,x", 4)


def test_cli_trains_resumes_and_exports(data, tmp_path, capsys):
    run = tmp_path / "run"
    flags = ["--steps", "2", "--no-export", "--no-level-cond", *TINY_FLAGS]
    assert main(["train", "--data", str(data), "--out", str(run), *flags]) == 0
    assert "step 2/2  loss" in capsys.readouterr().out
    assert main(["train", "--out", str(run), "--resume", "--steps", "3", "--no-export"]) == 0
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [f"step_000000{i}.ckpt" for i in (2, 3)]
    assert main(["train", "--out", str(run), "--resume", "--steps", "4", "--depth", "5"]) == 2
    assert "--depth cannot change when resuming" in capsys.readouterr().err
    assert main(["train", "--export-only", str(run), str(tmp_path / "m.safetensors"), "--name", "drums"]) == 0
    bundle = load_model(tmp_path / "m.safetensors")
    assert bundle.name == "drums" and bundle.info["training"]["steps"] == 3 and bundle.categories == CATS
    assert not bundle.net.config.level_conditioning and "cond_proj" not in str(list(bundle.net.state_dict()))


def test_sigterm_saves_a_checkpoint_like_ctrl_c(data, tmp_path):
    """A run in the background (nohup, a service) is stopped with SIGTERM: it saves its state and resumes."""
    out = tmp_path / "run"
    args = [sys.executable, "-m", "ddbridge", "train", "--data", str(data), "--out", str(out), "--steps", "100000"]
    proc = subprocess.Popen([*args, *TINY_FLAGS, "--checkpoint-every", "0"], stdout=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:
            if line.startswith("step 3/"):
                break
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert "interrupted; state saved to" in rest
    saved = sorted((out / "checkpoints").glob("step_*.ckpt"))
    assert len(saved) == 1 and read_state(saved[0])["global_step"] >= 3
    assert main(["train", "--resume", "--out", str(out), "--steps", str(read_state(saved[0])["global_step"] + 1)]) == 0
