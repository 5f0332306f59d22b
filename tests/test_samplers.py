"""Samplers: determinism per seed, callbacks, evaluation counts, and convergence to the probability-flow ODE."""

from __future__ import annotations

import math

import pytest
import torch
from tiny_models import tiny_network

from ddbridge.diffusion.denoiser import VDenoiser
from ddbridge.diffusion.samplers import SAMPLERS, get_sampler, linear_multistep_coeffs, noise_sampler_from_seeds
from ddbridge.diffusion.schedule import get_sigmas
from ddbridge.protocol.errors import BadRequest

NAMES = sorted(SAMPLERS)
# Options that make a sampler stochastic; everything else is deterministic given x.
STOCHASTIC = {"euler-ancestral": {}, "dpmpp-2s-ancestral": {}, "dpmpp-3m-sde": {}, "v-ddim": {"eta": 1.0}}
# The same samplers with their noise switched off: deterministic solvers of the probability-flow ODE.
ODE_OPTIONS = {"euler-ancestral": {"eta": 0.0}, "dpmpp-2s-ancestral": {"eta": 0.0}, "dpmpp-3m-sde": {"eta": 0.0}}
EVALS_PER_STEPS = {
    "v-ddim": lambda n: n,
    "v-iplms": lambda n: n,
    "ipndm": lambda n: n,
    "lms": lambda n: n,
    "dpmpp-2m": lambda n: n,
    "dpmpp-3m-sde": lambda n: n,
    "euler-ancestral": lambda n: n,
    "dpm-fast": lambda n: n,
    "heun": lambda n: 2 * n - 1,
    "dpm-2": lambda n: 2 * n - 1,
    "dpmpp-2s-ancestral": lambda n: 2 * n - 1,
}


@pytest.fixture(scope="module")
def model() -> VDenoiser:
    return VDenoiser(tiny_network(depth=2, width=8, attn=1))  # ~5k parameters, with attention


class Counted:
    """A denoiser that counts its calls."""

    def __init__(self, model) -> None:
        self.model, self.calls = model, 0

    def __call__(self, x, sigma, **extra_args):
        self.calls += 1
        return self.model(x, sigma, **extra_args)


def start(seed: int, steps: int, batch: int = 1, length: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    sigmas = get_sigmas(steps)
    noise = torch.randn(batch, 2, length, generator=torch.Generator().manual_seed(seed))
    return noise * sigmas[0], sigmas


def sample(model, name: str, seed: int, steps: int, noise_seed: int | None = None, callback=None, **options):
    x, sigmas = start(seed, steps)
    noise_sampler = noise_sampler_from_seeds([seed if noise_seed is None else noise_seed], x)
    return get_sampler(name)(model, x, sigmas, callback=callback, noise_sampler=noise_sampler, **options)


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


def test_unknown_sampler_is_bad_request_listing_the_names():
    with pytest.raises(BadRequest, match="choose one of: .*dpmpp-2m"):
        get_sampler("k-euler")


def test_registry_has_the_agreed_names():
    assert set(SAMPLERS) == {
        "v-ddim", "v-iplms", "heun", "lms", "dpm-2", "dpmpp-2s-ancestral", "dpm-fast", "dpm-adaptive",
        "ipndm", "dpmpp-2m", "dpmpp-3m-sde", "euler-ancestral",
    }  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_per_seed(model, name):
    options = STOCHASTIC.get(name, {})
    first = sample(model, name, seed=1, steps=3, **options)
    again = sample(model, name, seed=1, steps=3, **options)
    other_noise = sample(model, name, seed=1, steps=3, noise_seed=2, **options)
    assert first.shape == (1, 2, 256)
    assert torch.isfinite(first).all()
    assert torch.equal(first, again)
    # Stochastic samplers follow their noise; the others never draw from it.
    assert torch.equal(first, other_noise) == (name not in STOCHASTIC)


@pytest.mark.parametrize("name", NAMES)
def test_callback_once_per_step(model, name):
    counted, calls = Counted(model), []
    out = sample(counted, name, seed=3, steps=4, callback=calls.append)
    assert [c["i"] for c in calls] == list(range(len(calls)))
    assert calls[-1]["total"] == len(calls)
    assert calls[-1]["sigma"] == 0.0
    assert torch.equal(calls[-1]["x"], out)
    sigmas = [c["sigma"] for c in calls]
    assert sigmas == sorted(sigmas, reverse=True)
    if name == "dpm-adaptive":
        assert counted.calls >= len(calls)
    else:
        assert all(c["total"] == len(calls) for c in calls)
        assert counted.calls == EVALS_PER_STEPS[name](4)
        if name != "dpm-fast":
            assert len(calls) == 4


@pytest.fixture(scope="module")
def ode_reference(model) -> torch.Tensor:
    return sample(model, "dpmpp-2m", seed=4, steps=500)


@pytest.mark.parametrize("name", NAMES)
def test_converges_to_the_ode_solution(model, ode_reference, name):
    # Every sampler, with its noise switched off (eta = 0), is a solver of the same probability-flow ODE
    # from the same start, so its error against a 500-step DPM-Solver++(2M) solution must shrink as the
    # steps grow. With noise on this comparison is unsound: fresh noise per step means a different
    # Brownian path for every step count, so runs at different step counts draw different samples.
    if name == "dpm-adaptive":  # its accuracy follows the tolerances, not the number of steps
        coarse = sample(model, name, seed=4, steps=50, rtol=0.2, atol=0.02)
        fine = sample(model, name, seed=4, steps=50, rtol=0.01, atol=0.001)
    else:
        coarse = sample(model, name, seed=4, steps=5, **ODE_OPTIONS.get(name, {}))
        fine = sample(model, name, seed=4, steps=50, **ODE_OPTIONS.get(name, {}))
    assert relative_error(fine, ode_reference) < 0.3 * relative_error(coarse, ode_reference)


def gaussian_denoiser(x: torch.Tensor, sigma: torch.Tensor, sd: float = 0.5) -> torch.Tensor:
    """The exact denoiser for data ~ N(0, sd^2): E[x0 | x] = x sd^2 / (sd^2 + sigma^2)."""
    s2 = sigma.to(x.dtype)[:, None, None] ** 2
    return x * sd**2 / (sd**2 + s2)


@pytest.mark.parametrize("name", NAMES)
def test_solves_the_gaussian_ode_exactly_known(name):
    # For Gaussian data the ODE solution is known: x(0) = x(sigma_max) * sd / sqrt(sd^2 + sigma_max^2).
    x, sigmas = start(seed=5, steps=50, length=64)
    exact = x * 0.5 / math.sqrt(0.25 + float(sigmas[0]) ** 2)
    out = get_sampler(name)(gaussian_denoiser, x, sigmas, **ODE_OPTIONS.get(name, {}))
    assert relative_error(out, exact) < 0.05


@pytest.mark.parametrize("name", sorted(STOCHASTIC))
def test_stochastic_samplers_draw_from_the_data_distribution(name):
    # With noise on, samples of Gaussian data must come out with the data's variance (0.25); an
    # ODE sampler would too, so also check that the noise was used: the result is not the ODE solution.
    x, sigmas = start(seed=6, steps=200, length=20000)
    out = get_sampler(name)(
        gaussian_denoiser, x, sigmas, noise_sampler=noise_sampler_from_seeds([6], x), **STOCHASTIC[name]
    )
    assert out.var().item() == pytest.approx(0.25, rel=0.05)
    exact = x * 0.5 / math.sqrt(0.25 + float(sigmas[0]) ** 2)
    assert relative_error(out, exact) > 0.5


def test_lms_coefficients_are_adams_bashforth_on_equal_steps():
    sigmas = [5.0, 4.0, 3.0, 2.0, 1.0]
    expected = [-55 / 24, 59 / 24, -37 / 24, 9 / 24]  # times the step, -1
    assert linear_multistep_coeffs(sigmas, 3, 4) == pytest.approx(expected, rel=1e-12)
    assert linear_multistep_coeffs(sigmas, 1, 2) == pytest.approx([-3 / 2, 1 / 2], rel=1e-12)


def test_noise_depends_only_on_each_items_seed():
    like = torch.zeros(2, 2, 32, dtype=torch.float16)
    a = noise_sampler_from_seeds([7, 8], like)
    b = noise_sampler_from_seeds([7, 9], like)
    single = noise_sampler_from_seeds([7], like[:1])
    first_a, first_b, first_single = a(), b(), single()
    assert first_a.shape == like.shape and first_a.dtype == torch.float16
    assert torch.equal(first_a[0], first_b[0]) and torch.equal(first_a[0], first_single[0])
    assert not torch.equal(first_a[1], first_b[1])
    assert not torch.equal(a()[0], first_a[0])  # each call draws fresh noise
    with pytest.raises(ValueError):
        noise_sampler_from_seeds([1, 2, 3], like)
