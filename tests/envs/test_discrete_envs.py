"""The Bernoulli bandit and the random tabular MDP against their specifications, their batched
envs against N single ones, and their tasks validated field by field."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode

from rlmaml.envs.task_wrappers import with_task_methods

BANDIT, MDP = "rlmaml/BernoulliBandit-v0", "rlmaml/TabularMDP-v0"


def single(env_id, task, **kwargs):
    env = with_task_methods(gym.make(env_id, **kwargs))
    env.set_task(task)
    return env


def batched(env_id, tasks, **kwargs):
    env = gym.make_vec(env_id, num_envs=len(tasks), vectorization_mode="vector_entry_point", **kwargs)
    env.set_tasks(tasks)
    return env


def test_spaces_and_the_registered_horizons():
    bandit = gym.make(BANDIT, num_arms=3)
    assert bandit.action_space == gym.spaces.Discrete(3)
    assert bandit.observation_space.shape == (1,)
    assert bandit.spec.max_episode_steps == 1
    mdp = gym.make(MDP)
    assert mdp.action_space == gym.spaces.Discrete(5)
    assert mdp.observation_space == gym.spaces.Box(0.0, 1.0, (10,), np.float32)
    assert mdp.spec.max_episode_steps == 10


@pytest.mark.parametrize("env_id", [BANDIT, MDP])
def test_the_envs_pass_gymnasiums_checker_and_sample_tasks_reproducibly(env_id):
    env = with_task_methods(gym.make(env_id))
    tasks = env.sample_tasks(4, seed=3)
    assert tasks == env.sample_tasks(4, seed=3) != env.sample_tasks(4, seed=4)
    env.set_task(tasks[1])
    assert {k: pytest.approx(v) for k, v in env.get_task().items()} == tasks[1]
    check_env(env.unwrapped, skip_render_check=True)


def test_bandit_tasks_are_uniform_probabilities_and_rewards_bernoulli():
    env = with_task_methods(gym.make(BANDIT))
    p = np.array([t["probabilities"] for t in env.sample_tasks(4000, seed=0)])
    assert p.shape == (4000, 5)
    assert 0 <= p.min() < p.max() <= 1
    assert abs(p.mean() - 0.5) < 0.01
    tasks = [{"probabilities": [0.1, 0.7, 0.0, 1.0, 0.5]}] * 20000
    vec = batched(BANDIT, tasks)
    vec.reset(seed=1)
    arms = np.tile(np.arange(5), 4000)
    _, rewards, terminated, truncated, _ = vec.step(arms)
    assert (terminated & truncated).all()
    for arm, p_arm in enumerate(tasks[0]["probabilities"]):
        frequency = rewards[arms == arm].mean()
        assert abs(frequency - p_arm) <= 4 * np.sqrt(p_arm * (1 - p_arm) / 4000) + 1e-12


def test_the_mdp_starts_in_state_0_and_follows_its_transitions_and_rewards():
    s, a = 3, 2
    transitions = np.zeros((s, a, s))
    transitions[:, 0, 1] = 1.0  # action 0 goes to state 1
    transitions[:, 1] = [0.2, 0.3, 0.5]
    rewards = np.arange(s * a, dtype=float).reshape(s, a)
    task = {"transitions": transitions.tolist(), "rewards": rewards.reshape(-1).tolist()}  # nested or flat
    env = single(MDP, task, num_states=s, num_actions=a, reward_noise=0.0)
    observation, _ = env.reset(seed=0)
    assert observation.tolist() == [1.0, 0.0, 0.0]
    observation, reward, terminated, truncated, _ = env.step(0)
    assert (observation.tolist(), reward, terminated, truncated) == ([0.0, 1.0, 0.0], 0.0, False, False)
    _, reward, *_ = env.step(1)
    assert reward == rewards[1, 1]
    vec = batched(MDP, [task] * 30000, num_states=s, num_actions=a, reward_noise=1.0)
    vec.reset(seed=2)
    observations, rewards_seen, *_ = vec.step(np.ones(30000, dtype=np.int64))
    assert np.abs(observations.mean(0) - [0.2, 0.3, 0.5]).max() < 0.01
    assert abs(rewards_seen.mean() - rewards[0, 1]) < 0.03
    assert abs(rewards_seen.std() - 1.0) < 0.02


@pytest.mark.parametrize("env_id", [BANDIT, MDP])
@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.DISABLED])
def test_the_batched_env_matches_single_envs_step_for_step(env_id, mode):
    tasks = with_task_methods(gym.make(env_id)).sample_tasks(3, seed=0)
    vec = batched(env_id, tasks, autoreset_mode=mode)
    singles = [single(env_id, t) for t in tasks]
    observations, _ = vec.reset(seed=[4, 5, 6])
    assert np.array_equal(observations, np.stack([e.reset(seed=s)[0] for e, s in zip(singles, [4, 5, 6], strict=True)]))
    done = np.zeros(3, dtype=bool)
    rng = np.random.default_rng(0)
    for _ in range(25):
        actions = rng.integers(0, vec.single_action_space.n, size=3)
        observations, rewards, terminated, truncated, _ = vec.step(actions)
        for i, env in enumerate(singles):
            if done[i] and mode == AutoresetMode.DISABLED:
                assert (rewards[i], terminated[i] or truncated[i]) == (0.0, True)
                continue
            expected = (env.reset()[0], 0.0, False, False) if done[i] else env.step(actions[i])[:4]
            assert np.array_equal(observations[i], expected[0])
            assert (rewards[i], terminated[i], truncated[i]) == pytest.approx(expected[1:])
        done = terminated | truncated


@pytest.mark.parametrize(
    ("env_id", "task", "message"),
    [
        (BANDIT, {"probabilities": [0.5] * 4}, "5 finite numbers"),
        (BANDIT, {"probabilities": [0.5, 0.5, 0.5, 0.5, 1.5]}, "in \\[0, 1\\]"),
        (BANDIT, {"probabilities": [0.5] * 5, "goal": 1}, "'goal'"),
        (MDP, {"transitions": [0.1] * 500}, "'transitions' and 'rewards'"),
        (MDP, {"transitions": [0.1] * 499, "rewards": [0.0] * 50}, "'transitions' must be 500"),
        (MDP, {"transitions": [0.2] * 500, "rewards": [0.0] * 50}, "summing to 1"),
        (MDP, {"transitions": [0.1] * 500, "rewards": [float("nan")] * 50}, "'rewards' must be 50 finite"),
    ],
)
def test_malformed_tasks_are_refused_naming_the_field(env_id, task, message):
    env = with_task_methods(gym.make(env_id))
    with pytest.raises(ValueError, match=message):
        env.set_task(task)
