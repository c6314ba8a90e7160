"""The command line: train, resume, adapt, and one-line errors with exit code 2."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from rlmaml.cli import main

TINY = ["meta_batch_size=3", "fast_batch_size=4", "horizon=20", "hidden_sizes=[8]", "checkpoint_every=2"]


def train(out: Path, *extra: str) -> int:
    return main(["train", "navigation2d", "--out", str(out), "--quiet", "--set", *TINY, *extra])


def rows(path: Path) -> list[dict]:
    with (path / "progress.csv").open() as f:
        return list(csv.DictReader(f))


def deterministic(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "wall_time" and not k.startswith("time_")}


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "nav"
    assert train(out, "iterations=4") == 0
    return out


def test_train_writes_config_progress_tensorboard_and_checkpoints(trained_run):
    assert (trained_run / "config.yaml").is_file()
    table = rows(trained_run)
    assert [int(r["iteration"]) for r in table] == [0, 1, 2, 3]
    for column in (
        "env_steps",
        "wall_time",
        "return_before",
        "return_after",
        "kl",
        "surrogate_before",
        "surrogate_after",
        "ls_steps",
    ):
        assert column in table[0]
    assert list((trained_run / "tensorboard").glob("events.out.tfevents.*"))
    names = sorted(p.name for p in (trained_run / "checkpoints").iterdir())
    assert names == ["000002.json", "000002.safetensors", "000004.json", "000004.safetensors"]
    metadata = json.loads((trained_run / "checkpoints" / "000004.json").read_text())
    assert metadata["iterations_done"] == 4
    assert metadata["config"]["meta_batch_size"] == 3


def test_checkpoints_load_without_unpickling(trained_run):
    from safetensors.torch import load_file

    tensors = load_file(trained_run / "checkpoints" / "000004.safetensors")
    assert "policy.log_std" in tensors
    assert all(t.dtype.is_floating_point for t in tensors.values())


def test_resume_after_an_interruption_reproduces_the_uninterrupted_run(trained_run, tmp_path):
    out = tmp_path / "resumed"
    assert train(out, "iterations=3") == 0
    # simulate a crash after iteration 3 but before its checkpoint
    for suffix in (".json", ".safetensors"):
        (out / "checkpoints" / f"000003{suffix}").unlink()
    assert (
        main(["train", "navigation2d", "--out", str(out), "--quiet", "--resume", "--set", *TINY, "iterations=4"]) == 0
    )
    assert [deterministic(r) for r in rows(out)] == [deterministic(r) for r in rows(trained_run)]


def test_resume_before_any_checkpoint_restarts_the_log_instead_of_appending(trained_run, tmp_path):
    import shutil

    out = tmp_path / "early"
    assert train(out, "iterations=3") == 0
    shutil.rmtree(out / "checkpoints")  # a crash before the first checkpoint was written
    assert (
        main(["train", "navigation2d", "--out", str(out), "--quiet", "--resume", "--set", *TINY, "iterations=4"]) == 0
    )
    assert [deterministic(r) for r in rows(out)] == [deterministic(r) for r in rows(trained_run)]


def test_resume_from_a_corrupt_checkpoint_is_one_line(trained_run, tmp_path, capsys):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(trained_run, copy)
    (copy / "checkpoints" / "000004.json").write_text('{"iterations_done": 4}')
    code = main(["train", "navigation2d", "--out", str(copy), "--quiet", "--resume", "--set", *TINY, "iterations=5"])
    err = capsys.readouterr().err
    assert code == 2
    assert "000004.json: wall_time must be" in err
    assert "Traceback" not in err


def test_training_into_an_existing_run_without_resume_is_refused(trained_run, capsys):
    before = (trained_run / "progress.csv").read_bytes()
    assert train(trained_run, "iterations=4") == 2
    assert "--resume" in capsys.readouterr().err
    assert (trained_run / "progress.csv").read_bytes() == before


def test_resume_refuses_a_changed_config(trained_run, capsys):
    code = main(
        ["train", "navigation2d", "--out", str(trained_run), "--quiet", "--resume", "--set", *TINY, "gamma=0.9"]
    )
    assert code == 2
    assert "'gamma'" in capsys.readouterr().err


def test_resume_may_switch_to_exact_curvature(trained_run, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(trained_run, copy)
    resume = ["train", "navigation2d", "--out", str(copy), "--quiet", "--resume", "--set", *TINY]
    assert main([*resume, "iterations=5", "cg_subsample=0.5"]) == 0
    assert "cg_subsample: 0.5" in (copy / "config.yaml").read_text()
    metadata = json.loads((copy / "checkpoints" / "000004.json").read_text())
    assert metadata["config"]["cg_subsample"] == 1.0  # what the first four iterations used
    assert [int(r["iteration"]) for r in rows(copy)] == [0, 1, 2, 3, 4]


def test_resume_keeps_the_runs_settings_unless_set_again(trained_run, tmp_path):
    """A resume that leaves out an earlier --set of a resumable key keeps the run's value,
    not the packaged config's (cg_subsample would fall back to 0.25 on MuJoCo)."""
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(trained_run, copy)
    tiny = [pair for pair in TINY if not pair.startswith("checkpoint_every=")]
    resume = ["train", "navigation2d", "--out", str(copy), "--quiet", "--resume", "--set", *tiny]
    assert main([*resume, "iterations=5", "cg_subsample=0.5", "checkpoint_every=1"]) == 0
    assert main([*resume, "iterations=7"]) == 0
    config = yaml.safe_load((copy / "config.yaml").read_text())
    assert (config["iterations"], config["cg_subsample"], config["checkpoint_every"]) == (7, 0.5, 1)
    assert (copy / "checkpoints" / "000006.json").is_file()  # saved because checkpoint_every stayed 1


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("fast_lrr=0.1", "unknown config key 'fast_lrr'"),
        ("fast_lr=abc", "'fast_lr' must be a number"),
        ("hidden_sizes=64", "'hidden_sizes' must be a list of integers"),
        ("activation=gelu", "'activation' must be one of"),
        ("gamma=1.5", "'gamma' must be at most 1"),
        ("fast_lr=nan", "'fast_lr' must be a finite number"),
        ("estimator=reinforce", "'estimator' must be one of maml, dice, lvc"),
        ("outer_optimizer=ppo", "'outer_optimizer' must be one of trpo, promp"),
        ("estimator=lvc first_order=true", "config keys 'estimator' and 'first_order'"),
        ("estimator=dice outer_optimizer=promp", "config keys 'estimator' and 'outer_optimizer'"),
        ("advantages=returns gae_lambda=0.9", "config keys 'advantages' and 'gae_lambda'"),
        ("hidden_sizes=[8] policy=gaussian", "config keys 'policy' and 'hidden_sizes'"),
        ("init_mean=0.5", "config key 'init_mean'"),
    ],
)
def test_bad_config_values_exit_2_naming_the_key(tmp_path, capsys, override, message):
    assert train(tmp_path / "bad", *override.split()) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "bad").exists()


def test_set_takes_several_pairs_repeats_and_exponent_numbers(tmp_path):
    from rlmaml.runs.config import load_config

    config = load_config("navigation2d", ["max_kl=1e-2", "cg_damping=1e-5", "seed=3", "seed=4"])
    assert config["max_kl"] == 0.01
    assert config["cg_damping"] == 1e-5
    assert config["seed"] == 4
    out = tmp_path / "run"
    extra = ["--set", "iterations=1", "max_kl=2e-2"]
    assert main(["train", "navigation2d", "--out", str(out), "--quiet", "--set", *TINY, *extra]) == 0
    saved = (out / "config.yaml").read_text()
    assert "max_kl: 0.02" in saved
    assert "iterations: 1" in saved


def test_unknown_config_name_lists_the_packaged_ones(tmp_path, capsys):
    assert main(["train", "no-such-config", "--out", str(tmp_path / "x")]) == 2
    assert "navigation2d" in capsys.readouterr().err


def test_adapt_prints_returns_and_writes_json_and_plot(trained_run, tmp_path, capsys):
    report, figure = tmp_path / "adapt.json", tmp_path / "paths.png"
    assert (
        main(
            [
                "adapt",
                str(trained_run),
                "--num-tasks",
                "3",
                "--steps",
                "2",
                "--json",
                str(report),
                "--plot",
                str(figure),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "95% CI" in out
    data = json.loads(report.read_text())
    assert [r["step"] for r in data["returns"]] == [0, 1, 2]
    assert all(set(r) == {"step", "mean", "ci95"} for r in data["returns"])
    assert figure.stat().st_size > 10_000


def test_adapt_to_a_task_the_user_gives(trained_run, capsys):
    assert main(["adapt", str(trained_run), "--task", "goal=0.3,-0.2", "--steps", "1"]) == 0
    assert "1 task(s)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("task", "message"), [("goal=0.3", "'goal'"), ("goal=a,b", "--task goal"), ("velocity=1", "'goal'")]
)
def test_adapt_rejects_a_bad_task(trained_run, capsys, task, message):
    assert main(["adapt", str(trained_run), "--task", task]) == 2
    assert message in capsys.readouterr().err


def test_adapt_on_a_missing_run_directory(tmp_path, capsys):
    assert main(["adapt", str(tmp_path / "nothing")]) == 2
    assert "no run at" in capsys.readouterr().err


def test_adapt_on_a_corrupt_checkpoint(trained_run, tmp_path, capsys):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(trained_run, copy)
    (copy / "checkpoints" / "000004.safetensors").write_bytes(b"not a checkpoint")
    assert main(["adapt", str(copy)]) == 2
    err = capsys.readouterr().err
    assert "000004.safetensors is unreadable" in err
    assert "Traceback" not in err


def test_console_script_and_module_entry_point(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "rlmaml", "adapt", str(tmp_path / "none")], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.startswith("rlmaml: error:")
    script = Path(sys.executable).parent / "rlmaml"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "train" in result.stdout


def test_a_reader_that_leaves_early_gets_no_error():
    """`rlmaml config NAME | head`: the pipe closes under the command, which ends quietly
    (`true` leaves before Python has started, so the command always writes into a closed pipe)."""
    command = f"{sys.executable} -m rlmaml config navigation2d | true"
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60)
    assert result.stderr == ""
