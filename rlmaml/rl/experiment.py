"""Meta-RL as an experiment for the trainer: MAML with TRPO or ProMP on a task-distribution env."""

from __future__ import annotations

from typing import Any

import torch

from rlmaml.rl.advantages import AdvantageSettings
from rlmaml.rl.metalearner import MAMLSettings, MetaIteration, MetaLearner
from rlmaml.rl.outer_promp import ProMPSettings
from rlmaml.rl.outer_trpo import TRPOSettings
from rlmaml.rl.policy_io import POLICY_PREFIX, build_policy, policy_weights
from rlmaml.rl.sampler import BatchSampler
from rlmaml.runs.config_types import RLConfig
from rlmaml.runs.distributed import Context
from rlmaml.runs.weights import load_weights

OUTER_PREFIX = "outer."  # checkpoint tensors of the outer optimizer's state (ProMP: Adam's)


def settings_from(config: RLConfig) -> MAMLSettings:
    """The meta-learner's settings: each field is the config key of its name."""
    outer: TRPOSettings | ProMPSettings = TRPOSettings(
        max_kl=config.max_kl,
        cg_iters=config.cg_iters,
        cg_damping=config.cg_damping,
        ls_max_steps=config.ls_max_steps,
        ls_backtrack_ratio=config.ls_backtrack_ratio,
        cg_subsample=config.cg_subsample,
        closed_form_curvature=config.closed_form_curvature,
    )
    if config.outer_optimizer == "promp":
        outer = ProMPSettings(config.promp_clip, config.promp_kl_coef, config.promp_steps, config.promp_lr)
    return MAMLSettings(
        num_steps=config.num_steps,
        fast_lr=config.fast_lr,
        first_order=config.first_order,
        estimator=config.estimator,
        advantages=AdvantageSettings.from_config(config),
        outer=outer,
    )


SUCCESS_COLUMNS = ("success_before", "success_after")  # of envs that report success (Meta-World's)


def progress_row(result: MetaIteration, env_steps: float) -> dict[str, float]:
    """A meta-iteration as a row of progress.csv, with the run's `env_steps` so far."""
    update = result.update
    successes = {}
    if result.success_before is not None and result.success_after is not None:
        successes = {"success_before": result.success_before, "success_after": result.success_after}
    return {
        **successes,
        "env_steps": env_steps,
        "return_before": result.return_before,
        "return_after": result.return_after,
        "kl": update.kl,
        "surrogate_before": update.surrogate_before,
        "surrogate_after": update.surrogate_after,
        "ls_steps": float(update.steps),
        "ls_accepted": float(update.accepted),
        "time_sampling": result.time_sampling,
        "time_adaptation": result.time_adaptation,
        "time_meta_update": result.time_meta_update,
        "update_skipped": float(bool(update.skip_reason)),
    }


class RLExperiment:
    """Meta-iterations of MAML (TRPO or ProMP) on the config's task distribution, the trainer's
    experiment for a meta-RL config (rlmaml.runs.trainer.Experiment)."""

    base_columns: tuple[str, ...] = (
        "env_steps",
        "return_before",
        "return_after",
        "kl",
        "surrogate_before",
        "surrogate_after",
        "ls_steps",
        "ls_accepted",
        "time_sampling",
        "time_adaptation",
        "time_meta_update",
    )

    def __init__(self, config: RLConfig, context: Context | None = None) -> None:
        """With a distributed `context` this process samples and adapts its shard of each
        meta-batch; the policy lives on the context's device, sampling on the CPU."""
        self.config = config
        context = context or Context()
        self.shard = context.shard(config.meta_batch_size)
        self.policy = build_policy(config).to(context.device)
        self.sampler = BatchSampler.from_config(config)
        successes = SUCCESS_COLUMNS if self.sampler.reports_success else ()
        self.columns = (*self.base_columns, *successes, "update_skipped")
        self.learner = MetaLearner(self.policy, self.sampler, settings_from(config), context=context)
        self.env_steps = 0.0
        self.skip_reason = ""

    def run_iteration(self, iteration: int) -> dict[str, float]:
        seed = self.config.seed
        tasks = self.learner.sample_tasks(seed, iteration, self.shard.indices)
        result = self.learner.step(tasks, seed, iteration, self.shard)
        self.env_steps += result.env_steps
        self.skip_reason = result.update.skip_reason
        return progress_row(result, self.env_steps)

    def progress_text(self, stats: dict[str, float]) -> str:
        text = f"return before {stats['return_before']:.1f} after {stats['return_after']:.1f}"
        if "success_after" in stats:
            text += f", success before {stats['success_before']:.0%} after {stats['success_after']:.0%}"
        return text

    def checkpoint(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        tensors = {POLICY_PREFIX + name: t for name, t in self.policy.state_dict().items()}
        tensors |= {OUTER_PREFIX + name: t for name, t in self.learner.outer.state().items()}
        return tensors, {"env_steps": self.env_steps}

    def restore(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        load_weights(self.policy, policy_weights(tensors), "the checkpoint's policy")
        outer = {n.removeprefix(OUTER_PREFIX): t for n, t in tensors.items() if n.startswith(OUTER_PREFIX)}
        self.learner.outer.load_state(outer)
        self.env_steps = float(state["env_steps"])

    def close(self) -> None:
        self.sampler.close()
