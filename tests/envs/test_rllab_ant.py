"""rllab's Ant (the MAML paper's): model, step rules against an independent MjData loop, single vs
batched, reset noise, task protocol."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import mujoco
import numpy as np
import pytest
from gymnasium.envs.mujoco.mujoco_env import expand_model_path
from gymnasium.utils.env_checker import check_env
from gymnasium.wrappers import RescaleAction

from rlmaml.envs.task_wrappers import with_task_methods
from rlmaml.runs.config import load_config

IDS = ["AntDirRllab-v0", "AntVelRllab-v0", "AntGoalRllab-v0"]
BENT_LEGS = [0, 0, 0.55, 1, 0, 0, 0, 0, 1, 0, -1, 0, -1, 0, 1]
TASKS = {"AntDirRllab-v0": {"direction": -1}, "AntVelRllab-v0": {"velocity": 1.3}, "AntGoalRllab-v0": {"goal": [1, -2]}}


def make(name: str, **kwargs):
    return gym.make(f"rlmaml/{name}", **kwargs).unwrapped


def make_vec(name: str, num_envs: int, **kwargs):
    return gym.make_vec(f"rlmaml/{name}", num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)


def reference_model() -> mujoco.MjModel:
    """rllab's ant.xml by text edits of Gymnasium's: timestep, motors, the geom default's solimp."""
    xml = Path(expand_model_path("ant.xml")).read_text()
    for old, new, count in [
        ('timestep="0.01"', 'timestep="0.02"', 1),
        ('ctrlrange="-1.0 1.0"', 'ctrlrange="-150 150"', 8),
        (' gear="150"', "", 8),
        ('<geom conaffinity="0"', '<geom solimp=".8 .8 .01" conaffinity="0"', 1),
    ]:
        assert xml.count(old) == count, old
        xml = xml.replace(old, new)
    return mujoco.MjModel.from_xml_string(xml)


def rllab_step(model, data, applied, task):
    """One step of maml_rl's Ant envs with the torques `applied`: mj_step, model.forward(), the rules."""
    data.ctrl[:] = applied
    data.qacc_warmstart[:] = 0
    mujoco.mj_step(model, data)
    data.qacc_warmstart[:] = 0
    mujoco.mj_forward(model, data)
    mujoco.mj_rnePostConstraint(model, data)
    return rllab_readings(model, data, applied, task)


def rllab_readings(model, data, applied, task):
    """Observation, reward and done at data's state (forward already run), as maml_rl computes them."""
    velocity = np.zeros((model.nbody, 6))  # rllab's body_comvels: mass-weighted body velocities per subtree
    for body in range(model.nbody):
        mujoco.mj_objectVelocity(model, data, mujoco.mjtObj.mjOBJ_BODY, body, velocity[body], 0)
    momentum, mass = velocity[:, 3:] * model.body_mass[:, None], model.body_mass.copy()
    for body in range(model.nbody - 1, 0, -1):
        momentum[model.body_parentid[body]] += momentum[body]
        mass[model.body_parentid[body]] += mass[body]
    comvel, com = momentum[1] / mass[1], data.subtree_com[1]
    contact = np.clip(data.cfrc_ext, -1, 1).ravel()
    obs = np.concatenate([data.qpos, data.qvel, contact, data.xmat[1], com])
    if "direction" in task:
        task_term = task["direction"] * comvel[0]
    elif "velocity" in task:
        task_term = -abs(comvel[0] - task["velocity"]) + 1.0
    else:
        task_term = -np.sum(np.abs(com[:2] - np.asarray(task["goal"]))) + 4.0
    reward = task_term - 0.005 * np.sum((applied / 150) ** 2) - 0.0005 * np.sum(contact**2) + 0.05
    state = np.concatenate([data.qpos, data.qvel])
    done = not (np.isfinite(state).all() and 0.2 <= state[2] <= 1.0)
    return obs, reward, done


def test_model_is_rllabs():
    env = make("AntDirRllab-v0")
    model = env.model
    assert model.opt.timestep == 0.02
    assert env.frame_skip == 1
    assert env.dt == 0.02
    assert model.opt.integrator == mujoco.mjtIntegrator.mjINT_RK4
    np.testing.assert_array_equal(model.actuator_ctrlrange, np.tile([-150.0, 150.0], (8, 1)))
    np.testing.assert_array_equal(model.actuator_gear, np.tile([1.0, 0, 0, 0, 0, 0], (8, 1)))
    np.testing.assert_array_equal(model.geom_solimp[:, :3], np.tile([0.8, 0.8, 0.01], (model.ngeom, 1)))
    np.testing.assert_array_equal(model.geom_solref, np.tile([0.02, 1.0], (model.ngeom, 1)))
    np.testing.assert_array_equal(model.dof_armature, [0] * 6 + [1] * 8)
    np.testing.assert_array_equal(model.dof_damping, [0] * 6 + [1] * 8)
    np.testing.assert_array_equal(env.init_qpos, BENT_LEGS)
    np.testing.assert_array_equal(env.init_qvel, 0.0)
    np.testing.assert_array_equal(env.action_space.high, 150.0)
    reference = reference_model()
    for field in ["body_mass", "body_inertia", "geom_size", "geom_friction", "geom_margin", "jnt_range", "qpos0"]:
        np.testing.assert_array_equal(getattr(model, field), getattr(reference, field), err_msg=field)


@pytest.mark.parametrize("name", IDS)
def test_steps_follow_an_independent_mjdata_loop(name):
    """50 random steps (actions a little beyond [-1, 1]) through RescaleAction, as the configs make
    them, against rllab's rules on a model of its own; the batched env agrees to the last bit."""
    env = RescaleAction(gym.make(f"rlmaml/{name}"), -np.ones(8, np.float32), np.ones(8, np.float32))
    envs = make_vec(name, 2, num_threads=1)
    task = TASKS[name]
    with_task_methods(env).set_task(task)
    envs.set_tasks([task, task])
    obs, _ = env.reset(seed=4)
    batched, _ = envs.reset(seed=[4, 5])
    model = reference_model()
    data = mujoco.MjData(model)
    data.qpos[:], data.qvel[:] = env.unwrapped.data.qpos, env.unwrapped.data.qvel
    mujoco.mj_forward(model, data)
    mujoco.mj_rnePostConstraint(model, data)
    np.testing.assert_allclose(obs, rllab_readings(model, data, np.zeros(8), task)[0], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(batched[0], obs)
    actions = np.random.default_rng(0).uniform(-1.2, 1.2, size=(50, 8))
    for action in actions:
        obs, reward, terminated, _, info = env.step(action.astype(np.float32))
        applied = env.unwrapped.data.ctrl.copy()
        normalized = np.clip(-150 + (action + 1) * 0.5 * 300, -150, 150)  # rllab's normalize
        np.testing.assert_allclose(applied, normalized, rtol=0, atol=1e-4)  # RescaleAction computes in float32
        want_obs, want_reward, want_done = rllab_step(model, data, applied, task)
        assert obs.shape == (125,)
        np.testing.assert_allclose(obs, want_obs, rtol=0, atol=1e-12)  # the physics agree bit for bit
        assert reward == pytest.approx(want_reward, abs=1e-12)
        assert terminated == want_done
        assert not info["nonfinite"]
        batched, rewards, dones, _, _ = envs.step(np.stack([applied, np.zeros(8)]))
        np.testing.assert_array_equal(batched[0], obs)
        assert rewards[0] == reward
        assert dones[0] == terminated
    assert np.abs(want_obs[29:113]).max() > 0  # contact forces were seen


def test_batched_env_matches_single_envs_through_an_autoreset():
    horizon = 6
    envs = make_vec("AntGoalRllab-v0", 3, max_episode_steps=horizon, num_threads=2)
    tasks = envs.sample_tasks(3, seed=1)
    envs.set_tasks(tasks)
    singles = [make("AntGoalRllab-v0") for _ in tasks]
    for env, task in zip(singles, tasks, strict=True):
        env.set_task(task)
    observations, _ = envs.reset(seed=[7, 8, 9])
    np.testing.assert_array_equal(
        observations, np.stack([e.reset(seed=s)[0] for e, s in zip(singles, [7, 8, 9], strict=True)])
    )
    for t, actions in enumerate(np.random.default_rng(2).uniform(-160, 160, size=(2 * horizon + 1, 3, 8))):
        observations, rewards, terminated, truncated, _ = envs.step(actions)
        for i, env in enumerate(singles):
            if t == horizon:
                obs, reward, term, trunc = env.reset()[0], 0.0, False, False
            else:
                obs, reward, term, _, _ = env.step(actions[i])
                trunc = t in (horizon - 1, 2 * horizon)
            np.testing.assert_array_equal(observations[i], obs)
            assert (rewards[i], terminated[i], truncated[i]) == (reward, term, trunc)
    assert envs.get_tasks() == tasks


def test_reset_noise_is_rllabs():
    """qpos = bent legs + N(0, 0.01^2), qvel = N(0, 0.1^2), all entries (the quaternion too)."""
    envs = make_vec("AntDirRllab-v0", 2000, num_threads=1)
    observations, _ = envs.reset(seed=0)
    for part, init, scale in [(slice(0, 15), BENT_LEGS, 0.01), (slice(15, 29), 0.0, 0.1)]:
        noise = (observations[:, part] - np.asarray(init)) / scale
        assert np.abs(noise.mean(axis=0)).max() < 0.1
        assert np.abs(noise.std(axis=0) - 1).max() < 0.06
        assert abs(np.mean(noise**4) - 3) < 0.3  # normal, not uniform (1.8)
    env = make("AntDirRllab-v0")
    np.testing.assert_array_equal(env.reset(seed=3)[0], envs.unwrapped.reset(seed=[3] * 2000)[0][0])


@pytest.mark.filterwarnings("ignore:.*symmetric and normalized space")  # torques in [-150, 150], as rllab's
@pytest.mark.parametrize("name", IDS)
def test_single_env_passes_gymnasium_checker(name):
    with pytest.warns(UserWarning, match="infinity"):  # unbounded observations, as Gymnasium's own v5 envs
        check_env(make(name), skip_render_check=True)


def test_termination_outside_healthy_heights():
    env = make("AntVelRllab-v0")
    envs = make_vec("AntVelRllab-v0", 2, num_threads=1)
    for model in (env.model, envs.unwrapped.model):  # else the floor pushes a low torso back up
        model.opt.disableflags |= mujoco.mjtDisableBit.mjDSBL_CONTACT
    env.reset(seed=0)
    envs.reset(seed=0)
    for z, done in [(0.1, True), (0.5, False), (1.5, True)]:
        qpos = env.init_qpos.copy()
        qpos[2] = z
        env.set_state(qpos, np.zeros(env.model.nv))
        assert env.step(np.zeros(8))[2] == done
        envs.unwrapped.set_state(np.stack([qpos, env.init_qpos]), np.zeros((2, env.model.nv)))
        assert envs.step(np.zeros((2, 8)))[2].tolist() == [done, False]


def test_failed_physics_ends_the_episode_with_zeros():
    env = make("AntDirRllab-v0")
    env.reset(seed=0)
    env.set_state(env.init_qpos, np.full(env.model.nv, 1e12))
    obs, reward, terminated, _, info = env.step(np.zeros(8))
    assert info["nonfinite"]
    assert terminated
    assert reward == 0.0
    assert not obs.any()
    envs = make_vec("AntDirRllab-v0", 3, num_threads=2)
    envs.reset(seed=0)
    qvel = np.zeros((3, env.model.nv))
    qvel[1] = 1e12
    envs.unwrapped.set_state(np.tile(env.init_qpos, (3, 1)), qvel)
    actions = np.zeros((3, 8))
    actions[2] = np.nan
    obs, rewards, terminated, _, info = envs.step(actions)
    assert info["nonfinite"].tolist() == terminated.tolist() == [False, True, True]
    assert np.isfinite(obs).all()
    assert not obs[1:].any()
    assert not rewards[1:].any()


def test_task_protocol():
    vel = make("AntVelRllab-v0", velocity_low=1.0, velocity_high=1.5)
    goal, direction = make("AntGoalRllab-v0"), make("AntDirRllab-v0")
    tasks = vel.sample_tasks(100, seed=4)
    assert tasks == vel.sample_tasks(100, seed=4) != vel.sample_tasks(100, seed=5)
    assert all(1.0 <= t["velocity"] <= 1.5 for t in tasks)
    assert all(len(t["goal"]) == 2 and all(-3 <= g <= 3 for g in t["goal"]) for t in goal.sample_tasks(100, seed=0))
    directions = [t["direction"] for t in direction.sample_tasks(2000, seed=0)]
    assert set(directions) == {-1, 1}
    assert abs(np.mean(directions)) < 0.1
    goal.set_task({"goal": [1.0, -2.0]})
    goal.reset(seed=0)
    goal.step(np.zeros(8))
    assert goal.reset()[1]["task"] == goal.get_task() == {"goal": [1.0, -2.0]}
    with pytest.raises(ValueError, match="direction"):
        direction.set_task({"direction": 0.5})
    envs = make_vec("AntVelRllab-v0", 2, num_threads=1)
    envs.set_tasks([{"velocity": 0.5}, {"velocity": 1.5}])
    envs.reset(seed=0)
    envs.step(np.zeros((2, 8)))
    assert envs.get_tasks() == [{"velocity": 0.5}, {"velocity": 1.5}]
    with pytest.raises(ValueError, match="one task per sub-env"):
        envs.set_tasks([{"velocity": 0.5}])
    assert envs.observation_space.shape == (2, 125)
    assert envs.action_space.shape == (2, 8)


@pytest.mark.parametrize("config", ["ant-dir", "ant-vel", "ant-goal"])
def test_packaged_configs_use_rllabs_ant_with_normalized_actions(config):
    resolved = load_config(config)
    name = {"ant-dir": "AntDirRllab-v0", "ant-vel": "AntVelRllab-v0", "ant-goal": "AntGoalRllab-v0"}[config]
    assert resolved["env"] == f"rlmaml/{name}"
    assert resolved["normalize_actions"] is True
    assert gym.spec(f"rlmaml/{name}").max_episode_steps == resolved["horizon"] == 200
