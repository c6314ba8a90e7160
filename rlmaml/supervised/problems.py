"""From a supervised config to its task sampler, model, loss and score."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from rlmaml.errors import UserError
from rlmaml.runs.config_types import ClassificationConfig, SinusoidConfig
from rlmaml.supervised.fewshot import FewShotTasks, split_classes
from rlmaml.supervised.images import ImageClasses, find_class_files, load_image_classes
from rlmaml.supervised.learner import PerTask
from rlmaml.supervised.models import ConvNet, MetaModel, RegressionMLP
from rlmaml.supervised.omniglot import load_omniglot
from rlmaml.supervised.sinusoid import SinusoidTasks


def mse_per_task(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return (outputs - targets).square().flatten(1).mean(1)


def cross_entropy_per_task(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits.flatten(0, 1), labels.flatten(), reduction="none").view(labels.shape).mean(1)


def accuracy_per_task(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return (logits.argmax(-1) == labels).to(logits.dtype).mean(1)


@dataclass
class Problem:
    tasks: SinusoidTasks | FewShotTasks
    model: MetaModel
    loss: PerTask
    score: PerTask  # MSE for regression, accuracy for classification

    @property
    def metric(self) -> str:
        return self.tasks.metric


@functools.lru_cache(maxsize=2)
def image_classes(dataset: str, data_dir: str, size: int, channels: int) -> ImageClasses:
    """Decoded once per process: evaluating right after training reuses the images."""
    folder = Path(data_dir).expanduser()
    if dataset == "omniglot":
        return load_omniglot(folder, size, channels)
    if not folder.is_dir():
        raise UserError(
            f"data_dir {folder.resolve()} is not a folder: it should hold one sub-folder of images per class"
        )
    class_files = find_class_files(folder)
    if not class_files:
        raise UserError(f"no images found in {folder.resolve()}: it should hold one sub-folder of images per class")
    return load_image_classes(class_files, size, channels)


def build_problem(config: SinusoidConfig | ClassificationConfig) -> Problem:
    """The model is initialised from the config's seed, like the RL policy."""
    torch.manual_seed(config.seed)
    if isinstance(config, SinusoidConfig):
        regression = SinusoidTasks(config.shots, config.query_shots)
        return Problem(regression, RegressionMLP(config.hidden_sizes), mse_per_task, mse_per_task)
    classes = image_classes(config.dataset, config.data_dir, config.image_size, config.channels)
    splits = split_classes(len(classes.names), config.train_classes, config.val_classes)
    tasks = FewShotTasks(classes, splits, config.ways, config.shots, config.query_shots, config.rotations)
    model = ConvNet(
        config.channels,
        config.ways,
        config.filters,
        config.conv_blocks,
        stages=config.num_steps + 1 if config.per_step_bn else 1,
        running=config.bn_mode == "running",
    )
    return Problem(tasks, model, cross_entropy_per_task, accuracy_per_task)
