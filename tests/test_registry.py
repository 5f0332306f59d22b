"""Named models: the released table, the models folder, the bundled default and ``ddbridge models list``."""

from __future__ import annotations

import pytest
import torch

from ddbridge.cli import main
from ddbridge.model.bundle import ModelBundle
from ddbridge.model.checkpoints import load_model, save_model
from ddbridge.model.registry import (
    RELEASED_MODELS,
    default_model_path,
    find_released,
    list_models,
    local_models,
    models_dir,
    resolve,
)
from ddbridge.model.unet import DanceDiffusionUNet, UNetConfig
from ddbridge.protocol.errors import UnknownModel

TINY = UNetConfig(io_channels=2, depth=2, channels=(4, 8), n_attn_layers=1)


@pytest.fixture
def ckpt_models_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DDBRIDGE_MODELS_DIR", str(tmp_path))
    return tmp_path


def write_ckpt(path, seed: int = 0) -> DanceDiffusionUNet:
    torch.manual_seed(seed)
    net = DanceDiffusionUNet(TINY)
    torch.save({"state_dict": {f"diffusion_ema.{k}": v for k, v in net.state_dict().items()}}, path)
    return net


def write_own(path, name: str, rate: int = 22050) -> None:
    save_model(ModelBundle(DanceDiffusionUNet(TINY), name, rate, 16384), path)


def test_released_table():
    assert set(RELEASED_MODELS) == {
        "glitch-440k",
        "jmann-small-190k",
        "jmann-large-580k",
        "maestro-150k",
        "unlocked-250k",
        "honk-140k",
    }
    rates = {name: (m.sample_rate, m.sample_size) for name, m in RELEASED_MODELS.items()}
    assert rates["glitch-440k"] == rates["jmann-small-190k"] == (48000, 65536)
    assert rates["jmann-large-580k"] == (48000, 131072)
    assert rates["maestro-150k"] == rates["unlocked-250k"] == rates["honk-140k"] == (16000, 65536)
    glitch = RELEASED_MODELS["glitch-440k"]
    assert (glitch.hub_id, glitch.ckpt_file) == ("harmonai/glitch-440k", "glitch-440k.ckpt")
    assert glitch.config == UNetConfig() and glitch.config.depth == 14
    assert find_released("gwf-440k") is glitch and find_released("maestro-uncond-150k").name == "maestro-150k"
    assert find_released("kick-v1") is None


def test_models_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DDBRIDGE_MODELS_DIR", str(tmp_path / "m"))
    assert models_dir() == tmp_path / "m"
    monkeypatch.delenv("DDBRIDGE_MODELS_DIR")
    assert models_dir().name == "models" and "ddbridge" in str(models_dir())


def test_resolve_finds_released_and_user_models(ckpt_models_dir):
    write_ckpt(ckpt_models_dir / "honk-140k.ckpt")
    write_ckpt(ckpt_models_dir / "gwf-440k.ckpt")  # the model server's name for glitch-440k
    write_own(ckpt_models_dir / "kicks", "kicks")
    write_own(ckpt_models_dir / "hats.safetensors", "hats")
    (ckpt_models_dir / "notes.txt").write_text("not a model")
    (ckpt_models_dir / ".half-written.ckpt.tmp").write_bytes(b"")
    assert resolve("honk-140k") == ckpt_models_dir / "honk-140k.ckpt"
    assert resolve("glitch-440k") == resolve("gwf-440k") == ckpt_models_dir / "gwf-440k.ckpt"
    assert resolve("kicks") == ckpt_models_dir / "kicks"
    assert resolve("hats") == ckpt_models_dir / "hats.safetensors"
    assert resolve("maestro-150k") == "harmonai/maestro-150k"  # not on disk: fetched from the hub
    assert sorted(local_models()) == ["glitch-440k", "hats", "honk-140k", "kicks"]


def test_diffusers_folder_by_release_name(ckpt_models_dir):
    (ckpt_models_dir / "unlocked-250k" / "unet").mkdir(parents=True)
    (ckpt_models_dir / "unlocked-250k" / "unet" / "config.json").write_text("{}")
    assert resolve("unlocked-250k") == ckpt_models_dir / "unlocked-250k"


def test_unknown_name_lists_what_exists(ckpt_models_dir):
    write_own(ckpt_models_dir / "kicks", "kicks")
    with pytest.raises(UnknownModel) as err:
        resolve("snares")
    message = str(err.value)
    assert "'snares'" in message and "kicks" in message and "maestro-150k" in message
    assert str(ckpt_models_dir) in message


def test_the_bundled_default_model_is_shipped_and_makes_drums(ckpt_models_dir):
    from ddbridge.diffusion.tasks import generate

    path = default_model_path()
    assert path.parts[-3:] == ("ddbridge", "assets", "default")
    assert resolve("default") == path
    bundle = load_model("default")
    assert bundle.net.config.num_classes == len(bundle.categories) and "kick" in bundle.categories
    assert (path / "model.safetensors").stat().st_size < 16 * 2**20  # well under the 50 MB a package may carry
    assert (bundle.sample_rate, bundle.audio_channels, bundle.representation.config.kind) == (44100, 1, "pqmf")
    audio = generate(bundle, 2, bundle.stride * 8, seeds=[1, 2], steps=2, category="kick")
    assert audio.shape == (2, 1, bundle.stride * 8) and torch.isfinite(audio).all()
    assert not torch.equal(audio[0], audio[1])


def test_load_by_name_uses_the_registry(ckpt_models_dir):
    net = write_ckpt(ckpt_models_dir / "maestro-uncond-150k.ckpt", seed=3)
    bundle = load_model("maestro-150k")
    assert (bundle.name, bundle.sample_rate, bundle.sample_size) == ("maestro-150k", 16000, 65536)
    x = torch.randn(1, 2, 64)
    with torch.no_grad():
        assert torch.equal(bundle.net(x, torch.tensor([0.5])), net(x, torch.tensor([0.5])))
    write_own(ckpt_models_dir / "kicks", "kicks", rate=44100)
    assert load_model("kicks").sample_rate == 44100
    with pytest.raises(UnknownModel):
        load_model("snares")


def test_unregistered_bare_name_falls_back_to_the_working_directory(ckpt_models_dir, tmp_path_factory, monkeypatch):
    work = tmp_path_factory.mktemp("work")
    write_own(work / "snares", "snares", rate=32000)
    monkeypatch.chdir(work)
    assert load_model("snares").sample_rate == 32000
    write_own(ckpt_models_dir / "snares", "snares", rate=8000)
    assert load_model("snares").sample_rate == 8000  # the models folder comes first


def test_list_models_and_the_list_command(ckpt_models_dir, capsys):
    write_ckpt(ckpt_models_dir / "honk-140k.ckpt")
    write_own(ckpt_models_dir / "kicks", "kicks", rate=44100)
    entries = {e.name: e for e in list_models()}
    assert entries["honk-140k"].path == ckpt_models_dir / "honk-140k.ckpt"
    assert entries["maestro-150k"].path is None and entries["maestro-150k"].kind == "released"
    assert (entries["kicks"].kind, entries["kicks"].sample_rate, entries["kicks"].sample_size) == ("user", 44100, 16384)
    assert entries["default"].kind == "bundled"
    assert main(["models", "list"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert "present" in lines["honk-140k"] and str(ckpt_models_dir / "honk-140k.ckpt") in lines["honk-140k"]
    assert "missing" in lines["jmann-large-580k"] and "131072" in lines["jmann-large-580k"]
    assert "44100" in lines["kicks"] and "present" in lines["kicks"]


def test_a_missing_default_model_is_named_with_where_it_was_expected(ckpt_models_dir, tmp_path, monkeypatch):
    from ddbridge.model import registry

    missing = tmp_path / "assets" / "default"
    monkeypatch.setattr(registry, "default_model_path", lambda name="default": tmp_path / "assets" / name)
    with pytest.raises(UnknownModel, match="default model is not installed") as raised:
        resolve("default")
    assert str(missing) in str(raised.value)
