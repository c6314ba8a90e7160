"""Per-iteration statistics to progress.csv and TensorBoard.

A resumed run's progress.csv is read back and checked before anything is written: a header
that is not this run's, a row that is not a row, or rows that stop short of the checkpoint
raise a one-line UserError, and the file is left as it was."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Sequence
from pathlib import Path

from rlmaml.errors import UserError
from rlmaml.runs.checkpoint import atomic_write

# Columns added after runs were saved, with the value their older rows get: before
# `update_skipped` existed no update was ever skipped (a non-finite one was applied).
ADDED_COLUMNS = {"update_skipped": "0"}


def kept_rows(path: Path, columns: Sequence[str], start_iteration: int) -> list[list[str]]:
    """The rows of iterations before `start_iteration` (the ones a resume keeps), in
    `columns`' layout; a last line cut off by a killed process is ignored. Rows may skip
    iterations (the zoo keeps every tenth of a finished 70,000-iteration run) but must rise
    to the checkpoint's last iteration: a progress.csv older than the checkpoint is refused."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(f"{path} is not UTF-8 text (byte {error.start}): restore it or move it away") from None
    lines = text.split("\n")
    lines.pop()  # after the final newline: empty, or a row still being written when the process died
    rows = list(csv.reader(lines)) or [list(columns)]
    header, columns = rows[0], list(columns)
    added = columns[len(header) :]
    if columns[: len(header)] != header or any(column not in ADDED_COLUMNS for column in added):
        raise UserError(
            f"{path}: its header is not this run's ({','.join(columns)}); it was edited or cut: "
            "restore it or move it away"
        )
    kept = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header) or not row[0].isdigit():
            raise UserError(f"{path}, line {number}: not a progress row of {len(header)} values: restore or delete it")
        if int(row[0]) < start_iteration:
            kept.append(row + [ADDED_COLUMNS[column] for column in added])
    iterations = [int(row[0]) for row in kept]
    in_order = all(earlier < later for earlier, later in itertools.pairwise(iterations))
    if not in_order or (iterations[-1:] or [-1])[0] != start_iteration - 1:
        raise UserError(
            f"{path} does not end at iteration {start_iteration - 1}, the last the checkpoint has done, "
            "in increasing order: restore it or move it away"
        )
    return kept


class ProgressLog:
    """progress.csv (one row per iteration, flushed as written) and TensorBoard scalars."""

    def __init__(self, run_dir: Path, columns: Sequence[str], start_iteration: int = 0) -> None:
        """`columns` start with "iteration". Rows and scalars from `start_iteration` on are
        dropped: a resumed run redoes them (from iteration 0 when it was interrupted before
        its first checkpoint)."""
        self.path = Path(run_dir) / "progress.csv"
        self.columns = list(columns)
        resumed = self.path.exists()
        if resumed:
            rows = [self.columns, *kept_rows(self.path, self.columns, start_iteration)]
            text = "".join(",".join(row) + "\n" for row in rows)
            atomic_write(self.path, lambda tmp: Path(tmp).write_text(text))
        from torch.utils.tensorboard import SummaryWriter  # slow import, only when training

        purge = start_iteration if resumed else None
        self.writer = SummaryWriter(log_dir=str(Path(run_dir) / "tensorboard"), purge_step=purge)

    def write(self, iteration: int, stats: dict[str, float]) -> None:
        row = {"iteration": iteration, **stats}
        new_file = not self.path.exists() or self.path.stat().st_size == 0
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
