"""rlmaml's Meta-World families against Meta-World's own envs (metaworld 3.1.1), step for step:
observations, v2 rewards and success, over random actions and over Meta-World's scripted
policies (which succeed, so both values of success are compared); and the ML1 goal split."""

from __future__ import annotations

import numpy as np
import pytest
from metaworld_support import ml1, ml10, scripted_policy

from rlmaml.envs.metaworld.families import ML10_TEST, ML10_TRAIN, available, family_named
from rlmaml.envs.metaworld.goals import SplitTasks, ml1_rand_vecs
from rlmaml.envs.metaworld.reference import rand_vecs, reference_env
from rlmaml.envs.metaworld.vector_env import MetaWorldEnv, MetaWorldVectorEnv

FAMILY_NAMES = available()
TOLERANCE = 1e-6
SCRIPTED_STEPS = {"reach": 150, "push": 150, "pick-place": 150}  # enough for Meta-World's policy to succeed


@pytest.mark.parametrize("family", FAMILY_NAMES)
@pytest.mark.parametrize("seed", [0, 7])
def test_ml1_goals_are_metaworlds(family: str, seed: int) -> None:
    benchmark = ml1(family, seed)
    assert np.array_equal(
        ml1_rand_vecs(family_named(family), seed), rand_vecs(benchmark, family, benchmark.train_tasks)
    )
    assert np.array_equal(
        ml1_rand_vecs(family_named(family), seed + 1), rand_vecs(benchmark, family, benchmark.test_tasks)
    )


@pytest.mark.skipif(not set(ML10_TRAIN + ML10_TEST) <= set(FAMILY_NAMES), reason="not every ML10 family is ported")
def test_ml10_goals_are_metaworlds() -> None:
    benchmark = ml10(3)
    for split, names, tasks in (
        ("train", ML10_TRAIN, benchmark.train_tasks),
        ("test", ML10_TEST, benchmark.test_tasks),
    ):
        ours = SplitTasks.ml10(split, benchmark_seed=3)
        assert [family.name for family in ours.families] == list(names)
        for family, vecs in zip(names, ours.rand_vecs, strict=True):
            assert np.array_equal(vecs, rand_vecs(benchmark, family, tasks)), (split, family)


def compare_episode(family: str, num_envs: int, steps: int, scripted: bool) -> tuple[float, int]:
    """Step rlmaml's batched env and Meta-World's envs side by side on ML1 train tasks 0..num_envs-1;
    the largest difference of observation or reward, and how many steps succeeded."""
    benchmark = ml1(family, 0)
    vecs = rand_vecs(benchmark, family, benchmark.train_tasks)[:num_envs]
    ours = MetaWorldVectorEnv(num_envs, family)
    ours.set_tasks([ours.tasks.task(family_named(family), v) for v in vecs])
    observations, _ = ours.reset()
    theirs = [reference_env(benchmark, family, i) for i in range(num_envs)]
    reference = np.stack([env._get_obs() for env in theirs])
    reference[:, 18:36] = reference[:, :18]  # as their reset returns it
    worst = float(np.abs(observations - reference).max())
    policy, rng, successes = scripted_policy(family), np.random.default_rng(0), 0
    for _ in range(steps):
        if scripted:  # their policy, given the goal our observation hides as theirs does
            seen = observations.copy()
            seen[:, -3:] = [env._target_pos for env in theirs]
            actions = np.stack([policy.get_action(o) for o in seen]).astype(np.float32)
        else:
            actions = rng.uniform(-1.5, 1.5, size=(num_envs, 4)).astype(np.float32)
        observations, rewards, _, _, info = ours.step(actions)
        for i, env in enumerate(theirs):
            observation, reward, _, _, their_info = env.step(actions[i])
            worst = max(worst, float(np.abs(observation - observations[i]).max()), abs(reward - rewards[i]))
            assert bool(their_info["success"]) == bool(info["success"][i])
            successes += int(info["success"][i])
    ours.close()
    return worst, successes


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_random_actions_step_as_metaworld(family: str) -> None:
    worst, _ = compare_episode(family, num_envs=3, steps=120, scripted=False)
    assert worst < TOLERANCE


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_scripted_successes_match_metaworld(family: str) -> None:
    worst, successes = compare_episode(family, num_envs=2, steps=SCRIPTED_STEPS.get(family, 300), scripted=True)
    assert worst < TOLERANCE
    assert successes > 0  # the comparison saw success as well as failure


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_single_env_is_a_sub_env_of_the_batch(family: str) -> None:
    batched = MetaWorldVectorEnv(2, family)
    single = MetaWorldEnv(family)
    tasks = batched.sample_tasks(2, seed=3)
    batched.set_tasks(tasks)
    single.set_task(tasks[1])
    observations, _ = batched.reset()
    observation, _ = single.reset()
    np.testing.assert_array_equal(observation, observations[1])
    rng = np.random.default_rng(1)
    for _ in range(40):
        actions = rng.uniform(-1, 1, size=(2, 4)).astype(np.float32)
        observations, rewards, _, _, _ = batched.step(actions)
        observation, reward, _, _, _ = single.step(actions[1])
        np.testing.assert_array_equal(observation, observations[1])
        assert reward == rewards[1]
