"""The one-step Gaussian bandit's closed forms: the sanity numbers, the meta-gradient against finite
differences, the quadrature's convergence, and every expectation against a plain numpy Monte Carlo
simulation of the inner step written from the definitions alone."""

import math
from dataclasses import replace

import numpy as np
import pytest

from rlmaml.rl.exact.gaussian_bandit import (
    ESTIMATORS,
    GaussianBandit,
    Goal,
    estimator_expectation,
    exact_meta_gradient,
    meta_objective,
)

SANITY = GaussianBandit(mean=0.3, log_std=math.log(0.7), learn_std=False, fast_lr=0.1, episodes=10)
LEARNED = replace(SANITY, learn_std=True)
GOALS: list[Goal] = [1.0, (-1.0, 2.0)]
BANDITS = [SANITY, LEARNED]


def test_the_sanity_numbers():
    assert exact_meta_gradient(SANITY, 1.0)["mean"] == pytest.approx(0.9184, abs=1e-4)
    assert estimator_expectation(SANITY, 1.0, "maml")["mean"] == pytest.approx(1.3272, abs=1e-4)


@pytest.mark.parametrize("goal", GOALS)
@pytest.mark.parametrize("bandit", BANDITS)
def test_the_exact_gradient_is_the_finite_difference_of_the_meta_objective(bandit, goal):
    h = 1e-5
    exact = exact_meta_gradient(bandit, goal)
    assert set(exact) == set(bandit.names)
    for name in bandit.names:
        up, down = (replace(bandit, **{name: getattr(bandit, name) + s}) for s in (h, -h))
        fd = (meta_objective(up, goal).item() - meta_objective(down, goal).item()) / (2 * h)
        assert exact[name] == pytest.approx(fd, rel=1e-7, abs=1e-9), name


@pytest.mark.parametrize("goal", GOALS)
@pytest.mark.parametrize("bandit", BANDITS)
def test_the_dice_expectation_is_the_exact_gradient(bandit, goal):
    dice, exact = estimator_expectation(bandit, goal, "dice"), exact_meta_gradient(bandit, goal)
    assert dice == pytest.approx(exact, rel=1e-12, abs=1e-13)


@pytest.mark.parametrize(
    ("bandit", "goal"),
    [(LEARNED, (-1.0, 2.0)), (GaussianBandit(0.0, 0.0, True, 0.1, 10), (-2.0, 2.0)), (SANITY, (-3.0, 3.0))],
)
def test_twice_the_quadrature_nodes_change_nothing(bandit, goal):
    fine = replace(bandit, hermite_nodes=2 * bandit.hermite_nodes, legendre_nodes=2 * bandit.legendre_nodes)
    assert meta_objective(fine, goal).item() == pytest.approx(meta_objective(bandit, goal).item(), abs=1e-12)
    for estimator in ESTIMATORS:
        coarse, refined = estimator_expectation(bandit, goal, estimator), estimator_expectation(fine, goal, estimator)
        assert refined == pytest.approx(coarse, abs=1e-12), estimator


def simulate(bandit: GaussianBandit, goal: Goal, batches: int, seed: int) -> dict[str, np.ndarray]:
    """Per inner batch: V(theta') and the maml, lvc and dice estimates, straight from the definitions
    (the post-update gradient is its exact value gradV(theta'))."""
    rng = np.random.default_rng(seed)
    k, alpha, std, p = bandit.episodes, bandit.fast_lr, math.exp(bandit.log_std), len(bandit.names)
    g = rng.uniform(*goal, size=(batches, 1)) if isinstance(goal, tuple) else np.full((batches, 1), goal)
    a = bandit.mean + std * rng.standard_normal((batches, k))
    r = -((a - g) ** 2)
    dev, z2 = (a - bandit.mean) / std**2, ((a - bandit.mean) / std) ** 2
    score = np.stack([dev, z2 - 1], -1)[..., :p]  # (batch, k, p)
    hessian = np.stack([np.stack([np.full_like(a, -1 / std**2), -2 * dev], -1), np.stack([-2 * dev, -2 * z2], -1)], -2)
    hessian = hessian[..., :p, :p]
    ghat = (r[..., None] * score).mean(1)
    mean_after = bandit.mean + alpha * ghat[:, 0]
    var_after = std**2 * np.exp(2 * alpha * ghat[:, 1]) if bandit.learn_std else np.full(batches, std**2)
    d = mean_after - g[:, 0]
    value = -(d**2 + var_after)
    grad_value = np.stack([-2 * d, -2 * var_after], -1)[:, :p]
    out = {"value": value}
    for name, curvature in [("maml", hessian), ("lvc", hessian + score[..., :, None] * score[..., None, :])]:
        jacobian = np.eye(p) + alpha * (r[..., None, None] * curvature).mean(1)
        out[name] = np.einsum("bji,bj->bi", jacobian, grad_value)
    out["dice"] = out["maml"] + value[:, None] * score.sum(1)
    return out


def standard_errors_off(samples: np.ndarray, expected: np.ndarray) -> np.ndarray:
    return np.abs(samples.mean(0) - expected) / (samples.std(0, ddof=1) / math.sqrt(len(samples)))


@pytest.mark.parametrize("goal", GOALS)
@pytest.mark.parametrize("bandit", BANDITS)
def test_monte_carlo_agrees_with_the_closed_forms(bandit, goal):
    runs = [simulate(bandit, goal, 100_000, seed) for seed in range(5)]
    mc = {key: np.concatenate([run[key] for run in runs]) for key in runs[0]}
    assert standard_errors_off(mc["value"], np.array(meta_objective(bandit, goal).item())) < 4
    for estimator in ESTIMATORS:
        expected = np.array(list(estimator_expectation(bandit, goal, estimator).values()))
        off = standard_errors_off(mc[estimator], expected)
        assert (off < 4).all(), (estimator, off)


def test_maml_and_dice_differ_by_many_standard_errors_at_the_sanity_point():
    """So that a test of sampled estimators against these expectations, with this many batches, can
    tell the biased maml from the unbiased dice either way (the gap is about 36 dice and 540 maml
    standard errors)."""
    mc = simulate(SANITY, 1.0, 100_000, seed=7)
    gap = abs(estimator_expectation(SANITY, 1.0, "maml")["mean"] - estimator_expectation(SANITY, 1.0, "dice")["mean"])
    for estimator in ("maml", "dice"):
        standard_error = mc[estimator][:, 0].std(ddof=1) / math.sqrt(len(mc[estimator]))
        assert gap > 20 * standard_error, estimator
