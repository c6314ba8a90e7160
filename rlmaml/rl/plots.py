"""Meta-RL figures: navigation trajectories before and after adaptation, MAML against baselines."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np

from rlmaml.core.statistics import StepStatistic
from rlmaml.rl.evaluation import AdaptationResult
from rlmaml.runs.plots import save_figure  # importing it selects the Agg backend

if TYPE_CHECKING:  # rlmaml.rl.compare imports Stable-Baselines3, which navigation plots do not need
    from rlmaml.rl.compare import Measured


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
        goal = np.asarray(result.tasks[i]["goal"], dtype=float)
        ax.plot(0, 0, "ks", label="start")
        ax.plot(goal[0], goal[1], "*", color="gold", markeredgecolor="k", markersize=16, label="goal")
        ax.set_title(f"task {i}: goal ({goal[0]:.2f}, {goal[1]:.2f})")
        ax.set_xlabel("x position")
        ax.set_ylabel("y position")
        ax.set_aspect("equal", adjustable="datalim")
        ax.grid(alpha=0.3)
    axes[0][0].legend(loc="best", fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)


def plot_comparison(results: dict[str, Measured], env_id: str, num_tasks: int, path: Path) -> None:
    """Mean return against the number of gradient steps, with 95 % CI bands, and beside it the
    success rate for envs that report one (Meta-World's)."""
    successes = {label: m.successes for label, m in results.items() if m.successes is not None}
    panels = [({label: m.returns for label, m in results.items()}, "average return per episode")]
    if successes:
        panels.append((successes, "success rate"))
    figure, axes = plt.subplots(1, len(panels), figsize=(3.9 + 3.9 * len(panels), 4.2), squeeze=False)
    for ax, (values, ylabel) in zip(axes[0], panels, strict=True):
        draw_methods(ax, values)
        ax.set_ylabel(ylabel)
    figure.suptitle(f"{env_id}: {num_tasks} tasks (bands: 95 % CI over tasks)", fontsize=10)
    axes[0][-1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=9)
    figure.tight_layout()
    save_figure(figure, path, dpi=120)


def draw_methods(axes: Any, results: dict[str, list[StepStatistic]]) -> None:
    """One line per method against the gradient steps. A method measured before adaptation
    only (the oracle) is drawn as a dashed level across the axis."""
    all_steps = list(range(max(len(values) for values in results.values())))
    for label, values in results.items():
        level = len(values) == 1 and len(all_steps) > 1
        steps = all_steps if level else [v.step for v in values]
        means = [values[0].mean] * len(steps) if level else [v.mean for v in values]
        ci = [values[0].ci95] * len(steps) if level else [v.ci95 for v in values]
        style: dict[str, Any] = {"linestyle": "--"} if level else {"marker": "o"}
        line = axes.plot(steps, means, label=label + (" (not adapted)" if level else ""), **style)[0]
        axes.fill_between(
            steps,
            [m - c for m, c in zip(means, ci, strict=True)],
            [m + c for m, c in zip(means, ci, strict=True)],
            color=line.get_color(),
            alpha=0.2,
        )
    axes.set_xlabel("number of gradient steps")
    axes.set_xticks(all_steps)
    axes.grid(alpha=0.3)
