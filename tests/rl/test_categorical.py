"""Categorical policies through the stack: Gumbel-max sampling from the sampler's seeded noise,
the KL's exact curvature through the adaptation, the tabular MDP's dynamic programming against
sampled returns and its policy gradient against gradcheck, and the estimators compared with a
high-sample reference."""

import math
from dataclasses import replace

import gymnasium as gym
import numpy as np
import pytest
import torch
from conftest import rl_config

from rlmaml.core.functional import expand_to_tasks, flatten, parameters_of, unflatten
from rlmaml.core.maml import adapt
from rlmaml.envs.task_wrappers import with_task_methods
from rlmaml.errors import UserError
from rlmaml.rl.advantages import AdvantageSettings, compute_advantages
from rlmaml.rl.baseline import LinearFeatureBaseline
from rlmaml.rl.curvature import KLCurvature
from rlmaml.rl.distributions import Categorical
from rlmaml.rl.exact.tabular_mdp import expected_return, policy_table, return_gradient, task_tensors
from rlmaml.rl.gradcheck import check_gradient
from rlmaml.rl.gradcompare import compare_estimators
from rlmaml.rl.objectives import OldPolicy, policy_distribution, reinforce_loss, surrogate_and_kl
from rlmaml.rl.policies import CategoricalMLPPolicy, SoftmaxPolicy
from rlmaml.rl.policy_io import build_policy
from rlmaml.rl.sampler import BatchSampler

MDP = "rlmaml/TabularMDP-v0"
SMALL_MDP = {"num_states": 4, "num_actions": 3, "reward_noise": 1.0}


def mdp_tasks(n, seed=0, **kwargs):
    return with_task_methods(gym.make(MDP, **(kwargs or SMALL_MDP))).sample_tasks(n, seed=seed)


def test_gumbel_max_samples_follow_the_softmax():
    policy = SoftmaxPolicy(5).double()
    with torch.no_grad():
        policy.logits.copy_(torch.tensor([1.0, -0.5, 0.0, 2.0, -2.0]))
    sampler = BatchSampler("rlmaml/BernoulliBandit-v0", {}, 4000, 1)
    tasks = [{"probabilities": [0.5] * 5}] * 5
    episodes = sampler.sample(
        policy, expand_to_tasks(parameters_of(policy), 5), tasks, [(0, 0, m, 0) for m in range(5)]
    )
    again = sampler.sample(policy, expand_to_tasks(parameters_of(policy), 5), tasks, [(0, 0, m, 0) for m in range(5)])
    assert torch.equal(episodes.actions, again.actions)  # the same seed keys, the same arms
    counts = np.bincount(episodes.actions.reshape(-1).long().numpy(), minlength=5)
    pi = torch.softmax(policy.logits, 0).detach().numpy()
    n = counts.sum()
    assert (np.abs(counts / n - pi) < 4 * np.sqrt(pi * (1 - pi) / n)).all(), (counts / n, pi)


def test_the_categorical_kl_hessian_is_diag_p_minus_p_p_transpose():
    logits = torch.randn(3, 6, dtype=torch.float64)
    weights = torch.rand(3, dtype=torch.float64)
    u = torch.randn(3, 6, dtype=torch.float64)
    old = Categorical(logits)

    def weighted_kl(z):
        return (weights * old.kl(Categorical(z.view(3, 6)))).sum()

    hessian = torch.autograd.functional.hessian(weighted_kl, logits.reshape(-1))
    (product,) = old.kl_hessian(weights)([u])
    assert torch.allclose(product.reshape(-1), hessian @ u.reshape(-1), atol=1e-12)


def mdp_problem(policy, num_steps):
    tasks = mdp_tasks(3)
    sampler = BatchSampler(MDP, SMALL_MDP, 5, 6)
    theta = {n: p.detach().clone().requires_grad_() for n, p in parameters_of(policy).items()}
    settings = AdvantageSettings(gamma=0.9, normalize=False)

    def episodes(params, stage):
        sampled = sampler.sample(
            policy, {n: p.detach() for n, p in params.items()}, tasks, [(1, 0, m, stage) for m in range(3)]
        )
        return compute_advantages(sampled, LinearFeatureBaseline(), settings)

    inner = []

    def inner_loss(params, k):
        inner.append(episodes(params, k))
        return reinforce_loss(policy, params, inner[k])

    steps = adapt(expand_to_tasks(theta, 3), inner_loss, num_steps, 0.5)
    post = episodes(steps[-1], num_steps)
    return theta, inner, post, OldPolicy.of(policy, steps[-1], post)


@pytest.mark.parametrize("num_steps", [1, 2])
def test_the_curvature_product_is_the_exact_kl_hessian_for_a_tabular_softmax(num_steps):
    torch.manual_seed(0)
    policy = CategoricalMLPPolicy(4, 3, (), "tanh").double()
    theta, inner, post, old = mdp_problem(policy, num_steps)

    def kl_of_flat(flat):
        steps = adapt(
            expand_to_tasks(unflatten(flat, theta), 3), lambda p, k: reinforce_loss(policy, p, inner[k]), num_steps, 0.5
        )
        return surrogate_and_kl(policy, steps[-1], post, old)[1].mean()

    hessian = torch.autograd.functional.hessian(kl_of_flat, flatten(theta).detach())
    steps = adapt(expand_to_tasks(theta, 3), lambda p, k: reinforce_loss(policy, p, inner[k]), num_steps, 0.5)
    weights = post.mask / post.mask.sum((0, 2), keepdim=True) / 3
    jacobian = "symmetric" if num_steps == 1 else "general"
    product = KLCurvature(
        steps[0], steps[-1], lambda phi: policy_distribution(policy, phi, post), weights, 0.0, jacobian
    )
    for seed in range(3):
        v = torch.randn(hessian.shape[0], dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
        assert torch.allclose(product(v), hessian @ v, rtol=1e-6, atol=1e-10)


def test_dynamic_programming_gives_the_sampled_mean_return():
    torch.manual_seed(3)
    policy = CategoricalMLPPolicy(4, 3, (), "tanh").double()
    task = mdp_tasks(1, seed=7)[0]
    transitions, rewards = task_tensors(SMALL_MDP, task)
    exact = expected_return(policy_table(policy, parameters_of(policy), 4), transitions, rewards, 6).item()
    sampler = BatchSampler(MDP, SMALL_MDP, 4000, 6)
    params = expand_to_tasks({n: p.detach() for n, p in parameters_of(policy).items()}, 2)
    returns = sampler.sample(policy, params, [task, task], [(0, 0, 0, 0), (0, 0, 1, 0)]).episode_returns().reshape(-1)
    stderr = returns.std().item() / math.sqrt(len(returns))
    assert abs(returns.mean().item() - exact) < 4 * stderr, (returns.mean().item(), exact, stderr)
    discounted = expected_return(policy_table(policy, parameters_of(policy), 4), transitions, rewards, 6, gamma=0.5)
    assert abs(discounted.item() - exact) > 10 * stderr  # the check tells discounting apart


def test_without_adaptation_gradcheck_measures_the_dynamic_programming_policy_gradient():
    overrides = ["fast_lr=0.0", "gamma=1.0", "baseline=none", "normalize_advantages=false"]
    config = rl_config("tabular-mdp", "meta_batch_size=5", "fast_batch_size=10", *overrides)
    task, other = mdp_tasks(2, seed=4, num_states=10, num_actions=5)
    policy = build_policy(config)
    result = check_gradient(config, policy, 300, seed=0, task=task)
    biases = np.concatenate([p.bias_in_stderrs() for p in result.parameters])
    assert np.mean(np.abs(biases) < 4) > 0.97, biases  # 55 elements: all but about one within 4 SE
    assert result.cosine_to_exact() > 0.99
    wrong = return_gradient(policy, config.env_kwargs, other, config.horizon)  # it can fail: another task's
    mean = np.concatenate([p.mean for p in result.parameters])
    stderr = np.concatenate([p.stderr for p in result.parameters])
    assert np.mean(np.abs(mean - np.concatenate(list(wrong.values()))) > 4 * stderr) > 0.5


def test_estimators_are_compared_by_variance_and_cosine_to_a_dice_reference():
    config = rl_config("tabular-mdp", "meta_batch_size=5", "fast_batch_size=10")
    task = mdp_tasks(1, seed=4, num_states=10, num_actions=5)[0]
    comparison = compare_estimators(config, build_policy(config), ["maml", "lvc", "dice"], 60, 300, seed=0, task=task)
    assert [c.estimator for c in comparison.checks] == ["maml", "lvc", "dice"]
    assert (comparison.reference.estimator, comparison.reference.batches) == ("dice", 300)
    maml, lvc, dice = comparison.checks
    assert dice.total_variance() > 10 * max(maml.total_variance(), lvc.total_variance())
    assert comparison.cosine_to_reference(maml) > 0.75  # the reference's own noise keeps it below 1
    assert comparison.to_json()["estimators"][0]["cosine_to_reference"] == comparison.cosine_to_reference(maml)


@pytest.mark.parametrize(
    ("config", "overrides", "message"),
    [
        ("bernoulli-bandit", ["policy=gaussian"], "gaussian acts in Box action spaces"),
        ("bernoulli-bandit", ["policy=sb3"], "sb3 acts in Box action spaces"),
        ("navigation2d", ["policy=softmax", "hidden_sizes=[]"], "softmax acts in Discrete"),
        ("bernoulli-bandit", ["hidden_sizes=[4]"], "'policy' and 'hidden_sizes'"),
    ],
)
def test_policies_refuse_action_spaces_they_cannot_act_in(config, overrides, message):
    with pytest.raises(UserError, match=message):
        build_policy(rl_config(config, *overrides))


def test_mlp_policies_are_categorical_in_discrete_spaces():
    policy = build_policy(rl_config("tabular-mdp"))
    assert isinstance(policy, CategoricalMLPPolicy)
    assert [name for name, _ in policy.named_parameters()] == ["logits.0.weight", "logits.0.bias"]
    assert isinstance(build_policy(replace(rl_config("bernoulli-bandit"))), SoftmaxPolicy)
