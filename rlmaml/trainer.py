"""Meta-training loop for RL: iterations, progress.csv, TensorBoard, checkpoints, resume."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from rlmaml.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from rlmaml.errors import UserError
from rlmaml.logger import ProgressLog
from rlmaml.metalearner import MAMLTRPO, MAMLSettings
from rlmaml.run import build_policy, check_resumable, read_run_config, write_config
from rlmaml.sampler import BatchSampler

PROGRESS_COLUMNS = (
    "env_steps",
    "wall_time",
    "return_before",
    "return_after",
    "kl",
    "surrogate_before",
    "surrogate_after",
    "ls_steps",
    "ls_accepted",
    "time_sampling",
    "time_adaptation",
    "time_meta_update",
)


def settings_from(config: dict[str, Any]) -> MAMLSettings:
    return MAMLSettings(**{name: config[name] for name in MAMLSettings.__dataclass_fields__})


class RLTrainer:
    """Runs `config["iterations"]` MAML-TRPO meta-iterations into `run_dir`."""

    def __init__(self, config: dict[str, Any], run_dir: Path, resume: bool = False, show_progress: bool = True) -> None:
        self.config = config
        self.run_dir = Path(run_dir)
        self.show_progress = show_progress
        self.start_iteration, self.env_steps, self.wall_offset = 0, 0.0, 0.0
        self.policy = build_policy(config)
        if resume:
            self._restore()
        elif (self.run_dir / "progress.csv").exists() or latest_checkpoint(self.run_dir):
            raise UserError(f"{self.run_dir} already holds a run: pass --resume to continue it, or another --out")
        write_config(self.run_dir, config)

    def _restore(self) -> None:
        check_resumable(read_run_config(self.run_dir), self.config)
        checkpoint = latest_checkpoint(self.run_dir)
        if checkpoint is None:
            return  # nothing saved yet: start from scratch in the same directory
        tensors, metadata = load_checkpoint(checkpoint)
        self.policy.load_state_dict(tensors)
        self.start_iteration = int(metadata["iterations_done"])
        self.env_steps = float(metadata["env_steps"])
        self.wall_offset = float(metadata["wall_time"])

    def _save(self, iterations_done: int, wall_time: float) -> None:
        metadata = {
            "iterations_done": iterations_done,
            "env_steps": self.env_steps,
            "wall_time": wall_time,
            "config": self.config,
        }
        save_checkpoint(self.run_dir, iterations_done, self.policy.state_dict(), metadata)

    def run(self) -> None:
        c = self.config
        sampler = BatchSampler(c["env"], c["env_kwargs"], c["fast_batch_size"], c["horizon"])
        learner = MAMLTRPO(self.policy, sampler, settings_from(c))
        log = ProgressLog(self.run_dir, resume_after=self.start_iteration - 1)
        start = time.perf_counter()
        bar = tqdm(
            range(self.start_iteration, c["iterations"]),
            initial=self.start_iteration,
            total=c["iterations"],
            disable=not self.show_progress,
            desc="meta-train",
            unit="it",
        )
        try:
            for iteration in bar:
                tasks = learner.sample_tasks(c["meta_batch_size"], c["seed"], iteration)
                stats = learner.step(tasks, c["seed"], iteration, range(c["meta_batch_size"]))
                self.env_steps += stats["env_steps"]
                wall_time = self.wall_offset + time.perf_counter() - start
                row = {**stats, "env_steps": self.env_steps, "wall_time": wall_time}
                log.write(iteration, {key: row[key] for key in PROGRESS_COLUMNS})
                bar.set_postfix_str(f"return before {stats['return_before']:.1f} after {stats['return_after']:.1f}")
                done = iteration + 1
                if done % c["checkpoint_every"] == 0 or done == c["iterations"]:
                    self._save(done, wall_time)
            if latest_checkpoint(self.run_dir) is None:  # zero iterations: keep the initial policy
                self._save(self.start_iteration, self.wall_offset)
        finally:
            bar.close()
            log.close()
            sampler.close()
