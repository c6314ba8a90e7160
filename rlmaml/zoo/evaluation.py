"""The paper's protocol on a zoo entry's checkpoints, merged into its evaluation.json (kept for
the curves after the weights are pruned), the entry's figure, and pruning old weights."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from rlmaml.core.statistics import StepStatistic, finite_or_none
from rlmaml.errors import UserError
from rlmaml.runs.checkpoint import CHECKPOINT_DIR, atomic_write_text
from rlmaml.runs.config_types import SupervisedConfig
from rlmaml.runs.run_guard import LOCK_FILE  # held by `rlmaml train` while it writes
from rlmaml.zoo.entries import (
    EVALUATION_FILE,
    FIGURE_FILE,
    Entry,
    compared_checkpoint,
    read_entry,
    shown_path,
    statistics_of,
    steps_word,
)
from rlmaml.zoo.reference import Reference

# The paper's evaluation: 40 new tasks, 3 steps of 4000 env steps each (fast_batch_size episodes
# at the locomotion configs' horizon; where that differs, as for navigation2d's 40 episodes of 100
# steps, the protocol records "episodes"), fast_lr then fast_lr / 2 (AntDir: fast_lr / 100, recorded as
# "step_sizes"); supervised: 600 held-out
# tasks. A fixed seed, so every checkpoint meets the same tasks.
RL_PROTOCOL: dict[str, Any] = {"num_tasks": 40, "steps": 3, "seed": 0, "lr_schedule": "paper"}
SUPERVISED_TASKS = 600


def protocol_for(entry: Entry, num_tasks: int | None = None) -> dict[str, Any]:
    """The protocol of the entry's kind; `num_tasks` overrides the number of tasks (tests)."""
    if not isinstance(entry.config, SupervisedConfig):
        from rlmaml.rl.adaptation import PAPER_LATER_FACTOR, paper_later_factor, step_sizes
        from rlmaml.rl.evaluation import paper_episodes

        if entry.reference.metric == "success":  # Meta-World's: each of the 50 test goals, one step
            return {"num_tasks": num_tasks or 50, "steps": 1, "seed": 0, "lr_schedule": "training", "split": "test"}
        episodes, config = paper_episodes(entry.config), entry.config
        extra: dict[str, Any] = {} if episodes == config.fast_batch_size else {"episodes": episodes}
        factor = paper_later_factor(config.env)
        if factor != PAPER_LATER_FACTOR:  # AntDir's; the others' are fast_lr then half of it
            extra["step_sizes"] = step_sizes(config.fast_lr, RL_PROTOCOL["steps"], "paper", factor)
        return {**RL_PROTOCOL, "num_tasks": num_tasks or RL_PROTOCOL["num_tasks"], **extra}
    reference = entry.reference
    return {
        "num_tasks": num_tasks or SUPERVISED_TASKS,
        "steps": max(reference.headline),
        "shots": reference.shots or entry.config.shots,
        "split": "test",
        "seed": 0,
        "metric": reference.metric,
    }


def reproduce_command(path: Path, protocol: dict[str, Any], iterations: int) -> str:
    """The `rlmaml` command that prints one checkpoint's evaluation (the same numbers)."""
    common = (
        f"{shown_path(path)} --checkpoint {iterations} --num-tasks {protocol['num_tasks']} --steps {protocol['steps']}"
    )
    if "lr_schedule" in protocol:
        episodes = f" --episodes {protocol['episodes']}" if "episodes" in protocol else ""
        split = f" --split {protocol['split']}" if "split" in protocol else ""
        return (
            f"rlmaml adapt {common}{split} --lr-schedule {protocol['lr_schedule']}{episodes} --seed {protocol['seed']}"
        )
    return f"rlmaml evaluate {common} --shots {protocol['shots']} --split {protocol['split']} --seed {protocol['seed']}"


def json_safe(statistic: StepStatistic) -> dict[str, Any]:
    """A statistic's fields, a value that is not finite written as null."""
    return {key: finite_or_none(v) if isinstance(v, float) else v for key, v in vars(statistic).items()}


def measure(entry: Entry, protocol: dict[str, Any], iteration: int, data_dir: str | None = None) -> dict[str, Any]:
    """One checkpoint under the protocol, with what its metadata says it cost."""
    n, steps, seed = protocol["num_tasks"], protocol["steps"], protocol["seed"]
    statistics: Sequence[StepStatistic]
    successes: dict[str, list[dict[str, Any]]] = {}
    if "lr_schedule" in protocol:
        from rlmaml.rl.evaluation import adapt_and_measure
        from rlmaml.rl.policy_io import load_trained_policy
        from rlmaml.rl.tasks import evaluation_tasks, on_split

        config, policy, metadata = load_trained_policy(entry.path, iteration)
        config = on_split(config, protocol.get("split"))
        tasks = evaluation_tasks(config, n, protocol.get("split"))
        result = adapt_and_measure(
            config, policy, tasks, steps, seed, protocol["lr_schedule"], protocol.get("episodes")
        )
        key, statistics = "returns", result.returns
        if result.successes is not None:
            successes = {"successes": [json_safe(s) for s in result.successes]}
    else:
        from rlmaml.supervised.evaluation import evaluate_held_out
        from rlmaml.supervised.experiment import load_trained_experiment

        overrides = {"shots": protocol["shots"], **({"data_dir": data_dir} if data_dir else {})}
        _, experiment, metadata = load_trained_experiment(entry.path, overrides, iteration)
        key, statistics = "scores", evaluate_held_out(experiment, n, steps, seed, protocol["split"])
    return {
        "iterations": metadata["iterations_done"],
        key: [json_safe(s) for s in statistics],
        **successes,
        "env_steps": metadata["state"].get("env_steps"),
        "wall_time": metadata["wall_time"],
    }


def checkpoints_on_disk(path: Path) -> list[int]:
    """Iterations of the complete checkpoints (those whose JSON exists)."""
    folder = Path(path) / CHECKPOINT_DIR
    return sorted(int(p.stem) for p in folder.glob("[0-9]*.json")) if folder.is_dir() else []


def evaluated(entry: Entry) -> set[int]:
    return {record["iterations"] for record in (entry.evaluation or {}).get("checkpoints", [])}


def to_evaluate(entry: Entry, requested: Iterable[int], all_new: bool) -> list[int]:
    """The checkpoints asked for; with `all_new` also every one on disk not yet evaluated;
    with neither, the newest."""
    on_disk = checkpoints_on_disk(entry.path)
    chosen = set(requested) | ({n for n in on_disk if n not in evaluated(entry)} if all_new else set())
    if not chosen and not all_new:
        if not on_disk:
            raise UserError(f"no checkpoint in {entry.path}/{CHECKPOINT_DIR}: the run saved none yet")
        chosen = {on_disk[-1]}
    return sorted(chosen)


def merged(entry: Entry, protocol: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """evaluation.json with `record` added (replacing an earlier evaluation of its checkpoint)."""
    old = entry.evaluation or {"checkpoints": []}
    if entry.evaluation and old.get("protocol") != protocol:
        raise UserError(
            f"{entry.path / EVALUATION_FILE} was made with the protocol {json.dumps(old.get('protocol'))}, "
            f"not {json.dumps(protocol)}: evaluate with the same, or move the file away to start anew"
        )
    records = {r["iterations"]: r for r in old["checkpoints"]}
    records[record["iterations"]] = record
    latest = max(records)
    return {
        "config": entry.config_name or entry.name,
        "protocol": protocol,
        "command": reproduce_command(entry.path, protocol, latest),
        "checkpoints": [records[n] for n in sorted(records)],
    }


def evaluate_entry(
    path: Path,
    requested: Iterable[int] = (),
    all_new: bool = False,
    num_tasks: int | None = None,
    data_dir: str | None = None,
    log: Callable[[str], None] = print,
) -> Entry:
    """Evaluate the chosen checkpoints one after another, writing evaluation.json after each
    (an interrupted --all-new keeps what it measured), then draw the figure."""
    entry = read_entry(path)
    protocol = protocol_for(entry, num_tasks)
    for iteration in to_evaluate(entry, requested, all_new):
        log(f"{shown_path(entry.path)}: checkpoint {iteration}, {protocol['num_tasks']} tasks ...")
        evaluation = merged(entry, protocol, measure(entry, protocol, iteration, data_dir))
        text = json.dumps(evaluation, indent=2) + "\n"
        atomic_write_text(entry.path / EVALUATION_FILE, text)
        entry.evaluation = evaluation
    if entry.evaluation:
        plot_evaluation(entry.evaluation, entry.reference, entry.path / FIGURE_FILE)
    return entry


def lock_holder(path: Path) -> str | None:
    """The PID in the entry's lock file if a process holds the lock (training), else None.
    The lock is tried and released at once; a missing lock file is created by no one here."""
    lock = Path(path) / LOCK_FILE
    if not lock.is_file():
        return None
    fd = os.open(lock, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def prune(path: Path) -> tuple[list[int], list[int]]:
    """Delete the weights of the checkpoints that evaluation.json holds, but the newest on disk
    (what --resume reads), the newest evaluated (the one the README's command adapts) and the
    one compare.json adapted; (deleted, kept). The JSON goes first: a checkpoint without
    its JSON is incomplete to every reader, never half-read."""
    holder = lock_holder(path)
    if holder is not None:
        raise UserError(f"{path} is being trained (PID {holder} holds {LOCK_FILE}): prune it once training stops")
    entry = read_entry(path)
    if entry.evaluation is None:
        raise UserError(f"{path} has no {EVALUATION_FILE}: evaluate it first (python scripts/zoo_evaluate.py {path})")
    on_disk = checkpoints_on_disk(path)
    older = on_disk[:-1]
    done = evaluated(entry)
    keep = {max(done), compared_checkpoint(path)}
    deleted = [n for n in older if n in done and n not in keep]
    for n in deleted:
        stem = Path(path) / CHECKPOINT_DIR / f"{n:06d}"
        stem.with_suffix(".json").unlink()
        stem.with_suffix(".safetensors").unlink(missing_ok=True)
    return deleted, [n for n in older if n not in deleted]


def plot_evaluation(evaluation: dict[str, Any], reference: Reference, path: Path) -> None:
    """Mean (with 95 % CI band) after 0 and the reported steps against iterations, the
    paper's numbers as dashed lines of the same colour; a step's line joins the checkpoints
    measured at it (records kept from an earlier protocol may hold only the first steps)."""
    import matplotlib.pyplot as plt

    from rlmaml.runs.plots import save_figure  # selects the Agg backend, also after pyplot's import

    records = evaluation["checkpoints"]
    per_step = [{s["step"]: s for s in statistics_of(r)} for r in records]
    shown = sorted({0, *reference.headline, *reference.paper} & set.union(*(set(s) for s in per_step)))
    scale = 100.0 if reference.metric in ("accuracy", "success") else 1.0
    figure, axes = plt.subplots(figsize=(7.8, 4.2))
    for step, color in zip(shown, plt.rcParams["axes.prop_cycle"].by_key()["color"] * 4, strict=False):
        measured = [(r["iterations"], s[step]) for r, s in zip(records, per_step, strict=True) if step in s]
        x = [iterations for iterations, _ in measured]
        means = [scale * (m["mean"] if m["mean"] is not None else float("nan")) for _, m in measured]
        cis = [scale * (m["ci95"] if m["ci95"] is not None else 0.0) for _, m in measured]
        axes.plot(x, means, "o-", color=color, label=f"after {steps_word(step)}")
        axes.fill_between(
            x,
            [m - c for m, c in zip(means, cis, strict=True)],
            [m + c for m, c in zip(means, cis, strict=True)],
            color=color,
            alpha=0.12,
        )
        if step in reference.paper:
            axes.axhline(
                scale * reference.paper[step],
                color=color,
                linestyle="--",
                label=f"{reference.source or 'paper'}, {steps_word(step)}",
            )
    label = {"return": "mean return per episode", "mse": "MSE (log scale)", "accuracy": "accuracy (%)"}
    label["success"] = "success rate on test goals (%)"
    axes.set_ylabel(label[reference.metric])
    axes.set_yscale("log" if reference.metric == "mse" else "linear")
    axes.set_xlabel("meta-iterations of the checkpoint")
    protocol = evaluation["protocol"]
    axes.set_title(f"{reference.task}: {protocol['num_tasks']} tasks, seed {protocol['seed']} (bands: 95 % CI)")
    axes.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8)
    axes.grid(alpha=0.3, which="both")
    figure.tight_layout()
    save_figure(figure, path, dpi=120)
