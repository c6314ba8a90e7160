"""The one-step Bernoulli bandit's finite sums: the outcome enumeration, the meta-gradient against
finite differences, DiCE's identity, and every expectation against a plain numpy Monte Carlo
simulation of the inner step written from the definitions alone, on a fixed task and averaged
over tasks."""

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from rlmaml.rl.exact.bernoulli_bandit import (
    ESTIMATORS,
    BernoulliBandit,
    estimator_expectation,
    exact_meta_gradient,
    meta_objective,
    outcome_count,
    outcomes,
)

LOGITS = (0.4, -0.3, 0.0, 0.8, -0.6)
BANDIT = BernoulliBandit(LOGITS, fast_lr=3.0, episodes=10)
TASK = (0.1, 0.9, 0.2, 0.3, 0.5)
TASKS = [TASK, None]


def test_the_outcomes_are_every_split_of_the_pulls_and_their_successes():
    pulls, successes = outcomes(3, 4)
    assert len(pulls) == outcome_count(3, 4) == math.comb(9, 5)
    assert (pulls.sum(1) == 4).all()
    assert ((successes >= 0) & (successes <= pulls)).all()
    assert len({(*n, *s) for n, s in zip(pulls.tolist(), successes.tolist(), strict=True)}) == len(pulls)


@pytest.mark.parametrize("task", TASKS)
def test_the_outcome_probabilities_sum_to_one_and_give_the_value_without_a_step(task):
    still = replace(BANDIT, fast_lr=0.0)
    pi = torch.softmax(torch.tensor(LOGITS, dtype=torch.float64), 0)
    p = torch.tensor(TASK, dtype=torch.float64) if task else torch.full((5,), 0.5, dtype=torch.float64)
    assert meta_objective(still, task).item() == pytest.approx(float(pi @ p), rel=1e-12)


@pytest.mark.parametrize("task", TASKS)
def test_the_exact_gradient_is_the_finite_difference_of_the_meta_objective(task):
    h = 1e-5
    exact = exact_meta_gradient(BANDIT, task)
    for i in range(len(LOGITS)):
        up, down = (replace(BANDIT, logits=tuple(v + s * (j == i) for j, v in enumerate(LOGITS))) for s in (h, -h))
        fd = (meta_objective(up, task).item() - meta_objective(down, task).item()) / (2 * h)
        assert exact[i] == pytest.approx(fd, rel=1e-7, abs=1e-10), i


@pytest.mark.parametrize("task", TASKS)
def test_the_dice_expectation_is_the_exact_gradient(task):
    dice, exact = estimator_expectation(BANDIT, task, "dice"), exact_meta_gradient(BANDIT, task)
    assert dice == pytest.approx(exact, rel=1e-12, abs=1e-14)


def test_the_paper_estimator_is_biased_and_lvc_less_so():
    exact = np.array(exact_meta_gradient(BANDIT, TASK))
    maml, lvc = (np.array(estimator_expectation(BANDIT, TASK, e)) for e in ("maml", "lvc"))
    assert np.abs(maml - exact).max() > 0.03
    assert 0 < np.abs(lvc - exact).max() < np.abs(maml - exact).max() / 5


def test_too_many_outcomes_are_refused():
    with pytest.raises(ValueError, match="outcomes"):
        BernoulliBandit((0.0,) * 10, fast_lr=1.0, episodes=40)


def simulate(bandit: BernoulliBandit, task, samples: int, seed: int) -> dict[str, np.ndarray]:
    """Per-sample estimates of the three estimators' definitions, [samples, n] each, with the
    adapted policy's exact gradient (its sampled estimate is unbiased for it)."""
    rng = np.random.default_rng(seed)
    theta = np.array(bandit.logits)
    n, e, alpha = len(theta), bandit.episodes, bandit.fast_lr
    pi = np.exp(theta - theta.max())
    pi /= pi.sum()
    p = np.array(task) if task else rng.uniform(0, 1, size=(samples, n))
    p = np.broadcast_to(p, (samples, n))
    arms = (rng.random((samples, e, 1)) > np.cumsum(pi)).sum(-1).clip(max=n - 1)  # [samples, E]
    rewards = (rng.random((samples, e)) < np.take_along_axis(p, arms, 1)).astype(float)
    scores = np.eye(n)[arms] - pi  # grad log pi(a_k), [samples, E, n]
    step = (rewards[..., None] * scores).mean(1)
    adapted = theta + alpha * step
    q = np.exp(adapted - adapted.max(1, keepdims=True))
    q /= q.sum(1, keepdims=True)
    value = (q * p).sum(1)
    grad_v = q * p - q * value[:, None]
    fisher = np.diag(pi) - np.outer(pi, pi)  # minus the Hessian of log pi(a), every a
    hessians = {
        "maml": -rewards.sum(1)[:, None, None] * fisher / e,
        "lvc": np.einsum("sk,ski,skj->sij", rewards, scores, scores) / e - rewards.sum(1)[:, None, None] * fisher / e,
    }
    out = {name: np.einsum("sij,si->sj", np.eye(n) + alpha * h, grad_v) for name, h in hessians.items()}
    out["dice"] = out["maml"] + value[:, None] * scores.sum(1)
    return out


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_every_expectation_matches_a_monte_carlo_simulation_of_its_definition(task, estimator):
    samples = simulate(BANDIT, task, 400_000, seed=ESTIMATORS.index(estimator))[estimator]
    mean, stderr = samples.mean(0), samples.std(0) / math.sqrt(len(samples))
    expected = np.array(estimator_expectation(BANDIT, task, estimator))
    assert (np.abs(mean - expected) < 4 * stderr).all(), (estimator, mean, expected, stderr)
