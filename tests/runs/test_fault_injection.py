"""Training killed at chosen moments (several signals, mid-iteration and while a checkpoint is
being written) and resumed: the finished run's progress.csv equals the uninterrupted one's,
and no file of the run directory is ever half-written (issue 14)."""

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import TINY_NAV

from rlmaml.cli import main
from rlmaml.runs.checkpoint import load_checkpoint
from rlmaml.runs.run_dir import read_run_config

ITERATIONS = 7
SETTINGS = [*TINY_NAV, "checkpoint_every=3", f"iterations={ITERATIONS}"]
# rlmaml's CLI with every checkpoint file held back for a moment after it is written and
# before it is renamed into place, so that a signal can land while a checkpoint is written.
SLOW_CHECKPOINTS = """
import sys, time
import rlmaml.runs.checkpoint as checkpoint
from rlmaml.cli import main
write = checkpoint.atomic_write
def slow(path, write_to):
    write(path, lambda tmp: (write_to(tmp), time.sleep(0.4)))
checkpoint.atomic_write = slow
sys.exit(main(sys.argv[1:]))
"""


def start(out: Path, resume: bool) -> subprocess.Popen:
    command = ["train", "navigation2d", "--out", str(out), "--quiet", *(["--resume"] if resume else []), "--set"]
    return subprocess.Popen(
        [sys.executable, "-c", SLOW_CHECKPOINTS, *command, *SETTINGS],
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        stderr=subprocess.PIPE,
        text=True,
    )


def progress(run: Path) -> list[dict]:
    with (run / "progress.csv").open() as f:
        return [
            {k: v for k, v in r.items() if k != "wall_time" and not k.startswith("time_")} for r in csv.DictReader(f)
        ]


def rows_written(run: Path) -> int:
    path = run / "progress.csv"
    return max(0, len(path.read_text().splitlines()) - 1) if path.is_file() else 0


def checkpoint_being_written(run: Path) -> bool:
    folder = run / "checkpoints"
    return folder.is_dir() and any(p.name.startswith(".") for p in folder.iterdir())


def wait_for(condition, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while not condition() and process.poll() is None and time.time() < deadline:
        time.sleep(0.02)


def assert_whole(run: Path) -> None:
    """Every checkpoint named in the directory loads, progress.csv ends in a complete row, and
    config.yaml parses; temporary files are the only things that may be left over (the
    next writer removes them)."""
    for path in (run / "checkpoints").glob("[0-9]*.json") if (run / "checkpoints").is_dir() else []:
        load_checkpoint(path)
    if (run / "progress.csv").is_file():
        assert (run / "progress.csv").read_text().endswith("\n")
    if (run / "config.yaml").is_file():
        read_run_config(run)


# (signal, moment): after the second row is written, or while the checkpoint after 3 or 6
# iterations is being written; SIGKILL gives the process no say, SIGTERM and SIGINT do.
KILLS = [
    (signal.SIGKILL, "mid-iteration"),
    (signal.SIGTERM, "checkpoint"),
    (signal.SIGINT, "mid-iteration"),
    (signal.SIGKILL, "checkpoint"),
    (signal.SIGTERM, "mid-iteration"),
]
EXIT_CODES = {signal.SIGKILL: -signal.SIGKILL, signal.SIGTERM: 143, signal.SIGINT: 130}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("reference") / "run"
    assert main(["train", "navigation2d", "--out", str(out), "--quiet", "--set", *SETTINGS]) == 0
    return progress(out)


def test_killed_and_resumed_runs_end_as_the_uninterrupted_one(tmp_path, uninterrupted):
    out = tmp_path / "run"
    for kill, moment in KILLS:
        resume = (out / "config.yaml").is_file()
        process = start(out, resume)
        done_before = rows_written(out) if resume else 0
        if moment == "checkpoint":
            wait_for(lambda: checkpoint_being_written(out), process)
        else:
            wait_for(lambda rows=done_before + 1: rows_written(out) >= rows, process)
        if process.poll() is not None:  # finished before the signal: nothing left to kill
            break
        process.send_signal(kill)
        _, err = process.communicate(timeout=120)
        assert process.returncode == EXIT_CODES[kill], err
        if kill != signal.SIGKILL:
            assert len(err.strip().splitlines()) == 1, err
            assert "--resume" in err, err
        assert_whole(out)
    process = start(out, resume=(out / "config.yaml").is_file())
    _, err = process.communicate(timeout=180)
    assert process.returncode == 0, err
    assert_whole(out)
    assert not [p for p in out.rglob(".*") if p.name != ".rlmaml.lock"]  # SIGKILL's temporaries cleared
    assert progress(out) == uninterrupted


def test_a_stop_signal_saves_the_last_complete_iteration(tmp_path, uninterrupted):
    out = tmp_path / "run"
    process = start(out, resume=False)
    wait_for(lambda: rows_written(out) >= 1, process)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 143
    assert "stopped by SIGTERM after" in err
    done = int(err.split("after ")[1].split()[0])
    assert (out / "checkpoints" / f"{done:06d}.json").is_file()
    assert done >= 1
    assert progress(out)[:done] == uninterrupted[:done]
