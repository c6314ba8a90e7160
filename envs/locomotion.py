"""Locomotion task-distribution envs (MAML paper, section 5.3): a robot plus a task family.

`LocomotionEnv` is a Gymnasium `MujocoEnv`, so `model`, `data`, `dt`, `set_state` and
rendering work as users expect; `LocomotionVectorEnv` steps N sub-envs with one
`mujoco.rollout` call. Both turn physics into observations and rewards through
`evaluate_step` on a batch, so sub-env i gives what a single env gives with the same task,
initial state and actions.

Per step: v_x = (x_after - x_before) / dt with x = qpos[0] (the torso), a = the action
clipped to the actuator range, reward = task term (see locomotion_tasks) + robot term (see
robots). Physics that fails (non-finite values, or a MuJoCo warning such as its automatic
reset of a diverged state) ends the episode: observation and reward are zeros,
terminated is True and info["nonfinite"] is True.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium.envs.mujoco.mujoco_env import MujocoEnv
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from .locomotion_tasks import TaskFamily
from .protocol import Task
from .robots import Robot
from .rollout_vector_env import PhysicsStep, RolloutVectorEnv, StepArrays
from .tasks import check_task_count

# Bounds of the physics kwargs an env_kwargs may set (defaults 5 and 0.1): past them a step is
# minutes of simulated time, or the start pose is noise; 0, negative or NaN values fail inside
# MuJoCo or numpy with a traceback.
MAX_FRAME_SKIP = 1000
MAX_RESET_NOISE = 10.0


def check_physics(frame_skip: int, reset_noise_scale: float) -> None:
    """ValueError naming the kwarg if frame_skip is not an integer in [1, MAX_FRAME_SKIP] or
    reset_noise_scale not a number in [0, MAX_RESET_NOISE]."""
    if isinstance(frame_skip, bool) or not isinstance(frame_skip, (int, np.integer)):
        raise ValueError(f"frame_skip must be an integer, got {frame_skip!r}")
    if not 1 <= frame_skip <= MAX_FRAME_SKIP:
        raise ValueError(f"frame_skip must be in [1, {MAX_FRAME_SKIP}], got {frame_skip}")
    try:
        scale = float(reset_noise_scale)
    except (TypeError, ValueError):
        scale = math.nan
    if not 0 <= scale <= MAX_RESET_NOISE:
        raise ValueError(f"reset_noise_scale must be a number in [0, {MAX_RESET_NOISE:g}], got {reset_noise_scale!r}")


@dataclass(frozen=True)
class StepOutcome:
    """What one env step produces for a batch of sub-envs."""

    observation: np.ndarray  # (N, obs_dim)
    reward: np.ndarray  # (N,)
    terminated: np.ndarray  # (N,) bool
    x_velocity: np.ndarray  # (N,)
    nonfinite: np.ndarray  # (N,) bool


def evaluate_step(
    robot: Robot,
    tasks: TaskFamily,
    parameters: np.ndarray,
    x_before: np.ndarray,
    qpos: np.ndarray,
    qvel: np.ndarray,
    sensordata: np.ndarray,
    actions: np.ndarray,
    dt: float,
    diverged: np.ndarray,
) -> StepOutcome:
    """Observation, reward and termination from the state after a step, for N sub-envs at once."""
    x_velocity = (qpos[:, 0] - x_before) / dt
    contact = robot.contact_forces(sensordata)
    observation = robot.observe(qpos, qvel, contact)
    reward = tasks.reward(parameters, x_velocity, qpos) + robot.reward(actions, contact)
    terminated = ~robot.healthy(qpos)
    nonfinite = end_failed_physics(diverged, observation, reward, x_velocity, terminated)
    return StepOutcome(observation, reward, terminated, x_velocity, nonfinite)


def end_failed_physics(
    diverged: np.ndarray, observation: np.ndarray, reward: np.ndarray, velocity: np.ndarray, terminated: np.ndarray
) -> np.ndarray:
    """The sub-envs whose physics failed (diverged, or a non-finite reward or observation),
    in place: zero observation, reward and velocity, and terminated."""
    nonfinite: np.ndarray = diverged | ~np.isfinite(reward) | ~np.isfinite(observation).all(axis=1)
    if nonfinite.any():
        observation[nonfinite] = 0.0
        reward[nonfinite] = 0.0
        velocity[nonfinite] = 0.0
        terminated |= nonfinite
    return nonfinite


def reset_observation(robot: Robot, qpos: np.ndarray, qvel: np.ndarray, nsensordata: int) -> np.ndarray:
    """Observation of freshly reset states: no physics step yet, so no contact forces."""
    return robot.observe(qpos, qvel, robot.contact_forces(np.zeros((len(qpos), nsensordata))))


class LocomotionEnv(MujocoEnv):
    """Single env; the task persists across resets. Extra kwargs go to MujocoEnv (render_mode, width, ...).

    Each step starts MuJoCo's constraint solver cold (zero qacc_warmstart) as mujoco.rollout
    does, so it agrees with the batched env to the last bit. Gymnasium's v5 envs keep the
    warm start: from the same state their next state differs at solver tolerance (~1e-15),
    which contact dynamics amplify over an episode (~1e-9 after 50 steps, ~1e-1 after 200).
    """

    metadata = {"render_modes": ["human", "rgb_array", "depth_array", "rgbd_tuple"]}  # noqa: RUF012  # gymnasium.Env declares it a dict, not a ClassVar

    def __init__(
        self, robot: Robot, tasks: TaskFamily, frame_skip: int = 5, reset_noise_scale: float = 0.1, **kwargs: Any
    ) -> None:
        check_physics(frame_skip, reset_noise_scale)
        self.robot = robot
        self.tasks = tasks
        self._reset_noise_scale = float(reset_noise_scale)
        MujocoEnv.__init__(
            self,
            robot.model_path(),
            frame_skip,
            observation_space=None,
            default_camera_config=robot.camera_config,
            **kwargs,
        )
        self.metadata = {**self.metadata, "render_fps": int(np.round(1.0 / self.dt))}
        size = robot.observation_size(self.model)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(size,), dtype=np.float64)
        self._ctrl_low, self._ctrl_high = self.model.actuator_ctrlrange.T.copy()
        self._parameters = tasks.parameters(tasks.default_task())

    def _initialize_simulation(self) -> tuple[mujoco.MjModel, mujoco.MjData]:
        model = self.robot.build_model()
        model.vis.global_.offwidth = max(model.vis.global_.offwidth, self.width)
        model.vis.global_.offheight = max(model.vis.global_.offheight, self.height)
        return model, mujoco.MjData(model)

    def sample_tasks(self, n: int, seed: int | None = None) -> list[Task]:
        return self.tasks.sample(n, seed)

    def set_task(self, task: Task) -> None:
        self._parameters = self.tasks.parameters(task)

    def get_task(self) -> Task:
        return self.tasks.task(self._parameters)

    # MujocoEnv.step declares np.float64 reward and info values: narrower than gym.Env.step and Gymnasium's v5 envs
    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:  # type: ignore[override]
        action = np.clip(np.asarray(action, dtype=np.float64), self._ctrl_low, self._ctrl_high)
        x_before = self.data.qpos[0]
        warnings_before = self.data.warning.number.sum()
        self.data.qacc_warmstart[:] = 0.0
        self.do_simulation(action, self.frame_skip)
        diverged = self.data.warning.number.sum() > warnings_before
        out = evaluate_step(
            self.robot,
            self.tasks,
            self._parameters[None],
            np.array([x_before]),
            self.data.qpos[None],
            self.data.qvel[None],
            self.data.sensordata[None],
            action[None],
            self.dt,
            np.array([diverged]),
        )
        info = {
            "x_position": float(self.data.qpos[0]),
            "x_velocity": float(out.x_velocity[0]),
            "nonfinite": bool(out.nonfinite[0]),
            "task": self.get_task(),
        }
        if self.render_mode == "human":
            self.render()  # type: ignore[no-untyped-call]  # gymnasium leaves MujocoEnv.render unannotated
        return out.observation[0], float(out.reward[0]), bool(out.terminated[0]), False, info

    def reset_model(self) -> np.ndarray:
        scale = self._reset_noise_scale
        qpos = self.init_qpos + self.np_random.uniform(low=-scale, high=scale, size=self.model.nq)
        qvel = self.init_qvel + scale * self.np_random.standard_normal(self.model.nv)
        self.set_state(qpos, qvel)  # type: ignore[no-untyped-call]  # gymnasium leaves MujocoEnv.set_state unannotated
        return reset_observation(self.robot, self.data.qpos[None], self.data.qvel[None], self.model.nsensordata)[0, :]

    def _get_reset_info(self) -> dict[str, Any]:
        return {"x_position": float(self.data.qpos[0]), "task": self.get_task()}


class LocomotionVectorEnv(RolloutVectorEnv):
    """N sub-envs, one task each (`set_tasks`), stepped as one batch; info has "x_velocity" and "nonfinite" arrays."""

    def __init__(
        self,
        num_envs: int,
        robot: Robot,
        tasks: TaskFamily,
        frame_skip: int = 5,
        reset_noise_scale: float = 0.1,
        max_episode_steps: int = 200,
        num_threads: int | None = None,
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
    ) -> None:
        check_physics(frame_skip, reset_noise_scale)
        super().__init__(
            num_envs, robot.build_model(), frame_skip, reset_noise_scale, max_episode_steps, num_threads, autoreset_mode
        )
        self.robot = robot
        self.tasks = tasks
        size = robot.observation_size(self.model)
        self.single_observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(size,), dtype=np.float64)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self._parameters = np.tile(tasks.parameters(tasks.default_task()), (num_envs, 1))

    def sample_tasks(self, n: int, seed: int | None = None) -> list[Task]:
        return self.tasks.sample(n, seed)

    def set_tasks(self, tasks: Sequence[Task]) -> None:
        """One task per sub-env, in order; each persists across resets."""
        check_task_count(tasks, self.num_envs)
        self._parameters = np.stack([self.tasks.parameters(t) for t in tasks])

    def get_tasks(self) -> list[Task]:
        return [self.tasks.task(p) for p in self._parameters]

    def _evaluate(self, step: PhysicsStep) -> StepArrays:
        out = evaluate_step(
            self.robot,
            self.tasks,
            self._parameters[step.rows],
            self._qpos_of(step.before)[:, 0],
            self._qpos_of(step.after),
            self._qvel_of(step.after),
            step.sensordata,
            step.actions,
            self.dt,
            step.diverged,
        )
        return out.observation, out.reward, out.terminated, {"x_velocity": out.x_velocity, "nonfinite": out.nonfinite}

    def _reset_observation(self, states: np.ndarray) -> np.ndarray:
        return reset_observation(self.robot, self._qpos_of(states), self._qvel_of(states), self.model.nsensordata)
