"""The one-step Gaussian bandit against its specification, the batched env against N single
ones, and normalize_actions refused for its unbounded actions."""

import gymnasium as gym
import numpy as np
import pytest
from conftest import rl_config
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode

from rlmaml.cli import main
from rlmaml.envs.bandit import GaussianBanditEnv, GaussianBanditVectorEnv
from rlmaml.envs.task_wrappers import with_task_methods
from rlmaml.errors import UserError
from rlmaml.rl.environments import make_env, make_vector_env

ENV_ID = "rlmaml/GaussianBandit-v0"
GOALS = [-0.9, -0.2, 0.0, 0.45, 0.95]


def make_single(goal, **kwargs):
    env = with_task_methods(gym.make(ENV_ID, **kwargs))
    env.set_task({"goal": goal})
    return env


def make_batched(num_envs, **kwargs):
    return gym.make_vec(ENV_ID, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)


def test_spaces_are_one_unbounded_number_and_the_observation_a_constant_zero():
    env = make_single(0.3)
    unbounded = gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)
    assert env.action_space == unbounded
    assert env.observation_space == unbounded
    for seed in range(3):
        observation, info = env.reset(seed=seed)
        assert observation.dtype == np.float32
        assert observation.tolist() == [0.0]
        assert info["task"] == {"goal": 0.3}
        observation, *_ = env.step(np.array([5.0], dtype=np.float32))
        assert observation.tolist() == [0.0]


@pytest.mark.parametrize("goal", [-1.0, 0.25, [0.9], 3.5])
@pytest.mark.parametrize("action", [-2.5, 0.0, 0.3, 1e3])
def test_reward_is_minus_the_squared_distance_to_the_goal_unclipped_in_float64(goal, action):
    env = make_single(goal)
    g = float(np.reshape(goal, -1)[0])
    for dtype in (np.float32, np.float64):  # a float64 action is not rounded to float32 first
        env.reset(seed=0)
        a = np.array([action], dtype=dtype)
        _, reward, *_ = env.step(a)
        offset = float(a[0]) - g
        assert isinstance(reward, float)
        assert reward == -(offset * offset)
    batched = make_batched(2)
    batched.set_tasks([{"goal": goal}, {"goal": 0.0}])
    batched.reset(seed=0)
    _, rewards, *_ = batched.step(np.array([[action], [action]]))
    assert rewards.dtype == np.float64
    np.testing.assert_array_equal(rewards, [-((action - g) * (action - g)), -(action * action)])


def test_every_episode_ends_after_its_first_step():
    assert gym.spec(ENV_ID).max_episode_steps == 1
    for max_episode_steps in (1, 5):
        env = make_single(0.5, max_episode_steps=max_episode_steps)
        for seed in range(3):
            env.reset(seed=seed)
            _, _, terminated, truncated, _ = env.step(np.array([0.5], dtype=np.float32))
            assert terminated
            assert truncated == (max_episode_steps == 1)  # TimeLimit's horizon of one step
        env.close()


def reference_step(singles, actions, ended, last, mode):
    """What N single envs give for one batched step: a sub-env whose episode has ended either
    waits (Disabled: reward 0, its end flags again) or resets (NextStep: reward 0, not done)."""
    out = []
    for i, env in enumerate(singles):
        if not ended[i]:
            observation, reward, terminated, truncated, _ = env.step(actions[i])
        elif mode == AutoresetMode.DISABLED:
            observation, reward, (terminated, truncated) = np.zeros(1, np.float32), 0.0, last[i]
        else:
            observation, reward, terminated, truncated = env.reset()[0], 0.0, False, False
        out.append((observation, reward, terminated, truncated))
    return [np.array(column) for column in zip(*out, strict=True)]


@pytest.mark.parametrize("max_episode_steps", [1, 3])
@pytest.mark.parametrize("autoreset_mode", [AutoresetMode.NEXT_STEP, AutoresetMode.DISABLED])
def test_batched_env_matches_single_envs_step_for_step_over_resets(autoreset_mode, max_episode_steps):
    num_envs = len(GOALS)
    batched = make_batched(num_envs, max_episode_steps=max_episode_steps, autoreset_mode=autoreset_mode)
    assert batched.metadata["autoreset_mode"] == autoreset_mode
    batched.set_tasks([{"goal": g} for g in GOALS])
    singles = [make_single(g, max_episode_steps=max_episode_steps) for g in GOALS]
    rng = np.random.default_rng(0)
    ended = np.zeros(num_envs, dtype=bool)
    last = [(False, False)] * num_envs
    for round_ in range(4):
        mask = np.ones(num_envs, dtype=bool) if round_ == 0 else rng.random(num_envs) < 0.5
        mask[round_ % num_envs] = True
        observations, _ = batched.reset(seed=round_, options={"reset_mask": mask})
        np.testing.assert_array_equal(observations, np.zeros((num_envs, 1)))
        for i in np.flatnonzero(mask):
            singles[i].reset(seed=round_)
            ended[i] = False
        for _ in range(3):
            actions = rng.normal(0.0, 2.0, size=(num_envs, 1)).astype(np.float32)
            got = batched.step(actions)
            want = reference_step(singles, actions, ended, last, autoreset_mode)
            for value, expected in zip(got[:4], want, strict=True):
                np.testing.assert_array_equal(value, expected.reshape(value.shape))
            ended = got[2] | got[3]
            last = list(zip(got[2], got[3], strict=True))


def test_batched_env_matches_gymnasium_sync_vector_env():
    """Gymnasium's own next-step autoreset over the single env, for many one-step episodes."""
    batched = make_batched(len(GOALS))
    reference = gym.make_vec(ENV_ID, num_envs=len(GOALS), vectorization_mode="sync")
    assert batched.single_observation_space == reference.single_observation_space
    assert batched.single_action_space == reference.single_action_space
    batched.set_tasks([{"goal": g} for g in GOALS])
    for env, goal in zip(reference.envs, GOALS, strict=True):
        with_task_methods(env).set_task({"goal": goal})
    np.testing.assert_array_equal(batched.reset(seed=0)[0], reference.reset(seed=0)[0])
    actions = np.random.default_rng(1).normal(0.0, 1.0, size=(20, len(GOALS), 1)).astype(np.float32)
    for step_actions in actions:
        for got, want in zip(batched.step(step_actions)[:4], reference.step(step_actions)[:4], strict=True):
            np.testing.assert_array_equal(got, want)


def test_tasks_are_sampled_uniformly_within_the_bounds_and_from_the_seed():
    env = with_task_methods(gym.make(ENV_ID, goal_low=-0.5, goal_high=2.0))
    tasks = env.sample_tasks(4000, seed=3)
    assert tasks == env.sample_tasks(4000, seed=3)
    assert tasks != env.sample_tasks(4000, seed=4)
    assert make_batched(2, goal_low=-0.5, goal_high=2.0).sample_tasks(4000, seed=3) == tasks
    assert all(set(task) == {"goal"} and isinstance(task["goal"], float) for task in tasks)
    goals = np.array([task["goal"] for task in tasks])
    assert goals.min() >= -0.5
    assert goals.max() <= 2.0
    quantiles = np.sort((goals + 0.5) / 2.5)
    uniform = (np.arange(goals.size) + 0.5) / goals.size
    assert np.max(np.abs(quantiles - uniform)) < 0.03  # Kolmogorov-Smirnov distance to U[0, 1]
    defaults = np.array([task["goal"] for task in with_task_methods(gym.make(ENV_ID)).sample_tasks(500, seed=0)])
    assert defaults.min() >= -1.0
    assert defaults.max() <= 1.0


def test_a_task_is_one_number_that_persists_across_resets():
    env = make_single([0.7])  # a 1-element sequence, as the velocity and direction families take
    assert env.get_task() == {"goal": 0.7}
    env.reset(seed=1)
    env.reset(seed=2)
    assert env.get_task() == {"goal": 0.7}
    env.set_task({"goal": 20.9})  # a probe: the range [-1, 1] and ten widths either side
    assert env.get_task() == {"goal": 20.9}
    batched = make_batched(2)
    batched.set_tasks([{"goal": [0.1]}, {"goal": -0.4}])
    assert batched.get_tasks() == [{"goal": 0.1}, {"goal": -0.4}]


@pytest.mark.parametrize(
    ("task", "message"),
    [
        ({}, "the field 'goal'"),
        ({"velocity": 0.5}, "the field 'goal'"),
        ({"goal": np.nan}, "'goal' must be a finite number"),
        ({"goal": -np.inf}, "'goal' must be a finite number"),
        ({"goal": [0.1, 0.2]}, "'goal' must be a finite number"),
        ({"goal": "north"}, "task field 'goal' must be"),
        ({"goal": 21.5}, r"'goal' must lie within \[-21, 21\]"),
        ({"goal": 1e300}, r"'goal' must lie within \[-21, 21\]"),
        ({"goal": 0.1, "velocity": 1.0}, "'velocity' is not one of this env's"),
    ],
)
def test_bad_tasks_raise_value_error_naming_the_field(task, message):
    with pytest.raises(ValueError, match=message):
        make_single(0.0).set_task(task)
    with pytest.raises(ValueError, match=message):
        make_batched(2).set_tasks([{"goal": 0.0}, task])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"goal_low": np.nan}, "goal_low and goal_high must be finite"),
        ({"goal_high": np.inf}, "goal_low and goal_high must be finite"),
        ({"goal_low": 1.0}, "goal_low and goal_high must be finite with goal_low < goal_high"),
        ({"goal_low": 2.0, "goal_high": -2.0}, "goal_low < goal_high"),
        ({"goal_low": -1e7}, r"must lie within \+-1e\+06"),
        ({"autoreset_mode": "SameStep"}, "autoreset_mode must be one of"),
    ],
)
def test_bad_bounds_raise_value_error_naming_them(kwargs, message):
    single_kwargs = {k: v for k, v in kwargs.items() if k != "autoreset_mode"}
    if single_kwargs:
        with pytest.raises(ValueError, match=message):
            gym.make(ENV_ID, **single_kwargs)
    with pytest.raises(ValueError, match=message):
        make_batched(2, **kwargs)


# check_env advises bounded, normalised spaces: the bandit's are unbounded by design
@pytest.mark.filterwarnings("ignore:.*space (minimum|maximum) value is -?infinity", "ignore:.*symmetric and normalized")
def test_single_env_passes_gymnasium_checks():
    env = gym.make(ENV_ID).unwrapped
    env.set_task({"goal": 0.4})
    check_env(env, skip_render_check=True)


def test_normalize_actions_is_refused_in_one_line_naming_the_config_key_after_closing_the_env(monkeypatch):
    closed = []
    monkeypatch.setattr(GaussianBanditEnv, "close", lambda self: closed.append(self))
    monkeypatch.setattr(GaussianBanditVectorEnv, "close", lambda self: closed.append(self))
    expected = (
        "config key 'normalize_actions': rlmaml/GaussianBandit-v0 has unbounded actions, which cannot be rescaled "
        "from [-1, 1]; set normalize_actions: false"
    )
    config = rl_config(env=ENV_ID, env_kwargs={}, horizon=1, normalize_actions=True)
    with pytest.raises(UserError) as raised:
        make_env(config)
    assert str(raised.value) == expected
    with pytest.raises(UserError) as raised:
        make_vector_env(ENV_ID, 2, 1, {}, normalize_actions=True)
    assert str(raised.value) == expected
    assert [type(env) for env in closed] == [GaussianBanditEnv, GaussianBanditVectorEnv]


def test_the_cli_refuses_normalize_actions_on_the_bandit_in_one_line(tmp_path, capsys):
    argv = ["train", "navigation2d", "--out", str(tmp_path / "run")]  # its config has normalize_actions: true
    assert main([*argv, "--set", f"env={ENV_ID}", "env_kwargs={}", "horizon=1", "iterations=1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "config key 'normalize_actions'" in err
    assert not (tmp_path / "run").exists()
