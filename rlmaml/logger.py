"""Per-iteration statistics to progress.csv and TensorBoard."""

from __future__ import annotations

import csv
from pathlib import Path

from rlmaml.checkpoint import atomic_write


class ProgressLog:
    """progress.csv (one row per iteration, flushed as written) and TensorBoard scalars."""

    def __init__(self, run_dir: Path, start_iteration: int = 0) -> None:
        """Rows and scalars from `start_iteration` on are dropped: a resumed run redoes them,
        from iteration 0 when it was interrupted before its first checkpoint."""
        self.path = Path(run_dir) / "progress.csv"
        self.columns: list[str] | None = None
        resumed = self.path.exists()
        if resumed:
            self._truncate_after(start_iteration - 1)
        from torch.utils.tensorboard import SummaryWriter  # slow import, only when training

        purge = start_iteration if resumed else None
        self.writer = SummaryWriter(log_dir=str(Path(run_dir) / "tensorboard"), purge_step=purge)

    def _truncate_after(self, iteration: int) -> None:
        """Drop rows past the checkpoint being resumed: those iterations run again."""
        with self.path.open(newline="") as f:
            rows = list(csv.reader(f))
        if not rows:
            return
        self.columns = rows[0]
        kept = [rows[0]] + [row for row in rows[1:] if row and int(row[0]) <= iteration]
        text = "".join(",".join(row) + "\n" for row in kept)
        atomic_write(self.path, lambda tmp: Path(tmp).write_text(text))

    def write(self, iteration: int, stats: dict[str, float]) -> None:
        row = {"iteration": iteration, **stats}
        new_file = not self.path.exists() or self.path.stat().st_size == 0
        if self.columns is None:
            self.columns = list(row)
        with self.path.open("a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self.columns, extrasaction="ignore", lineterminator="\n")
            if new_file:
                writer.writeheader()
            writer.writerow({key: _format(row.get(key, "")) for key in self.columns})
        for key, value in stats.items():
            self.writer.add_scalar(key, value, iteration)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


def _format(value: object) -> object:
    return f"{value:.6g}" if isinstance(value, float) else value
