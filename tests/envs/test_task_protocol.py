"""The task protocol survives every wrapper rlmaml puts around an env: each registered id, made
the way rlmaml makes it, is a TaskEnv (or TaskVectorEnv) whose task round-trips, so no caller
reaches through `.unwrapped`."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from conftest import rl_config
from gymnasium.envs.registration import registry
from gymnasium.vector import AutoresetMode

import rlmaml
import rlmaml.envs
from rlmaml.envs import TaskEnv, TaskVectorEnv
from rlmaml.envs.task_observation import task_vector
from rlmaml.envs.task_wrappers import TaskVectorWrapper, TaskWrapper, with_task_methods, with_vector_task_methods
from rlmaml.rl.environments import make_env, make_vector_env
from rlmaml.runs.config_types import RLConfig


def installed(env_id: str) -> bool:
    """Whether the env can be made here: Meta-World's families need metaworld (tests/envs/test_metaworld_*.py
    check them, skipping where it is missing)."""
    try:
        gym.make(env_id).close()
    except gym.error.DependencyNotInstalled:
        return False
    return True


ENV_IDS = sorted(env_id for env_id in registry if env_id.startswith("rlmaml/") and installed(env_id))
SINGLE_WRAPPINGS = list(itertools.product([False, True], repeat=3))  # normalize, observe task, new task per episode
VECTOR_WRAPPINGS = list(itertools.product([False, True], repeat=2))  # normalize, observe task


def has_bounded_actions(env_id: str) -> bool:
    """Whether normalize_actions can rescale the env's actions (the Gaussian bandit's are unbounded,
    the discrete envs' no Box)."""
    env = gym.make(env_id)
    try:
        return isinstance(env.action_space, gym.spaces.Box) and env.action_space.is_bounded()
    finally:
        env.close()


BOUNDED_ACTIONS = {env_id for env_id in ENV_IDS if has_bounded_actions(env_id)}
# ML10's tasks name their family, whose fields differ: no fixed-size task vector to observe
MIXED_TASKS = {"rlmaml/MetaWorldML10-v0"}


def wrappable(env_id: str, normalize: bool, observe: bool) -> bool:
    return (env_id in BOUNDED_ACTIONS or not normalize) and not (observe and env_id in MIXED_TASKS)


SINGLE_CASES = [(e, *w) for e in ENV_IDS for w in SINGLE_WRAPPINGS if wrappable(e, *w[:2])]
VECTOR_CASES = [(e, *w) for e in ENV_IDS for w in VECTOR_WRAPPINGS if wrappable(e, *w)]


# Modules that still reach through `.unwrapped`, and why.
UNWRAPPED_ALLOWED = {
    "rlmaml/rl/tasks.py": "moves_in_plane, takes_split and reports_success ask which env class is under the "
    "wrappers (a 2D walk is drawn as paths; Meta-World's goals come in splits and its steps report success), "
    "questions about the env itself rather than its task",
}


def config_for(env_id: str, normalize_actions: bool, observe_task: bool) -> RLConfig:
    return rl_config(
        env=env_id, horizon=5, env_kwargs={}, normalize_actions=normalize_actions, observe_task=observe_task
    )


@pytest.mark.parametrize("env_id", sorted(MIXED_TASKS & set(ENV_IDS)))
def test_tasks_that_name_their_family_are_not_observed(env_id):
    with pytest.raises(ValueError, match="set observe_task: false"):
        make_env(config_for(env_id, False, True))


def test_every_family_of_the_paper_is_registered():
    families = ("Navigation2D", "HalfCheetahVel", "HalfCheetahDir", "AntVel", "AntDir", "AntGoal")
    for family in families:
        assert f"rlmaml/{family}-v0" in ENV_IDS
    assert sum("Rllab" in env_id for env_id in ENV_IDS) == 3


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_gymnasium_wrappers_hide_the_task_methods_and_ours_bring_them_back(env_id):
    env = gym.make(env_id)
    assert not isinstance(env, TaskEnv)  # TimeLimit, OrderEnforcing, PassiveEnvChecker forward nothing
    assert isinstance(with_task_methods(env), TaskEnv)
    vector = gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point")
    if env_id in BOUNDED_ACTIONS:
        wrapped = gym.wrappers.vector.RescaleAction(vector, -1.0, 1.0)
    elif isinstance(vector.single_action_space, gym.spaces.Box):  # RescaleAction needs finite bounds
        wrapped = gym.wrappers.vector.ClipAction(vector)  # which hides the methods all the same
    else:  # a Discrete space: any wrapper hides them
        wrapped = gym.wrappers.vector.RecordEpisodeStatistics(vector)
    assert isinstance(vector, TaskVectorEnv)
    assert not isinstance(wrapped, TaskVectorEnv)
    assert isinstance(with_vector_task_methods(wrapped), TaskVectorEnv)
    vector.close()


@pytest.mark.parametrize(("env_id", "normalize", "observe", "new_task_each_episode"), SINGLE_CASES)
def test_single_env_round_trips_its_task_through_all_wrappers(env_id, normalize, observe, new_task_each_episode):
    env = make_env(config_for(env_id, normalize, observe), new_task_each_episode=new_task_each_episode)
    assert isinstance(env, TaskEnv)
    assert isinstance(env, TaskWrapper)
    tasks = env.sample_tasks(2, seed=3)
    assert tasks == env.sample_tasks(2, seed=3)
    env.set_task(tasks[1])
    assert env.get_task() == tasks[1]
    observation, _ = env.reset(seed=0)
    if not new_task_each_episode:
        assert env.get_task() == tasks[1]  # a task persists across resets
    if observe:  # the observation shows the task the protocol reports, whichever level set it
        size = task_vector(env.get_task()).size
        np.testing.assert_allclose(observation[-size:], task_vector(env.get_task()), rtol=1e-6)
    env.step(np.zeros(env.action_space.shape, dtype=env.action_space.dtype))
    env.set_task(tasks[0])
    assert env.get_task() == tasks[0]
    env.close()


@pytest.mark.parametrize("autoreset_mode", [AutoresetMode.NEXT_STEP, AutoresetMode.DISABLED])
@pytest.mark.parametrize(("env_id", "normalize", "observe"), VECTOR_CASES)
def test_vector_env_round_trips_its_tasks_through_all_wrappers(env_id, normalize, observe, autoreset_mode):
    env = make_vector_env(env_id, 3, 5, {}, observe, normalize, autoreset_mode)
    assert isinstance(env, TaskVectorEnv)
    assert isinstance(env, TaskVectorWrapper)
    tasks = env.sample_tasks(3, seed=1)
    env.set_tasks(tasks)
    assert env.get_tasks() == tasks
    observations, _ = env.reset(seed=0)
    env.step(np.zeros(env.action_space.shape, dtype=env.action_space.dtype))
    assert env.get_tasks() == tasks
    if observe:
        shown = np.stack([task_vector(task) for task in tasks])
        np.testing.assert_allclose(observations[:, -shown.shape[1] :], shown, rtol=1e-6)
    env.set_tasks(tasks[::-1])
    assert env.get_tasks() == tasks[::-1]
    with pytest.raises(ValueError, match="one task per sub-env"):
        env.set_tasks(tasks[:2])
    env.close()


def test_an_env_without_tasks_is_refused():
    with pytest.raises(TypeError, match="no task methods"):
        TaskWrapper(gym.make("CartPole-v1"))


def package_modules() -> dict[str, Path]:
    """Every module of the installed package (rlmaml.envs included), by its path in the project."""
    roots = {"rlmaml": Path(rlmaml.__file__).parent, "envs": Path(rlmaml.envs.__file__).parent}
    modules: dict[str, Path] = {}
    for name, root in roots.items():
        for path in sorted(root.rglob("*.py")):
            modules.setdefault(f"{name}/{path.relative_to(root)}", path)
    return modules


def uses_unwrapped(path: Path) -> bool:
    """Whether the module's code (not its strings or comments) reads an attribute `unwrapped`."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return any(isinstance(node, ast.Attribute) and node.attr == "unwrapped" for node in ast.walk(tree))


def test_no_module_reaches_through_unwrapped():
    users = {name for name, path in package_modules().items() if uses_unwrapped(path)}
    assert users <= set(UNWRAPPED_ALLOWED), f"use the task methods of the env itself in {sorted(users)}"
    assert users == set(UNWRAPPED_ALLOWED), "a module no longer needs its exception: drop it from UNWRAPPED_ALLOWED"
