"""Runs told apart by what they learn: a run's kind and problem, and runs grouped by config
(seeds of one experiment form one group) under labels that say how the groups differ."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rlmaml.errors import UserError
from rlmaml.runs.config import typed_config
from rlmaml.runs.config_types import ClassificationConfig, Config, RLConfig
from rlmaml.runs.run_dir import read_run_config

META_RL = "meta-RL"  # the kind of a run without a supervised `mode`
# Keys on which runs of one group may differ: the seed and how long the run is.
GROUP_FREE_KEYS = ("seed", "iterations", "checkpoint_every")


def run_kind(config: Config) -> str:
    """What a run's progress.csv holds: meta-RL returns, sinusoid losses, or classification
    losses and accuracies."""
    return META_RL if isinstance(config, RLConfig) else config.mode


def task_name(config: Config) -> str:
    """A run's problem in a few words: the env, the sinusoid, or the dataset with ways and shots."""
    if isinstance(config, RLConfig):
        return config.env.removeprefix("rlmaml/")
    if isinstance(config, ClassificationConfig):
        return f"{config.dataset} {config.ways}-way {config.shots}-shot"
    return config.mode


def grouped_keys(config: Config) -> dict[str, Any]:
    """The config's keys and values (as config.yaml holds them) that runs of one group share."""
    return {key: value for key, value in config.to_mapping().items() if key not in GROUP_FREE_KEYS}


def group_labels(configs: list[Config]) -> list[str]:
    """Each group's problem name, plus the config keys on which it differs from groups of the same problem."""
    labels = []
    for config in configs:
        values = grouped_keys(config)
        same_task = [grouped_keys(other) for other in configs if task_name(other) == task_name(config)]
        differing = [key for key in values if any(other[key] != values[key] for other in same_task)]
        labels.append(" ".join([task_name(config), *(f"{k}={values[k]}" for k in differing)]))
    return labels


def group_runs(run_dirs: list[Path]) -> tuple[str, dict[str, Sequence[dict[str, np.ndarray]]]]:
    """The runs' kind and {label: progress of each run}: runs whose configs differ only in
    seed and length form one group. All runs must be of one kind, as they share the axes."""
    from rlmaml.runs.plots import read_progress  # with matplotlib, which run_kind and task_name do not need

    groups: dict[str, list[dict[str, np.ndarray]]] = {}
    configs: dict[str, Config] = {}
    run_configs = [typed_config(read_run_config(run_dir)) for run_dir in run_dirs]
    kinds = [run_kind(config) for config in run_configs]
    for run_dir, kind in zip(run_dirs, kinds, strict=True):
        if kind != kinds[0]:
            raise UserError(
                f"{run_dir} is a {kind} run but {run_dirs[0]} is a {kinds[0]} run; plot runs of one kind together"
            )
    for run_dir, config in zip(run_dirs, run_configs, strict=True):
        progress = read_progress(run_dir) if (run_dir / "progress.csv").is_file() else {}
        if not progress:
            raise UserError(f"{run_dir} has no progress.csv rows yet")
        key = json.dumps(grouped_keys(config), sort_keys=True)
        configs[key] = config
        groups.setdefault(key, []).append(progress)
    labels = group_labels(list(configs.values()))
    return kinds[0], {label: groups[key] for label, key in zip(labels, configs, strict=True)}
