"""Training a sub-band model: band scales measured from the data, kept across resume and export; augmentation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ddbridge.dataset.synth import write_dataset
from ddbridge.diffusion.tasks import generate
from ddbridge.model.checkpoints import load_model
from ddbridge.protocol.errors import BadRequest
from ddbridge.train import augment
from ddbridge.train.data import AudioFolder
from ddbridge.train.trainer import TrainConfig, band_loss_weights, read_state, resume_config, train

RATE = 44100
SUBBAND = dict(
    depth=3, channels="8", attn_layers=0, sample_rate=RATE, sample_size=4096, batch_size=2, lr_warmup=0,
    representation="pqmf", bands=16, mu=255.0, audio_channels=1, augment=True, balance=True,
)  # fmt: skip
CATS = ("hat_closed", "hat_open", "kick")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("drums")
    write_dataset(root, 2, seed=0, categories=CATS, sample_rate=RATE, seconds=0.15)
    return root


def decay_time(audio: np.ndarray, rate: int, floor_db: float = -60.0) -> float:
    """Seconds until the last sample above ``floor_db`` re the peak."""
    level = np.abs(audio).max(axis=0)
    return float(np.flatnonzero(level > level.max() * 10 ** (floor_db / 20))[-1] / rate)


def test_a_sub_band_run_measures_its_band_scales_and_keeps_them(data, tmp_path):
    cfg = TrainConfig(out=str(tmp_path / "run"), data=str(data), steps=4, checkpoint_every=2, log_every=0, **SUBBAND)
    result = train(cfg)
    state = read_state(result.checkpoint)
    scales = state["ddbridge_train"]["config"]["band_scales"]
    assert len(scales) == 16 and all(s > 0 for s in scales)
    assert scales[0] > scales[15]  # drums carry more energy in the lowest band than in the top one
    model = load_model(result.export)
    assert model.representation.config.band_scales == pytest.approx(scales)
    assert (model.representation.config.kind, model.audio_channels, model.stride) == ("pqmf", 1, 64)
    audio = generate(model, 1, seeds=[0], steps=2, category="kick")
    assert audio.shape == (1, 1, 4096)
    resumed = train(resume_config(tmp_path / "run", steps=6))
    assert read_state(resumed.checkpoint)["ddbridge_train"]["config"]["band_scales"] == scales
    from_checkpoint = load_model(resumed.checkpoint)
    assert from_checkpoint.representation.config.mu == 255.0 and from_checkpoint.audio_channels == 1


def test_augmented_items_vary_and_end_inside_the_window(data):
    plain = AudioFolder(data, RATE, 8192, channels=1, max_offset_ms=0.0, gain_db=(0, 0), flip_polarity=False)
    varied = AudioFolder(data, RATE, 8192, channels=1, max_offset_ms=0.0, gain_db=(0, 0), flip_polarity=False,
                         augment=True)  # fmt: skip
    kick = plain.categories.index("kick")
    index = int(np.flatnonzero(plain.labels == kick)[0])
    items = [varied.item(index, np.random.default_rng(seed)) for seed in range(6)]
    assert not any(np.allclose(items[0], other) for other in items[1:])
    assert all(not np.allclose(plain.item(index, np.random.default_rng(0)), item) for item in items)
    long_hit = np.ones((1, 20000), dtype=np.float32)
    ended = augment.end_in_window(long_hit[:, :8192].copy(), RATE)
    assert ended[0, 0] == 1.0 and not ended[0, int(0.95 * 8192) :].any()


def test_pitch_choke_and_balance():
    rng = np.random.default_rng(0)
    t = np.arange(RATE) / RATE
    ring = (np.sin(2 * np.pi * 440 * t) * np.exp(-t / 0.3))[None].astype(np.float32)
    lengths = {augment.pitch(ring, np.random.default_rng(s), RATE).shape[1] for s in range(8)}
    assert min(lengths) >= RATE * 2 ** (-3 / 12) - 2 and max(lengths) <= RATE * 2 ** (3 / 12) + 2 and len(lengths) > 4
    assert decay_time(augment.choke(ring, rng, RATE), RATE) < 0.3 < decay_time(ring, RATE)


def test_balanced_batches_draw_categories_equally(tmp_path):
    root = tmp_path / "uneven"
    write_dataset(root / "a", 1, seed=0, categories=("kick",), sample_rate=8000, seconds=0.05)
    write_dataset(root / "b", 12, seed=0, categories=("snare",), sample_rate=8000, seconds=0.05)
    for folder, name in ((root / "a" / "kick", "kick"), (root / "b" / "snare", "snare")):
        folder.rename(root / name)
    even = AudioFolder(root, 8000, 512, balance=True)
    plain = AudioFolder(root, 8000, 512)
    _, labels = even.batch(np.random.default_rng(1), 400)
    _, plain_labels = plain.batch(np.random.default_rng(1), 400)
    kick = even.categories.index("kick")
    assert 0.4 < float(np.mean(labels == kick)) < 0.6
    assert float(np.mean(plain_labels == kick)) < 0.2


def test_category_weights_draw_some_categories_more_often(tmp_path):
    root = tmp_path / "drums"
    write_dataset(root, 3, seed=0, categories=("kick", "snare", "clap"), sample_rate=8000, seconds=0.05)
    weighted = AudioFolder(root, 8000, 512, category_weights={"clap": 2.0})
    assert weighted.balance  # weights imply balanced draws
    _, labels = weighted.batch(np.random.default_rng(1), 800)
    share = {c: float(np.mean(labels == i)) for i, c in enumerate(weighted.categories)}
    assert 0.42 < share["clap"] < 0.58 and 0.18 < share["kick"] < 0.32 and 0.18 < share["snare"] < 0.32, share
    with pytest.raises(BadRequest, match="category weights name hat_open, which .* lacks"):
        AudioFolder(root, 8000, 512, category_weights={"hat_open": 2.0})


def test_category_weights_are_checked_kept_on_resume_and_may_change(data, tmp_path):
    from ddbridge.cli import main

    base = dict(out=str(tmp_path / "run"), data=str(data), steps=2, checkpoint_every=0, log_every=0, **SUBBAND)
    with pytest.raises(BadRequest, match="category-weights must be positive"):
        train(TrainConfig(**{**base, "category_weights": {"kick": 0.0}}))
    with pytest.raises(BadRequest, match="category weights name clap"):
        train(TrainConfig(**{**base, "category_weights": {"clap": 2.0}}))
    assert not (tmp_path / "run").exists()
    first = train(TrainConfig(**{**base, "category_weights": {"kick": 3.0}}))
    assert read_state(first.checkpoint)["ddbridge_train"]["config"]["category_weights"] == {"kick": 3.0}
    assert resume_config(tmp_path / "run", steps=3).category_weights == {"kick": 3.0}
    changed = train(resume_config(tmp_path / "run", steps=3, category_weights={"hat_open": 2.0}))
    assert read_state(changed.checkpoint)["ddbridge_train"]["config"]["category_weights"] == {"hat_open": 2.0}
    for bad in ("clap", "clap=x", "=2", "clap=2,"):
        with pytest.raises(SystemExit) as exit_:
            main(["train", "--out", str(tmp_path / "cli"), "--data", str(data), "--category-weights", bad])
        assert exit_.value.code == 2
    assert not (tmp_path / "cli").exists()


def test_a_slim_checkpoint_resumes_from_its_ema_weights(data, tmp_path):
    from ddbridge.cli import main

    cfg = TrainConfig(out=str(tmp_path / "run"), data=str(data), steps=3, checkpoint_every=0, log_every=0, **SUBBAND)
    full = train(cfg).checkpoint
    slim = tmp_path / "kept" / "slim.ckpt"
    assert main(["train", "--slim", str(full), str(slim)]) == 0
    assert slim.stat().st_size < full.stat().st_size / 2
    state = read_state(slim)
    assert "optimizer" not in state and all(k.startswith("diffusion_ema.") for k in state["state_dict"])
    assert all(v.dtype == torch.float16 for v in state["state_dict"].values() if v.is_floating_point())
    assert load_model(slim).representation.config == load_model(full).representation.config
    x, t = torch.randn(1, 16, 8 * load_model(full).net.stride), torch.tensor([0.5])
    torch.testing.assert_close(load_model(slim).net(x, t), load_model(full).net(x, t), atol=1e-2, rtol=1e-2)
    resumed = train(resume_config(slim, out=str(tmp_path / "next"), steps=5))
    assert resumed.step == 5 and len(resumed.losses) == 5 and np.isfinite(resumed.losses).all()
    assert main(["train", "--slim", str(full), str(slim)]) == 2  # never over an existing file


def test_band_weights_are_normalised_and_refused_when_malformed(data, tmp_path):
    weights = band_loss_weights([4.0, 2.0], 16, 2)
    assert weights.shape == (32,) and float(weights.mean()) == pytest.approx(1.0)
    assert float(weights[0] / weights[2]) == pytest.approx(4.0)
    assert float(weights[16] / weights[17]) == pytest.approx(2.0)  # the second channel's bands alike
    assert band_loss_weights(None, 16, 1).tolist() == [1.0] * 16
    base = dict(out=str(tmp_path / "run"), data=str(data), steps=1)
    for bad, said in [([1.0] * 17, "at most 16"), ([4.0, 0.0], "positive"), ([4.0, -1.0], "positive")]:
        with pytest.raises(BadRequest, match=said):
            train(TrainConfig(**base, **{**SUBBAND, "band_weights": bad}))
    with pytest.raises(BadRequest, match="sub-band"):
        train(TrainConfig(**base, band_weights=[4.0]))
    assert not (tmp_path / "run").exists()


def test_band_weights_change_the_loss_and_may_change_on_resume(data, tmp_path):
    def run(name: str, **extra) -> tuple[list[float], Path]:
        cfg = TrainConfig(out=str(tmp_path / name), data=str(data), steps=2, checkpoint_every=0, log_every=0,
                          **SUBBAND, **extra)  # fmt: skip
        result = train(cfg)
        return result.losses, result.checkpoint

    plain, _ = run("plain")
    weighted, checkpoint = run("weighted", band_weights=[8.0])
    assert weighted[0] != pytest.approx(plain[0], rel=1e-3)  # same batch and noise, band 0 counted 8 times
    assert read_state(checkpoint)["ddbridge_train"]["config"]["band_weights"] == [8.0]
    kept = resume_config(tmp_path / "weighted", steps=3)
    assert kept.band_weights == [8.0]
    changed = train(resume_config(tmp_path / "weighted", steps=3, band_weights=[2.0, 2.0], lr=1e-4))
    saved = read_state(changed.checkpoint)["ddbridge_train"]["config"]
    assert (saved["band_weights"], saved["lr"]) == ([2.0, 2.0], 1e-4)  # both may change when a run resumes


def test_band_mu_recompands_band_0_when_a_run_resumes_and_is_kept_after(data, tmp_path):
    first = train(TrainConfig(out=str(tmp_path / "run"), data=str(data), steps=2, checkpoint_every=0, log_every=0,
                              **SUBBAND))  # fmt: skip
    changed = train(resume_config(tmp_path / "run", steps=3, band_mu=[15.0]))
    assert read_state(changed.checkpoint)["ddbridge_train"]["ema_from"] == 2  # the EMA warms up on the new signal
    rep = load_model(changed.export).representation.config
    assert (rep.mu, rep.band_mu) == (255.0, (15.0,))
    assert rep.band_scales == load_model(first.export).representation.config.band_scales
    assert np.isfinite(changed.losses).all()
    kept = train(resume_config(tmp_path / "run", steps=4))
    assert load_model(kept.checkpoint).representation.config.band_mu == (15.0,)
    assert read_state(kept.checkpoint)["ddbridge_train"]["ema_from"] == 2  # kept across an interruption
    audio = generate(load_model(kept.export), 1, seeds=[0], steps=2, category="kick")
    assert audio.shape == (1, 1, 4096) and torch.isfinite(audio).all()
    with pytest.raises(BadRequest, match="band-mu"):
        resume_config(tmp_path / "run", steps=5, band_mu=[-1.0]).check()


def test_a_fine_tune_keeps_or_changes_the_init_models_companding(data, tmp_path):
    first = train(TrainConfig(out=str(tmp_path / "first"), data=str(data), steps=2, checkpoint_every=0, log_every=0,
                              **SUBBAND))  # fmt: skip
    scales = load_model(first.export).representation.config.band_scales
    base = dict(data=str(data), init=str(first.export), steps=2, checkpoint_every=0, log_every=0)
    kept = load_model(train(TrainConfig(out=str(tmp_path / "kept"), **base)).export).representation.config
    assert (kept.kind, kept.mu, kept.band_mu, kept.band_scales) == ("pqmf", 255.0, (), scales)
    changed = train(TrainConfig(out=str(tmp_path / "changed"), mu=1023.0, band_mu=[0.0], band_weights=[4.0, 2.0],
                                **base))  # fmt: skip
    rep = load_model(changed.export).representation.config
    assert (rep.kind, rep.mu, rep.band_mu, rep.band_scales) == ("pqmf", 1023.0, (0.0,), scales)
    assert np.isfinite(changed.losses).all()


def test_band_weights_are_refused_for_a_waveform_init_model(data, tmp_path):
    waveform = train(TrainConfig(out=str(tmp_path / "wave"), data=str(data), steps=1, checkpoint_every=0, log_every=0,
                                 depth=3, channels="8", attn_layers=0, sample_size=4096, batch_size=2))  # fmt: skip
    cfg = TrainConfig(out=str(tmp_path / "tuned"), data=str(data), init=str(waveform.export), steps=1,
                      band_weights=[4.0])  # fmt: skip
    with pytest.raises(BadRequest, match="waveform model"):
        train(cfg)
    assert not list((tmp_path / "tuned").glob("**/*.ckpt"))
