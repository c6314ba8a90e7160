"""Closed-loop sampling of all tasks and episodes of a meta-batch in one batched env.

Every task's episodes draw their reset seeds and action noise from a generator keyed by
(run seed, iteration, task index, stage), never from a global stream, so results do not
depend on how tasks are split across calls or processes (see rlmaml.core.seeding). The
policy's distribution turns the noise into actions (rlmaml.rl.distributions): a Gaussian's
standard-normal noise scaled and shifted, a categorical's Gumbel noise through Gumbel-max.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode
from torch import nn

from rlmaml.core.functional import Params, call_per_task
from rlmaml.core.seeding import SeedKey, key_rng
from rlmaml.envs.protocol import Task
from rlmaml.envs.task_wrappers import TaskVectorWrapper, TaskWrapper
from rlmaml.rl.distributions import as_outputs, check_action_space
from rlmaml.rl.environments import box, make_vector_env
from rlmaml.rl.episodes import Episodes
from rlmaml.rl.tasks import reports_success
from rlmaml.runs.config_types import RLConfig


@contextmanager
def single_torch_thread() -> Iterator[None]:
    """Run torch on one thread while sampling: the per-step policy forward is small, and
    torch's idle worker spinning for work competes with MuJoCo's rollout threads for the
    cores (measured: 48,000 instead of 40,000 HalfCheetah steps/s on 2 cores)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


class BatchSampler:
    """Samples `episodes_per_task` episodes for each of a list of tasks, stepping every
    (task, episode) pair as one sub-env with one batched policy forward per time step."""

    def __init__(
        self,
        env_id: str,
        env_kwargs: Mapping[str, Any],
        episodes_per_task: int,
        horizon: int,
        observe_task: bool = False,
        normalize_actions: bool = False,
    ) -> None:
        self.env_id = env_id
        self.env_kwargs = dict(env_kwargs)
        self.episodes_per_task = episodes_per_task
        self.horizon = horizon
        self.observe_task = observe_task
        self.normalize_actions = normalize_actions
        self._envs: dict[int, TaskVectorWrapper] = {}
        self.task_distribution = TaskWrapper(gym.make(env_id, **env_kwargs))  # for sample_tasks only

    @property
    def reports_success(self) -> bool:
        return reports_success(self.task_distribution)

    def env_for(self, num_tasks: int) -> TaskVectorWrapper:
        """The batched env for `num_tasks` tasks, built once per meta-batch size. Autoreset is
        disabled: a sampled episode ends for good, and the env leaves finished sub-envs out of
        the physics (Ant's early falls would otherwise cost steps nobody keeps)."""
        if num_tasks not in self._envs:
            num_envs = num_tasks * self.episodes_per_task
            self._envs[num_tasks] = make_vector_env(
                self.env_id,
                num_envs,
                self.horizon,
                self.env_kwargs,
                self.observe_task,
                self.normalize_actions,
                AutoresetMode.DISABLED,
            )
        return self._envs[num_tasks]

    @classmethod
    def from_config(cls, config: RLConfig) -> BatchSampler:
        """The sampler of an RL run: its env, fast_batch_size episodes per task, its horizon."""
        return cls(
            config.env,
            config.env_kwargs,
            config.fast_batch_size,
            config.horizon,
            config.observe_task,
            config.normalize_actions,
        )

    def close(self) -> None:
        for env in self._envs.values():
            env.close()
        self._envs.clear()
        self.task_distribution.close()

    def sample(
        self, model: nn.Module, task_params: Params, tasks: Sequence[Task], seed_keys: Sequence[SeedKey]
    ) -> Episodes:
        """Roll out task i's episodes with task_params[...][i]; `seed_keys[i]` seeds them."""
        num_tasks, per_task = len(tasks), self.episodes_per_task
        env = self.env_for(num_tasks)
        env.set_tasks([task for task in tasks for _ in range(per_task)])
        obs_dim = box(env.single_observation_space, self.env_id).shape[0]
        distribution = check_action_space(model, env.single_action_space, self.env_id)
        act_dim, noise_dim = distribution.widths(env.single_action_space)
        reset_seeds: list[int] = []
        noise: list[np.ndarray] = []
        for key in seed_keys:
            rng = key_rng(key)
            reset_seeds.extend(int(s) for s in rng.integers(0, 2**31 - 1, size=per_task))
            noise.append(distribution.draw_noise(rng, (self.horizon, per_task, noise_dim)))
        dtype = next(iter(task_params.values())).dtype
        noise_t = torch.from_numpy(np.stack(noise, axis=1)).to(dtype)  # [T, M, E, noise_dim]

        shape = (self.horizon, num_tasks, per_task)
        observations = np.zeros((*shape, obs_dim), dtype=np.float32)
        actions = torch.zeros((*shape, act_dim), dtype=dtype)
        rewards = np.zeros(shape, dtype=np.float32)
        mask = np.zeros(shape, dtype=np.float32)
        alive = np.ones(num_tasks * per_task, dtype=bool)
        successes = np.zeros(shape, dtype=np.float32) if self.reports_success else None
        # a seed per sub-env, which Gymnasium's VectorWrapper.reset types as one int (the ignore is
        # unused where the type checker does not see rlmaml.envs)
        obs, _ = env.reset(seed=reset_seeds)  # type: ignore[arg-type, unused-ignore]
        steps = 0
        with torch.no_grad(), single_torch_thread():
            for t in range(self.horizon):
                # steps after an episode's end are zeros: they are masked out, and zeros keep them
                # from depending on what the env reports for a finished sub-env
                mask[t] = alive.reshape(num_tasks, per_task)
                observations[t] = np.where(alive[:, None], obs, 0.0).reshape(num_tasks, per_task, obs_dim)
                outputs = call_per_task(model, task_params, torch.from_numpy(observations[t]).to(dtype))
                policy = distribution(*as_outputs(outputs))
                actions[t] = policy.sample(noise_t[t]) * torch.from_numpy(mask[t]).to(dtype)[..., None]
                step_actions = distribution.env_actions(actions[t].reshape(-1, act_dim))
                obs, reward, terminated, truncated, info = env.step(step_actions)
                rewards[t] = np.where(alive, reward, 0.0).reshape(num_tasks, per_task)
                if successes is not None:
                    successes[t] = (alive & info["success"]).reshape(num_tasks, per_task)
                alive &= ~(terminated | truncated)
                steps = t + 1
                if not alive.any():
                    break
        return Episodes(
            observations=torch.from_numpy(observations[:steps]).to(dtype),
            actions=actions[:steps],
            rewards=torch.from_numpy(rewards[:steps]).to(dtype),
            mask=torch.from_numpy(mask[:steps]).to(dtype),
            successes=None if successes is None else torch.from_numpy(successes[:steps]).to(dtype),
        )
