"""Runs that nothing can poison (issue 14): divergence never reaches the weights, one writer
per run directory, everything read back is checked before anything is written, and bad
run directories are one line with exit code 2."""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from rlmaml.cli import main
from rlmaml.runs.run_guard import LOCK_FILE, RunLock

TINY = ["meta_batch_size=3", "fast_batch_size=4", "horizon=20", "hidden_sizes=[8]", "checkpoint_every=2"]
TINY_SINUSOID = ["meta_batch_size=2", "hidden_sizes=[8]", "checkpoint_every=2"]


def train(out: Path, *extra: str, config: str = "navigation2d", resume: bool = False) -> int:
    tiny = TINY if config == "navigation2d" else TINY_SINUSOID
    return main(
        ["train", config, "--out", str(out), "--quiet", *(["--resume"] if resume else []), "--set", *tiny, *extra]
    )


def rows(run: Path) -> list[dict]:
    with (run / "progress.csv").open() as f:
        return list(csv.DictReader(f))


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err, err
    return err


def snapshot(run: Path) -> dict[str, bytes]:
    """Every file of a run directory (TensorBoard aside) by relative path."""
    return {
        str(p.relative_to(run)): p.read_bytes()
        for p in sorted(run.rglob("*"))
        if p.is_file() and "tensorboard" not in p.parts and p.name != LOCK_FILE
    }


@pytest.fixture(scope="module")
def nav_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("safety") / "nav"
    assert train(out, "iterations=4") == 0
    return out


@pytest.fixture
def copy_of(nav_run, tmp_path):
    def make() -> Path:
        copy = tmp_path / "copy"
        shutil.copytree(nav_run, copy)
        return copy

    return make


# --- 2: a diverging step never reaches the weights ---------------------------------------


@pytest.mark.parametrize(
    ("config", "override"), [("navigation2d", "fast_lr=1e6"), ("sinusoid", "meta_lr=1e12")], ids=["rl", "sinusoid"]
)
def test_a_diverging_run_keeps_finite_weights_and_stops_after_k_skips(tmp_path, capsys, config, override):
    out = tmp_path / "diverged"
    code = train(out, override, "iterations=12", "max_skipped_updates=3", "checkpoint_every=1", config=config)
    err = one_error_line(capsys)
    assert code == 1
    assert "diverged" in err
    assert "resume from checkpoint" in err
    table = rows(out)
    assert [r["update_skipped"] for r in table[-3:]] == ["1", "1", "1"]
    for path in (out / "checkpoints").glob("*.safetensors"):
        assert all(torch.isfinite(t).all() for t in load_file(path).values())


def test_a_skipped_rl_update_leaves_the_weights_bit_for_bit(tmp_path):
    out = tmp_path / "diverged"
    train(out, "fast_lr=1e6", "iterations=2", "max_skipped_updates=5", "checkpoint_every=1")
    first, second = (load_file(out / "checkpoints" / f"00000{i}.safetensors") for i in (1, 2))
    assert rows(out)[1]["update_skipped"] == "1"
    assert all(torch.equal(first[name], second[name]) for name in first)


def test_a_checkpoint_with_non_finite_weights_is_refused(copy_of, capsys):
    run = copy_of()
    path = run / "checkpoints" / "000004.safetensors"
    tensors = load_file(path)
    tensors["policy.log_std"] = torch.full_like(tensors["policy.log_std"], float("nan"))
    save_file(tensors, path)
    before = snapshot(run)
    assert main(["adapt", str(run), "--num-tasks", "2"]) == 2
    assert "non-finite values in policy.log_std" in one_error_line(capsys)
    assert train(run, "iterations=6", resume=True) == 2
    assert "non-finite" in one_error_line(capsys)
    assert snapshot(run) == before


def test_a_run_from_before_the_skipped_column_resumes_with_it_filled_in(copy_of):
    run = copy_of()
    table = [line.split(",") for line in (run / "progress.csv").read_text().splitlines()]
    assert table[0][-1] == "update_skipped"
    (run / "progress.csv").write_text("".join(",".join(row[:-1]) + "\n" for row in table))
    assert train(run, "iterations=6", resume=True) == 0
    assert [r["update_skipped"] for r in rows(run)] == ["0"] * 6


# --- 3: one writer per run ---------------------------------------------------------------


def test_a_second_writer_is_refused_naming_the_holder(copy_of, capsys):
    run = copy_of()
    lock = RunLock(run)
    try:
        before = snapshot(run)
        assert train(run, "iterations=6", resume=True) == 2
        assert f"PID {os.getpid()}" in one_error_line(capsys)
        assert snapshot(run) == before
    finally:
        lock.release()
    assert train(run, "iterations=5", resume=True) == 0  # released: the next writer gets it


def test_a_killed_writer_leaves_no_stale_lock(tmp_path, capsys):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "rlmaml", "train", "navigation2d", "--out", str(out), "--quiet", "--set", *TINY]
    process = subprocess.Popen([*command, "iterations=1000"], env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        deadline = time.time() + 60
        while not (out / "checkpoints").is_dir() and time.time() < deadline:
            time.sleep(0.1)
        assert train(out, "iterations=1000", resume=True) == 2
        assert f"PID {process.pid}" in one_error_line(capsys)
    finally:
        process.kill()
        process.wait()
    assert train(out, f"iterations={len(rows(out)) + 1}", resume=True) == 0


# --- 4: bad metadata loses nothing -------------------------------------------------------


def edit_json(path: Path, **changes) -> None:
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, **changes}))


CORRUPTIONS = {
    "negative iterations": (
        lambda run: edit_json(run / "checkpoints/000004.json", iterations_done=-3),
        "iterations_done",
    ),
    "fractional iterations": (lambda run: edit_json(run / "checkpoints/000004.json", iterations_done=2.7), "whole"),
    "iterations unlike the name": (lambda run: edit_json(run / "checkpoints/000004.json", iterations_done=2), "named"),
    "json list": (lambda run: (run / "checkpoints/000004.json").write_text("[1, 2]"), "not a JSON object"),
    "json not utf-8": (lambda run: (run / "checkpoints/000004.json").write_bytes(b'{"a": "\xff\xfe"}'), "unreadable"),
    "json nested deep": (lambda run: (run / "checkpoints/000004.json").write_text("[" * 10**5 + "]" * 10**5), "deeply"),
    "json huge": (lambda run: (run / "checkpoints/000004.json").write_text(" " * (17 * 2**20)), "larger than"),
    "state not a mapping": (lambda run: edit_json(run / "checkpoints/000004.json", state=[1]), "'state'"),
    "header cut": (lambda run: cut_header(run), "header is not this run's"),
    "junk line": (lambda run: add_line(run, b"what is this\n"), "line 4: not a progress row"),
    "progress not utf-8": (lambda run: add_line(run, b"2,\xff\xff\n"), "not UTF-8"),
    "missing last row": (lambda run: drop_row(run, 3), "does not end at iteration 3"),
    "rows out of order": (lambda run: swap_rows(run, 1, 2), "in increasing order"),
    "config not utf-8": (lambda run: (run / "config.yaml").write_bytes(b"env: \xff\xfe\n"), "config.yaml"),
}


def cut_header(run: Path) -> None:
    lines = (run / "progress.csv").read_text().splitlines(keepends=True)
    (run / "progress.csv").write_text(",".join(lines[0].split(",")[:3]) + "\n" + "".join(lines[1:]))


def add_line(run: Path, line: bytes) -> None:
    lines = (run / "progress.csv").read_bytes().splitlines(keepends=True)
    (run / "progress.csv").write_bytes(b"".join([*lines[:3], line, *lines[3:]]))


def swap_rows(run: Path, first: int, second: int) -> None:
    lines = (run / "progress.csv").read_text().splitlines(keepends=True)
    lines[first + 1], lines[second + 1] = lines[second + 1], lines[first + 1]
    (run / "progress.csv").write_text("".join(lines))


def drop_row(run: Path, index: int) -> None:
    lines = (run / "progress.csv").read_text().splitlines(keepends=True)
    (run / "progress.csv").write_text("".join(lines[: index + 1] + lines[index + 2 :]))


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_a_bad_run_directory_is_one_line_and_nothing_is_lost(copy_of, capsys, name):
    run = copy_of()
    corrupt, message = CORRUPTIONS[name]
    corrupt(run)
    before = snapshot(run)
    assert train(run, "iterations=6", resume=True) == 2
    assert message in one_error_line(capsys)
    assert snapshot(run) == before


def test_a_thinned_progress_file_resumes(copy_of):
    """The zoo ships finished long runs with every tenth row; resuming one keeps those rows."""
    run = copy_of()
    drop_row(run, 1)
    assert train(run, "iterations=6", resume=True) == 0
    assert [int(row["iteration"]) for row in rows(run)] == [0, 2, 3, 4, 5]


def test_an_optimizer_state_of_the_wrong_shape_names_the_tensor(tmp_path, capsys):
    out = tmp_path / "sinusoid"
    assert train(out, "iterations=2", config="sinusoid") == 0
    path = out / "checkpoints" / "000002.safetensors"
    tensors = load_file(path)
    name = next(key for key in tensors if key.startswith("optimizer.") and key.endswith("exp_avg"))
    tensors[name] = torch.zeros(3, 3)
    save_file(tensors, path)
    assert train(out, "iterations=3", config="sinusoid", resume=True) == 2
    assert f"{name} (3, 3)" in one_error_line(capsys)


def test_a_state_dict_mismatch_names_the_keys(copy_of, capsys):
    run = copy_of()
    path = run / "checkpoints" / "000004.safetensors"
    tensors = load_file(path)
    tensors["policy.extra"] = torch.zeros(2)
    del tensors["policy.log_std"]
    save_file(tensors, path)
    assert main(["adapt", str(run), "--num-tasks", "2"]) == 2
    err = one_error_line(capsys)
    assert "missing log_std" in err
    assert "unexpected extra" in err


# --- 6 and 8: where a run may go ---------------------------------------------------------


def test_out_naming_a_file_is_one_line(tmp_path, capsys):
    target = tmp_path / "file.txt"
    target.write_text("keep me")
    assert train(target, "iterations=1") == 2
    assert "is a file" in one_error_line(capsys)
    assert target.read_text() == "keep me"


def test_a_directory_of_another_program_is_not_overwritten(tmp_path, capsys):
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.yaml").write_text("their: settings\n")
    assert train(other, "iterations=1") == 2
    assert "not an rlmaml run" in one_error_line(capsys)
    assert (other / "config.yaml").read_text() == "their: settings\n"
    assert sorted(p.name for p in other.iterdir()) == ["config.yaml"]


def test_every_run_file_has_one_mode_that_honours_the_umask(tmp_path):
    previous = os.umask(0o027)
    try:
        assert train(tmp_path / "run", "iterations=2") == 0
    finally:
        os.umask(previous)
    assert (tmp_path / "run" / LOCK_FILE).is_file()  # the writer never removes the file it locks
    files = [p for p in (tmp_path / "run").rglob("*") if p.is_file() and "tensorboard" not in p.parts]
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in files} == {p.name: oct(0o640) for p in files}


@pytest.fixture
def read_only_dir(tmp_path):
    """A read-only file system (root ignores permission bits, not a read-only mount)."""
    mount_point = tmp_path / "read-only"
    mount_point.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro", "tmpfs", str(mount_point)], capture_output=True).returncode:
        pytest.skip("cannot mount a read-only tmpfs here (needs root)")
    yield mount_point
    subprocess.run(["umount", str(mount_point)], check=False)


def test_a_read_only_out_is_one_line(read_only_dir, capsys):
    assert train(read_only_dir / "run", "iterations=1") == 2
    assert "Read-only file system" in one_error_line(capsys)


def test_the_next_writer_removes_a_killed_writers_temporaries_only(copy_of):
    run = copy_of()
    left = [
        run / "checkpoints" / ".tmpAb3dE9",
        run / "checkpoints" / ".000006.json.ab_12cd3",
        run / ".config.yaml.x1y2z3w4",
    ]
    kept = [run / ".keep", run / "checkpoints" / ".notes"]
    for path in left + kept:
        path.write_text("x")
    assert train(run, "iterations=5", resume=True) == 0
    assert not any(p.exists() for p in left)
    assert all(p.exists() for p in kept)
    assert (run / LOCK_FILE).is_file()


def test_a_stop_that_surfaces_as_a_library_error_still_saves_and_stops(tmp_path, monkeypatch, capsys):
    """A SIGINT landing in torch.func.vmap's nesting bookkeeping comes out of vmap's cleanup
    as a RuntimeError whose context is the StopRequested (seen in CI): the run stops as for
    the signal itself, with the last complete iteration saved, and resumes."""
    from rlmaml.rl.experiment import RLExperiment
    from rlmaml.runs.run_guard import StopRequested

    run_iteration = RLExperiment.run_iteration

    def interrupted_at_3(self, iteration):
        if iteration == 3:
            try:
                raise StopRequested(signal.SIGINT)
            except StopRequested:
                raise RuntimeError("!dynamicLayerStack.empty() INTERNAL ASSERT FAILED") from None
        return run_iteration(self, iteration)

    monkeypatch.setattr(RLExperiment, "run_iteration", interrupted_at_3)
    assert train(tmp_path / "run", "iterations=5") == 130
    assert "stopped by SIGINT after 3 complete iterations" in capsys.readouterr().err
    assert (tmp_path / "run" / "checkpoints" / "000003.json").is_file()
    monkeypatch.setattr(RLExperiment, "run_iteration", run_iteration)
    assert train(tmp_path / "run", "iterations=5", resume=True) == 0
