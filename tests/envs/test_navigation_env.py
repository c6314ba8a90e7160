"""2D navigation against its specification, and the batched env against the single one."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rlmaml.envs.task_wrappers import with_task_methods

ENV_ID = "rlmaml/Navigation2D-v0"


def make_single(goal):
    env = with_task_methods(gym.make(ENV_ID))
    env.set_task({"goal": goal})
    return env


def test_dynamics_reward_and_clipping():
    env = make_single([0.3, -0.2])
    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(obs, [0.0, 0.0])
    obs, reward, terminated, truncated, _ = env.step(np.array([0.5, -0.05], dtype=np.float32))
    np.testing.assert_allclose(obs, [0.1, -0.05], atol=1e-7)  # x clipped to 0.1
    assert reward == pytest.approx(-np.hypot(0.1 - 0.3, -0.05 + 0.2))
    assert not terminated
    assert not truncated


def test_terminates_within_tolerance_of_the_goal_and_truncates_at_horizon():
    env = make_single([0.1, 0.095])
    env.reset(seed=0)
    *_, terminated, truncated, _ = env.step(np.array([0.1, 0.1], dtype=np.float32))
    assert terminated
    assert not truncated

    env = make_single([0.1, 0.08])
    env.reset(seed=0)
    *_, terminated, _, _ = env.step(np.array([0.1, 0.1], dtype=np.float32))
    assert not terminated  # |dy| = 0.02

    env = make_single([0.4, 0.4])
    env.reset(seed=0)
    for t in range(100):
        *_, terminated, truncated, _ = env.step(np.zeros(2, dtype=np.float32))
        assert not terminated
        assert truncated == (t == 99)


def test_task_sampling_is_seeded_bounded_and_persists_across_resets():
    env = with_task_methods(gym.make(ENV_ID, goal_low=-0.2, goal_high=0.1))
    tasks = env.sample_tasks(50, seed=3)
    assert tasks == env.sample_tasks(50, seed=3)
    goals = np.array([t["goal"] for t in tasks])
    assert goals.shape == (50, 2)
    assert goals.min() >= -0.2
    assert goals.max() <= 0.1
    env.set_task(tasks[0])
    env.reset(seed=1)
    env.reset(seed=2)
    assert env.get_task() == tasks[0]


@pytest.mark.parametrize("task", [{}, {"goal": [1.0]}, {"goal": [np.nan, 0.0]}, {"goal": "north"}, [0.1, 0.2]])
def test_invalid_task_raises_value_error_naming_the_field(task):
    env = with_task_methods(gym.make(ENV_ID))
    with pytest.raises(ValueError, match="goal"):
        env.set_task(task)


def test_goals_a_little_outside_the_sampling_range_are_taken_far_outside_refused():
    env = gym.make(ENV_ID).unwrapped
    env.set_task({"goal": [0.8, -10.5]})  # a probe: the range [-0.5, 0.5] and ten widths either side
    for goal in ([1e300, 0.0], [0.0, -10.6]):
        with pytest.raises(ValueError, match=r"'goal' must lie within \[-10.5, 10.5\]"):
            env.set_task({"goal": goal})
    with pytest.raises(ValueError, match="'velocity' is not one of this env's"):
        env.set_task({"goal": [0.1, 0.1], "velocity": 1.0})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"goal_low": -np.inf}, "goal_low and goal_high must be finite"),
        ({"goal_low": -1e308, "goal_high": 1e308}, r"must lie within \+-1e\+06"),
        ({"max_action": np.inf}, "max_action must be in"),
        ({"max_action": 0.0}, "max_action must be in"),
        ({"goal_tolerance": np.nan}, "goal_tolerance must be in"),
    ],
)
def test_env_kwargs_beyond_their_bounds_raise_naming_them(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gym.make(ENV_ID, **kwargs)
    with pytest.raises(ValueError, match=message):
        gym.make_vec(ENV_ID, num_envs=2, vectorization_mode="vector_entry_point", **kwargs)


def test_single_env_passes_gymnasium_checks():
    env = gym.make(ENV_ID).unwrapped
    env.set_task({"goal": [0.2, 0.2]})
    check_env(env, skip_render_check=True)


def test_batched_env_matches_gymnasium_sync_vector_env_step_for_step():
    """Same tasks and actions through our batched env and Gymnasium's SyncVectorEnv of the
    single env, over more than one episode so that autoreset is compared too."""
    num_envs = 6
    goals = [[0.05, 0.05], [0.3, -0.2], [-0.45, 0.5], [0.0, 0.1], [0.1, 0.0], [-0.1, -0.1]]
    batched = gym.make_vec(ENV_ID, num_envs=num_envs, vectorization_mode="vector_entry_point")
    reference = gym.make_vec(ENV_ID, num_envs=num_envs, vectorization_mode="sync")
    assert batched.single_observation_space == reference.single_observation_space
    assert batched.single_action_space == reference.single_action_space
    batched.set_tasks([{"goal": g} for g in goals])
    for env, goal in zip(reference.envs, goals, strict=True):
        with_task_methods(env).set_task({"goal": goal})
    rng = np.random.default_rng(0)
    obs_b, _ = batched.reset(seed=0)
    obs_r, _ = reference.reset(seed=0)
    np.testing.assert_array_equal(obs_b, obs_r)
    ended = 0
    for _t in range(250):
        actions = rng.uniform(-0.15, 0.15, size=(num_envs, 2)).astype(np.float32)
        actions[0] = actions[3] = 0.05  # env 0 reaches its goal at step 1, env 3 gets close
        out_b = batched.step(actions)
        out_r = reference.step(actions)
        for got, want in zip(out_b[:4], out_r[:4], strict=True):
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
        assert batched.observation_space.contains(out_b[0])
        ended += int(out_b[2].sum() + out_b[3].sum())
    assert ended > num_envs  # terminations and truncations (and their autoresets) happened


def test_set_tasks_needs_one_task_per_sub_env():
    batched = gym.make_vec(ENV_ID, num_envs=3, vectorization_mode="vector_entry_point")
    with pytest.raises(ValueError, match="one task per sub-env"):
        batched.set_tasks([{"goal": [0.0, 0.0]}])


def test_disabled_autoreset_keeps_a_finished_agent_where_it_ended():
    disabled = gym.make_vec(ENV_ID, num_envs=2, vectorization_mode="vector_entry_point", autoreset_mode="Disabled")
    reference = gym.make_vec(ENV_ID, num_envs=2, vectorization_mode="vector_entry_point")
    for envs in (disabled, reference):
        envs.set_tasks([{"goal": [0.05, 0.05]}, {"goal": [0.3, -0.2]}])
        envs.reset(seed=0)
    actions = np.full((2, 2), 0.05, dtype=np.float32)
    for t in range(3):
        obs, rewards, terminated, truncated, _ = disabled.step(actions)
        want = reference.step(actions)
        np.testing.assert_array_equal(obs[1], want[0][1])
        assert rewards[1] == want[1][1]
        np.testing.assert_allclose(obs[0], [0.05, 0.05])  # reached its goal on the first step
        assert terminated[0]
        assert not truncated[0]
        assert rewards[0] == (want[1][0] if t == 0 else 0.0)
    obs, _ = disabled.reset(options={"reset_mask": np.array([True, False])})
    assert obs[0].tolist() == [0.0, 0.0]
    assert obs[1].tolist() == want[0][1].tolist()
    _, rewards, terminated, _, _ = disabled.step(np.zeros((2, 2), dtype=np.float32))
    assert rewards[0] == pytest.approx(-np.hypot(0.05, 0.05))
    assert not terminated[0]
