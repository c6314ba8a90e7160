"""A one-step Bernoulli bandit whose MAML meta-objective, meta-gradient and the expectations of three
meta-gradient estimators are finite sums, exact to machine precision, to measure sampled estimators of
categorical policies against.

One task: arm probabilities p. The policy softmax(theta) pulls E arms; pull k earns r_k = 1 with
probability p_{a_k}. One inner policy-gradient step of size alpha (advantages = rewards, no baseline)
gives theta' = theta + (alpha / E) sum_k r_k (e_{a_k} - pi) = theta + (alpha / E) (s - S pi), with s the
successes per arm and S their sum, and J(theta) = E[V(theta')], V(phi) = softmax(phi) . p. So J is a sum
over the outcomes (N, s) of the inner batch (N the pulls per arm, s <= N the successes), weighted by
P(N) = Multinomial(E, pi) and P(s | N) = prod_a Binomial(s_a; N_a, p_a).

Averaged over tasks p ~ U[0, 1]^n the sum stays exact: the arms are independent, and integrating p_a
out of Binomial(s_a; N_a, p_a) gives 1 / (N_a + 1), and out of Binomial(s_a; N_a, p_a) p_a gives
(s_a + 1) / ((N_a + 1) (N_a + 2)); V and its gradient are linear in p.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from torch import Tensor

from rlmaml.rl.exact.gaussian_bandit import ESTIMATORS, Estimator

__all__ = ["ESTIMATORS", "BernoulliBandit", "estimator_expectation", "exact_meta_gradient", "meta_objective"]

Probabilities = Sequence[float] | None
"""A fixed task's arm probabilities, or None: p ~ U[0, 1]^n, averaged exactly."""

MAX_OUTCOMES = 3_000_000  # (N, s) pairs the sums may take: C(E + 2n - 1, 2n - 1)


def outcome_count(arms: int, pulls: int) -> int:
    """The number of (N, s) outcomes of `pulls` pulls of `arms` arms."""
    return math.comb(pulls + 2 * arms - 1, 2 * arms - 1)


@lru_cache(maxsize=4)
def outcomes(arms: int, pulls: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (N, s): pulls per arm summing to `pulls`, successes per arm at most those, [K, arms] each."""
    counts, successes = [], []
    for bars in itertools.combinations(range(pulls + arms - 1), arms - 1):
        n = np.diff([-1, *bars, pulls + arms - 1]) - 1
        below = np.indices(tuple(int(k) + 1 for k in n)).reshape(arms, -1).T
        counts.append(np.broadcast_to(n, below.shape))
        successes.append(below)
    return np.concatenate(counts), np.concatenate(successes)


@dataclass(frozen=True)
class BernoulliBandit:
    """The policy's logits theta and its inner step: `fast_lr` (alpha) on `episodes` (E) pulls."""

    logits: tuple[float, ...]
    fast_lr: float
    episodes: int

    def __post_init__(self) -> None:
        count = outcome_count(len(self.logits), self.episodes)
        if count > MAX_OUTCOMES:
            raise ValueError(
                f"{len(self.logits)} arms and {self.episodes} pulls have {count:,} outcomes, "
                f"more than the {MAX_OUTCOMES:,} the exact sums take"
            )

    def parameters(self) -> Tensor:
        """Float64 logits at the bandit's point, requiring grad."""
        return torch.tensor(self.logits, dtype=torch.float64, requires_grad=True)


class _Sums:
    """The outcomes with their probabilities (differentiable in theta) and what the estimators use."""

    def __init__(self, bandit: BernoulliBandit, probabilities: Probabilities, theta: Tensor) -> None:
        arms, e = len(bandit.logits), bandit.episodes
        n_np, s_np = outcomes(arms, e)
        n, s = torch.as_tensor(n_np, dtype=torch.float64), torch.as_tensor(s_np, dtype=torch.float64)
        self.n, self.s, self.e, self.alpha = n, s, e, bandit.fast_lr
        log_pi = torch.log_softmax(theta, 0)
        self.pi = log_pi.exp()
        log_multinomial = math.lgamma(e + 1) - torch.lgamma(n + 1).sum(1) + (n * log_pi).sum(1)
        if probabilities is None:
            task = (1 / (n + 1)).prod(1)
            self.m = (s + 1) / (n + 2)  # E[p | s, N]: V's p, integrated with the weight
        else:
            p = torch.as_tensor(list(probabilities), dtype=torch.float64)
            binomial = torch.exp(torch.lgamma(n + 1) - torch.lgamma(s + 1) - torch.lgamma(n - s + 1))
            task = (binomial * p**s * (1 - p) ** (n - s)).prod(1)
            self.m = p.expand_as(s)
        self.weight = torch.exp(log_multinomial) * task  # P(N, s) [K]
        self.total = s.sum(1, keepdim=True)
        self.adapted = torch.softmax(theta + self.alpha / e * (s - self.total * self.pi), 1)  # softmax(theta') [K, n]
        self.value = (self.adapted * self.m).sum(1)  # V(theta') [K]

    def expect(self, x: Tensor) -> Tensor:
        """E[x] over the outcomes (x [K] or [K, n])."""
        return (self.weight.reshape(-1, *([1] * (x.dim() - 1))) * x).sum(0)

    def fisher(self, g: Tensor) -> Tensor:
        """(diag(pi) - pi pi^T) g, row by row: minus the Hessian of log pi(a), for every a."""
        pg = self.pi * g
        return pg - self.pi * pg.sum(1, keepdim=True)


def meta_objective(bandit: BernoulliBandit, probabilities: Probabilities, theta: Tensor | None = None) -> Tensor:
    """J = E[V(theta')], a float64 scalar differentiable in theta (default: `bandit.parameters()`)."""
    sums = _Sums(bandit, probabilities, bandit.parameters() if theta is None else theta)
    return sums.expect(sums.value)


def exact_meta_gradient(bandit: BernoulliBandit, probabilities: Probabilities) -> list[float]:
    """dJ/dtheta, by autograd through `meta_objective`."""
    theta = bandit.parameters()
    (grad,) = torch.autograd.grad(meta_objective(bandit, probabilities, theta), [theta])
    return [float(g) for g in grad]


@torch.no_grad()
def estimator_expectation(bandit: BernoulliBandit, probabilities: Probabilities, estimator: Estimator) -> list[float]:
    """E[estimate of dJ/dtheta] over the inner pulls (and the post-update ones, whose gradient
    estimate is unbiased for gradV(theta') = q * p - q (q . p), q = softmax(theta')).

    maml and lvc are E[(I + alpha dghat/dtheta)^T gradV(theta')] with dghat/dtheta = (1/E) sum_k
    r_k C_k: C the Hessian of log pi(a_k), -(diag(pi) - pi pi^T) whatever the arm, or for lvc that
    plus (e_a - pi)(e_a - pi)^T; dice adds E[V(theta') sum_k grad log pi(a_k)] = E[V(theta') (N - E pi)]."""
    sums = _Sums(bandit, probabilities, bandit.parameters())
    q = sums.adapted
    grad_v = q * sums.m - q * (q * sums.m).sum(1, keepdim=True)
    curvature = -sums.total * sums.fisher(grad_v)  # sum_k r_k C_k gradV, for maml's C
    if estimator == "lvc":
        c = sums.s * (grad_v - (sums.pi * grad_v).sum(1, keepdim=True))
        curvature = curvature + c - sums.pi * c.sum(1, keepdim=True)
    estimate = grad_v + sums.alpha / sums.e * curvature
    if estimator == "dice":
        estimate = estimate + sums.value[:, None] * (sums.n - sums.e * sums.pi)
    return [float(g) for g in sums.expect(estimate)]
