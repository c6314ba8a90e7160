"""MAML against the baselines: every method adapted with the same procedure on the same tasks
and episode seeds, as a table of return per gradient step and a figure like the paper's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from rlmaml.core.statistics import StepStatistic
from rlmaml.envs.protocol import Task
from rlmaml.errors import UserError
from rlmaml.rl.baselines import load_policies, method_config, read_baselines
from rlmaml.rl.evaluation import adapt_and_measure, success_by_family
from rlmaml.runs.config_types import RLConfig

# Keys that must agree between a MAML run and its baselines for the comparison to be fair.
SHARED_KEYS = ("env", "env_kwargs", "horizon", "normalize_actions")


def methods_to_compare(
    run_config: RLConfig, policy: nn.Module, baseline_dirs: list[Path]
) -> dict[str, tuple[RLConfig, nn.Module]]:
    """{label: (config to adapt with, policy)}: MAML first, then each directory's baselines.
    Baselines adapt with the MAML run's step size and batch size: the same procedure. Their
    env settings must be the run's before their SB3 files are read, so no other env is made."""
    methods: dict[str, tuple[RLConfig, nn.Module]] = {"MAML": (run_config, policy)}
    run_values = run_config.to_mapping()
    for directory in baseline_dirs:
        config, manifest = read_baselines(directory)
        values = config.to_mapping()
        for key in SHARED_KEYS:
            if values[key] != run_values[key]:
                raise UserError(
                    f"{directory} was trained with {key}={values[key]!r} but the MAML run uses {run_values[key]!r}"
                )
        suffix = f" ({directory})" if len(baseline_dirs) > 1 else ""
        for method, baseline_policy in load_policies(directory, config, manifest).items():
            methods[method + suffix] = (method_config(run_config, method), baseline_policy)
    return methods


@dataclass
class Measured:
    """What one method reached after each step: the returns, and for envs that report success
    (Meta-World's) the success rates, overall and per family where tasks name one (ML10)."""

    returns: list[StepStatistic]
    successes: list[StepStatistic] | None
    successes_by_family: dict[str, list[float]]


def compare(
    methods: dict[str, tuple[RLConfig, nn.Module]],
    tasks: Sequence[Task] | int,
    steps: int,
    seed: int,
    schedule: str,
    adapt_oracle: bool = False,
    episodes: int | None = None,
) -> dict[str, Measured]:
    """Each method adapted to the same tasks (or that many new ones), `episodes` per task and
    step (default each method's fast_batch_size). The oracle observes its task, so by default it
    is measured without adaptation, as in the paper (one number: the level to reach)."""
    results = {}
    for label, (config, policy) in methods.items():
        method_steps = steps if adapt_oracle or not config.observe_task else 0
        result = adapt_and_measure(config, policy, tasks, method_steps, seed, schedule, episodes)
        by_family = success_by_family(result.tasks, result.episodes)
        results[label] = Measured(result.returns, result.successes, by_family)
    return results


def format_table(results: dict[str, list[StepStatistic]], percent: bool = False) -> str:
    """Method x step of means ± 95 % CI (as percentages if `percent`); a method measured at
    fewer steps (the oracle) shows '-' for the rest."""
    steps = max(len(values) for values in results.values())
    width = max(len(label) for label in results)
    form = ".1%" if percent else ".1f"
    lines = [f"{'method':<{width}}" + "".join(f"  {f'step {k}':>17}" for k in range(steps))]
    for label, values in results.items():
        cells = [f"{v.mean:{form}} ± {v.ci95:{form}}" for v in values] + ["-"] * (steps - len(values))
        lines.append(f"{label:<{width}}" + "".join(f"  {cell:>17}" for cell in cells))
    return "\n".join(lines)
