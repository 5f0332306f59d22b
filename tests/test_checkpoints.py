"""Model loading: diffusers / original .ckpt / own format parity, conversions and every error path."""

from __future__ import annotations

import argparse
import json
import warnings

import pytest
import torch

from ddbridge.cli import main
from ddbridge.model.bundle import ModelBundle
from ddbridge.model.checkpoints import (
    diffusers_config_for,
    load_model,
    save_model,
    unet_from_diffusers,
    unet_to_diffusers_state_dict,
)
from ddbridge.model.unet import DanceDiffusionUNet, UNetConfig
from ddbridge.protocol.errors import ModelLoadError, PathRefused

# Smallest shape diffusers can hold: attention levels need >= 32 channels and an unchanged width.
DIFFUSERS_TINY = UNetConfig(io_channels=2, depth=6, channels=(8, 16, 32, 32, 32, 32), n_attn_layers=1)
TINY = UNetConfig(io_channels=2, depth=3, channels=(4, 8, 8), n_attn_layers=1)
LENGTH = 256
ATOL = 1e-4


def random_net(config: UNetConfig, seed: int = 0) -> DanceDiffusionUNet:
    """A network with every weight random (norm scales too), so a misplaced tensor shows."""
    torch.manual_seed(seed)
    net = DanceDiffusionUNet(config).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    return net


def inputs(config: UNetConfig, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(2, config.io_channels, LENGTH, generator=g), torch.tensor([0.3, 0.85])


def max_diff(a: torch.nn.Module, b: torch.nn.Module, config: UNetConfig) -> float:
    x, t = inputs(config)
    with torch.no_grad():
        return (a(x, t) - b(x, t)).abs().max().item()


def diffusers_model(config: UNetConfig = DIFFUSERS_TINY, seed: int = 0, **overrides):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from diffusers import UNet1DModel

    torch.manual_seed(seed)
    model = UNet1DModel(**{**diffusers_config_for(config, 16000, LENGTH), **overrides}).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    return model


def diffusers_out(model, config: UNetConfig = DIFFUSERS_TINY) -> torch.Tensor:
    x, t = inputs(config)
    with torch.no_grad():
        return model(x, t).sample


def ours_out(net: torch.nn.Module, config: UNetConfig = DIFFUSERS_TINY) -> torch.Tensor:
    x, t = inputs(config)
    with torch.no_grad():
        return net(x, t)


def save_ckpt(path, ema: DanceDiffusionUNet, train: DanceDiffusionUNet | None = None, **extra) -> None:
    """A Lightning-style checkpoint as Harmonai's trainer writes it."""
    sd = {f"diffusion_ema.{k}": v for k, v in ema.state_dict().items()}
    if train is not None:
        sd.update({f"diffusion.{k}": v for k, v in train.state_dict().items()})
    torch.save({"state_dict": sd, "global_step": 123, "epoch": 4, **extra}, path)


# --- diffusers format -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ckpt_diffusers_pipeline(tmp_path_factory):
    """A diffusers pipeline folder (``unet/`` saved by diffusers itself) and its model."""
    model = diffusers_model()
    root = tmp_path_factory.mktemp("pipeline")
    model.save_pretrained(root / "unet")
    (root / "model_index.json").write_text('{"_class_name": "DanceDiffusionPipeline"}')
    return root, model


def test_diffusers_folder_matches_diffusers_output(ckpt_diffusers_pipeline):
    root, model = ckpt_diffusers_pipeline
    assert (root / "unet" / "diffusion_pytorch_model.safetensors").is_file()
    bundle = load_model(root)
    assert (bundle.name, bundle.sample_rate, bundle.sample_size) == (root.name, 16000, LENGTH)
    assert bundle.info["format"] == "diffusers" and "assumed" not in bundle.info
    assert bundle.net.config == DIFFUSERS_TINY
    assert (ours_out(bundle.net) - diffusers_out(model)).abs().max().item() < ATOL


def test_diffusers_unet_folder_itself_loads(ckpt_diffusers_pipeline):
    root, model = ckpt_diffusers_pipeline
    bundle = load_model(str(root / "unet"))
    assert bundle.name == root.name
    assert (ours_out(bundle.net) - diffusers_out(model)).abs().max().item() < ATOL


def test_diffusers_bin_weights_load(tmp_path):
    model = diffusers_model(seed=3)
    model.save_pretrained(tmp_path / "m", safe_serialization=False)
    assert (tmp_path / "m" / "diffusion_pytorch_model.bin").is_file()
    net = load_model(tmp_path / "m").net
    assert (ours_out(net) - diffusers_out(model)).abs().max().item() < ATOL


def test_sin_first_timestep_features_are_reordered():
    model = diffusers_model(seed=4, flip_sin_to_cos=False)
    net = unet_from_diffusers(model.state_dict(), dict(model.config))
    assert (ours_out(net) - diffusers_out(model)).abs().max().item() < ATOL
    as_if_flipped = unet_from_diffusers(model.state_dict(), {**model.config, "flip_sin_to_cos": True})
    assert (ours_out(as_if_flipped) - diffusers_out(model)).abs().max().item() > 1e-3


def test_loop_mode_off_keeps_diffusers_parity(ckpt_diffusers_pipeline):
    root, model = ckpt_diffusers_pipeline
    net = load_model(root).net
    net.set_loop(True)
    assert (ours_out(net) - diffusers_out(model)).abs().max().item() > 1e-3
    net.set_loop(False)
    assert (ours_out(net) - diffusers_out(model)).abs().max().item() < ATOL


def test_our_weights_drive_an_equal_diffusers_model():
    from diffusers import UNet1DModel

    net = random_net(DIFFUSERS_TINY, seed=5)
    cfg = diffusers_config_for(DIFFUSERS_TINY, 48000, 65536)
    assert cfg["block_out_channels"] == [8, 16, 32, 32, 32]
    assert cfg["down_block_types"] == [
        "DownBlock1DNoSkip",
        "DownBlock1D",
        "DownBlock1D",
        "AttnDownBlock1D",
        "AttnDownBlock1D",
    ]
    assert cfg["up_block_types"] == ["AttnUpBlock1D", "AttnUpBlock1D", "UpBlock1D", "UpBlock1D", "UpBlock1DNoSkip"]
    model = UNet1DModel(**cfg).eval()
    model.load_state_dict(unet_to_diffusers_state_dict(net), strict=True)
    assert (ours_out(net) - diffusers_out(model)).abs().max().item() < ATOL


def test_released_shape_maps_to_released_diffusers_layout():
    cfg = diffusers_config_for(UNetConfig(), 16000, 65536)
    assert cfg["block_out_channels"] == [128, 128, 256, 256] + [512] * 9
    assert cfg["down_block_types"].count("AttnDownBlock1D") == 5  # levels 9-13 (+ the middle block, level 14)
    assert cfg["down_block_types"][8:] == ["AttnDownBlock1D"] * 5
    assert cfg["up_block_types"][:5] == ["AttnUpBlock1D"] * 5
    assert cfg["time_embedding_dim"] == 16 and cfg["extra_in_channels"] == 16 and cfg["flip_sin_to_cos"] is True


def test_released_shape_keys_match_diffusers_one_to_one():
    from diffusers import UNet1DModel

    with torch.device("meta"):  # shapes only: the full 221M-parameter network, no memory or time
        theirs = UNet1DModel(**diffusers_config_for(UNetConfig(), 16000, 65536)).state_dict()
        ours = unet_to_diffusers_state_dict(DanceDiffusionUNet(UNetConfig()))
    assert set(ours) == set(theirs)
    assert all(ours[k].shape == theirs[k].shape for k in theirs)
    assert sum(v.numel() for k, v in ours.items() if not k.endswith(".kernel")) == 221_389_322


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        (UNetConfig(2, 3, (8, 8, 8), 1), "32"),
        (UNetConfig(2, 3, (32, 64, 64), 1), "changes width"),
        (UNetConfig(2, 3, (32, 32, 32), 0), "attention"),
        (UNetConfig(2, 3, (32, 32, 32), 1, num_classes=2), "class-conditioned"),
        (UNetConfig(2, 3, (32, 32, 32), 1, level_conditioning=True), "every level"),
    ],
)
def test_shapes_diffusers_cannot_hold_are_refused(config, reason):
    with pytest.raises(ValueError, match=reason):
        diffusers_config_for(config, 16000, 65536)


def test_diffusers_time_projection_of_wrong_size_names_the_key():
    model = diffusers_model(seed=6)
    sd = dict(model.state_dict())
    sd["time_proj.weight"] = torch.randn(128)  # what diffusers >= 0.36 builds without time_embedding_dim=16
    with pytest.raises(ModelLoadError, match=r"'time_proj.weight' has shape \[128\].*\[8\]"):
        unet_from_diffusers(sd, dict(model.config))


def test_diffusers_missing_and_unexpected_keys_are_named():
    model = diffusers_model(seed=7)
    sd = dict(model.state_dict())
    del sd["mid_block.attentions.0.query.weight"]
    sd["extra.weight"] = torch.zeros(1)
    with pytest.raises(ModelLoadError, match=r"1 missing \('mid_block.attentions.0.query.weight'\).*'extra.weight'"):
        unet_from_diffusers(sd, dict(model.config))


def test_non_dance_diffusion_diffusers_layouts_are_refused():
    cfg = {  # diffusers' own small example: attention on the two deepest levels only
        "block_out_channels": [32, 32, 64],
        "extra_in_channels": 16,
        "down_block_types": ["DownBlock1DNoSkip", "DownBlock1D", "AttnDownBlock1D"],
        "up_block_types": ["AttnUpBlock1D", "UpBlock1D", "UpBlock1DNoSkip"],
    }
    with pytest.raises(ModelLoadError, match=r"attention on levels \[3, 4\] is not a Dance Diffusion layout"):
        unet_from_diffusers({}, cfg)
    widening = {  # attention everywhere, but an attention up block narrows, which the original network never does
        **cfg,
        "down_block_types": ["DownBlock1DNoSkip", "AttnDownBlock1D", "AttnDownBlock1D"],
        "up_block_types": ["AttnUpBlock1D", "AttnUpBlock1D", "UpBlock1DNoSkip"],
    }
    with pytest.raises(ModelLoadError, match="changes width"):
        unet_from_diffusers({}, widening)
    with pytest.raises(ModelLoadError, match="extra_in_channels"):
        unet_from_diffusers({}, {**cfg, "extra_in_channels": 0})
    with pytest.raises(ModelLoadError, match="mirror image"):
        unet_from_diffusers({}, {**widening, "up_block_types": ["UpBlock1D", "AttnUpBlock1D", "UpBlock1DNoSkip"]})


# --- hub ids --------------------------------------------------------------------------------------


@pytest.fixture
def ckpt_hub_cache(tmp_path, monkeypatch):
    import huggingface_hub.constants

    cache = tmp_path / "hub"
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache


def test_hub_id_offline_and_not_cached_says_what_to_do(ckpt_hub_cache):
    with pytest.raises(ModelLoadError, match=r"'harmonai/maestro-150k'.*HF_HUB_OFFLINE.*connected machine"):
        load_model("harmonai/maestro-150k")


def test_hub_id_loads_from_the_local_cache(ckpt_hub_cache, ckpt_diffusers_pipeline):
    root, model = ckpt_diffusers_pipeline
    commit = "0" * 40
    repo = ckpt_hub_cache / "models--someone--tiny-dd"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit / "unet"
    snapshot.mkdir(parents=True)
    for f in (root / "unet").iterdir():
        (snapshot / f.name).write_bytes(f.read_bytes())
    bundle = load_model("someone/tiny-dd")
    assert (bundle.name, bundle.sample_rate, bundle.info["hub_id"]) == ("tiny-dd", 16000, "someone/tiny-dd")
    assert (ours_out(bundle.net) - diffusers_out(model)).abs().max().item() < ATOL


# --- original .ckpt -------------------------------------------------------------------------------


def test_original_ckpt_loads_the_ema_weights(tmp_path):
    config = UNetConfig(2, 5, (8, 8, 16, 16, 16), 2)  # not a released shape: read off the weights
    ema, train = random_net(config, 1), random_net(config, 2)
    path = tmp_path / "my-finetune.ckpt"
    save_ckpt(path, ema, train, optimizer_states=[{"state": {0: {"exp_avg": torch.zeros(3)}}}])
    bundle = load_model(str(path))
    assert bundle.net.config == config
    assert max_diff(bundle.net, ema, config) == 0.0
    assert max_diff(bundle.net, train, config) > 1e-3
    assert bundle.info["weights"] == "ema" and bundle.info["global_step"] == 123 and bundle.info["epoch"] == 4
    assert bundle.name == "my-finetune" and bundle.info["assumed"] == ["sample_rate", "sample_size"]
    assert load_model(path, sample_rate=44100).sample_rate == 44100


def test_released_ckpt_name_gives_rate_and_size(tmp_path):
    net = random_net(TINY)
    save_ckpt(tmp_path / "gwf-440k.ckpt", net)  # the model server's file name for glitch-440k
    bundle = load_model(tmp_path / "gwf-440k.ckpt")
    assert (bundle.name, bundle.sample_rate, bundle.sample_size) == ("glitch-440k", 48000, 65536)
    assert "assumed" not in bundle.info


def test_ckpt_without_ema_falls_back_to_training_weights(tmp_path):
    net = random_net(TINY)
    torch.save({"state_dict": {f"diffusion.{k}": v for k, v in net.state_dict().items()}}, tmp_path / "m.ckpt")
    bundle = load_model(tmp_path / "m.ckpt")
    assert bundle.info["weights"] == "training"
    assert max_diff(bundle.net, net, TINY) == 0.0


@pytest.mark.parametrize("level_conditioning", [False, True])
def test_class_conditioned_ckpt_infers_its_layout(tmp_path, level_conditioning):
    config = UNetConfig(2, 4, (4, 8, 8, 8), 1, 3, class_embed_dim=4, level_conditioning=level_conditioning)
    net = random_net(config)
    save_ckpt(tmp_path / "c.ckpt", net)
    loaded = load_model(tmp_path / "c.ckpt").net
    assert loaded.config == config
    x, t = inputs(config)
    labels = torch.tensor([0, 2])
    with torch.no_grad():
        out = net(x, t, labels)
        assert torch.equal(loaded(x, t, labels), out)
        offsets = [p for name, p in net.named_parameters() if "cond_proj" in name]
        assert len(offsets) == (6 if level_conditioning else 0)  # weight and bias at each of levels 2-4
        for p in offsets:
            p.zero_()
        assert ((net(x, t, labels) - out).abs().max() > 1e-3) == level_conditioning


def test_pickled_objects_need_explicit_trust(tmp_path):
    net = random_net(TINY)
    path = tmp_path / "p.ckpt"
    save_ckpt(path, net, hyper_parameters=argparse.Namespace(sample_rate=48000))
    with pytest.raises(ModelLoadError, match=r"argparse.Namespace.*--trust-checkpoint"):
        load_model(path)
    assert max_diff(load_model(path, trust_pickle=True).net, net, TINY) == 0.0


def test_trim_keeps_only_ema_weights_and_loads_the_same(tmp_path):
    config = UNetConfig(2, 3, (16, 32, 32), 1)
    ema, train = random_net(config, 1), random_net(config, 2)
    big = tmp_path / "train.ckpt"
    save_ckpt(
        big, ema, train, optimizer_states=[{"exp_avg": {k: torch.zeros_like(v) for k, v in ema.state_dict().items()}}]
    )
    small = tmp_path / "trimmed.ckpt"
    assert main(["models", "trim", str(big), str(small)]) == 0
    content = torch.load(small, weights_only=True)
    assert set(content) == {"state_dict", "global_step", "epoch"}
    assert all(k.startswith("diffusion_ema.") for k in content["state_dict"])
    assert small.stat().st_size < big.stat().st_size / 2.5
    assert max_diff(load_model(small).net, ema, config) == 0.0
    assert main(["models", "trim", str(big), str(small)]) == 2  # never overwrites
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# --- own format -----------------------------------------------------------------------------------


def bundle_of(net: DanceDiffusionUNet, categories=()) -> ModelBundle:
    info = {"default_sampler": "dpmpp-2m", "default_steps": 12, "training_steps": 5000}
    return ModelBundle(net, "drums-v1", 44100, 32768, tuple(categories), info)


@pytest.mark.parametrize("target", ["folder", "pair.safetensors"])
def test_own_format_round_trips(tmp_path, target):
    config = UNetConfig(2, 3, (4, 8, 8), 1, num_classes=2, class_embed_dim=4, level_conditioning=True)
    net = random_net(config)
    save_model(bundle_of(net, ["kick", "snare"]), tmp_path / target)
    loaded = load_model(tmp_path / target)
    assert (loaded.name, loaded.sample_rate, loaded.sample_size) == ("drums-v1", 44100, 32768)
    assert loaded.categories == ("kick", "snare") and loaded.net.config == config
    assert (loaded.default_sampler, loaded.default_steps, loaded.info["training_steps"]) == ("dpmpp-2m", 12, 5000)
    x, t = inputs(config)
    with torch.no_grad():
        assert torch.equal(loaded.net(x, t, torch.tensor([1, 0])), net(x, t, torch.tensor([1, 0])))
    with pytest.raises(PathRefused):
        save_model(bundle_of(net, ["kick", "snare"]), tmp_path / target)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    (tmp_path / "probe").write_text("")  # files get the permissions any new file would
    weights = tmp_path / target / "model.safetensors" if target == "folder" else tmp_path / target
    assert weights.stat().st_mode & 0o777 == (tmp_path / "probe").stat().st_mode & 0o777


def test_convert_and_info_commands(tmp_path, capsys):
    net = random_net(TINY)
    save_ckpt(tmp_path / "honk-140k.ckpt", net)
    out = tmp_path / "converted"
    assert main(["models", "convert", str(tmp_path / "honk-140k.ckpt"), str(out), "--name", "honky"]) == 0
    meta = json.loads((out / "model.json").read_text())
    assert (meta["format"], meta["version"], meta["name"], meta["sample_rate"]) == ("ddbridge", 1, "honky", 16000)
    assert meta["unet"] == TINY.to_dict() and meta["info"]["global_step"] == 123
    assert max_diff(load_model(out).net, net, TINY) == 0.0
    capsys.readouterr()
    assert main(["models", "info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "honky" in text and "16000 Hz" in text and f"{net.num_parameters():,}" in text
    assert main(["models", "info", str(tmp_path / "nope.ckpt")]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0  # one line, no traceback


# --- damaged and mismatched files -----------------------------------------------------------------


@pytest.fixture
def ckpt_good(tmp_path):
    net = random_net(TINY)
    path = tmp_path / "good.ckpt"
    save_ckpt(path, net)
    return path, net


def test_missing_file(tmp_path):
    with pytest.raises(ModelLoadError, match="no such file"):
        load_model(tmp_path / "absent.ckpt")
    with pytest.raises(ModelLoadError, match="no such file"):
        load_model(str(tmp_path / "absent.ckpt"))


def test_truncated_ckpt(ckpt_good):
    path, _ = ckpt_good
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelLoadError, match=r"good.ckpt.*truncated or corrupt"):
        load_model(path)


def test_corrupt_ckpt_bytes(tmp_path):
    path = tmp_path / "noise.ckpt"
    path.write_bytes(
        torch.randint(0, 256, (4096,), generator=torch.Generator().manual_seed(0)).byte().numpy().tobytes()
    )
    with pytest.raises(ModelLoadError, match=r"noise.ckpt.*truncated or corrupt"):
        load_model(path)


def test_truncated_safetensors(tmp_path):
    save_model(bundle_of(random_net(TINY)), tmp_path / "m")
    weights = tmp_path / "m" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:200])
    with pytest.raises(ModelLoadError, match=r"model.safetensors.*truncated or corrupt"):
        load_model(tmp_path / "m")


def test_wrong_shape_names_the_key(tmp_path):
    net = random_net(TINY)
    sd = {f"diffusion_ema.{k}": v for k, v in net.state_dict().items()}
    sd["diffusion_ema.net.4.main.3.bias"] = torch.zeros(5)
    torch.save({"state_dict": sd}, tmp_path / "s.ckpt")
    with pytest.raises(ModelLoadError, match=r"'net.4.main.3.bias' has shape \[5\]"):
        load_model(tmp_path / "s.ckpt")


def test_own_format_config_mismatch_names_the_key(tmp_path):
    save_model(bundle_of(random_net(TINY)), tmp_path / "m")
    meta_path = tmp_path / "m" / "model.json"
    meta = json.loads(meta_path.read_text())
    meta["unet"]["channels"] = [4, 16, 16]
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ModelLoadError, match=r"'net.3.main.1.main.0.weight' has shape \[8, 4, 5\].*needs \[16, 4, 5\]"):
        load_model(tmp_path / "m")


def test_wrong_key_set_is_reported(ckpt_good, tmp_path):
    _, net = ckpt_good
    sd = {f"diffusion_ema.{k}": v for k, v in net.state_dict().items()}
    del sd["diffusion_ema.net.1.main.4.weight"]
    sd["diffusion_ema.net.1.main.9.weight"] = torch.zeros(4)
    torch.save({"state_dict": sd}, tmp_path / "k.ckpt")
    with pytest.raises(
        ModelLoadError, match=r"1 missing \('net.1.main.4.weight'\); 1 unexpected \('net.1.main.9.weight'\)"
    ):
        load_model(tmp_path / "k.ckpt")


def test_not_a_dance_diffusion_state_dict(tmp_path):
    torch.save({"state_dict": {"model.layer.weight": torch.zeros(3)}}, tmp_path / "other.ckpt")
    with pytest.raises(ModelLoadError, match="not a Dance Diffusion network"):
        load_model(tmp_path / "other.ckpt")


def test_nan_weights_are_refused(tmp_path):
    net = random_net(TINY)
    with torch.no_grad():
        net.net[1].main[0].weight[0, 0, 0] = float("nan")
    save_ckpt(tmp_path / "nan.ckpt", net)
    with pytest.raises(ModelLoadError, match=r"'net.1.main.0.weight' contains NaN"):
        load_model(tmp_path / "nan.ckpt")


def test_bad_own_format_json(tmp_path):
    save_model(bundle_of(random_net(TINY)), tmp_path / "m")
    meta_path = tmp_path / "m" / "model.json"
    meta_path.write_text("{not json")
    with pytest.raises(ModelLoadError, match=r"model.json: not valid JSON"):
        load_model(tmp_path / "m")
    meta_path.write_text(json.dumps({"format": "ddbridge", "version": 1, "name": "x", "sample_rate": 8000}))
    with pytest.raises(ModelLoadError, match="missing field 'sample_size'"):
        load_model(tmp_path / "m")


def test_folder_without_a_model(tmp_path):
    with pytest.raises(ModelLoadError, match="holds no model"):
        load_model(tmp_path)
