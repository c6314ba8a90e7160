"""MuJoCo locomotion task distributions: rewards against the spec, single vs batched vs Gymnasium."""

from __future__ import annotations

import ctypes.util
import os
import subprocess
import sys

import gymnasium as gym
import mujoco
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import rlmaml.envs  # noqa: F401  (registers the rlmaml/ ids)
from rlmaml.envs.ant import Ant

IDS = ["HalfCheetahVel-v0", "HalfCheetahDir-v0", "AntVel-v0", "AntDir-v0", "AntGoal-v0"]
ANT_IDS = [i for i in IDS if i.startswith("Ant")]


def make(name: str, **kwargs):
    return gym.make(f"rlmaml/{name}", **kwargs).unwrapped


def make_vec(name: str, num_envs: int, **kwargs):
    return gym.make_vec(f"rlmaml/{name}", num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)


def random_actions(env, n: int, seed: int = 0) -> np.ndarray:
    """Uniform actions a little beyond the actuator range, to exercise clipping."""
    low, high = env.single_action_space.low, env.single_action_space.high
    return np.random.default_rng(seed).uniform(1.2 * low, 1.2 * high, size=(n, env.num_envs, len(low)))


@pytest.mark.filterwarnings("ignore:.*Box observation space m.*infinity")  # as for Gymnasium's own v5 envs
@pytest.mark.parametrize("name", IDS)
def test_single_env_passes_gymnasium_checker(name):
    check_env(make(name), skip_render_check=True)  # "human" rendering needs a display


@pytest.mark.parametrize("name", IDS)
def test_batched_env_matches_single_envs(name):
    """Sub-env i == a single env with the same task, seed and actions, through an autoreset."""
    horizon, num_envs = 12, 3
    envs = make_vec(name, num_envs, max_episode_steps=horizon, num_threads=2)
    assert envs.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP
    tasks = envs.sample_tasks(num_envs, seed=1)
    envs.set_tasks(tasks)
    seeds = [7, 8, 9]
    singles = [make(name) for _ in seeds]
    for env, task in zip(singles, tasks, strict=True):
        env.set_task(task)

    observations, _ = envs.reset(seed=seeds)
    expected = [env.reset(seed=s)[0] for env, s in zip(singles, seeds, strict=True)]
    np.testing.assert_allclose(observations, np.stack(expected), rtol=0, atol=1e-6)
    for t, actions in enumerate(random_actions(envs, 2 * horizon + 2)):
        observations, rewards, terminated, truncated, _ = envs.step(actions)
        for i, env in enumerate(singles):
            if t in (horizon, 2 * horizon + 1):  # the step after truncation resets
                obs, reward, term, trunc = env.reset()[0], 0.0, False, False
            else:
                obs, reward, term, trunc, _ = env.step(actions[i])
                trunc = t in (horizon - 1, 2 * horizon)
            np.testing.assert_allclose(observations[i], obs, rtol=0, atol=1e-6)
            assert rewards[i] == pytest.approx(reward, abs=1e-6)
            assert (terminated[i], truncated[i]) == (term, trunc)
    assert envs.get_tasks() == tasks
    envs.close()


@pytest.mark.parametrize(("name", "reference"), [("HalfCheetahVel-v0", "HalfCheetah-v5"), ("AntVel-v0", "Ant-v5")])
def test_single_env_follows_gymnasium_dynamics(name, reference):
    env, ref = make(name), gym.make(reference).unwrapped
    obs, _ = env.reset(seed=3)
    ref_obs, _ = ref.reset(seed=3)
    body = slice(2, 2 + len(ref_obs)) if name.startswith("Ant") else slice(None)  # Ant adds x, y in front
    np.testing.assert_array_equal(obs[body], ref_obs)
    for action in np.random.default_rng(0).uniform(-1, 1, size=(30, env.model.nu)):
        obs, *_ = env.step(action)
        ref_obs, *_ = ref.step(action)
        np.testing.assert_allclose(env.data.qpos, ref.data.qpos, rtol=0, atol=1e-6)
        np.testing.assert_allclose(env.data.qvel, ref.data.qvel, rtol=0, atol=1e-6)
    if name.startswith("Ant"):  # contact forces are rebuilt from sensors, see test_ant_contact_forces
        np.testing.assert_allclose(obs[2:29], ref_obs[:27], rtol=0, atol=1e-6)
    else:
        np.testing.assert_allclose(obs, ref_obs, rtol=0, atol=1e-6)


def _expected_reward(name, task, qpos_before, qpos, action, obs, dt):
    """The reward formulas of the spec, written out independently of the envs."""
    a = np.clip(action, -1.0, 1.0)
    v = (qpos[0] - qpos_before[0]) / dt
    if name == "HalfCheetahVel-v0":
        return -abs(v - task["velocity"]) - 0.05 * a @ a
    if name == "HalfCheetahDir-v0":
        return task["direction"] * v - 0.05 * a @ a
    contact_cost = 0.0005 * np.sum(np.clip(obs[29:], -1, 1) ** 2)
    ant_terms = -0.005 * a @ a - contact_cost + 0.05
    if name == "AntVel-v0":
        return -abs(v - task["velocity"]) + 1.0 + ant_terms
    if name == "AntDir-v0":
        return task["direction"] * v + ant_terms
    return -np.sum(np.abs(qpos[:2] - task["goal"])) + 4.0 + ant_terms


@pytest.mark.parametrize("name", IDS)
def test_rewards_follow_the_spec(name):
    env = make(name)
    for task in env.sample_tasks(2, seed=5):
        env.set_task(task)
        env.reset(seed=0)
        for action in np.random.default_rng(1).uniform(-1.5, 1.5, size=(25, env.model.nu)):
            qpos_before = env.data.qpos.copy()
            obs, reward, terminated, _, info = env.step(action)
            expected = _expected_reward(name, task, qpos_before, env.data.qpos, action, obs, env.dt)
            assert reward == pytest.approx(expected, abs=1e-9)
            assert info["x_velocity"] == pytest.approx((env.data.qpos[0] - qpos_before[0]) / env.dt)
            assert not terminated
            assert not info["nonfinite"]


def test_ant_observation_layout_and_contact_forces():
    """Ant obs = qpos (x, y first), qvel, clip(cfrc_ext[1:]); the last are checked against MuJoCo."""
    env = make("AntVel-v0")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (107,)
    np.testing.assert_array_equal(obs[:29], np.concatenate([env.data.qpos, env.data.qvel]))
    np.testing.assert_array_equal(obs[29:], 0.0)  # no physics step yet, no contact forces
    standing = np.array([0, 0, 0.55, 1, 0, 0, 0, 0, 1, 0, -1, 0, -1, 0, 1.0])  # ant.xml's init_qpos
    env.set_state(standing, np.zeros(env.model.nv))  # mj_forward computes the sensors
    assert env.data.ncon == 4  # the four feet
    mujoco.mj_rnePostConstraint(env.model, env.data)
    # contact_forces is linear in the sensed force and torque: scale them so nothing clips
    scaled = env.data.sensordata.copy()[None]
    wrenches = scaled[:, 3:].reshape(1, -1, 9)
    wrenches[..., :6] *= 1e-4
    expected = 1e-4 * env.data.cfrc_ext[1:].ravel()
    assert np.abs(expected).max() > 1e-3
    np.testing.assert_allclose(Ant().contact_forces(scaled)[0], expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", ANT_IDS)
def test_ant_terminates_outside_healthy_heights(name):
    env = make(name)
    envs = make_vec(name, 2, num_threads=1)
    for model in (env.model, envs.unwrapped.model):  # else the floor pushes a low torso back up
        model.opt.disableflags |= mujoco.mjtDisableBit.mjDSBL_CONTACT
    env.reset(seed=0)
    envs.reset(seed=0)
    for z, done in [(0.1, True), (0.5, False), (1.5, True)]:
        qpos = env.init_qpos.copy()
        qpos[2] = z
        env.set_state(qpos, np.zeros(env.model.nv))
        _, _, terminated, _, info = env.step(np.zeros(env.model.nu))
        assert terminated == done
        assert not info["nonfinite"]
        envs.unwrapped.set_state(np.stack([qpos, env.init_qpos]), np.zeros((2, env.model.nv)))
        _, _, terminated, _, _ = envs.step(np.zeros((2, env.model.nu)))
        assert terminated.tolist() == [done, False]
        if done:  # next step: autoreset
            obs, rewards, terminated, truncated, _ = envs.step(np.zeros((2, env.model.nu)))
            assert rewards[0] == 0.0
            assert not terminated[0]
            assert not truncated[0]
            assert 0.6 <= obs[0, 2] <= 0.9  # torso height of a fresh start, 0.75 + noise


def test_half_cheetah_never_terminates():
    env = make("HalfCheetahDir-v0")
    env.reset(seed=0)
    qpos = env.init_qpos.copy()
    qpos[1] = -5.0  # far below the floor
    env.set_state(qpos, np.zeros(env.model.nv))
    assert not env.step(np.zeros(env.model.nu))[2]


@pytest.mark.parametrize("name", ["HalfCheetahVel-v0", "AntGoal-v0"])
def test_failed_physics_ends_the_episode_with_zeros(name):
    env = make(name)
    env.reset(seed=0)
    env.set_state(env.init_qpos, np.full(env.model.nv, 1e12))  # MuJoCo resets such a state
    obs, reward, terminated, _, info = env.step(np.zeros(env.model.nu))
    assert info["nonfinite"]
    assert terminated
    assert reward == 0.0
    assert not obs.any()
    env.reset(seed=0)
    obs, reward, terminated, _, info = env.step(np.full(env.model.nu, np.nan))
    assert info["nonfinite"]
    assert terminated
    assert reward == 0.0
    assert not obs.any()

    envs = make_vec(name, 3, num_threads=2)
    envs.reset(seed=0)
    qvel = np.zeros((3, env.model.nv))
    qvel[1] = 1e12
    envs.unwrapped.set_state(np.tile(env.init_qpos, (3, 1)), qvel)
    actions = np.zeros((3, env.model.nu))
    actions[2] = np.nan
    obs, rewards, terminated, _, info = envs.step(actions)
    assert info["nonfinite"].tolist() == [False, True, True]
    assert terminated.tolist() == [False, True, True]
    assert np.all(np.isfinite(obs))
    assert not obs[1:].any()
    assert not rewards[1:].any()
    obs, rewards, terminated, _, info = envs.step(np.zeros((3, env.model.nu)))  # autoreset
    assert np.all(np.isfinite(obs))
    assert np.all(np.isfinite(rewards))
    assert not terminated.any()
    assert not info["nonfinite"].any()


@pytest.mark.parametrize(
    ("name", "task", "field"),
    [
        ("HalfCheetahVel-v0", {"velocity": "fast"}, "velocity"),
        ("HalfCheetahVel-v0", {"velocity": float("nan")}, "velocity"),
        ("HalfCheetahVel-v0", {"goal": [0, 0]}, "velocity"),
        ("HalfCheetahDir-v0", {"direction": 0}, "direction"),
        ("HalfCheetahDir-v0", {"direction": [1, -1]}, "direction"),
        ("AntVel-v0", {"velocity": None}, "velocity"),
        ("AntDir-v0", {"direction": 0.5}, "direction"),
        ("AntGoal-v0", {"goal": [1.0]}, "goal"),
        ("AntGoal-v0", {"goal": [1.0, float("inf")]}, "goal"),
    ],
)
def test_invalid_tasks_raise_naming_the_field(name, task, field):
    with pytest.raises(ValueError, match=field):
        make(name).set_task(task)
    envs = make_vec(name, 2, num_threads=1)
    with pytest.raises(ValueError, match=field):
        envs.set_tasks([envs.sample_tasks(1)[0], task])


@pytest.mark.parametrize(
    ("name", "inside", "outside", "allowed"),
    [
        ("HalfCheetahVel-v0", {"velocity": 2.5}, {"velocity": 1e300}, "[-20, 22]"),
        ("HalfCheetahVel-v0", {"velocity": -19.0}, {"velocity": -21.0}, "[-20, 22]"),
        ("AntVel-v0", {"velocity": 4.0}, {"velocity": 34.0}, "[-30, 33]"),
        ("AntGoal-v0", {"goal": [4.0, -5.0]}, {"goal": [0.0, 1e300]}, "[-63, 63]"),
        ("AntGoalRllab-v0", {"goal": [4.0, -5.0]}, {"goal": [64.0, 0.0]}, "[-63, 63]"),
    ],
)
def test_tasks_a_little_outside_the_sampling_range_are_taken_far_outside_refused(name, inside, outside, allowed):
    """Probes of generalisation are fine; magnitudes that overflow the rewards are not."""
    env = make(name)
    env.set_task(inside)
    assert env.get_task() == inside
    field = next(iter(outside))
    with pytest.raises(ValueError, match=rf"'{field}' must lie within \{allowed[:-1]}\]"):
        env.set_task(outside)
    envs = make_vec(name, 2, num_threads=1)
    with pytest.raises(ValueError, match=field):
        envs.set_tasks([inside, outside])


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("HalfCheetahVel-v0", {"velocity_high": float("inf")}, "velocity_low and velocity_high must be finite"),
        ("AntGoal-v0", {"goal_low": -1e300}, r"must lie within \+-1e\+06"),
        ("HalfCheetahDir-v0", {"frame_skip": 0}, r"frame_skip must be in \[1, 1000\]"),
        ("AntDir-v0", {"frame_skip": 2.5}, "frame_skip must be an integer"),
        ("HalfCheetahVel-v0", {"reset_noise_scale": float("nan")}, "reset_noise_scale must be a number"),
        ("AntVel-v0", {"reset_noise_scale": -0.1}, "reset_noise_scale must be a number"),
    ],
)
def test_env_kwargs_beyond_their_bounds_raise_naming_them(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        make(name, **kwargs)
    with pytest.raises(ValueError, match=message):
        make_vec(name, 1, num_threads=1, **kwargs)


def test_set_tasks_needs_one_task_per_sub_env_and_bounds_must_be_ordered():
    envs = make_vec("AntGoal-v0", 3, num_threads=1)
    with pytest.raises(ValueError, match="one task per sub-env"):
        envs.set_tasks(envs.sample_tasks(2))
    with pytest.raises(ValueError, match="one seed per sub-env"):
        envs.reset(seed=[1, 2])
    with pytest.raises(ValueError, match="velocity"):
        make("HalfCheetahVel-v0", velocity_low=2.0, velocity_high=1.0)


@pytest.mark.parametrize(
    ("name", "kwargs", "check"),
    [
        ("HalfCheetahVel-v0", {}, lambda t: 0.0 <= t["velocity"] <= 2.0),
        ("AntVel-v0", {}, lambda t: 0.0 <= t["velocity"] <= 3.0),
        ("AntVel-v0", {"velocity_low": 1.0, "velocity_high": 1.5}, lambda t: 1.0 <= t["velocity"] <= 1.5),
        ("AntGoal-v0", {}, lambda t: all(-3.0 <= g <= 3.0 for g in t["goal"]) and len(t["goal"]) == 2),
        ("AntGoal-v0", {"goal_low": 0.0, "goal_high": 0.5}, lambda t: all(0.0 <= g <= 0.5 for g in t["goal"])),
    ],
)
def test_sampled_tasks_lie_in_their_bounds(name, kwargs, check):
    env = make(name, **kwargs)
    tasks = env.sample_tasks(200, seed=4)
    assert all(check(t) for t in tasks)
    assert tasks == env.sample_tasks(200, seed=4) != env.sample_tasks(200, seed=5)


@pytest.mark.parametrize("name", ["HalfCheetahDir-v0", "AntDir-v0"])
def test_directions_are_plus_or_minus_one_with_even_odds(name):
    directions = [t["direction"] for t in make(name).sample_tasks(2000, seed=0)]
    assert set(directions) == {-1, 1}
    assert abs(np.mean(directions)) < 0.1


def test_tasks_persist_across_resets():
    env = make("AntGoal-v0")
    env.set_task({"goal": [1.0, -2.0]})
    env.reset(seed=0)
    env.step(np.zeros(env.model.nu))
    assert env.reset()[1]["task"] == env.get_task() == {"goal": [1.0, -2.0]}
    envs = make_vec("HalfCheetahVel-v0", 2, num_threads=1)
    envs.set_tasks([{"velocity": 0.5}, {"velocity": 1.5}])
    envs.reset(seed=0)
    assert envs.get_tasks() == [{"velocity": 0.5}, {"velocity": 1.5}]


def test_make_vec_passes_horizon_and_kwargs():
    envs = make_vec("HalfCheetahVel-v0", 4, velocity_high=3.0, num_threads=1)
    assert envs.unwrapped.max_episode_steps == 200
    assert envs.unwrapped.tasks.high == 3.0
    assert envs.observation_space.shape == (4, 17)
    assert envs.action_space.shape == (4, 6)
    short = make_vec("AntDir-v0", 2, max_episode_steps=3, num_threads=1)
    assert short.observation_space.shape == (2, 107)
    short.reset(seed=0)
    truncations = [short.step(np.zeros((2, 8)))[3].tolist() for _ in range(4)]
    assert truncations == [[False, False], [False, False], [True, True], [False, False]]
    assert gym.spec("rlmaml/AntGoal-v0").max_episode_steps == 200


def test_reset_seeds_are_per_sub_env():
    envs = make_vec("HalfCheetahVel-v0", 3, num_threads=1)
    by_int, _ = envs.reset(seed=10)
    by_list, _ = envs.reset(seed=[10, 11, 12])
    np.testing.assert_array_equal(by_int, by_list)
    partial, _ = envs.reset(seed=[None, 11, None])
    np.testing.assert_array_equal(partial[1], by_list[1])
    assert not np.array_equal(partial[0], by_list[0])  # sub-env 0 went on with its own stream


@pytest.mark.skipif(ctypes.util.find_library("EGL") is None, reason="offscreen rendering needs libEGL")
def test_rgb_array_rendering():
    code = (
        "import gymnasium as gym, rlmaml.envs\n"
        "env = gym.make('rlmaml/AntGoal-v0', render_mode='rgb_array', width=64, height=48)\n"
        "env.reset(seed=0)\n"
        "frame = env.render()\n"
        "assert frame.shape == (48, 64, 3) and frame.std() > 0, frame.shape\n"
    )
    environment = {**os.environ, "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}
    result = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_disabled_autoreset_leaves_finished_sub_envs_alone_until_a_masked_reset():
    """Without autoreset, sub-envs within their episodes step exactly as under next-step
    autoreset; a finished one repeats its end (same observation, reward 0, its flag) and
    stays out of the physics until options["reset_mask"] starts it again."""
    horizon = 4
    disabled = make_vec("AntDir-v0", 3, max_episode_steps=horizon, num_threads=2, autoreset_mode="Disabled")
    reference = make_vec("AntDir-v0", 3, max_episode_steps=horizon, num_threads=2)
    assert disabled.metadata["autoreset_mode"] == gym.vector.AutoresetMode.DISABLED
    qpos = np.tile(disabled.unwrapped._init_qpos, (3, 1))
    qpos[0, 2] = 0.1  # torso far too low: sub-env 0 terminates on its first step
    for envs in (disabled, reference):
        envs.unwrapped.model.opt.disableflags |= mujoco.mjtDisableBit.mjDSBL_CONTACT
        envs.set_tasks([{"direction": 1}, {"direction": -1}, {"direction": 1}])
        envs.reset(seed=[1, 2, 3])
        envs.unwrapped.set_state(qpos, np.zeros((3, envs.unwrapped.model.nv)))

    actions = random_actions(disabled, horizon + 2)
    first = disabled.step(actions[0])
    np.testing.assert_array_equal(first[0], reference.step(actions[0])[0])
    assert first[2].tolist() == [True, False, False]
    for t in range(1, horizon):
        obs, rewards, terminated, truncated, info = disabled.step(actions[t])
        want = reference.step(actions[t])
        np.testing.assert_array_equal(obs[1:], want[0][1:])
        np.testing.assert_array_equal(rewards[1:], want[1][1:])
        np.testing.assert_array_equal(obs[0], first[0][0])
        assert rewards[0] == 0.0
        assert info["x_velocity"][0] == 0.0
        assert terminated[0]
        assert not truncated[0]
    assert truncated[1:].all()

    mask = np.array([False, True, True])
    obs, _ = disabled.reset(options={"reset_mask": mask})
    want = reference.step(actions[horizon])[0]  # next-step autoreset draws from the same streams
    np.testing.assert_array_equal(obs[1:], want[1:])
    np.testing.assert_array_equal(obs[0], first[0][0])
    obs, rewards, terminated, _, _ = disabled.step(actions[horizon + 1])
    want = reference.step(actions[horizon + 1])
    np.testing.assert_array_equal(obs[1:], want[0][1:])
    assert rewards[0] == 0.0
    assert terminated[0]
    with pytest.raises(ValueError, match="reset_mask"):
        disabled.reset(options={"reset_mask": np.zeros(3, dtype=bool)})
    with pytest.raises(ValueError, match="autoreset_mode"):
        make_vec("AntDir-v0", 2, autoreset_mode="SameStep")


def test_half_cheetah_scales_its_mass_after_compiling_as_the_deprecated_attribute_did(capfd):
    """Gymnasium's half_cheetah.xml sets the compiler's settotalmass (deprecated in MuJoCo 4):
    rlmaml applies it after compiling, and every field of the model equals the attribute's."""
    from rlmaml.envs.half_cheetah import HalfCheetah

    robot = HalfCheetah()
    built = robot.build_model()
    assert "settotalmass" not in capfd.readouterr().err
    assert built.body_mass.sum() == pytest.approx(14.0)
    with_attribute = mujoco.MjModel.from_xml_path(robot.model_path())
    unscaled = mujoco.MjSpec.from_file(robot.model_path())
    unscaled.compiler.settotalmass = -1
    assert unscaled.compile().body_mass.sum() != pytest.approx(14.0)  # the scaling is not a no-op
    for name in dir(with_attribute):
        expected = getattr(with_attribute, name)
        if isinstance(expected, np.ndarray):
            assert np.array_equal(getattr(built, name), expected, equal_nan=True), name
    for name in ("meaninertia", "meanmass", "meansize", "extent"):  # the solver's scales
        assert getattr(built.stat, name) == getattr(with_attribute.stat, name), name
    assert built.stat.center.tolist() == with_attribute.stat.center.tolist()
