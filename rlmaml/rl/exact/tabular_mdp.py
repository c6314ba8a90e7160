"""Exact expected returns of a policy on a random tabular MDP (rlmaml/TabularMDP-v0), by dynamic
programming, differentiable in the policy's parameters.

The meta-objective after a sampled inner step has no closed form here: the adapted policy depends
on the whole inner batch of trajectories, whose number grows exponentially with the horizon. What
is exact is a fixed policy's return, so with fast_lr 0 (no adaptation) the meta-gradient is the
plain policy gradient, which `return_gradient` gives and `rlmaml gradcheck` measures estimators
against; for fast_lr > 0 gradcheck compares them with a high-sample reference instead
(rlmaml.rl.gradcompare).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from rlmaml.core.functional import Params, parameters_of
from rlmaml.envs.protocol import Task
from rlmaml.envs.tabular_mdp import TabularTasks


def expected_return(
    probabilities: Tensor, transitions: Tensor, rewards: Tensor, horizon: int, gamma: float = 1.0
) -> Tensor:
    """E[sum_t gamma^t r_t] over `horizon` steps from state 0, for action probabilities
    pi(a | s) [S, A], transitions T [S, A, S] and mean rewards R [S, A]:
    V_t(s) = sum_a pi(a | s) (R(s, a) + gamma sum_s' T(s' | s, a) V_{t+1}(s')), V_horizon = 0."""
    value = torch.zeros(transitions.shape[0], dtype=probabilities.dtype)
    for _ in range(horizon):
        value = (probabilities * (rewards + gamma * transitions @ value)).sum(1)
    return value[0]


def policy_table(policy: nn.Module, params: Params, num_states: int) -> Tensor:
    """pi(a | s) [S, A] of a categorical policy that observes the one-hot state, with `params`."""
    dtype = next(iter(params.values())).dtype
    (logits,) = torch.func.functional_call(policy, params, (torch.eye(num_states, dtype=dtype),))
    return torch.softmax(logits, -1)


def task_tensors(env_kwargs: Mapping[str, Any], task: Task) -> tuple[Tensor, Tensor]:
    """(T, R) of a task as float64 tensors, checked by the env's own task distribution; each
    T[s, a] divided by its sum, as the env's sampling does (typed tasks are rounded)."""
    tasks = TabularTasks(int(env_kwargs.get("num_states", 10)), int(env_kwargs.get("num_actions", 5)))
    transitions, rewards = tasks.arrays_of(task)
    return torch.as_tensor(transitions / transitions.sum(-1, keepdims=True)), torch.as_tensor(rewards)


def return_gradient(
    policy: nn.Module, env_kwargs: Mapping[str, Any], task: Task, horizon: int, gamma: float = 1.0
) -> dict[str, list[float]]:
    """d(expected return per step)/dtheta by parameter name, in float64: the policy gradient the
    surrogate estimates (its loss averages over the steps) when nothing is adapted."""
    transitions, rewards = task_tensors(env_kwargs, task)
    double = {name: p.detach().double().requires_grad_() for name, p in parameters_of(policy).items()}
    table = policy_table(policy, double, transitions.shape[0])
    value = expected_return(table, transitions, rewards, horizon, gamma) / horizon
    grads = torch.autograd.grad(value, list(double.values()))
    return {name: g.reshape(-1).tolist() for name, g in zip(double, grads, strict=True)}
