"""Figures: 2D-navigation trajectories before and after adaptation."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from rlmaml.evaluation import AdaptationResult  # noqa: E402


def plot_navigation(result: AdaptationResult, path: Path, max_tasks: int = 4) -> None:
    """One panel per task (up to `max_tasks`): every episode's path before adaptation and
    after the last step, the start and the goal."""
    num = min(max_tasks, len(result.tasks))
    fig, axes = plt.subplots(1, num, figsize=(4.2 * num, 4.4), squeeze=False)
    last = len(result.episodes) - 1
    for i, ax in enumerate(axes[0]):
        for step, color in ((0, "tab:blue"), (last, "tab:red")):
            episodes = result.episodes[step]
            obs = episodes.observations[:, i].numpy()  # [T, E, 2]
            mask = episodes.mask[:, i].numpy().astype(bool)
            for e in range(obs.shape[1]):
                xy = obs[mask[:, e], e]
                label = ("before adaptation" if step == 0 else f"after {step} step(s)") if e == 0 else None
                ax.plot(xy[:, 0], xy[:, 1], color=color, alpha=0.35, linewidth=1, label=label)
        goal = result.tasks[i]["goal"]
        ax.plot(0, 0, "ks", label="start")
        ax.plot(goal[0], goal[1], "*", color="gold", markeredgecolor="k", markersize=16, label="goal")
        ax.set_title(f"task {i}: goal ({goal[0]:.2f}, {goal[1]:.2f})")
        ax.set_xlabel("x position")
        ax.set_ylabel("y position")
        ax.set_aspect("equal", adjustable="datalim")
        ax.grid(alpha=0.3)
    axes[0][0].legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
