"""Which configs the package knows the exact meta-gradient of, and that gradient at a policy's
parameters: what `rlmaml gradcheck` measures estimators against."""

from __future__ import annotations

import numpy as np
from torch import nn

from rlmaml.envs.protocol import Task
from rlmaml.rl.exact import bernoulli_bandit, tabular_mdp
from rlmaml.rl.exact.gaussian_bandit import GaussianBandit, Goal, exact_meta_gradient
from rlmaml.runs.config_types import RLConfig

GAUSSIAN_BANDIT = "rlmaml/GaussianBandit-v0"
BERNOULLI_BANDIT = "rlmaml/BernoulliBandit-v0"
TABULAR_MDP = "rlmaml/TabularMDP-v0"
SETTINGS = "one inner step, baseline: none and normalize_advantages: false"
KNOWN = f"{GAUSSIAN_BANDIT} with policy: gaussian or {BERNOULLI_BANDIT} with policy: softmax, {SETTINGS}"
TABULAR_NOTE = (
    f"no exact value: {TABULAR_MDP}'s meta-objective after a sampled inner step has no closed form "
    "(dynamic programming gives it for fast_lr 0 on one --task, with gamma 1, baseline: none and "
    "normalize_advantages: false); --reference-batches compares with dice's mean over more batches"
)
Exact = tuple[dict[str, list[float]] | None, str]


def known_meta_gradient(config: RLConfig, policy: nn.Module, task: Task | None) -> Exact:
    """(dJ/dtheta by parameter name, "") where the package knows it for this config, on
    `task` alone or the config's task distribution; else (None, why not)."""
    plain_step = config.num_steps == 1 and config.baseline == "none" and not config.normalize_advantages
    if config.env == BERNOULLI_BANDIT and config.policy == "softmax" and plain_step:
        return bernoulli_meta_gradient(config, policy, task)
    if config.env == TABULAR_MDP:
        return tabular_gradient(config, policy, task, plain_step)
    if not (config.env == GAUSSIAN_BANDIT and config.policy == "gaussian" and plain_step):
        return None, f"no exact value: the package knows it for {KNOWN}"
    goal: Goal
    if task is None:
        goal = (float(config.env_kwargs.get("goal_low", -1.0)), float(config.env_kwargs.get("goal_high", 1.0)))
    else:
        goal = float(np.asarray(task["goal"], dtype=np.float64).reshape(-1)[0])
    params = dict(policy.named_parameters())
    bandit = GaussianBandit(
        mean=float(params["mean"].item()),
        log_std=float(params["log_std"].item()),
        learn_std=config.learn_std,
        fast_lr=config.fast_lr,
        episodes=config.fast_batch_size,
    )
    return {name: [value] for name, value in exact_meta_gradient(bandit, goal).items()}, ""


def bernoulli_meta_gradient(config: RLConfig, policy: nn.Module, task: Task | None) -> Exact:
    """The Bernoulli bandit's exact dJ/dlogits, on `task` or averaged over p ~ U[0, 1]^n."""
    logits = tuple(float(v) for v in dict(policy.named_parameters())["logits"].detach().reshape(-1))
    try:
        bandit = bernoulli_bandit.BernoulliBandit(logits, config.fast_lr, config.fast_batch_size)
    except ValueError as error:
        return None, f"no exact value: {error}"
    probabilities = None if task is None else [float(p) for p in np.asarray(task["probabilities"]).reshape(-1)]
    return {"logits": bernoulli_bandit.exact_meta_gradient(bandit, probabilities)}, ""


def tabular_gradient(config: RLConfig, policy: nn.Module, task: Task | None, plain_step: bool) -> Exact:
    """Without adaptation (fast_lr 0), a tabular MDP's meta-gradient on one task is its policy
    gradient, exact by dynamic programming; else none is known."""
    undiscounted = config.gamma == 1.0 and config.gae_lambda == 1.0
    if task is None or config.fast_lr != 0.0 or not (plain_step and undiscounted):
        return None, TABULAR_NOTE
    return tabular_mdp.return_gradient(policy, config.env_kwargs, task, config.horizon), ""
