"""The second-order meta-gradient and the TRPO curvature products, checked numerically."""

import gymnasium as gym
import pytest
import torch
from conftest import sample_fixed_episodes
from stable_baselines3.common.policies import ActorCriticPolicy

from rlmaml.core.functional import expand_to_tasks, flatten, parameters_of, unflatten
from rlmaml.core.maml import adapt
from rlmaml.rl.curvature import KLCurvature
from rlmaml.rl.distributions import Gaussian
from rlmaml.rl.objectives import OldPolicy, policy_distribution, reinforce_loss, surrogate_and_kl
from rlmaml.rl.sb3 import SB3GaussianPolicy

LR = 0.5


def meta_objective(model, theta, inner_episodes, post, old, first_order=False):
    """(surrogate, kl) after len(inner_episodes) inner steps, as a function of theta."""
    task_params = expand_to_tasks(theta, post.num_tasks)
    steps = adapt(
        task_params, lambda p, k: reinforce_loss(model, p, inner_episodes[k]), len(inner_episodes), LR, first_order
    )
    return tuple(value.mean() for value in surrogate_and_kl(model, steps[-1], post, old)), steps


def problem(model, tasks, num_steps):
    inner = [sample_fixed_episodes(model, tasks, stage=k) for k in range(num_steps)]
    post = sample_fixed_episodes(model, tasks, stage=num_steps)
    theta = {n: p.detach().clone().requires_grad_() for n, p in parameters_of(model).items()}
    task_params = expand_to_tasks(theta, len(tasks))
    steps = adapt(task_params, lambda p, k: reinforce_loss(model, p, inner[k]), num_steps, LR)
    old = OldPolicy.of(model, steps[-1], post)
    return theta, inner, post, old


def central_differences(fn, theta, h=1e-6):
    flat = flatten(theta).detach()
    grad = torch.zeros_like(flat)
    for i in range(flat.numel()):
        shift = torch.zeros_like(flat)
        shift[i] = h
        plus = fn({n: v.requires_grad_() for n, v in unflatten(flat + shift, theta).items()})
        minus = fn({n: v.requires_grad_() for n, v in unflatten(flat - shift, theta).items()})
        grad[i] = (plus - minus) / (2 * h)
    return grad


@pytest.mark.parametrize("num_steps", [1, 2])
def test_second_order_meta_gradient_matches_finite_differences(tiny_policy, nav_tasks, num_steps):
    theta, inner, post, old = problem(tiny_policy, nav_tasks, num_steps)
    (loss, _), _ = meta_objective(tiny_policy, theta, inner, post, old)
    autograd = flatten(torch.autograd.grad(loss, list(theta.values())))
    numeric = central_differences(lambda t: meta_objective(tiny_policy, t, inner, post, old)[0][0].detach(), theta)
    assert torch.allclose(autograd, numeric, rtol=1e-5, atol=1e-8), (autograd - numeric).abs().max()

    (loss_fo, _), _ = meta_objective(tiny_policy, theta, inner, post, old, first_order=True)
    first_order = flatten(torch.autograd.grad(loss_fo, list(theta.values())))
    assert (first_order - autograd).norm() > 1e-3 * autograd.norm(), "the check cannot tell first from second order"


@pytest.mark.parametrize(("first_order", "num_steps"), [(False, 1), (True, 1), (False, 2), (True, 2)])
def test_curvature_product_equals_exact_kl_hessian(tiny_policy, nav_tasks, first_order, num_steps):
    theta, inner, post, old = problem(tiny_policy, nav_tasks, num_steps=num_steps)

    def kl_of_flat(flat):
        t = unflatten(flat, theta)
        return meta_objective(tiny_policy, t, inner, post, old, first_order)[0][1]

    hessian = torch.autograd.functional.hessian(kl_of_flat, flatten(theta).detach())
    (_, _), steps = meta_objective(tiny_policy, theta, inner, post, old, first_order)
    weights = post.mask / post.mask.sum((0, 2), keepdim=True) / post.num_tasks
    damping = 1e-3
    jacobian = "identity" if first_order else "symmetric" if num_steps == 1 else "general"
    outputs = lambda phi: policy_distribution(tiny_policy, phi, post)  # noqa: E731
    product = KLCurvature(steps[0], steps[-1], outputs, weights, damping, jacobian)
    torch.manual_seed(1)
    for _ in range(3):
        v = torch.randn(hessian.shape[0], dtype=torch.float64)
        assert torch.allclose(product(v), hessian @ v + damping * v, rtol=1e-7, atol=1e-10)


def test_adapt_is_model_agnostic_with_a_stable_baselines3_policy(nav_tasks):
    """The same inner loop differentiates through an SB3 ActorCriticPolicy."""
    space = gym.spaces.Box(-1.0, 1.0, (2,))
    torch.manual_seed(0)
    sb3 = ActorCriticPolicy(space, space, lambda _: 1e-3, net_arch=[5], activation_fn=torch.nn.Tanh)
    model = SB3GaussianPolicy(sb3).double()
    theta, inner, post, old = problem(model, nav_tasks, num_steps=1)
    assert set(theta) == {
        "policy.log_std",
        "policy.mlp_extractor.policy_net.0.weight",
        "policy.mlp_extractor.policy_net.0.bias",
        "policy.action_net.weight",
        "policy.action_net.bias",
    }
    (loss, _), _ = meta_objective(model, theta, inner, post, old)
    autograd = flatten(torch.autograd.grad(loss, list(theta.values())))
    numeric = central_differences(lambda t: meta_objective(model, t, inner, post, old)[0][0].detach(), theta)
    assert torch.allclose(autograd, numeric, rtol=1e-5, atol=1e-8)


def test_subsampled_curvature_is_the_exact_curvature_of_the_chosen_tasks(tiny_policy, nav_tasks):
    from rlmaml.rl.adaptation import Adaptation
    from rlmaml.rl.metalearner import MAMLSettings, MetaLearner
    from rlmaml.rl.outer_trpo import TRPOSettings, curvature_tasks
    from rlmaml.runs.distributed import Shard

    assert curvature_tasks(3, 0.6) == [0, 1]
    assert curvature_tasks(40, 0.25) == list(range(0, 40, 4))

    theta, inner, post, old = problem(tiny_policy, nav_tasks, num_steps=1)
    settings = MAMLSettings(fast_lr=LR, outer=TRPOSettings(cg_subsample=0.6, cg_damping=0.0))
    learner = MetaLearner(tiny_policy, sampler=None, settings=settings)
    (_, _), steps = meta_objective(tiny_policy, theta, inner, post, old)
    product = learner.outer.curvature(theta, Adaptation(inner, post, steps, [LR], False), Shard.whole(3))
    head = Adaptation(inner, post, [], [LR], False).select([0, 1])
    mean, log_std = old.distribution.outputs
    old_head = OldPolicy(Gaussian(mean[:, :2], log_std[:, :2]), old.log_prob[:, :2])

    def kl_of_flat(flat):
        return meta_objective(tiny_policy, unflatten(flat, theta), head.inner_episodes, head.post_episodes, old_head)[
            0
        ][1]

    hessian = torch.autograd.functional.hessian(kl_of_flat, flatten(theta).detach())
    v = torch.randn(hessian.shape[0], dtype=torch.float64)
    assert torch.allclose(product(v), hessian @ v, rtol=1e-7, atol=1e-10)
