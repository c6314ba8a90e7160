"""The batched action rescaling gives Gymnasium's vector RescaleAction's actions to the bit."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.wrappers.vector import RescaleAction

from rlmaml.envs.rescale_actions import RescaleBatchAction


@pytest.mark.parametrize("env_id", ["rlmaml/AntDirRllab-v0", "rlmaml/HalfCheetahVel-v0"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bounds", [(-1.0, 1.0), (-0.5, 2.0)])
def test_batched_rescaling_matches_gymnasiums_row_by_row(env_id, dtype, bounds):
    env = gym.make_vec(env_id, num_envs=5, vectorization_mode="vector_entry_point")
    ours, theirs = RescaleBatchAction(env, *bounds), RescaleAction(env, *bounds)
    assert ours.action_space == theirs.action_space
    actions = np.random.default_rng(0).uniform(-1.3, 2.3, size=ours.action_space.shape).astype(dtype)
    want = theirs.actions(actions.copy())
    got = ours.actions(actions)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    env.close()


def test_a_discrete_action_space_is_refused():
    env = gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync")
    with pytest.raises(TypeError, match="needs a Box action space"):
        RescaleBatchAction(env, -1.0, 1.0)
