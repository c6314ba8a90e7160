"""The meta-training loop shared by every mode: iterations, progress.csv, TensorBoard,
checkpoints, resume and the progress bar. What one iteration does is the experiment's job.
In a distributed run every process iterates, and rank 0 alone reads and writes the run.

Rank 0 holds the run directory's lock while it trains; everything a resume reads back is
checked before anything in the directory is written; SIGTERM and SIGINT stop the run with
a checkpoint of its last complete iteration; an update the experiment had to skip (a
non-finite step) is counted, and `max_skipped_updates` in a row stop the run."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Protocol

import torch
from tqdm import tqdm

from rlmaml.errors import RunFailed, Setting, Stopped, UserError
from rlmaml.runs.checkpoint import (
    CHECKPOINT_DIR,
    latest_checkpoint,
    load_checkpoint,
    remove_stale_temporaries,
    save_checkpoint,
)
from rlmaml.runs.config_types import RunConfig
from rlmaml.runs.distributed import Context
from rlmaml.runs.logger import ProgressLog
from rlmaml.runs.run_dir import CONFIG_FILE, check_resumable, read_run_config, write_config
from rlmaml.runs.run_guard import LOCK_FILE, RunLock, StopRequested, stop_behind, stop_on_signals

SKIPPED = "update_skipped"  # the progress.csv column every experiment reports, 1 or 0
# What a checkpoint holds of an experiment: tensors by name and JSON-able counters
Snapshot = tuple[dict[str, torch.Tensor], dict[str, Any]]


class Experiment(Protocol):
    """One mode of meta-training (RL, supervised), as the trainer drives it."""

    @property
    def columns(self) -> tuple[str, ...]:
        """progress.csv columns besides iteration and wall_time, ending in SKIPPED."""

    @property
    def skip_reason(self) -> str:
        """What was not finite, when the last iteration's update was skipped ("" otherwise)."""

    def run_iteration(self, iteration: int) -> dict[str, float]: ...

    def progress_text(self, stats: dict[str, float]) -> str: ...

    def checkpoint(self) -> Snapshot:
        """Tensors (weights, optimiser state) and JSON-able counters that resume needs."""
        ...

    def restore(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


def check_new_run_dir(run_dir: Path) -> None:
    """A fresh run goes into a new or empty directory: never over another run's files or
    another program's."""
    if run_dir.exists() and not run_dir.is_dir():
        raise UserError(Setting.RUN_DIR, f" {run_dir} is a file, not a directory: give a directory for the run")
    if not run_dir.is_dir():
        return
    entries = sorted(p.name for p in run_dir.iterdir() if p.name != LOCK_FILE)
    if (run_dir / "progress.csv").exists() or latest_checkpoint(run_dir):
        raise UserError(
            f"{run_dir} already holds a run: pass ", Setting.RESUME, " to continue it, or another ", Setting.RUN_DIR
        )
    if entries:
        raise UserError(
            f"{run_dir} is not empty and not an rlmaml run (it holds {entries[0]}): give another ", Setting.RUN_DIR
        )


class Trainer:
    """Runs `config.iterations` iterations of `experiment` into `run_dir`, writing the
    config's mapping to config.yaml and to every checkpoint."""

    def __init__(
        self,
        config: RunConfig,
        run_dir: Path,
        experiment: Experiment,
        resume: bool = False,
        show_progress: bool = True,
        context: Context | None = None,
    ) -> None:
        self.config = config
        self.run_dir = Path(run_dir)
        self.experiment = experiment
        self.context = context or Context()
        self.show_progress = show_progress and self.context.is_main
        self.start_iteration, self.wall_offset = 0, 0.0
        self.lock: RunLock | None = None
        self.log: ProgressLog | None = None
        if self.context.is_main:
            self._open_run_dir(resume)
        self._share_start()

    def _open_run_dir(self, resume: bool) -> None:
        """Lock the directory, read back and check what a resume needs, and only then write."""
        if resume:
            if not (self.run_dir / CONFIG_FILE).is_file():
                read_run_config(self.run_dir)  # raises the one-line "no run at ..."
        else:
            check_new_run_dir(self.run_dir)
            try:
                self.run_dir.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise UserError(f"cannot create the run directory {self.run_dir}: {error.strerror}") from None
        self.lock = RunLock(self.run_dir)
        try:
            remove_stale_temporaries(self.run_dir)
            if resume:
                self._restore()
            columns = ("iteration", "wall_time", *self.experiment.columns)
            self.log = ProgressLog(self.run_dir, columns, self.start_iteration)
            write_config(self.run_dir, self.config.to_mapping())
        except BaseException:
            self.lock.release()
            raise

    def _share_start(self) -> None:
        """Every process starts from rank 0's weights and counters, fresh or resumed: only
        rank 0 needs to see the run directory."""
        if self.context.world_size == 1:
            return
        tensors, state = self.experiment.checkpoint() if self.context.is_main else ({}, {})
        start = {"state": state, "iteration": self.start_iteration, "wall_time": self.wall_offset}
        start = self.context.broadcast_json(start)
        tensors = self.context.broadcast_tensors(tensors)
        if not self.context.is_main:
            self.experiment.restore(tensors, start["state"])
            self.start_iteration, self.wall_offset = start["iteration"], start["wall_time"]

    def _restore(self) -> None:
        check_resumable(read_run_config(self.run_dir), self.config.to_mapping())
        checkpoint = latest_checkpoint(self.run_dir)
        if checkpoint is None:
            return  # nothing saved yet: start from scratch in the same directory
        tensors, metadata = load_checkpoint(checkpoint)
        try:
            self.experiment.restore(tensors, metadata["state"])
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise UserError(f"checkpoint {checkpoint} cannot be resumed: {first_line}") from None
        self.start_iteration = metadata["iterations_done"]
        self.wall_offset = float(metadata["wall_time"])

    def _save(self, iterations_done: int, wall_time: float, snapshot: Snapshot | None = None) -> None:
        tensors, state = snapshot or self.experiment.checkpoint()
        metadata = {
            "iterations_done": iterations_done,
            "wall_time": wall_time,
            "state": state,
            "config": self.config.to_mapping(),
        }
        save_checkpoint(self.run_dir, iterations_done, tensors, metadata)

    def _snapshot(self) -> Snapshot:
        """A copy of the experiment's state between iterations: what a stop saves."""
        tensors, state = self.experiment.checkpoint()
        return {name: t.detach().clone() for name, t in tensors.items()}, dict(state)

    def _check_divergence(self, skipped_in_a_row: int, iteration: int) -> None:
        limit = self.config.max_skipped_updates
        if skipped_in_a_row < limit:
            return
        last = latest_checkpoint(self.run_dir) if self.context.is_main else None
        resume = f"checkpoint {last.stem.lstrip('0') or '0'}" if last else "the start"
        raise RunFailed(
            f"training diverged: {self.experiment.skip_reason} in {limit} updates in a row (iterations "
            f"{iteration - limit + 1} to {iteration}, all skipped, the weights kept finite); resume from {resume} "
            "with ",
            Setting.RESUME,
            " and a smaller fast_lr, meta_lr or max_kl (",
            Setting.OVERRIDES,
            ")",
        )

    def run(self) -> None:
        total, every = self.config.iterations, self.config.checkpoint_every
        main = self.context.is_main
        start = time.perf_counter()
        bar = tqdm(
            range(self.start_iteration, total),
            initial=self.start_iteration,
            total=total,
            disable=not self.show_progress,
            desc="meta-train",
            unit="it",
        )
        skipped_in_a_row = 0
        # (iterations done, wall time, state) after the last complete iteration, in one
        # assignment, so a signal never sees the state of one iteration with another's count
        last_complete = (self.start_iteration, self.wall_offset, self._snapshot() if main else None)
        try:
            with stop_on_signals() as signals:
                try:
                    for iteration in bar:
                        stats = self.experiment.run_iteration(iteration)
                        skipped_in_a_row = skipped_in_a_row + 1 if stats[SKIPPED] else 0
                        wall_time = self.wall_offset + time.perf_counter() - start
                        with signals.deferred():  # a signal here waits for the row and the checkpoint
                            if main:
                                assert self.log is not None  # rank 0 opened it with the run directory
                                row = {"wall_time": wall_time, **stats}
                                self.log.write(iteration, {k: row[k] for k in ("wall_time", *self.experiment.columns)})
                                bar.set_postfix_str(self.experiment.progress_text(stats))
                                if (iteration + 1) % every == 0 or iteration + 1 == total:
                                    self._save(iteration + 1, wall_time)
                            last_complete = (iteration + 1, wall_time, self._snapshot() if main else None)
                        self._check_divergence(skipped_in_a_row, iteration)
                    if main and latest_checkpoint(self.run_dir) is None:  # zero iterations: keep the initial weights
                        self._save(self.start_iteration, self.wall_offset)
                except StopRequested as stop:
                    self._stop(stop, *last_complete)
                except Exception as error:  # a stop that landed inside a library's own cleanup
                    behind = stop_behind(error)
                    if behind is None:
                        raise
                    self._stop(behind, *last_complete)
        finally:
            bar.close()
            if self.log:
                self.log.close()
            if self.lock:
                self.lock.release()
            self.experiment.close()

    def _stop(self, stop: StopRequested, done: int, wall_time: float, snapshot: Snapshot | None) -> None:
        """Save the last complete iteration (unless its checkpoint exists) and say where to resume."""
        if self.context.is_main:
            checkpoint = self.run_dir / CHECKPOINT_DIR / f"{done:06d}.json"
            if not checkpoint.is_file():
                self._save(done, wall_time, snapshot)
        raise Stopped(
            f"stopped by {stop} after {done} complete iterations, saved in {self.run_dir}",
            stop.signum,
            self.run_dir,
        ) from None
