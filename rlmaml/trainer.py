"""The meta-training loop shared by every mode: iterations, progress.csv, TensorBoard,
checkpoints, resume and the progress bar. What one iteration does is the experiment's job.
In a distributed run every process iterates, and rank 0 alone reads and writes the run."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Protocol

import torch
from tqdm import tqdm

from rlmaml.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from rlmaml.distributed import Context
from rlmaml.errors import UserError
from rlmaml.logger import ProgressLog
from rlmaml.run import check_resumable, read_run_config, write_config


class Experiment(Protocol):
    """One mode of meta-training (RL, supervised), as the trainer drives it."""

    columns: tuple[str, ...]  # progress.csv columns besides iteration and wall_time

    def run_iteration(self, iteration: int) -> dict[str, float]: ...

    def progress_text(self, stats: dict[str, float]) -> str: ...

    def checkpoint(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Tensors (weights, optimiser state) and JSON-able counters that resume needs."""
        ...

    def restore(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


class Trainer:
    """Runs `config["iterations"]` iterations of `experiment` into `run_dir`."""

    def __init__(
        self,
        config: dict[str, Any],
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
        if self.context.is_main:
            if resume:
                self._restore()
            elif (self.run_dir / "progress.csv").exists() or latest_checkpoint(self.run_dir):
                raise UserError(f"{self.run_dir} already holds a run: pass --resume to continue it, or another --out")
            write_config(self.run_dir, config)
        self._share_start()

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
        check_resumable(read_run_config(self.run_dir), self.config)
        checkpoint = latest_checkpoint(self.run_dir)
        if checkpoint is None:
            return  # nothing saved yet: start from scratch in the same directory
        tensors, metadata = load_checkpoint(checkpoint)
        try:
            self.experiment.restore(tensors, metadata["state"])
            self.start_iteration = int(metadata["iterations_done"])
            self.wall_offset = float(metadata["wall_time"])
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise UserError(f"checkpoint {checkpoint} cannot be resumed: {first_line}") from None

    def _save(self, iterations_done: int, wall_time: float) -> None:
        tensors, state = self.experiment.checkpoint()
        metadata = {"iterations_done": iterations_done, "wall_time": wall_time, "state": state, "config": self.config}
        save_checkpoint(self.run_dir, iterations_done, tensors, metadata)

    def run(self) -> None:
        total, every = self.config["iterations"], self.config["checkpoint_every"]
        main = self.context.is_main
        log = ProgressLog(self.run_dir, self.start_iteration) if main else None
        start = time.perf_counter()
        bar = tqdm(
            range(self.start_iteration, total),
            initial=self.start_iteration,
            total=total,
            disable=not self.show_progress,
            desc="meta-train",
            unit="it",
        )
        try:
            for iteration in bar:
                stats = self.experiment.run_iteration(iteration)
                if not main:
                    continue
                wall_time = self.wall_offset + time.perf_counter() - start
                done = iteration + 1
                row = {"wall_time": wall_time, **stats}
                log.write(iteration, {key: row[key] for key in ("wall_time", *self.experiment.columns)})
                bar.set_postfix_str(self.experiment.progress_text(stats))
                if done % every == 0 or done == total:
                    self._save(done, wall_time)
            if main and latest_checkpoint(self.run_dir) is None:  # zero iterations: keep the initial weights
                self._save(self.start_iteration, self.wall_offset)
        finally:
            bar.close()
            if log:
                log.close()
            self.experiment.close()
