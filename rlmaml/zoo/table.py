"""The README's results table, generated from the zoo so that it cannot drift from the
entries it reports (scripts/zoo_table.py writes it; --check, in CI, compares)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rlmaml.errors import UserError
from rlmaml.runs.config import load_config, packaged_configs, typed_config
from rlmaml.runs.plots import read_progress
from rlmaml.zoo.entries import (
    Entry,
    evaluate_command,
    latest_record,
    paper_text,
    result_text,
    shown_path,
    steps_text,
    zoo_entries,
)
from rlmaml.zoo.reference import PAPER, Reference, reference_for

START, END = "<!-- zoo-table:start -->", "<!-- zoo-table:end -->"
HEADER = (
    "task",
    "entry",
    "rlmaml (latest evaluated checkpoint)",
    "paper",
    "iterations done",
    "s / iteration",
    "training time (wall-clock, one process)",
    "evaluated with",
)


def iteration_times(entry: Entry) -> tuple[float, float] | None:
    """(median seconds per iteration, the last wall_time) from progress.csv; None before the
    first row. A resumed run's wall_time continues the earlier one's, so its gaps are iterations;
    rows of a thinned file are several iterations apart."""
    progress = read_progress(entry.path) if (entry.path / "progress.csv").is_file() else {}
    wall, iteration = progress.get("wall_time"), progress.get("iteration")
    if wall is None or iteration is None or wall.size == 0:
        return None
    gaps = np.diff(wall) / np.diff(iteration) if wall.size > 1 else wall
    return float(np.median(gaps)), float(wall[-1])


def duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.1f} s"


def task_cell(reference: Reference) -> str:
    return f"{reference.task}, {steps_text(reference)}"


def entry_row(entry: Entry) -> list[str]:
    record = latest_record(entry.evaluation)
    done = f"{entry.iterations_done} of {entry.config.iterations}"
    if record and record["iterations"] != entry.iterations_done:
        done += f" (evaluated at {record['iterations']})"
    times = iteration_times(entry)
    per_iteration, total = (
        (f"{times[0]:.1f}" if times[0] >= 1 else f"{times[0]:.3f}", duration(times[1])) if times else ("—", "—")
    )
    command = (entry.evaluation or {})["command"] if record else evaluate_command(entry)
    return [
        task_cell(entry.reference),
        f"`{shown_path(entry.path)}`",
        result_text(entry) if record else "not evaluated yet",
        paper_text(entry.reference),
        done,
        per_iteration,
        total,
        f"`{command}`",
    ]


def untrained_row(name: str) -> list[str]:
    reference = PAPER.get(name) or reference_for(name, typed_config(load_config(name)))
    train = f"`rlmaml train {name} --out zoo/{name}`"
    return [task_cell(reference), "—", "not trained yet", paper_text(reference), "—", "—", "—", train]


# Packaged configs that are problems with known answers, for `rlmaml gradcheck`: nothing to ship.
CHECKS = ("gaussian-bandit", "bernoulli-bandit", "tabular-mdp")


def table_rows(zoo_dir: Path) -> list[list[str]]:
    """Every packaged config in the paper's order (then the rest by name): a row per entry
    trained from it, or one saying it is not trained yet; then entries of other configs."""
    entries = zoo_entries(zoo_dir) if Path(zoo_dir).is_dir() else []
    order = [*PAPER, *(name for name in packaged_configs() if name not in (*PAPER, *CHECKS))]
    rows = []
    for name in order:
        trained = [entry for entry in entries if entry.config_name == name]
        rows += [entry_row(entry) for entry in trained] if trained else [untrained_row(name)]
    rows += [entry_row(entry) for entry in entries if entry.config_name not in order]
    return rows


def render_table(zoo_dir: Path) -> str:
    lines = [HEADER, ("---",) * len(HEADER), *table_rows(zoo_dir)]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def with_table(readme: str, table: str) -> str:
    """The README text with the part between the markers replaced by the table."""
    start, end = readme.find(START), readme.find(END)
    if start < 0 or end < start:
        raise UserError(f"the README has no '{START}' ... '{END}' markers to put the zoo table between")
    return f"{readme[: start + len(START)]}\n{table}\n{readme[end:]}"
