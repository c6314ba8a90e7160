"""Adaptation: inner policy-gradient steps, each on fresh episodes of the current adapted
policy, recorded so that they can be replayed from other starting parameters.

Everything that adapts a policy goes through `Adapter`: meta-training (whose outer
optimizer differentiates through the recorded adaptation, or replays it) and `rlmaml adapt`,
`compare`, `export` and `--video` (through rlmaml.rl.evaluation). Nothing here knows how
the meta-parameters are updated afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import torch
from torch import nn

from rlmaml.core.functional import Params, expand_to_tasks
from rlmaml.core.maml import adapt
from rlmaml.core.seeding import SeedKey
from rlmaml.core.timing import Stopwatch
from rlmaml.envs.protocol import Task
from rlmaml.rl.advantages import AdvantageSettings, compute_advantages
from rlmaml.rl.baseline import LinearFeatureBaseline
from rlmaml.rl.episodes import Episodes
from rlmaml.rl.objectives import InnerObjective, OldPolicy, reinforce_loss
from rlmaml.rl.sampler import BatchSampler
from rlmaml.runs.distributed import Context

# stage -> one seed key per task for that stage's episodes: inner step k samples at stage k,
# the adapted policy (after the last of K steps) at stage K. The caller decides the seeding.
StageKeys = Callable[[int], Sequence[SeedKey]]

# Named step-size schedules: the one meta-training uses (fast_lr at every step), or the
# original MAML evaluation's (fast_lr for the first step, `later_factor` x fast_lr for every
# later one: the env's paper_later_factor).
SCHEDULES = ("training", "paper")
# The original evaluation's step after the first, as a fraction of fast_lr: half in
# test_maml_point.py, test_maml_cheetah.py, test_maml_cheetah_direc.py and test_maml_ant.py, a
# hundredth in test_maml_ant_direc.py (0.1 then 0.001: AntDir's flat 499.2 / 500.7 / 499.1),
# which rlmaml applies to both its AntDir envs (rllab's Ant and Gymnasium's).
PAPER_LATER_FACTOR = 0.5
PAPER_LATER_FACTOR_BY_ENV = {"rlmaml/AntDirRllab-v0": 0.01, "rlmaml/AntDir-v0": 0.01}


def paper_later_factor(env_id: str) -> float:
    """What the original evaluation multiplied fast_lr by for every step after the first."""
    return PAPER_LATER_FACTOR_BY_ENV.get(env_id, PAPER_LATER_FACTOR)


def step_sizes(
    fast_lr: float, steps: int, schedule: str | Sequence[float], later_factor: float = PAPER_LATER_FACTOR
) -> list[float]:
    """The step size of each of `steps` steps under a named schedule, or the given ones."""
    if not isinstance(schedule, str):
        given = [float(lr) for lr in schedule]
        if len(given) != steps:
            raise ValueError(f"{len(given)} step sizes given for {steps} steps")
        return given
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    later = fast_lr * later_factor if schedule == "paper" else fast_lr
    return [fast_lr, *[later] * (steps - 1)][:steps]


@dataclass(frozen=True)
class Adaptation:
    """One adaptation of a batch of tasks, with all that a replay needs: the episodes of
    every inner step, the adapted policy's episodes (`post_episodes`, what the meta-objective
    is measured on), the per-task parameters before and after every step and the step sizes.
    The trajectory stays on the graph of the starting parameters: through the inner
    gradients, or through the identity alone if `first_order`."""

    inner_episodes: list[Episodes]
    post_episodes: Episodes
    trajectory: list[Params]
    step_sizes: list[float]
    first_order: bool

    def select(self, positions: list[int]) -> Adaptation:
        """The tasks at these positions of the batch."""
        return replace(
            self,
            inner_episodes=[e.task(positions) for e in self.inner_episodes],
            post_episodes=self.post_episodes.task(positions),
            trajectory=[{name: p[positions] for name, p in params.items()} for params in self.trajectory],
        )


class Adapter:
    """Adapts per-task copies of a policy's parameters with `objective` (REINFORCE by default)
    on episodes of `sampler`, whose advantages come from `baseline` as `advantages` says.
    With `record_log_probs` the episodes keep the sampling policy's log-densities, which a
    likelihood-ratio objective needs (rlmaml.rl.estimators.lvc_loss). With a distributed
    `context`, each process adapts its own tasks and pads its episodes to the longest of any
    process's, so that each task's numbers do not depend on the others'."""

    def __init__(
        self,
        model: nn.Module,
        sampler: BatchSampler,
        advantages: AdvantageSettings | None = None,
        objective: InnerObjective = reinforce_loss,
        baseline: LinearFeatureBaseline | None = None,
        context: Context | None = None,
        record_log_probs: bool = False,
    ) -> None:
        self.model = model
        self.sampler = sampler
        self.advantages = advantages or AdvantageSettings()
        self.objective = objective
        self.record_log_probs = record_log_probs
        self.baseline = baseline or LinearFeatureBaseline()
        self.context = context or Context()
        self.stopwatch = Stopwatch()  # seconds spent "sampling", for the caller to read and reset

    def sample(self, task_params: Params, tasks: Sequence[Task], keys: Sequence[SeedKey]) -> Episodes:
        """Episodes of the per-task parameters, sampled on the CPU, with advantages, on the
        parameters' device."""
        with self.stopwatch.measure("sampling"):
            cpu_params = {name: p.detach().cpu() for name, p in task_params.items()}
            episodes = self.sampler.sample(self.model, cpu_params, tasks, keys)
        episodes = episodes.padded(self.context.max(episodes.num_steps))
        episodes = compute_advantages(episodes, self.baseline, self.advantages)
        episodes = episodes.to(next(iter(task_params.values())).device)
        if self.record_log_probs:
            episodes.log_probs = OldPolicy.of(self.model, task_params, episodes).log_prob
        return episodes

    def adapt(
        self,
        params: Params,
        tasks: Sequence[Task],
        keys: StageKeys,
        step_sizes: Sequence[float],
        first_order: bool,
    ) -> Adaptation:
        """Adapt the shared `params` to each of `tasks` with one inner step per step size,
        each on fresh episodes of the current adapted policy, then sample the adapted policy."""
        task_params = expand_to_tasks(params, len(tasks))
        lrs = list(step_sizes)
        inner_episodes: list[Episodes] = []

        def inner_loss(step_params: Params, step: int) -> torch.Tensor:
            inner_episodes.append(self.sample(step_params, tasks, keys(step)))
            return self.objective(self.model, step_params, inner_episodes[step])

        trajectory = adapt(task_params, inner_loss, len(lrs), lrs, first_order)
        post = self.sample(trajectory[-1], tasks, keys(len(lrs)))
        return Adaptation(inner_episodes, post, trajectory, lrs, first_order)

    def replay(self, params: Params, adaptation: Adaptation, first_order: bool) -> list[Params]:
        """The trajectory that `adaptation`'s steps give from other shared parameters, on the
        episodes it recorded (nothing is sampled); differentiable unless `first_order`."""
        task_params = expand_to_tasks(params, adaptation.post_episodes.num_tasks)
        episodes = adaptation.inner_episodes

        def inner_loss(step_params: Params, step: int) -> torch.Tensor:
            return self.objective(self.model, step_params, episodes[step])

        return adapt(task_params, inner_loss, len(episodes), adaptation.step_sizes, first_order)
