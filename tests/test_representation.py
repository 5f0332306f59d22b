"""The sub-band representation: PQMF filter bank, patches, per-band scales, companding, and the tasks on top."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch
from daemon_helpers import DaemonProcess

from ddbridge.diffusion.tasks import extend, generate, inpaint, variate
from ddbridge.model.bundle import ModelBundle
from ddbridge.model.checkpoints import save_model
from ddbridge.model.representation import (
    Representation,
    RepresentationConfig,
    measure_band_scales,
)
from ddbridge.model.subband import PQMF, prototype
from ddbridge.model.unet import DanceDiffusionUNet, UNetConfig
from ddbridge.protocol.errors import ModelLoadError

RATE = 44100


def snr_db(reference: torch.Tensor, estimate: torch.Tensor) -> float:
    return float(10 * torch.log10((reference**2).sum() / ((estimate - reference) ** 2).sum()))


def drum_hit(length: int = 8192, start: int = 0, seed: int = 0) -> torch.Tensor:
    """A noise burst with an exponential decay starting at ``start``: ``[1, 1, length]``."""
    gen = torch.Generator().manual_seed(seed)
    t = torch.arange(length - start, dtype=torch.float32)
    hit = torch.randn(length - start, generator=gen) * torch.exp(-t / 600)
    return torch.nn.functional.pad(hit, (start, 0))[None, None]


def pqmf_config(**changes) -> RepresentationConfig:
    return RepresentationConfig(**{"kind": "pqmf", "bands": 16, "taps": 513, "lead": 16, **changes})


def test_the_prototype_stops_100_db_and_the_bank_reconstructs_nearly_perfectly():
    h = prototype(16, 513, 100.0)
    response = np.abs(np.fft.rfft(h, 1 << 16))
    stop = response[np.linspace(0, 1, len(response)) > 2 / 16].max() / response[0]
    assert 20 * np.log10(stop) < -100
    bank = PQMF(16)
    noise = torch.randn(2, 1, 16384, generator=torch.Generator().manual_seed(1))
    bands = bank.encode(noise)
    assert bands.shape == (2, 16, 1024)
    inner = slice(600, -600)  # zero outside: the edges lose what lies beyond them
    assert snr_db(noise[..., inner], bank.decode(bands)[..., inner]) > 55
    assert snr_db(noise, bank.decode(bank.encode(noise, circular=True), circular=True)) > 55


def test_each_band_holds_its_own_slice_of_the_spectrum():
    bank = PQMF(16)
    t = torch.arange(16384) / RATE
    for band in (0, 5, 15):
        centre = (band + 0.5) * RATE / 32
        tone = torch.sin(2 * np.pi * centre * t)[None, None]
        energy = (bank.encode(tone, circular=True) ** 2).mean(dim=-1)[0]
        assert int(energy.argmax()) == band
        assert float(energy[band] / energy.sum()) > 0.99


def test_a_hit_at_sample_zero_reconstructs_with_the_lead_frames():
    hit = drum_hit()
    rep = Representation(pqmf_config(band_scales=(1.0,) * 16))
    frames = rep.frames(8192, 32)
    assert frames == 8192 // 16 + 32
    out = rep.decode(rep.encode(hit, frames), 8192)
    assert snr_db(hit, out) > 50
    no_lead = Representation(pqmf_config(band_scales=(1.0,) * 16, lead=0))
    assert snr_db(hit, no_lead.decode(no_lead.encode(hit, 512), 8192)) < 35  # why the lead is there


def test_patches_are_lossless_and_loops_wrap():
    hit = drum_hit(start=100)
    patch = Representation(RepresentationConfig(kind="patch", bands=16, mu=255.0, band_scales=(4.0,) * 16))
    assert torch.allclose(patch.decode(patch.encode(hit, 512), 8192), hit, atol=1e-5)
    loop = torch.sin(torch.arange(8192) * 2 * np.pi * 8 / 8192)[None, None]
    rep = Representation(pqmf_config(band_scales=(1.0,) * 16))
    assert rep.frames(8192, 32, loop=True) == 512
    assert snr_db(loop, rep.decode(rep.encode(loop, 512, loop=True), 8192, loop=True)) > 55


def test_companding_keeps_quiet_tails_quiet():
    """An error of 1e-2 in the companded signal is tens of dB smaller in a silent stretch of audio."""
    scales = measure_band_scales(pqmf_config(), [drum_hit(seed=s) for s in range(3)])
    assert len(scales) == 16 and all(s > 0 for s in scales)
    rep = Representation(pqmf_config(band_scales=scales, mu=255.0))
    hit = drum_hit()
    signal = rep.encode(hit, rep.frames(8192, 32))
    assert float(signal.abs().max()) <= 1.0 + 1e-6
    error = 1e-2 * torch.randn(signal.shape, generator=torch.Generator().manual_seed(2))
    silence = torch.zeros_like(hit)
    noisy = rep.decode(rep.encode(silence, signal.shape[-1]) + error, 8192)
    linear = Representation(pqmf_config(band_scales=scales))
    noisy_linear = linear.decode(linear.encode(silence, signal.shape[-1]) + error, 8192)
    assert float(noisy.pow(2).mean()) < float(noisy_linear.pow(2).mean()) * 10 ** (-25 / 10)
    assert snr_db(hit, rep.decode(signal, 8192)) > 50


def test_the_representation_round_trips_through_model_info():
    cfg = pqmf_config(band_scales=tuple(float(i + 1) for i in range(16)), mu=255.0, data_scale=2.0)
    info = {"representation": cfg.to_info(), "data_scale": 2.0}
    assert RepresentationConfig.from_info(info) == cfg
    assert RepresentationConfig.from_info({"data_scale": 3.0}) == RepresentationConfig(data_scale=3.0)
    with pytest.raises(ModelLoadError, match="unknown signal representation"):
        RepresentationConfig.from_info({"representation": {"kind": "mdct"}})
    with pytest.raises(ModelLoadError, match="16 positive band scales"):
        RepresentationConfig.from_info({"representation": {**cfg.to_info(), "band_scales": [1.0, 2.0]}})


def test_a_gentler_mu_on_band_0_keeps_a_loud_kicks_level_steadier():
    """The same small shrink of the companded signal costs a loud low boom much less level at band 0's mu 15
    than at mu 1023; the other bands are companded as before, and the round trip stays exact."""
    t = torch.arange(8192, dtype=torch.float32) / RATE
    boom = (0.9 * torch.sin(2 * torch.pi * 55 * t) * torch.exp(-t / 0.15))[None, None]
    scales = measure_band_scales(pqmf_config(), [boom])
    steep = Representation(pqmf_config(band_scales=scales, mu=1023.0))
    gentle = Representation(pqmf_config(band_scales=scales, mu=1023.0, band_mu=(15.0,)))
    frames = steep.frames(8192, 32)
    a, b = steep.encode(boom, frames), gentle.encode(boom, frames)
    assert torch.equal(a[:, 1:], b[:, 1:]) and not torch.allclose(a[:, :1], b[:, :1])
    assert snr_db(boom, gentle.decode(b, 8192)) > 50

    def level_lost_db(rep: Representation, signal: torch.Tensor) -> float:
        return float(10 * torch.log10(boom.pow(2).sum() / rep.decode(signal * 0.95, 8192).pow(2).sum()))

    assert level_lost_db(steep, a) > 2 * level_lost_db(gentle, b) > 0
    linear = Representation(pqmf_config(band_scales=scales, mu=1023.0, band_mu=(0.0,)))
    bands = linear.pqmf.encode(torch.nn.functional.pad(boom, (16 * 16, frames * 16 - 8192 - 16 * 16)))
    assert torch.allclose(linear.encode(boom, frames)[:, 0], bands[:, 0] / scales[0], atol=1e-6)


def test_band_mu_round_trips_through_model_info_and_is_checked():
    cfg = pqmf_config(band_scales=(1.0,) * 16, mu=1023.0, band_mu=(15.0, 63.0))
    assert RepresentationConfig.from_info({"representation": cfg.to_info()}) == cfg
    assert "band 0: 15, band 1: 63" in cfg.describe()
    assert "band_mu" not in pqmf_config(mu=1023.0).to_info()  # what models without it have always stored
    with pytest.raises(ModelLoadError, match="band_mu"):
        RepresentationConfig.from_info({"representation": {**cfg.to_info(), "band_mu": [-1.0]}})


def subband_bundle(categories=("kick", "snare")) -> ModelBundle:
    torch.manual_seed(0)
    config = UNetConfig(io_channels=16, depth=3, channels=(8, 8, 8), n_attn_layers=0, num_classes=len(categories))
    info = {"representation": pqmf_config(band_scales=(0.5,) * 16, mu=255.0).to_info()}
    return ModelBundle(DanceDiffusionUNet(config).eval(), "sub", RATE, 2048, tuple(categories), info)


def test_tasks_run_in_the_sub_band_domain():
    bundle = subband_bundle()
    assert bundle.stride == 64 and bundle.audio_channels == 1
    out = generate(bundle, 2, seeds=[1, 2], steps=2, category="kick")
    assert out.shape == (2, 1, 2048) and torch.isfinite(out).all()
    again = generate(bundle, 1, seeds=[2], steps=2, category="kick")
    peak = float(again.abs().max())
    assert torch.allclose(out[1:], again, atol=1e-4 * peak)  # item i depends only on seed i
    source = drum_hit(3000)[0].numpy()
    varied = variate(bundle, source, RATE, strength=0.5, seeds=[3], steps=2)
    assert varied.shape == (1, 1, 3000)
    longer = extend(bundle, source, RATE, seconds=0.05, seeds=[4], steps=2)
    assert longer.shape == (1, 1, 3000 + round(0.05 * RATE))
    keep = np.ones(3000, dtype=bool)
    keep[1024:2048] = False
    filled = inpaint(bundle, source, RATE, keep, seeds=[5], steps=2)
    kept = slice(0, 1024 - 300)  # frames next to the gap share filter taps with it
    assert snr_db(torch.from_numpy(source[:, kept]), filled[0, :, kept]) > 40
    assert not torch.allclose(filled[0, :, 1024:2048], torch.from_numpy(source[:, 1024:2048]), atol=1e-3)


def test_the_daemon_serves_a_sub_band_model(tmp_path):
    """Served like any model: full-band mono WAVs at 44.1 kHz, and variations of them."""
    model = save_model(subband_bundle(), tmp_path / "sub")
    with DaemonProcess(model, tmp_path / "daemon", pool_size=0) as daemon, daemon.client() as client:
        reply = client.generate(category="kick", count=2, seed=11, steps=2, out_dir=str(daemon.out), wait=True)
        assert reply["ok"], reply
        paths = [f["path"] for f in reply["files"]]
        for path in paths:
            info = sf.info(path)
            assert (info.samplerate, info.channels) == (RATE, 1)
        varied = client.variate(paths[0], strength=0.4, seed=3, steps=2, out_dir=str(daemon.out), wait=True)
        assert varied["ok"], varied
        assert sf.info(varied["files"][0]["path"]).channels == 1


def test_models_info_names_the_signal(tmp_path, capsys):
    from ddbridge.cli import main

    path = save_model(subband_bundle(), tmp_path / "sub")
    assert main(["models", "info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "signal:      16-band PQMF (513 taps), mu-law 255, per-band scales, data scale 1; 1-channel audio" in out
    assert "diffusers:   its signal is sub-bands, not audio" in out
    assert "band_scales" not in out
