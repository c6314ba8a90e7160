"""Figures of either mode: training curves from progress.csv, and the figure-saving they share
(the meta-RL figures, which need the RL evaluation, are in rlmaml/rl/plots.py)."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure


def save_figure(figure: Figure, path: Path, dpi: int) -> None:
    """Save into `path` (its folder created) and free the figure."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=dpi, bbox_inches="tight")  # legends below the axes stay whole
    plt.close(figure)


def read_progress(run_dir: Path) -> dict[str, np.ndarray]:
    """progress.csv as one array per column; a row still being written by a running job is left out."""
    with (Path(run_dir) / "progress.csv").open(newline="") as f:
        rows = [row for row in csv.DictReader(f) if None not in row.values() and "" not in row.values()]
    return {column: np.array([float(row[column]) for row in rows]) for column in rows[0]} if rows else {}


@dataclass(frozen=True)
class Panel:
    """One axis of a training-curve figure: `{metric}_before` and `{metric}_after` of
    progress.csv against the column `x` (times `x_scale`)."""

    x: str
    metric: str
    xlabel: str
    ylabel: str
    x_scale: float = 1.0
    log_y: bool = False


META_RL_PANELS = (
    Panel("iteration", "return", "meta-iteration", "mean return per episode"),
    Panel("env_steps", "return", "env steps of meta-training (millions)", "mean return per episode", 1e-6),
)


def supervised_panels(classification: bool) -> tuple[Panel, ...]:
    """Query loss, and for classification query accuracy, against meta-iterations."""
    loss_name = "query loss" + (" (cross-entropy)" if classification else " (MSE)")
    loss = Panel("iteration", "loss", "meta-iteration", loss_name, log_y=True)
    return (loss, Panel("iteration", "accuracy", "meta-iteration", "query accuracy")) if classification else (loss,)


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over `window` entries along the last axis (the first window - 1 are
    dropped); a non-finite entry spoils only the windows that hold it."""
    if window <= 1:
        return values
    means: np.ndarray = np.lib.stride_tricks.sliding_window_view(values, window, axis=-1).mean(axis=-1)
    return means


def plot_training_curves(
    groups: dict[str, Sequence[dict[str, np.ndarray]]],
    path: Path,
    panels: Sequence[Panel],
    window: int | None,
) -> None:
    """Each panel's metric before and after adaptation. Each group (runs of one config,
    several seeds) is drawn as the mean over its runs, on the iterations all of them
    reached, with a band from the lowest to the highest run. A `window` above 1 (cut to the
    shortest run; None: a fiftieth of it) draws trailing means, for metrics measured on one
    noisy meta-batch per iteration."""
    share_y = len({panel.metric for panel in panels}) == 1
    width = max(7.0, 5.5 * len(panels))
    figure, axes = plt.subplots(1, len(panels), figsize=(width, 4.2), sharey=share_y, squeeze=False)
    axes = axes[0]
    shortest = min(len(run["iteration"]) for runs in groups.values() for run in runs)
    window = min(window or max(1, shortest // 50), shortest)
    colors = itertools.cycle(plt.rcParams["axes.prop_cycle"].by_key()["color"])
    for (label, runs), color in zip(groups.items(), colors, strict=False):  # the colours repeat endlessly
        length = min(len(run["iteration"]) for run in runs)
        suffix = f" (mean of {len(runs)} runs, band: min to max)" if len(runs) > 1 else ""
        for axis, panel in zip(axes, panels, strict=True):
            x = np.mean([run[panel.x][:length] for run in runs], axis=0) * panel.x_scale
            x = x + 1 if panel.x == "iteration" else x  # iterations completed
            for stage, style in (("before", "--"), ("after", "-")):
                values = np.stack([run[f"{panel.metric}_{stage}"][:length] for run in runs])
                values, shown_x = moving_average(values, window), x[window - 1 :]
                name = f"{label}, {stage} adaptation{suffix}"
                axis.plot(shown_x, values.mean(axis=0), style, color=color, label=name)
                if len(runs) > 1:
                    axis.fill_between(shown_x, values.min(axis=0), values.max(axis=0), color=color, alpha=0.15)
    for axis, panel in zip(axes, panels, strict=True):
        axis.set_xlabel(panel.xlabel)
        axis.set_ylabel(panel.ylabel)
        axis.set_yscale("log" if panel.log_y else "linear")
        axis.grid(alpha=0.3, which="both")
    if window > 1:
        figure.suptitle(f"trailing means over {window} meta-iterations", fontsize=10)
    handles, labels = axes[0].get_legend_handles_labels()
    columns = min(2, len(panels))
    figure.legend(handles, labels, loc="lower center", ncol=columns, fontsize=8, frameon=False)
    figure.tight_layout(rect=(0, 0.06 * (-(-len(labels) // columns)), 1, 1))
    save_figure(figure, path, dpi=120)
