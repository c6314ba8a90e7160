"""rlmaml's Meta-World families on their own: tasks from ML1's splits, the task protocol, the
episode's end, and one-line errors for bad input (an unknown family or split, a goal out of
the family's box, metaworld missing or of another version)."""

from __future__ import annotations

import importlib.metadata

import gymnasium as gym
import numpy as np
import pytest
from metaworld_support import ml1

from rlmaml.envs.metaworld import installed
from rlmaml.envs.metaworld.families import ML10_TEST, ML10_TRAIN, available
from rlmaml.envs.metaworld.goals import SplitTasks
from rlmaml.envs.metaworld.vector_env import MetaWorldEnv, MetaWorldVectorEnv


@pytest.fixture(autouse=True)
def needs_metaworld() -> None:
    ml1("reach", 0)  # skips, naming why, where metaworld is not installed


@pytest.mark.parametrize("family", available())
def test_no_train_goal_is_a_test_goal_and_seeds_repeat(family: str) -> None:
    train, test = SplitTasks.ml1(family, "train").rand_vecs[0], SplitTasks.ml1(family, "test").rand_vecs[0]
    assert len(np.unique(train, axis=0)) == 50
    assert not {tuple(v) for v in train} & {tuple(v) for v in test}
    assert np.array_equal(train, SplitTasks.ml1(family, "train").rand_vecs[0])
    assert not np.array_equal(train, SplitTasks.ml1(family, "train", benchmark_seed=1).rand_vecs[0])


def test_tasks_are_drawn_from_the_split_and_repeat_with_their_seed() -> None:
    env = MetaWorldEnv("push", split="test")
    tasks = env.sample_tasks(30, seed=5)
    assert tasks == env.sample_tasks(30, seed=5)
    assert tasks != env.sample_tasks(30, seed=6)
    goals = {tuple(v) for v in env._env.tasks.rand_vecs[0]}
    assert all(tuple(task["object"]) + tuple(task["goal"]) in goals for task in tasks)


def test_episodes_run_to_the_horizon_and_autoreset() -> None:
    env = MetaWorldVectorEnv(2, "reach", max_episode_steps=3)
    env.set_tasks(env.sample_tasks(2, seed=0))
    first, _ = env.reset()
    for _ in range(3):
        _, _, terminated, truncated, info = env.step(np.zeros((2, 4), dtype=np.float32))
        assert not terminated.any()
        assert set(info) == {"success", "nonfinite"}
    assert truncated.all()
    observations, rewards, terminated, truncated, _ = env.step(np.zeros((2, 4), dtype=np.float32))
    np.testing.assert_array_equal(observations, first)  # the step after the end starts a new episode
    assert not rewards.any()
    assert not (terminated | truncated).any()


def test_a_task_persists_across_resets_and_moves_the_object() -> None:
    env = MetaWorldEnv("pick-place")
    task = env.sample_tasks(1, seed=2)[0]
    env.set_task(task)
    observation, _ = env.reset()
    assert env.get_task() == task
    np.testing.assert_allclose(observation[4:7], task["object"], atol=1e-9)
    np.testing.assert_array_equal(env.reset()[0], observation)
    assert not observation[-3:].any()  # the goal is hidden, as in Meta-World's meta-learning benchmarks


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"family": "door-opener"}, "family must be one of reach, push, pick-place"),
        ({"benchmark": "ML45"}, "benchmark must be one of ML1, ML10"),
        ({"split": "validation"}, "split must be one of train, test"),
        ({"benchmark_seed": -1}, "benchmark_seed must be in"),
        ({"benchmark_seed": 1.5}, "benchmark_seed must be an integer"),
    ],
)
def test_bad_settings_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MetaWorldEnv(**kwargs)


@pytest.mark.parametrize(
    ("task", "message"),
    [
        ({"object": [0.0, 0.6, 0.02], "goal": [0.5, 0.85, 0.1]}, r"'goal' of reach must lie in the box"),
        ({"object": [0.0, 0.6, 0.02], "goal": [0.0, 0.85, np.nan]}, "'goal' must be 3 finite numbers"),
        ({"object": [0.1, 0.7, 0.02], "goal": [0.1, 0.8, 0.1]}, "at least 0.15 apart"),
        ({"goal": [0.0, 0.85, 0.1]}, "has the fields 'object' and 'goal'"),
        ({"object": [0.0, 0.6, 0.02], "goal": [0.0, 0.85, 0.1], "family": 1}, "has the fields"),
    ],
)
def test_bad_tasks_are_named(task: dict, message: str) -> None:
    env = MetaWorldEnv("reach")
    with pytest.raises(ValueError, match=message):
        env.set_task(task)


def test_missing_or_other_metaworld_is_one_line_with_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real_version = importlib.metadata.version

    def version_of(missing: bool, other: str):
        def version(name: str) -> str:
            if name != "metaworld":
                return real_version(name)
            if missing:
                raise importlib.metadata.PackageNotFoundError(name)
            return other

        return version

    for missing, message in ((True, "need metaworld's models"), (False, "checked against metaworld 3.1.1, found 2.0")):
        monkeypatch.setattr(importlib.metadata, "version", version_of(missing, "2.0"))
        with pytest.raises(gym.error.DependencyNotInstalled, match=message) as raised:
            MetaWorldEnv("reach")
        assert installed.INSTALL in str(raised.value)
        assert "\n" not in str(raised.value)


def test_the_single_env_ends_at_metaworlds_horizon_under_a_longer_time_limit() -> None:
    env = gym.make("rlmaml/MetaWorldML1-v0", max_episode_steps=600)
    env.reset()
    ends = [env.step(np.zeros(4, dtype=np.float32))[3] for _ in range(500)]
    assert ends == [False] * 499 + [True]


ML10_PORTED = pytest.mark.skipif(
    not set(ML10_TRAIN + ML10_TEST) <= set(available()), reason="not every ML10 family is ported"
)


@ML10_PORTED
def test_ml10_tasks_carry_their_family_and_mix_in_one_batch() -> None:
    env = MetaWorldVectorEnv(5, benchmark="ML10", split="test", max_episode_steps=4)
    first = env.tasks.all()[:5]
    assert [task["family"] for task in first] == list(ML10_TEST)  # goal 0 of every family first
    sampled = env.sample_tasks(200, seed=0)
    assert {task["family"] for task in sampled} == set(ML10_TEST)
    assert sampled == env.sample_tasks(200, seed=0)
    env.set_tasks(first)
    assert env.get_tasks() == first
    observations, _ = env.reset()
    for _ in range(4):
        observations, rewards, terminated, truncated, info = env.step(np.zeros((5, 4), dtype=np.float32))
        assert np.isfinite(observations).all()
        assert np.isfinite(rewards).all()
        assert not info["nonfinite"].any()
    assert truncated.all()
    assert not terminated.any()
    assert len(env.tasks.all()) == 250
    assert len(MetaWorldVectorEnv(1, benchmark="ML10").tasks.all()) == 500


@ML10_PORTED
@pytest.mark.parametrize(
    ("task", "message"),
    [
        (
            {"family": "reach", "object": [0.0, 0.6, 0.02], "goal": [0.0, 0.85, 0.1]},
            "'family' must be one of drawer-open",
        ),
        ({"object": [0.0, 0.6, 0.02]}, "'family' must be one of"),
        ({"family": "lever-pull", "goal": [0.0, 0.85, 0.1]}, "a lever-pull task has the fields 'family'"),
    ],
)
def test_bad_ml10_tasks_are_named(task: dict, message: str) -> None:
    env = MetaWorldEnv(benchmark="ML10", split="test")
    with pytest.raises(ValueError, match=message):
        env.set_task(task)
