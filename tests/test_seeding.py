"""Every task and episode is seeded from (seed, iteration, task index, stage): splitting a
meta-batch across calls (or processes) gives the same tasks and the same episodes."""

import torch

from rlmaml.functional import detach, expand_to_tasks, parameters_of
from rlmaml.metalearner import MAMLTRPO, MAMLSettings, seed_keys
from rlmaml.policies import GaussianMLPPolicy
from rlmaml.sampler import BatchSampler


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
