"""Every task and episode is seeded from (seed, iteration, task index, stage): splitting a
meta-batch across calls (or processes) gives the same tasks and the same episodes."""

import torch

from rlmaml.rl.environments import make_vector_env
from rlmaml.core.functional import detach, expand_to_tasks, parameters_of
from rlmaml.rl.metalearner import MAMLTRPO, MAMLSettings, seed_keys
from rlmaml.rl.policies import GaussianMLPPolicy
from rlmaml.rl.sampler import BatchSampler


def test_tasks_do_not_depend_on_the_meta_batch_size():
    learner = MAMLTRPO(GaussianMLPPolicy(2, 2), BatchSampler("rlmaml/Navigation2D-v0", {}, 2, 10), MAMLSettings())
    assert learner.sample_tasks(5, 7, range(3)) == learner.sample_tasks(5, 7, range(6))[:3]
    assert learner.sample_tasks(5, 7, range(3, 6)) == learner.sample_tasks(5, 7, range(6))[3:]
    assert learner.sample_tasks(5, 7, range(3)) != learner.sample_tasks(5, 8, range(3))


def test_episodes_of_a_task_do_not_depend_on_the_other_tasks_in_the_call():
    torch.manual_seed(0)
    model = GaussianMLPPolicy(2, 2, (8,))
    sampler = BatchSampler("rlmaml/Navigation2D-v0", {}, 3, 15)
    tasks = [{"goal": [0.1 * i, -0.1 * i]} for i in range(4)]
    params = detach(expand_to_tasks(parameters_of(model), 4))
    whole = sampler.sample(model, params, tasks, seed_keys(1, 2, range(4), stage=0))
    halves = [
        sampler.sample(model, {n: p[part] for n, p in params.items()}, tasks[part], seed_keys(1, 2, indices, stage=0))
        for part, indices in ((slice(0, 2), range(0, 2)), (slice(2, 4), range(2, 4)))
    ]
    for field in ("observations", "actions", "rewards", "mask"):
        joined = torch.cat([getattr(h, field) for h in halves], dim=1)
        assert torch.equal(getattr(whole, field), joined), field


def test_episodes_do_not_change_when_finished_sub_envs_leave_the_physics():
    """The sampler's env skips finished sub-envs (autoreset disabled); Ant episodes that end
    early must come out exactly as from an env that keeps stepping everything."""
    torch.manual_seed(0)
    model = GaussianMLPPolicy(107, 8, (16,))  # Ant observes 107 numbers (torso x, y and contact forces included)
    sampler = BatchSampler("rlmaml/AntDir-v0", {}, 4, 40)
    tasks = [{"direction": 1}, {"direction": -1}]
    params = detach(expand_to_tasks(parameters_of(model), 2))
    keys = seed_keys(1, 0, range(2), stage=0)
    skipping = sampler.sample(model, params, tasks, keys)
    sampler._envs[2] = make_vector_env("rlmaml/AntDir-v0", 8, 40, {})  # next-step autoreset: steps all
    stepping_all = sampler.sample(model, params, tasks, keys)
    assert 0 < skipping.mask.sum() < skipping.mask.numel()  # some episodes ended early
    for field in ("observations", "actions", "rewards", "mask"):
        assert torch.equal(getattr(skipping, field), getattr(stepping_all, field)), field
