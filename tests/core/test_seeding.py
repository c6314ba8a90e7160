"""Every task and episode is seeded from (seed, iteration, task index, stage): splitting a
meta-batch across calls (or processes) gives the same tasks and the same episodes; and every
stream of rlmaml.core.seeding draws the numbers it drew before it was gathered there (runs
resumed from older checkpoints depend on it)."""

import numpy as np
import torch

from rlmaml.core.functional import detach, expand_to_tasks, parameters_of
from rlmaml.core.seeding import EVALUATION_ITERATION, key_rng, seed_keys, task_rng, task_seed
from rlmaml.rl.environments import make_vector_env
from rlmaml.rl.metalearner import MAMLSettings, MetaLearner
from rlmaml.rl.policies import GaussianMLPPolicy
from rlmaml.rl.sampler import BatchSampler


def test_the_streams_draw_what_they_always_drew():
    assert EVALUATION_ITERATION == 2**31 - 1
    assert [task_seed(5, 7, i) for i in range(3)] == [180603250, 2680605363, 2234159622]
    assert task_seed(0, EVALUATION_ITERATION, 0) == 1227416301
    assert seed_keys(1, 2, range(3, 5), stage=1) == [(1, 2, 3, 1), (1, 2, 4, 1)]
    episodes = key_rng((1, 2, 3, 0))  # the sampler's reset seeds, then its action noise
    assert episodes.integers(0, 2**31 - 1, size=3).tolist() == [2070207687, 1439828219, 1873285756]
    noise = episodes.standard_normal(2, dtype=np.float32).tolist()
    assert noise == [0.17727631330490112, -0.9421139359474182]
    assert task_rng(4, 5, 6).uniform(size=2).tolist() == [0.8161491708578846, 0.9365928471657419]


def test_tasks_do_not_depend_on_the_meta_batch_size():
    learner = MetaLearner(GaussianMLPPolicy(2, 2), BatchSampler("rlmaml/Navigation2D-v0", {}, 2, 10), MAMLSettings())
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
        for part, indices in ((slice(0, 2), range(2)), (slice(2, 4), range(2, 4)))
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
