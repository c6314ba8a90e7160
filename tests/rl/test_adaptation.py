"""The adaptation piece on its own, without a meta-learner: it adapts a policy on fresh
episodes at every step, and its replay reproduces what it recorded."""

from functools import partial

import torch

from rlmaml.core.functional import detach, parameters_of
from rlmaml.core.seeding import seed_keys
from rlmaml.rl.adaptation import Adapter
from rlmaml.rl.sampler import BatchSampler

STEP_SIZES = [0.1, 0.05]


def test_an_adapter_adapts_a_policy_and_its_replay_reproduces_the_adaptation(tiny_policy, nav_tasks):
    sampler = BatchSampler("rlmaml/Navigation2D-v0", {}, 4, 8)
    adapter = Adapter(tiny_policy, sampler)
    params = parameters_of(tiny_policy)
    start = detach(params)
    keys = partial(seed_keys, 0, 0, range(len(nav_tasks)))
    adaptation = adapter.adapt(params, nav_tasks, keys, STEP_SIZES, first_order=False)

    trajectory = adaptation.trajectory
    assert len(adaptation.inner_episodes) == len(STEP_SIZES)
    assert len(trajectory) == len(STEP_SIZES) + 1
    assert all(torch.equal(start[n], p) for n, p in parameters_of(tiny_policy).items())  # the policy stays
    for step, episodes in enumerate([*adaptation.inner_episodes, adaptation.post_episodes]):
        again = sampler.sample(tiny_policy, detach(trajectory[step]), nav_tasks, keys(step))
        assert torch.equal(episodes.actions, again.actions), f"stage {step} is not the policy after {step} steps"
    for step, episodes in enumerate(adaptation.inner_episodes):
        before, after = detach(trajectory[step]), detach(trajectory[step + 1])
        assert any(not torch.equal(before[n], after[n]) for n in before)
        assert adapter.objective(tiny_policy, after, episodes) < adapter.objective(tiny_policy, before, episodes)

    replayed = adapter.replay(params, adaptation, first_order=False)
    for recorded, again in zip(trajectory, replayed, strict=True):
        assert all(torch.equal(recorded[n], again[n]) for n in recorded)
    (gradient,) = torch.autograd.grad(replayed[-1]["log_std"].sum(), [params["log_std"]])
    assert torch.isfinite(gradient).all()  # differentiable in the meta-parameters, through the steps
    elsewhere = {n: (p + 0.01).requires_grad_() for n, p in start.items()}
    moved = adapter.replay(elsewhere, adaptation, first_order=True)[-1]
    assert all(not torch.equal(moved[n], trajectory[-1][n]) for n in moved)  # replayed from elsewhere
    sampler.close()
