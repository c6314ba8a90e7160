"""The library's meta-RL entry points: a meta-learner from a config, and a trained policy
adapted to a task. Thin functions over what `rlmaml train` and `rlmaml adapt` use
(RLExperiment, load_trained_policy, adapt_and_measure), so both give the same numbers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from rlmaml.core.functional import Params
from rlmaml.core.statistics import StepStatistic
from rlmaml.errors import UserError
from rlmaml.rl.evaluation import adapt_and_measure
from rlmaml.rl.experiment import RLExperiment
from rlmaml.rl.policy_io import load_trained_policy
from rlmaml.runs.config import read_yaml, resolve, typed_config
from rlmaml.runs.config_types import RLConfig


def load_rl_config(config: str | Mapping[str, Any] | RLConfig, overrides: Iterable[str] = ()) -> RLConfig:
    """A meta-RL config from a packaged config's name, a YAML path, a mapping or an RLConfig,
    with `key=value` overrides, checked as `rlmaml train` checks it; UserError for a
    supervised one."""
    if isinstance(config, str):
        mapping = read_yaml(config)
    elif isinstance(config, RLConfig):
        mapping = config.to_mapping()
    else:
        mapping = dict(config)
    typed = typed_config(resolve(mapping, overrides))
    if not isinstance(typed, RLConfig):
        raise UserError(f"a {typed.mode} config is supervised: meta-learn its model with rlmaml.MAML")
    return typed


def make_meta_learner(config: str | Mapping[str, Any] | RLConfig, overrides: Iterable[str] = ()) -> RLExperiment:
    """The meta-learner of a meta-RL config, its policy initialised from the config's seed:
    `run_iteration(i)` takes meta-iteration i and returns its statistics, `policy` is the
    meta-policy, `close()` releases the envs. `config` and `overrides` as in `load_rl_config`."""
    return RLExperiment(load_rl_config(config, overrides))


@dataclass(frozen=True)
class AdaptedPolicy:
    """A meta-trained policy adapted to one task. It acts adapted through
    `torch.func.functional_call(policy, parameters, observations)`."""

    config: RLConfig  # the run's config
    policy: nn.Module  # the meta-trained policy, with the checkpoint's weights
    parameters: Params  # the adapted parameters by name
    returns: list[StepStatistic]  # the mean return before adaptation (step 0) and after each step


def adapt_policy(
    run_dir: str | Path,
    task: Mapping[str, Any],
    steps: int = 1,
    seed: int = 0,
    schedule: str | Sequence[float] = "training",
    episodes: int | None = None,
    checkpoint: int | None = None,
) -> AdaptedPolicy:
    """Adapt the policy of a run directory (its latest checkpoint, or the one saved after
    `checkpoint` iterations) to `task` with `steps` policy-gradient steps, as `rlmaml adapt
    --task` does: `schedule` and `episodes` as in `adapt_and_measure`, everything seeded
    by `seed`."""
    config, policy, _ = load_trained_policy(Path(run_dir), checkpoint)
    result = adapt_and_measure(config, policy, [dict(task)], steps, seed, schedule, episodes)
    adapted = {name: p[0] for name, p in result.parameters[-1].items()}  # the one task's
    return AdaptedPolicy(config, policy, adapted, result.returns)
