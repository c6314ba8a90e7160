"""Keep a long run's progress.csv small enough to ship: a 70,000-iteration supervised run
writes 2.2 MB of rows, most of which a curve does not need. `--resume` accepts the thinned
file (its rows rise to the checkpoint's last iteration)."""

from __future__ import annotations

from pathlib import Path

from rlmaml.errors import UserError
from rlmaml.runs.checkpoint import atomic_write_text
from rlmaml.runs.run_guard import LOCK_FILE
from rlmaml.zoo.evaluation import lock_holder

# Files above this many rows are thinned; every THIN_EVERY-th iteration and the last are kept.
MAX_ROWS = 10_000
THIN_EVERY = 10


def thin_progress(path: Path) -> tuple[int, int]:
    """Rewrite `path`/progress.csv with the rows of every THIN_EVERY-th iteration and the
    last row when it holds more than MAX_ROWS; (rows before, rows after)."""
    holder = lock_holder(path)
    if holder is not None:
        raise UserError(f"{path} is being trained (PID {holder} holds {LOCK_FILE}): thin it once training stops")
    progress = Path(path) / "progress.csv"
    if not progress.is_file():
        return 0, 0
    header, *rows = progress.read_text().splitlines()
    if len(rows) <= MAX_ROWS:
        return len(rows), len(rows)
    kept = [row for row in rows[:-1] if int(row.split(",", 1)[0]) % THIN_EVERY == 0] + rows[-1:]
    atomic_write_text(progress, "".join(line + "\n" for line in [header, *kept]))
    return len(rows), len(kept)
