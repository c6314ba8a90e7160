"""The closed-form curvature products equal autograd's (KLCurvature, itself checked against
the exact KL Hessian in test_meta_gradient.py) to float64 rounding."""

from dataclasses import replace

import pytest
import torch
from conftest import sample_fixed_episodes

from rlmaml.core.functional import expand_to_tasks, parameters_of
from rlmaml.core.maml import adapt
from rlmaml.rl.curvature import KLCurvature
from rlmaml.rl.episodes import Episodes
from rlmaml.rl.mlp_curvature import GaussianMLPCurvature, mlp_layers, pack_steps
from rlmaml.rl.objectives import policy_distribution, reinforce_loss
from rlmaml.rl.policies import GaussianMLPPolicy, GaussianPolicy

LR = 0.5


def ended_early(episodes: Episodes, seed: int) -> Episodes:
    """The episodes with random tails masked out, as Ant's early endings leave them (one
    episode keeps all its steps, the rest end between its first step and its last)."""
    generator = torch.Generator().manual_seed(seed)
    steps, tasks, per_task = episodes.mask.shape
    ends = torch.randint(1, steps, (tasks, per_task), generator=generator)
    ends[0, 0] = steps
    mask = (torch.arange(steps).view(-1, 1, 1) < ends).to(episodes.mask.dtype)
    advantages = episodes.computed_advantages() * mask
    return replace(episodes, mask=mask, rewards=episodes.rewards * mask, advantages=advantages)


def both_products(policy, tasks, first_order, early_endings=False):
    inner = sample_fixed_episodes(policy, tasks, stage=0)
    post = sample_fixed_episodes(policy, tasks, stage=1)
    if early_endings:
        inner, post = ended_early(inner, 0), ended_early(post, 1)
    theta = {n: p.detach().clone().requires_grad_() for n, p in parameters_of(policy).items()}
    steps = adapt(expand_to_tasks(theta, len(tasks)), lambda p, k: reinforce_loss(policy, p, inner), 1, LR, first_order)
    weights = post.mask / post.mask.sum((0, 2), keepdim=True) / post.num_tasks
    jacobian = "identity" if first_order else "symmetric"
    outputs = lambda phi: policy_distribution(policy, phi, post)  # noqa: E731
    autograd = KLCurvature(steps[0], steps[-1], outputs, weights, 1e-3, jacobian)
    layers = mlp_layers(policy)
    assert layers is not None
    closed = GaussianMLPCurvature(
        policy, layers, steps[0], steps[-1], None if first_order else inner, post, weights, LR, 1e-3
    )
    return autograd, closed, sum(p.numel() for p in theta.values())


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("hidden", [(6,), (5, 4)])
@pytest.mark.parametrize("learn_std", [True, False])
@pytest.mark.parametrize("first_order", [False, True])
@pytest.mark.parametrize("early_endings", [False, True], ids=["full", "ended-early"])
def test_closed_form_products_equal_autograd(nav_tasks, activation, hidden, learn_std, first_order, early_endings):
    torch.manual_seed(0)
    policy = GaussianMLPPolicy(2, 2, hidden, activation, init_log_std=-0.5).double()
    policy.log_std.requires_grad_(learn_std)
    autograd, closed, size = both_products(policy, nav_tasks, first_order, early_endings)
    torch.manual_seed(1)
    for _ in range(3):
        v = torch.randn(size, dtype=torch.float64)
        expected = autograd(v)
        assert torch.allclose(closed(v), expected, rtol=1e-10, atol=1e-12), (closed(v) - expected).abs().max()


def test_the_inner_hessian_alone_equals_autograd(nav_tasks):
    """J v = v - lr * H v: checked on its own, so a wrong Hessian cannot hide behind the KL."""
    torch.manual_seed(0)
    policy = GaussianMLPPolicy(2, 2, (5, 4), "tanh", init_log_std=-0.5).double()
    autograd, closed, _ = both_products(policy, nav_tasks, first_order=False)
    torch.manual_seed(2)
    vector = [torch.randn_like(view) for view in autograd._views]
    for got, expected in zip(closed.jacobian_product(vector), autograd.jacobian_product(vector), strict=True):
        assert torch.allclose(got, expected, rtol=1e-10, atol=1e-12)
    moved = [v - e for v, e in zip(vector, autograd.jacobian_product(vector), strict=True)]
    assert max(m.abs().max().item() for m in moved) > 1e-3, "the step's Hessian is too small to test"


def test_only_the_policies_the_closed_forms_cover_are_recognised():
    assert mlp_layers(GaussianMLPPolicy(3, 2, (4, 4), "tanh")) == (["mean.0", "mean.2", "mean.4"], "tanh")
    assert mlp_layers(GaussianMLPPolicy(3, 2, (), "relu")) == (["mean.0"], "relu")
    assert mlp_layers(GaussianPolicy(2)) is None
    other = GaussianMLPPolicy(3, 2, (4,), "tanh")
    other.mean[1] = torch.nn.Sigmoid()
    assert mlp_layers(other) is None


@pytest.mark.parametrize(
    ("overrides", "closed"),
    [
        ([], True),
        (["first_order=true"], True),
        (["estimator=dice"], True),
        (["estimator=lvc"], False),  # LVC's inner loss has another Hessian
        (["num_steps=2"], False),
        (["closed_form_curvature=false"], False),
        (["policy=sb3"], False),
    ],
)
def test_trpo_takes_the_closed_form_where_it_applies(overrides, closed):
    from conftest import TINY_NAV

    from rlmaml.rl.api import load_rl_config
    from rlmaml.rl.experiment import RLExperiment

    experiment = RLExperiment(load_rl_config("navigation2d", [*TINY_NAV, *overrides]))
    chosen = []
    outer = experiment.learner.outer
    original = outer.local_curvature
    outer.local_curvature = lambda *args: chosen.append(original(*args)) or chosen[-1]
    experiment.run_iteration(0)
    assert isinstance(chosen[0], GaussianMLPCurvature) == closed


def test_training_with_a_fixed_std_takes_trpo_steps(tmp_path):
    """learn_std false: the log-std output does not depend on the parameters (autograd's
    path once failed on it)."""
    from conftest import train_tiny_nav

    for closed in ("true", "false"):
        train_tiny_nav(tmp_path / closed, "learn_std=false", f"closed_form_curvature={closed}", "iterations=2")
        assert (tmp_path / closed / "progress.csv").read_text().count("\n") == 3


def test_packing_moves_the_kept_steps_first_and_cuts_to_the_longest():
    keep = torch.tensor([[True, False, True, False], [False, False, True, False]])
    values = torch.arange(8.0).view(2, 4)
    (packed,) = pack_steps(keep, values)
    assert packed.tolist() == [[0.0, 2.0], [6.0, 4.0]]
    assert pack_steps(torch.ones(2, 4, dtype=torch.bool), values)[0] is values
