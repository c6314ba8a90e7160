"""The MAML paper's Ant tasks on rllab's Ant, as cbfinn/maml_rl defined them (AntEnvRandDirec,
AntEnvRand, AntEnvRandGoal): the ids `rlmaml/AntDirRllab-v0`, `AntVelRllab-v0`, `AntGoalRllab-v0`.

Model, readings and rules are in `rllab_ant_model`. One env step is one RK4 step of 0.02 s; actions
are motor torques in [-150, 150] (clipped there; a policy acting in [-1, 1] wants the configs'
`normalize_actions`, rllab's `normalize`). Episodes start at the bent-leg pose plus N(0, 0.01^2)
on qpos and N(0, 0.1^2) on qvel. Task terms, with v the x velocity of the torso subtree's centre
of mass and c its xy: d v (d = +-1), -|v - v*| + 1 (v* ~ U[0, 3]), -||c - g||_1 + 4 (g ~ U[-3, 3]^2).

Observation (125 numbers): qpos (15), qvel (14), clip(cfrc_ext, -1, 1) of the 14 bodies (84, the
world's first), the torso's rotation matrix (9) and the torso subtree's centre of mass (3).

Contact forces: rllab calls model.forward() after each step, so its observation and contact cost
see cfrc_ext of the post-step state, solved with the step's action still in ctrl; so do these envs
(mj_forward at the post-step state, ctrl = the applied action, solver started cold). They are not
what mj_rnePostConstraint after mj_step reports (Gymnasium's v5 envs): with RK4 that is the
contact solution of RK4's last intermediate stage, at a state the ant never takes. The batched env
gets them by a second `mujoco.rollout` call of one step of the model with the Euler integrator
from the post-step states (its mj_forward is the same as the RK4 model's; its integration is
thrown away); single and batched agree to the last bit.
"""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np
from gymnasium.vector import AutoresetMode

from .locomotion import LocomotionEnv, LocomotionVectorEnv
from .locomotion_tasks import DirectionTasks, GoalTasks, TaskFamily, VelocityTasks
from .rllab_ant_model import BAD_VALUE, INIT_QPOS, QPOS_NOISE, QVEL_NOISE, Readings, build_model, evaluate_step, observe
from .robots import Robot
from .rollout_vector_env import PhysicsStep, StepArrays


class RllabAnt(Robot):
    """What LocomotionEnv needs to know of the robot: the model and the observation size."""

    xml_file = "ant.xml"  # the rules are rllab_ant_model's, not Robot's

    def build_model(self) -> mujoco.MjModel:
        return build_model()

    def observation_size(self, model: mujoco.MjModel) -> int:
        return int(model.nq + model.nv + 6 * model.nbody + 12)  # mujoco is untyped


class RllabAntEnv(LocomotionEnv):
    """Single env (a Gymnasium MujocoEnv); the task persists across resets; info["x_velocity"] is the COM's."""

    def __init__(self, tasks: TaskFamily, **kwargs: Any) -> None:
        super().__init__(RllabAnt(), tasks, frame_skip=1, **kwargs)
        self.init_qpos = INIT_QPOS.copy()

    # as in LocomotionEnv.step: MujocoEnv.step's declared return is narrower than gym.Env.step's
    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:  # type: ignore[override]
        action = np.clip(np.asarray(action, dtype=np.float64), self._ctrl_low, self._ctrl_high)
        warnings_before = self.data.warning.number.sum()
        self.data.qacc_warmstart[:] = 0.0
        self.do_simulation(action, self.frame_skip)
        diverged = self.data.warning.number.sum() > warnings_before
        self.data.qacc_warmstart[:] = 0.0
        mujoco.mj_forward(self.model, self.data)  # rllab's model.forward(): readings of the post-step state
        # the batched env's readout step resets a state that MuJoCo's checks find bad: flag the same states
        state = np.concatenate((self.data.qpos, self.data.qvel, self.data.qacc))
        diverged |= not (np.abs(state) <= BAD_VALUE).all()
        out = evaluate_step(
            self.tasks,
            self._parameters[None],
            self.data.qpos[None].copy(),
            self.data.qvel[None].copy(),
            self.data.sensordata[None].copy(),
            action[None],
            np.array([diverged]),
        )
        info = {
            "x_position": float(self.data.qpos[0]),
            "x_velocity": float(out.com_velocity[0]),
            "nonfinite": bool(out.nonfinite[0]),
            "task": self.get_task(),
        }
        if self.render_mode == "human":
            self.render()  # type: ignore[no-untyped-call]  # gymnasium leaves MujocoEnv.render unannotated
        return out.observation[0], float(out.reward[0]), bool(out.terminated[0]), False, info

    def reset_model(self) -> np.ndarray:
        qpos = self.init_qpos + QPOS_NOISE * self.np_random.standard_normal(self.model.nq)
        qvel = self.init_qvel + QVEL_NOISE * self.np_random.standard_normal(self.model.nv)
        # after mj_resetData: ctrl 0 and a cold solver, as rllab's reset with ctrl 0
        self.set_state(qpos, qvel)  # type: ignore[no-untyped-call]  # gymnasium leaves MujocoEnv.set_state unannotated
        readings = Readings.from_sensors(self.data.sensordata[None])
        return observe(self.data.qpos[None], self.data.qvel[None], readings)[0, :]


class RllabAntVectorEnv(LocomotionVectorEnv):
    """N sub-envs, one task each (`set_tasks`), physics and readings in two `mujoco.rollout` calls a step."""

    def __init__(
        self,
        num_envs: int,
        tasks: TaskFamily,
        max_episode_steps: int = 200,
        num_threads: int | None = None,
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
    ) -> None:
        super().__init__(
            num_envs, RllabAnt(), tasks, 1, 0.0, max_episode_steps, num_threads, autoreset_mode=autoreset_mode
        )
        self._init_qpos = INIT_QPOS.copy()
        readout = build_model(readout=True)
        self._readout_models = [readout] * num_envs
        self._readout_datas = [mujoco.MjData(readout) for _ in range(self.num_threads)]
        self._readout_state = np.empty((num_envs, 1, self._template.size))
        self._readout_sensors = np.empty((num_envs, 1, readout.nsensordata))
        # MuJoCo's reset of a bad state, then the rest of the step: the base class's clock check misses it
        # when the step starts at time 0, as an episode's first one does (there is no later substep to skip)
        stepped, _ = self._rollout.rollout(self.model, self._datas, self._template, np.zeros((1, 1, self.model.nu)))
        self._after_reset = stepped[0, 0]

    def _reset_noise(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return QPOS_NOISE * rng.standard_normal(self.model.nq), QVEL_NOISE * rng.standard_normal(self.model.nv)

    def _read(self, states: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sensor readings of `states` with `actions` in ctrl, and whether MuJoCo's checks rejected the state."""
        count = len(states)
        states = np.ascontiguousarray(states)
        self._rollout.rollout(
            self._readout_models[:count],
            self._readout_datas,
            states,
            np.ascontiguousarray(actions[:, None, :]),
            nstep=1,
            state=self._readout_state[:count],
            sensordata=self._readout_sensors[:count],
            skip_checks=True,
        )
        rejected = self._readout_state[:count, 0, 0] < states[:, 0] + 0.5 * self.dt  # a reset state's clock
        return self._readout_sensors[:count, 0], rejected

    def _evaluate(self, step: PhysicsStep) -> StepArrays:
        after = step.after
        diverged = step.diverged | (after[:, 1:] == self._after_reset[1:]).all(axis=1)
        if len(after) == 0:
            readings, rejected = np.zeros((0, self._readout_sensors.shape[2])), np.zeros(0, dtype=bool)
        else:
            readings, rejected = self._read(after, step.actions)
        qpos, qvel = self._qpos_of(after), self._qvel_of(after)
        parameters = self._parameters[step.rows]
        out = evaluate_step(self.tasks, parameters, qpos, qvel, readings, step.actions, diverged | rejected)
        return out.observation, out.reward, out.terminated, {"x_velocity": out.com_velocity, "nonfinite": out.nonfinite}

    def _reset_observation(self, states: np.ndarray) -> np.ndarray:
        readings, _ = self._read(states, np.zeros((len(states), self.model.nu)))
        return observe(self._qpos_of(states), self._qvel_of(states), Readings.from_sensors(readings))


class AntDirRllabEnv(RllabAntEnv):
    """Run forward or backward, d = +-1 with probability 1/2 (maml_rl draws U[0, 3] and takes d = -1 below 1.5)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(DirectionTasks(), **kwargs)


class AntDirRllabVectorEnv(RllabAntVectorEnv):
    def __init__(self, num_envs: int, **kwargs: Any) -> None:
        super().__init__(num_envs, DirectionTasks(), **kwargs)


class AntVelRllabEnv(RllabAntEnv):
    """Run at v* ~ U[velocity_low, velocity_high]; task {"velocity": v*}."""

    def __init__(self, velocity_low: float = 0.0, velocity_high: float = 3.0, **kwargs: Any) -> None:
        super().__init__(VelocityTasks(velocity_low, velocity_high, bonus=1.0), **kwargs)


class AntVelRllabVectorEnv(RllabAntVectorEnv):
    def __init__(self, num_envs: int, velocity_low: float = 0.0, velocity_high: float = 3.0, **kwargs: Any) -> None:
        super().__init__(num_envs, VelocityTasks(velocity_low, velocity_high, bonus=1.0), **kwargs)


class AntGoalRllabEnv(RllabAntEnv):
    """Bring the centre of mass to g ~ U[goal_low, goal_high]^2; task {"goal": [gx, gy]}."""

    def __init__(self, goal_low: float = -3.0, goal_high: float = 3.0, **kwargs: Any) -> None:
        super().__init__(GoalTasks(goal_low, goal_high, bonus=4.0), **kwargs)


class AntGoalRllabVectorEnv(RllabAntVectorEnv):
    def __init__(self, num_envs: int, goal_low: float = -3.0, goal_high: float = 3.0, **kwargs: Any) -> None:
        super().__init__(num_envs, GoalTasks(goal_low, goal_high, bonus=4.0), **kwargs)
