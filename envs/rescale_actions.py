"""Gymnasium's vector RescaleAction, with the whole batch rescaled in one numpy operation.

Gymnasium's applies the single env's rescaling to each sub-env in a Python loop, then stacks
the rows: 0.55 s of the 11.9 s a profile gave for sampling 10 Ant tasks (400 sub-envs x 400
steps). The formula, the dtypes and the final cast to the env's action dtype are the same,
elementwise, so the actions are the same to the bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.spaces import Box
from gymnasium.vector import VectorActionWrapper, VectorEnv
from gymnasium.vector.utils import batch_space
from gymnasium.wrappers.utils import rescale_box


class RescaleBatchAction(VectorActionWrapper):
    """Actions in [min_action, max_action] mapped affinely onto the env's Box bounds."""

    def __init__(self, env: VectorEnv, min_action: Any, max_action: Any) -> None:
        super().__init__(env)
        env_space = env.single_action_space
        if not isinstance(env_space, Box):
            raise TypeError(f"RescaleBatchAction needs a Box action space, got {type(env_space).__name__}")
        space, _, self._to_env = rescale_box(env_space, min_action, max_action)
        self._env_dtype = env_space.dtype
        self.single_action_space = space
        self.action_space = batch_space(space, env.num_envs)
        # Gymnasium's writes the rows into the given array when the two spaces are equal
        # (keeping its dtype), else into one of the env's dtype.
        self._keeps_dtype = self.action_space == env.action_space

    def actions(self, actions: Any) -> Any:
        actions = np.asarray(actions)
        return np.asarray(self._to_env(actions), dtype=actions.dtype if self._keeps_dtype else self._env_dtype)
