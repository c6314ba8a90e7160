"""N-way K-shot classification tasks from image classes: a fixed class split into
meta-training, validation and test, optional rotations as new classes, labels remapped
per task."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from rlmaml.core.seeding import task_rng
from rlmaml.errors import UserError
from rlmaml.supervised.images import ImageClasses
from rlmaml.supervised.tasks import TaskBatch

SPLIT_SEED = 1  # the class split is part of the dataset's definition, not of a run
ROTATIONS = 4  # 0, 90, 180 and 270 degrees


def split_classes(num_classes: int, train: int, val: int) -> dict[str, np.ndarray]:
    """A fixed shuffle of the classes: the first `train` for meta-training, the next `val`
    for validation, the rest for test."""
    if train + val >= num_classes:
        raise UserError(
            f"train_classes + val_classes = {train + val} leave no test classes: the dataset has {num_classes}"
        )
    order = np.random.default_rng(SPLIT_SEED).permutation(num_classes)
    return {"train": order[:train], "val": order[train : train + val], "test": order[train + val :]}


class FewShotTasks:
    """`ways` classes per task, `shots` support and `query_shots` query images per class.
    With `rotations`, each class rotated by 90, 180 and 270 degrees is a class of its own."""

    metric = "accuracy"

    def __init__(
        self,
        classes: ImageClasses,
        splits: dict[str, np.ndarray],
        ways: int,
        shots: int,
        query_shots: int,
        rotations: bool,
    ) -> None:
        self.classes, self.splits = classes, splits
        self.ways, self.shots, self.query_shots = ways, shots, query_shots
        self.rotations = ROTATIONS if rotations else 1
        for split in ("train", "test"):
            self.check_split(split)
        needed = shots + query_shots
        fewest = int(np.argmin(classes.count))
        if classes.count[fewest] < needed:
            raise UserError(
                f"shots + query_shots = {needed} images per class are needed, but class "
                f"'{classes.names[fewest]}' has only {classes.count[fewest]}"
            )

    def classes_in(self, split: str) -> int:
        return len(self.splits[split]) * self.rotations

    def check_split(self, split: str) -> None:
        available = self.classes_in(split)
        if available < self.ways:
            raise UserError(
                f"ways = {self.ways} is more than the {available} classes of the {split} split "
                f"({len(self.splits[split])} class folders{' x 4 rotations' if self.rotations > 1 else ''})"
            )

    def sample(self, task_indices: Sequence[int], seed: int, iteration: int, split: str = "train") -> TaskBatch:
        """Tasks as float images in [0, 1]: support [T, N*K, C, H, W], labels [T, N*K]."""
        self.check_split(split)
        per_class = self.shots + self.query_shots
        members, rotations = [], []
        for i in task_indices:
            rng = task_rng(seed, iteration, i)
            chosen = rng.choice(self.classes_in(split), self.ways, replace=False)
            base = self.splits[split][chosen // self.rotations]
            rotations.append(chosen % self.rotations)
            offsets = [rng.choice(self.classes.count[c], per_class, replace=False) for c in base]
            members.append(self.classes.start[base][:, None] + np.stack(offsets))
        images = self.classes.images[torch.from_numpy(np.stack(members))]  # [T, N, K+Q, C, H, W]
        turns = torch.from_numpy(np.stack(rotations))
        for quarter in range(1, self.rotations):
            turned = turns == quarter
            images[turned] = torch.rot90(images[turned], quarter, dims=(-2, -1))
        images = images.float() / 255.0
        num_tasks = len(task_indices)
        labels = torch.arange(self.ways).view(1, self.ways, 1).expand(num_tasks, self.ways, per_class)

        def part(tensor: torch.Tensor, index: slice) -> torch.Tensor:
            return tensor[:, :, index].reshape(num_tasks, -1, *tensor.shape[3:])

        support, query = slice(0, self.shots), slice(self.shots, per_class)
        return TaskBatch(part(images, support), part(labels, support), part(images, query), part(labels, query))
