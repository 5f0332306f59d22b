"""Engine vs diffusers on the same random weights: forward time, and evaluations needed per sampler.

(a) One forward pass of our ``DanceDiffusionUNet`` against diffusers' ``UNet1DModel`` (Dance Diffusion
    layout) holding the same weights: median time of N alternating runs, fp32 on CPU; on CUDA also
    bf16 and ``torch.compile``.
(b) For each of our samplers, the fewest model evaluations whose result is as close (multi-resolution
    STFT distance) to a 1000-step IPNDM reference as diffusers' IPNDMScheduler gets in 100 steps, run the way
    its DanceDiffusionPipeline ran it. Every evaluation is counted by wrapping the models.

Run: ``.venv/bin/python bench/compare_diffusers.py`` (``--help`` for sizes; ``--full`` times the
released architecture; ``--model default --skip-forward`` runs (b) on trained weights, with diffusers'
IPNDMScheduler driving our network where ``UNet1DModel`` cannot hold it, e.g. a class-conditioned model).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
from collections.abc import Callable
from types import SimpleNamespace

import torch
from diffusers import IPNDMScheduler, UNet1DModel

from ddbridge.diffusion.denoiser import VDenoiser
from ddbridge.diffusion.samplers import SAMPLERS, noise_sampler_from_seeds
from ddbridge.diffusion.schedule import get_sigmas
from ddbridge.model.checkpoints import load_model
from ddbridge.model.diffusers_format import diffusers_config_for, unet_to_diffusers_state_dict
from ddbridge.model.unet import DanceDiffusionUNet, UNetConfig

RELEASED = UNetConfig()
# The released network at a quarter of the width and 10 levels deep; attention on the deepest three.
MEDIUM = UNetConfig(depth=10, channels=(32, 32, 64, 64) + (128,) * 6, n_attn_layers=1)
# Small enough for thousands of evaluations on a CPU; attention on levels 6-8 (256 tokens and fewer).
SMALL = UNetConfig(depth=8, channels=(8, 8, 16, 16, 32, 32, 32, 32), n_attn_layers=1)
STEP_GRID = (2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 25, 32, 40, 50, 64, 80, 100, 128)
TOLERANCES = (0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001)  # dpm-adaptive: rtol, with atol = rtol / 6.4
STOCHASTIC = ("euler-ancestral", "dpmpp-2s-ancestral", "dpmpp-3m-sde")


class Counted:
    """Counts calls to the wrapped model."""

    def __init__(self, model: Callable) -> None:
        self.model, self.calls = model, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.model(*args, **kwargs)


def paired_models(config: UNetConfig, rate: int, length: int, seed: int) -> tuple[DanceDiffusionUNet, UNet1DModel]:
    """Our network with random weights and diffusers' UNet1DModel loaded with the very same weights."""
    torch.manual_seed(seed)
    net = DanceDiffusionUNet(config).eval()
    ref = UNet1DModel(**diffusers_config_for(config, rate, length)).eval()
    ref.load_state_dict(unet_to_diffusers_state_dict(net), strict=True)
    return net, ref


class DiffusersCall:
    """Our network behind diffusers' ``unet(sample, t).sample`` call, conditioned on a fixed class."""

    def __init__(self, net: DanceDiffusionUNet, class_labels: torch.Tensor | None) -> None:
        self.net, self.class_labels = net, class_labels

    def __call__(self, sample: torch.Tensor, t: torch.Tensor) -> SimpleNamespace:
        t = t.reshape(-1).to(sample.dtype).expand(sample.shape[0])
        return SimpleNamespace(sample=self.net(sample, t, self.class_labels))


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_forward(fns: dict[str, Callable[[], object]], repeats: int, device: torch.device) -> dict[str, list[float]]:
    """Seconds per call, ``repeats`` each; the functions alternate so that load changes hit them alike."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():  # warm-up (and compilation)
        fn()
    for _ in range(repeats):
        for name, fn in fns.items():
            _sync(device)
            start = time.perf_counter()
            fn()
            _sync(device)
            times[name].append(time.perf_counter() - start)
    return times


def forward_section(args: argparse.Namespace, device: torch.device) -> None:
    config = RELEASED if args.full else MEDIUM
    length = args.length
    net, ref = paired_models(config, 48000, length, seed=0)
    net, ref = net.to(device), ref.to(device)
    x = torch.randn(1, config.io_channels, length, device=device)
    t = torch.full((1,), 0.7, device=device)
    print(f"(a) forward pass, {'released' if args.full else 'medium'} network: depth {config.depth}, "
          f"channels {list(config.channels)}, attention levels from {config.depth - config.n_attn_layers - 1}, "
          f"{net.num_parameters() / 1e6:.1f} M parameters, input [1, {config.io_channels}, {length}]")  # fmt: skip
    variants = [("fp32", torch.float32, False)]
    if device.type == "cuda":
        variants += [("bf16", torch.bfloat16, False), ("bf16 + torch.compile", torch.bfloat16, True)]
    print(f"median (min) of {args.repeats} alternating runs, seconds")
    print(f"{'variant':<22}{'ours':>16}{'diffusers':>16}{'speed-up':>15}{'max |diff|':>12}")
    with torch.inference_mode():
        for label, dtype, compiled in variants:
            ours, theirs = (net, ref) if dtype == torch.float32 else (net.to(dtype), ref.to(dtype))
            if compiled:
                ours, theirs = torch.compile(ours), torch.compile(theirs)
            xd, td = x.to(dtype), t.to(dtype)
            diff = (ours(xd, td).float() - theirs(xd, td).sample.float()).abs().max().item()
            calls = {
                "ours": lambda o=ours, xd=xd, td=td: o(xd, td),
                "diffusers": lambda r=theirs, xd=xd, td=td: r(xd, td).sample,
            }
            times = time_forward(calls, args.repeats, device)
            med = {name: statistics.median(t) for name, t in times.items()}
            low = {name: min(t) for name, t in times.items()}
            cells = [f"{med[n]:.4f} ({low[n]:.3f})" for n in ("ours", "diffusers")]
            speedup = f"{med['diffusers'] / med['ours']:.2f}x ({low['diffusers'] / low['ours']:.2f}x)"
            print(f"{label:<22}{cells[0]:>16}{cells[1]:>16}{speedup:>15}{diff:>12.1e}")
    print()


def mr_stft_distance(x: torch.Tensor, ref: torch.Tensor, ffts: tuple[int, ...] = (512, 1024, 2048)) -> float:
    """Multi-resolution STFT distance: spectral convergence plus log-magnitude L1, averaged over resolutions."""
    x, ref = x.float().flatten(0, -2), ref.float().flatten(0, -2)
    total = 0.0
    for n_fft in ffts:
        window = torch.hann_window(n_fft, device=x.device)

        def mag(a: torch.Tensor, n_fft=n_fft, window=window) -> torch.Tensor:
            spec = torch.stft(a, n_fft, hop_length=n_fft // 4, window=window, return_complex=True)
            return spec.abs().clamp(min=1e-7)

        m, m_ref = mag(x), mag(ref)
        convergence = torch.linalg.vector_norm(m_ref - m) / torch.linalg.vector_norm(m_ref)
        log_l1 = (m_ref.log() - m.log()).abs().mean()
        total += float(convergence + log_l1)
    return total / len(ffts)


def diffusers_ipndm(unet: UNet1DModel, noise: torch.Tensor, steps: int) -> tuple[torch.Tensor, int]:
    """diffusers' DanceDiffusionPipeline loop (without its final clamp to [-1, 1]); returns (audio, evaluations)."""
    scheduler = IPNDMScheduler()
    counted = Counted(unet)
    scheduler.set_timesteps(steps, device=noise.device)
    scheduler.timesteps = scheduler.timesteps.to(noise.dtype)
    audio = noise
    for t in scheduler.timesteps:
        model_output = counted(audio, t).sample
        audio = scheduler.step(model_output, t, audio).prev_sample
    return audio, counted.calls


def run_ours(model: Callable, name: str, noise: torch.Tensor, steps: int, **options) -> tuple[torch.Tensor, int]:
    sigmas = get_sigmas(steps, device=noise.device)
    counted = Counted(model)
    noise_sampler = noise_sampler_from_seeds([1] * noise.shape[0], noise)
    out = SAMPLERS[name](counted, noise * sigmas[0], sigmas, noise_sampler=noise_sampler, **options)
    return out, counted.calls


def evals_to_match(model, name: str, noise, reference, target: float, cap: int, **options) -> tuple[int | None, float]:
    """Smallest evaluation count on the grid whose distance is <= target: (evals or None, its distance or the last)."""
    if name == "dpm-adaptive":
        runs = (run_ours(model, name, noise, 100, rtol=r, atol=r / 6.4) for r in TOLERANCES)
    else:
        runs = (run_ours(model, name, noise, steps, **options) for steps in STEP_GRID)
    distance = float("nan")
    for out, evals in runs:
        distance = mr_stft_distance(out, reference)
        if distance <= target:
            return evals, distance
        if evals >= cap:
            break
    return None, distance


def sampler_section(args: argparse.Namespace, device: torch.device) -> None:
    class_labels = None
    if args.model:
        bundle = load_model(args.model, device=device)
        net, config = bundle.net, bundle.net.config
        index = bundle.resolve_category(args.category).index if args.category else None
        class_labels = torch.tensor([index], device=device) if index is not None else None
        ref_unet = DiffusersCall(net, class_labels)
        length = bundle.sample_size
        described = f"trained model '{bundle.name}' ({args.category or 'unconditional'}), IPNDMScheduler driving it"
    else:
        config, length = SMALL, args.sampler_length
        net, ref_unet = paired_models(config, 48000, length, seed=1)
        net, ref_unet = net.to(device), ref_unet.to(device)
        described = "random small network in diffusers' UNet1DModel"
    model = functools.partial(VDenoiser(net), class_labels=class_labels)
    shape = (1, config.io_channels, length)
    noise = torch.randn(shape, generator=torch.Generator().manual_seed(2)).to(device)
    print(f"(b) evaluations to match diffusers IPNDM at 100 steps; {described}: depth {config.depth}, "
          f"channels {list(config.channels)}, input {list(shape)}, same starting noise")  # fmt: skip
    with torch.inference_mode():
        start = time.perf_counter()
        reference, _ = diffusers_ipndm(ref_unet, noise, args.reference_steps)
        ipndm_100, ipndm_evals = diffusers_ipndm(ref_unet, noise, 100)
        target = mr_stft_distance(ipndm_100, reference)
        ours_100, _ = run_ours(model, "ipndm", noise, 100)
        print(f"reference: diffusers IPNDM, {args.reference_steps} steps; IPNDM 100 steps ({ipndm_evals} evaluations): "
              f"MR-STFT distance {target:.5f}")  # fmt: skip
        print(f"our ipndm at 100 steps vs diffusers' IPNDM at 100 steps: {mr_stft_distance(ours_100, ipndm_100):.5f}")
        ours_ref, _ = run_ours(model, "ipndm", noise, args.reference_steps)
        floor = mr_stft_distance(ours_ref, reference)
        print(f"floor: our ipndm, {args.reference_steps} steps, vs the reference: {floor:.5f} (the closest ours get)")
        print(f"\n{'sampler':<30}{'evals to match':>15}{'ratio vs 100':>14}{'distance':>11}")
        rows = [(name, name, {}) for name in args.samplers if name not in STOCHASTIC]
        rows += [(f"{name} (eta=0)", name, {"eta": 0.0}) for name in args.samplers if name in STOCHASTIC]
        for label, name, options in rows:
            evals, distance = evals_to_match(model, name, noise, reference, target, args.eval_cap, **options)
            shown = f"{evals}" if evals is not None else f"> {args.eval_cap}"
            ratio = f"{evals / ipndm_evals:.2f}" if evals is not None else "-"
            print(f"{label:<30}{shown:>15}{ratio:>14}{distance:>11.5f}")
        for name in (n for n in STOCHASTIC if n in args.samplers):
            print(f"{name:<30}{'n/a':>15}   (stochastic: a different sample than the ODE's, by design)")
        print(f"\nsampler study took {time.perf_counter() - start:.0f} s")


def sampler_names(text: str) -> list[str]:
    """``--samplers``: comma-separated names, each one of ``SAMPLERS``."""
    names = text.split(",")
    unknown = sorted(set(names) - set(SAMPLERS))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown sampler(s) {', '.join(unknown)}; choose from {', '.join(SAMPLERS)}")
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="time the released architecture (221 M parameters)")
    parser.add_argument("--length", type=int, default=65536, help="samples per forward pass in (a)")
    parser.add_argument("--repeats", type=int, default=9, help="timed runs per model in (a); the median is shown")
    parser.add_argument("--sampler-length", type=int, default=4096, help="samples per evaluation in (b)")
    parser.add_argument("--reference-steps", type=int, default=1000, help="IPNDM steps of the reference in (b)")
    parser.add_argument("--eval-cap", type=int, default=100, help="give up on a sampler beyond this many evaluations")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (1 keeps timings steady on a shared CPU)")
    parser.add_argument("--skip-forward", action="store_true", help="skip (a)")
    parser.add_argument("--skip-samplers", action="store_true", help="skip (b)")
    parser.add_argument("--model", help="run (b) on this trained model (name or path) instead of random weights")
    parser.add_argument("--category", help="with --model: the category every evaluation in (b) is conditioned on")
    parser.add_argument(
        "--samplers", type=sampler_names, default=list(SAMPLERS), help="comma-separated samplers to study in (b)"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"torch {torch.__version__}, device {device}, {torch.get_num_threads()} CPU threads\n")
    if not args.skip_forward:
        forward_section(args, device)
    if not args.skip_samplers:
        sampler_section(args, device)


if __name__ == "__main__":
    main()
