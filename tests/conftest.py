from dataclasses import replace
from typing import Any

import pytest
import torch

from rlmaml.core.functional import expand_to_tasks, parameters_of
from rlmaml.rl.advantages import compute_advantages
from rlmaml.rl.baseline import LinearFeatureBaseline
from rlmaml.rl.episodes import Episodes
from rlmaml.rl.policies import GaussianMLPPolicy
from rlmaml.rl.sampler import BatchSampler
from rlmaml.runs.config_types import RLConfig


def rl_config(name: str = "navigation2d", *overrides: str, **changes: Any) -> RLConfig:
    """A packaged meta-RL config with `key=value` overrides (as --set gives them) and fields
    replaced, checked as every config is."""
    from rlmaml.rl.api import load_rl_config

    return replace(load_rl_config(name, overrides), **changes)


def sample_fixed_episodes(model, tasks, stage: int, episodes_per_task: int = 4, horizon: int = 8) -> Episodes:
    """Episodes of the navigation env for `tasks`, with advantages, in the model's dtype."""
    sampler = BatchSampler("rlmaml/Navigation2D-v0", {}, episodes_per_task, horizon)
    params = {k: v.detach() for k, v in expand_to_tasks(parameters_of(model), len(tasks)).items()}
    episodes = sampler.sample(model, params, tasks, [(0, 0, i, stage) for i in range(len(tasks))])
    sampler.close()
    return compute_advantages(episodes, LinearFeatureBaseline())


@pytest.fixture
def tiny_policy() -> GaussianMLPPolicy:
    torch.manual_seed(0)
    return GaussianMLPPolicy(2, 2, (6,), "tanh", init_log_std=-0.5).double()


@pytest.fixture
def nav_tasks() -> list[dict]:
    return [{"goal": [0.3, -0.2]}, {"goal": [-0.4, 0.1]}, {"goal": [0.05, 0.45]}]


# A 2D-navigation run small enough to train in a second or two.
TINY_NAV = ["meta_batch_size=3", "fast_batch_size=4", "horizon=20", "hidden_sizes=[8]", "checkpoint_every=2"]


def train_tiny_nav(out, *overrides: str) -> None:
    from rlmaml.cli import main

    assert main(["train", "navigation2d", "--out", str(out), "--quiet", "--set", *TINY_NAV, *overrides]) == 0
