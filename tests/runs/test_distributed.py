"""Training under torchrun: the meta-batch sharded across processes gives the numbers one
process gives, rank 0 alone writes, and a failed process ends the run with a message."""

import csv
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import TINY_NAV

from rlmaml.cli import main
from rlmaml.errors import UserError
from rlmaml.runs.distributed import Context, split

TORCHRUN = [sys.executable, "-m", "torch.distributed.run"]
# One torch thread per process in both runs: the same threads, the same sums, the same bits.
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
NAV = ["navigation2d", "--quiet", "--set", *TINY_NAV]
SINUSOID = ["sinusoid", "--quiet", "--set", "meta_batch_size=5", "hidden_sizes=[16]", "checkpoint_every=2"]


def rlmaml(*args: str, processes: int = 1, env: dict | None = None) -> subprocess.CompletedProcess:
    launcher = [*TORCHRUN, "--standalone", f"--nproc_per_node={processes}"] if processes > 1 else [sys.executable]
    command = [*launcher, "-m", "rlmaml", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, env=env or ENV)


def progress(run_dir: Path) -> list[dict]:
    """progress.csv without its timings, which differ from run to run."""
    with (run_dir / "progress.csv").open() as f:
        rows = list(csv.DictReader(f))
    return [{k: v for k, v in row.items() if k != "wall_time" and not k.startswith("time_")} for row in rows]


def train(out: Path, config: list[str], *extra: str, processes: int = 1) -> None:
    result = rlmaml("train", config[0], "--out", str(out), *config[1:], *extra, processes=processes)
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize(("total", "world_size"), [(6, 2), (3, 2), (5, 3), (2, 2), (7, 4)])
def test_shards_cover_the_meta_batch_once_in_order(total, world_size):
    parts = [split(total, rank, world_size) for rank in range(world_size)]
    assert [i for part in parts for i in part] == list(range(total))
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_a_meta_batch_smaller_than_the_processes_is_refused():
    with pytest.raises(UserError, match="meta_batch_size 1 is smaller than the 2 processes"):
        Context(rank=0, world_size=2).shard(1)


@pytest.mark.parametrize(
    "extra",
    [
        ["iterations=3"],
        ["iterations=2", "num_steps=2", "cg_subsample=0.5"],
        ["iterations=2", "num_steps=2", "estimator=dice"],
        ["iterations=2", "outer_optimizer=promp", "estimator=lvc"],
    ],
)
def test_two_processes_give_the_progress_of_one(tmp_path, extra):
    """3 tasks on 2 processes (2 + 1); the second case also re-adapts a subsample of tasks
    for the curvature, which the two processes share unevenly; the third pools DiCE's
    baseline across processes, the fourth takes ProMP's Adam steps in both."""
    train(tmp_path / "one", NAV, *extra)
    train(tmp_path / "two", NAV, *extra, processes=2)
    assert progress(tmp_path / "two") == progress(tmp_path / "one")
    names = sorted(p.name for p in (tmp_path / "two").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "one").iterdir())


def test_resume_under_torchrun_continues_the_uninterrupted_run(tmp_path):
    train(tmp_path / "whole", NAV, "iterations=4")
    train(tmp_path / "resumed", NAV, "iterations=2", processes=2)
    train(tmp_path / "resumed", NAV, "iterations=4", "--resume", processes=2)
    assert progress(tmp_path / "resumed") == progress(tmp_path / "whole")


def test_sinusoid_on_two_processes_matches_one(tmp_path):
    """Supervised gradients are means over each process's tasks, added across processes:
    equal to float rounding, not to the bit."""
    train(tmp_path / "one", SINUSOID, "iterations=4")
    train(tmp_path / "two", SINUSOID, "iterations=4", processes=2)
    one, two = progress(tmp_path / "one"), progress(tmp_path / "two")
    assert [row["iteration"] for row in two] == ["0", "1", "2", "3"]
    for a, b in zip(one, two, strict=True):
        for key in a:
            assert float(b[key]) == pytest.approx(float(a[key]), rel=1e-4, abs=1e-6), key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_rendezvous_that_fails_ends_with_a_message_within_the_timeout(tmp_path):
    """A process told that the run has 2 processes, whose partner never comes."""
    env = {**ENV, "RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1"}
    env["MASTER_PORT"] = str(free_port())
    start = time.monotonic()
    result = rlmaml("train", *NAV[:1], "--out", str(tmp_path / "run"), "--timeout", "3", *NAV[1:], env=env)
    assert result.returncode == 1
    assert time.monotonic() - start < 60
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("rlmaml: error: process 0 of 2 could not meet the others within 3 s"), result.stderr


def worker_pids(launcher_pid: int) -> dict[int, int]:
    """{rank: pid} of the processes torchrun started."""
    workers = {}
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == launcher_pid:
                variables = dict(
                    item.split("=", 1) for item in (entry / "environ").read_text().split("\0") if "=" in item
                )
                workers[int(variables["RANK"])] = int(entry.name)
        except (OSError, KeyError, ValueError):
            continue
    return workers


def launch_two_processes(out: Path, timeout: str, *settings: str) -> subprocess.Popen:
    """`rlmaml train` of the tiny navigation config on 2 torchrun processes, in the background."""
    command = [*TORCHRUN, "--standalone", "--nproc_per_node=2", "-m", "rlmaml", "train", NAV[0], "--out", str(out)]
    return subprocess.Popen(
        [*command, "--timeout", timeout, *NAV[1:], *settings],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds torchrun's workers through /proc")
def test_a_process_that_dies_ends_the_run_and_the_last_checkpoint_loads(tmp_path):
    out = tmp_path / "run"
    launcher = launch_two_processes(out, "20", "iterations=1000")
    try:
        deadline = time.monotonic() + 120
        while not (out / "checkpoints" / "000004.json").exists():
            assert launcher.poll() is None, "the launcher ended before writing a checkpoint"
            assert time.monotonic() < deadline, "no checkpoint written"
            time.sleep(0.2)
        os.kill(worker_pids(launcher.pid)[1], signal.SIGKILL)
        _, stderr = launcher.communicate(timeout=60)
    finally:
        launcher.kill()
    assert launcher.returncode != 0
    assert re.search(r"rank\s*:\s*1\b", stderr) or "process 0 of 2 lost the others" in stderr, stderr[-2000:]
    result = rlmaml("adapt", str(out), "--num-tasks", "2", "--steps", "1")
    assert result.returncode == 0, result.stderr


def test_sigterm_under_torchrun_stops_every_rank_and_rank_0_saves(tmp_path):
    """What a scheduler does: SIGTERM to the launcher, which passes it on to every process."""
    out = tmp_path / "run"
    launcher = launch_two_processes(out, "30", "iterations=1000", "checkpoint_every=1000")
    try:
        deadline = time.monotonic() + 120
        while not (out / "progress.csv").is_file() or len((out / "progress.csv").read_text().splitlines()) < 4:
            assert launcher.poll() is None, "the launcher ended before training started"
            assert time.monotonic() < deadline, "training did not start"
            time.sleep(0.1)
        workers = worker_pids(launcher.pid)
        launcher.send_signal(signal.SIGTERM)
        _, stderr = launcher.communicate(timeout=60)
    finally:
        launcher.kill()
    assert launcher.returncode != 0
    assert stderr.count("stopped by SIGTERM after") >= 1, stderr[-2000:]
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers.values())
    saved = sorted(int(p.stem) for p in (out / "checkpoints").glob("[0-9]*.json"))
    assert saved
    assert saved[-1] >= 3
    result = rlmaml("train", *NAV[:1], "--out", str(out), "--resume", *NAV[1:], f"iterations={saved[-1] + 1}")
    assert result.returncode == 0, result.stderr


def test_cuda_requested_without_a_gpu_is_refused(tmp_path, capsys):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: the refusal is for machines without one")
    assert main(["train", *NAV[:1], "--out", str(tmp_path / "run"), "--device", "cuda", *NAV[1:]]) == 2
    assert "--device cuda" in capsys.readouterr().err


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU on this machine: the learner on cuda is not run")
def test_the_learner_on_a_gpu_gives_the_progress_of_the_cpu_to_float_tolerance(tmp_path):
    train(tmp_path / "cpu", NAV, "iterations=2")
    train(tmp_path / "gpu", NAV, "iterations=2", "--device", "cuda")
    for a, b in zip(progress(tmp_path / "cpu"), progress(tmp_path / "gpu"), strict=True):
        assert float(b["return_before"]) == pytest.approx(float(a["return_before"]), rel=1e-3)
