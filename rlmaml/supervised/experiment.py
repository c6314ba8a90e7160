"""Supervised meta-learning as an experiment for the trainer, and a trained run loaded back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from rlmaml.errors import UserError
from rlmaml.runs.config import is_supervised, typed_config
from rlmaml.runs.config_types import ClassificationConfig, SinusoidConfig, SupervisedConfig
from rlmaml.runs.distributed import Context
from rlmaml.runs.run_dir import load_latest_checkpoint, read_run_config
from rlmaml.supervised.learner import MetaSettings, SupervisedMetaLearner
from rlmaml.supervised.problems import build_problem


class SupervisedExperiment:
    """Samples a meta-batch of training tasks per iteration, seeded by (seed, iteration,
    task index), and takes one Adam step of the learner."""

    def __init__(self, config: SinusoidConfig | ClassificationConfig, context: Context | None = None) -> None:
        """With a distributed `context` this process samples and adapts its shard of each
        meta-batch, on the context's device."""
        self.config = config
        context = context or Context()
        self.shard = context.shard(config.meta_batch_size)
        self.device = context.device
        self.problem = build_problem(config)
        self.problem.model.to(self.device)
        self.learner = SupervisedMetaLearner(
            self.problem.model, self.problem.loss, self.problem.score, MetaSettings.from_config(config), context
        )
        self.classification = self.problem.metric == "accuracy"
        accuracy = ("accuracy_before", "accuracy_after") if self.classification else ()
        self.columns = ("loss_before", "loss_after", *accuracy, "update_skipped")

    def run_iteration(self, iteration: int, per_task_loop: bool = False) -> dict[str, float]:
        """`per_task_loop`: the unbatched reference (see SupervisedMetaLearner.step)."""
        batch = self.problem.tasks.sample(self.shard.indices, self.config.seed, iteration).to(self.device)
        stats = self.learner.step(batch, iteration, self.shard, per_task_loop)
        if self.classification:
            stats["accuracy_before"], stats["accuracy_after"] = stats["score_before"], stats["score_after"]
        return stats

    @property
    def skip_reason(self) -> str:
        return self.learner.skip_reason

    def progress_text(self, stats: dict[str, float]) -> str:
        text = f"loss before {stats['loss_before']:.3f} after {stats['loss_after']:.3f}"
        if self.classification:
            text += f", accuracy {stats['accuracy_before']:.1%} -> {stats['accuracy_after']:.1%}"
        return text

    def checkpoint(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        return self.learner.state_tensors(), {}

    def restore(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        try:
            self.learner.load_state_tensors(tensors)
        except (RuntimeError, KeyError) as error:
            raise UserError(f"the checkpoint does not fit this config's model: {str(error).splitlines()[0]}") from None

    def close(self) -> None:
        """Nothing to release: the data lives in memory."""


def load_trained_experiment(
    run_dir: Path, overrides: dict[str, Any] | None = None, iteration: int | None = None
) -> tuple[dict[str, Any], SupervisedExperiment, dict[str, Any]]:
    """(the config's mapping, experiment with the weights of the latest checkpoint, or of
    the one saved after `iteration` iterations, checkpoint metadata). `overrides` change keys
    that do not touch the weights, e.g. shots or data_dir. The experiment's `config` is the
    typed config; the mapping is for callers that read the run's config as a mapping."""
    saved = read_run_config(run_dir)
    config = typed_config({**saved, **(overrides or {})}) if is_supervised(saved) else None
    if not isinstance(config, SupervisedConfig):
        raise UserError(f"{run_dir} is a meta-RL run: use `rlmaml adapt` on it")
    _, tensors, metadata = load_latest_checkpoint(run_dir, iteration)
    experiment = SupervisedExperiment(config)
    experiment.restore(tensors, metadata["state"])
    return config.to_mapping(), experiment, metadata
