"""Figures: sinusoid regression before and after adaptation."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch

from rlmaml.supervised.learner import SupervisedMetaLearner
from rlmaml.supervised.sinusoid import INPUT_RANGE, SinusoidBatch, sinusoid


def plot_sinusoid(learner: SupervisedMetaLearner, batch: SinusoidBatch, steps: int, path: Path) -> None:
    """One panel per task: the true curve, the support points, and the prediction before
    adaptation and after `steps` inner steps."""
    num = batch.num_tasks
    trajectory = learner.adapt(batch, steps, first_order=True)
    grid = torch.linspace(*INPUT_RANGE, 200).view(1, -1, 1).expand(num, -1, -1)
    with torch.no_grad():
        before = learner.predict(trajectory[0], grid, 0)
        after = learner.predict(trajectory[-1], grid, steps)
    truth = sinusoid(grid, batch.amplitude, batch.phase)
    fig, axes = plt.subplots(1, num, figsize=(4.2 * num, 3.6), squeeze=False)
    x = grid[0, :, 0].numpy()
    for i, ax in enumerate(axes[0]):
        ax.plot(x, truth[i, :, 0].numpy(), color="k", linewidth=1.5, label="true function")
        ax.plot(x, before[i, :, 0].numpy(), color="tab:blue", linestyle="--", label="before adaptation")
        ax.plot(x, after[i, :, 0].numpy(), color="tab:red", label=f"after {steps} step(s)")
        ax.plot(batch.support_inputs[i, :, 0], batch.support_targets[i, :, 0], "o", color="tab:orange", label="support")
        ax.set_title(f"A = {batch.amplitude[i]:.2f}, phase = {batch.phase[i]:.2f}")
        ax.set_xlabel("x")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("y")
    axes[0][0].legend(loc="best", fontsize=8)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
