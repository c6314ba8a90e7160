"""`rlmaml train` and `rlmaml evaluate` on supervised configs: run files, resume, the JSON
report, the plot, and one-line errors with exit code 2."""

import csv
import json
from pathlib import Path

import pytest
from safetensors.torch import load_file
from supervised_support import single_thread, write_image_folder  # noqa: F401

from rlmaml.cli import main
from rlmaml.runs.config import load_config
from rlmaml.runs.run_dir import write_config

pytestmark = pytest.mark.usefixtures("single_thread")
TINY_SINUSOID = ["meta_batch_size=4", "hidden_sizes=[8]", "checkpoint_every=2"]


def train_sinusoid(out: Path, *extra: str) -> int:
    return main(["train", "sinusoid", "--out", str(out), "--quiet", "--set", *TINY_SINUSOID, *extra])


def rows(run: Path) -> list[dict]:
    with (run / "progress.csv").open() as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def sinusoid_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "sinusoid"
    assert train_sinusoid(out, "iterations=4", "learn_inner_lr=true", "cosine_lr=true") == 0
    return out


@pytest.fixture(scope="module")
def folder_run(tmp_path_factory) -> Path:
    data = write_image_folder(tmp_path_factory.mktemp("data") / "shapes", classes=8, images=6)
    out = tmp_path_factory.mktemp("runs") / "shapes"
    settings = [
        "dataset=folder",
        f"data_dir={data}",
        "train_classes=4",
        "val_classes=0",
        "rotations=false",
        "image_size=12",
        "channels=3",
        "ways=3",
        "shots=2",
        "query_shots=2",
        "filters=8",
        "meta_batch_size=2",
        "iterations=2",
        "bn_mode=running",
        "per_step_bn=true",
    ]
    assert main(["train", "omniglot-5w1s", "--out", str(out), "--quiet", "--set", *settings]) == 0
    return out


def test_sinusoid_run_writes_progress_and_checkpoints_with_optimizer_state(sinusoid_run):
    table = rows(sinusoid_run)
    assert list(table[0]) == ["iteration", "wall_time", "loss_before", "loss_after", "update_skipped"]
    assert [int(r["iteration"]) for r in table] == [0, 1, 2, 3]
    assert list((sinusoid_run / "tensorboard").glob("events.out.tfevents.*"))
    tensors = load_file(sinusoid_run / "checkpoints" / "000004.safetensors")
    assert "model.layers.0.weight" in tensors
    assert "inner_lr.rates" in tensors
    assert "optimizer.model.layers.0.weight.exp_avg_sq" in tensors


def test_resumed_sinusoid_run_reproduces_the_uninterrupted_one(sinusoid_run, tmp_path):
    """Resuming from iteration 2 restores weights, learned inner rates and Adam's moments."""
    out = tmp_path / "resumed"
    settings = [*TINY_SINUSOID, "iterations=4", "learn_inner_lr=true", "cosine_lr=true"]
    assert main(["train", "sinusoid", "--out", str(out), "--quiet", "--set", *settings]) == 0
    for suffix in (".json", ".safetensors"):
        (out / "checkpoints" / f"000004{suffix}").unlink()  # as if it crashed before the last checkpoint
    assert main(["train", "sinusoid", "--out", str(out), "--quiet", "--resume", "--set", *settings]) == 0
    drop_time = [{k: v for k, v in r.items() if k != "wall_time"} for r in rows(out)]
    assert drop_time == [{k: v for k, v in r.items() if k != "wall_time"} for r in rows(sinusoid_run)]
    assert (out / "checkpoints" / "000004.json").is_file()


def test_evaluate_prints_scores_and_writes_json_and_plot(sinusoid_run, tmp_path, capsys):
    report, figure = tmp_path / "eval.json", tmp_path / "fit.png"
    args = ["evaluate", str(sinusoid_run), "--num-tasks", "20", "--steps", "2", "--shots", "5"]
    assert main([*args, "--json", str(report), "--plot", str(figure)]) == 0
    out = capsys.readouterr().out
    assert "20 new tasks, 5-shot" in out
    assert "95% CI" in out
    data = json.loads(report.read_text())
    assert set(data) == {"metric", "steps"}
    assert data["metric"] == "mse"
    assert [s["step"] for s in data["steps"]] == [0, 1, 2]
    assert all(set(s) == {"step", "mean", "ci95", "median", "diverged"} and s["ci95"] > 0 for s in data["steps"])
    assert all(s["diverged"] == 0 for s in data["steps"])
    assert data["steps"][2]["mean"] < data["steps"][0]["mean"]  # adaptation lowers the MSE
    assert figure.stat().st_size > 10_000


def test_evaluate_an_earlier_checkpoint(sinusoid_run, capsys):
    args = ["evaluate", str(sinusoid_run), "--num-tasks", "4", "--steps", "1"]
    assert main([*args, "--checkpoint", "2"]) == 0
    earlier = capsys.readouterr().out
    assert "model after 2 meta-iterations" in earlier
    assert main(args) == 0
    latest = capsys.readouterr().out
    assert "model after 4 meta-iterations" in latest
    assert latest.splitlines()[2:] != earlier.splitlines()[2:]
    assert main([*args, "--checkpoint", "3"]) == 2
    assert "--checkpoint 3: " in capsys.readouterr().err


def test_classification_on_an_image_folder(folder_run, tmp_path, capsys):
    assert list(rows(folder_run)[0]) == [
        "iteration",
        "wall_time",
        "loss_before",
        "loss_after",
        "accuracy_before",
        "accuracy_after",
        "update_skipped",
    ]
    report = tmp_path / "eval.json"
    assert main(["evaluate", str(folder_run), "--num-tasks", "6", "--json", str(report)]) == 0
    data = json.loads(report.read_text())
    assert data["metric"] == "accuracy"
    assert [s["step"] for s in data["steps"]] == [0, 1, 2, 3]
    assert all(0 <= s["mean"] <= 1 for s in data["steps"])
    assert "accuracy %" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shots", "5"], "shots + query_shots = 7 images per class are needed"),
        (["--plot", "x.png"], "--plot draws sinusoid regression"),
        (["--split", "val"], "0 classes of the val split"),
        (["--data-dir", "/nonexistent/place"], "/nonexistent/place is not a folder"),
    ],
)
def test_evaluate_rejects_what_the_run_cannot_do(folder_run, capsys, args, message):
    assert main(["evaluate", str(folder_run), "--num-tasks", "2", *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("config", "override", "message"),
    [
        ("sinusoid", "data_dir=x", "unknown config key 'data_dir'"),
        ("sinusoid", "mode=regression", "config key 'mode' must be one of sinusoid, classification"),
        ("omniglot-5w1s", "ways=many", "'ways' must be an integer"),
        ("omniglot-5w1s", "bn_mode=batch", "'bn_mode' must be one of transductive, running"),
        (
            "omniglot-5w1s",
            "data_dir=/nonexistent/omniglot",
            "/nonexistent/omniglot holds neither images_background.zip",
        ),
    ],
)
def test_bad_supervised_configs_exit_2_with_one_line(tmp_path, capsys, config, override, message):
    assert main(["train", config, "--out", str(tmp_path / "bad"), "--quiet", "--set", override]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "bad").exists()


def test_missing_omniglot_says_where_to_get_it(tmp_path, capsys):
    assert main(["train", "omniglot-20w1s", "--out", str(tmp_path / "run"), "--set", f"data_dir={tmp_path}"]) == 2
    assert "github.com/brendenlake/omniglot" in capsys.readouterr().err


def test_resume_with_a_config_of_another_kind_is_one_line(sinusoid_run, tmp_path, capsys):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(sinusoid_run, copy)
    before = (copy / "config.yaml").read_text()
    assert main(["train", "navigation2d", "--out", str(copy), "--quiet", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "trained with another kind of config" in err
    assert len(err.strip().splitlines()) == 1
    assert (copy / "config.yaml").read_text() == before


def test_evaluate_and_adapt_refuse_the_other_mode(sinusoid_run, tmp_path, capsys):
    rl_run = tmp_path / "rl"
    write_config(rl_run, load_config("navigation2d"))
    assert main(["evaluate", str(rl_run)]) == 2
    assert "use `rlmaml adapt`" in capsys.readouterr().err
    assert main(["adapt", str(sinusoid_run)]) == 2
    assert "use `rlmaml evaluate`" in capsys.readouterr().err


def test_plot_draws_supervised_training_curves(sinusoid_run, folder_run, tmp_path, monkeypatch, capsys):
    import numpy as np

    import rlmaml.runs.plots

    drawn, save = [], rlmaml.runs.plots.save_figure
    monkeypatch.setattr(
        rlmaml.runs.plots, "save_figure", lambda figure, *args, **kw: (drawn.append(figure), save(figure, *args, **kw))
    )
    loss_only, loss_and_accuracy = tmp_path / "sinusoid.png", tmp_path / "shapes.png"
    assert main(["plot", str(sinusoid_run), "--out", str(loss_only), "--window", "2"]) == 0
    assert main(["plot", str(folder_run), "--out", str(loss_and_accuracy)]) == 0
    assert loss_only.stat().st_size > 10_000
    assert loss_and_accuracy.stat().st_size > 10_000
    (loss_axis,), (folder_loss, accuracy_axis) = drawn[0].axes, drawn[1].axes
    assert loss_axis.get_yscale() == folder_loss.get_yscale() == "log"
    assert accuracy_axis.get_yscale() == "linear"
    _before, after = loss_axis.get_lines()
    losses = [float(row["loss_after"]) for row in rows(sinusoid_run)]  # 4 iterations, window 2
    assert np.allclose(after.get_ydata(), np.convolve(losses, [0.5, 0.5], "valid"))
    assert list(after.get_xdata()) == [2, 3, 4]
    accuracies = [float(row["accuracy_after"]) for row in rows(folder_run)]  # 2 iterations: no smoothing
    assert np.allclose(accuracy_axis.get_lines()[1].get_ydata(), accuracies)
    rl_run = tmp_path / "rl"
    write_config(rl_run, load_config("navigation2d"))
    assert main(["plot", str(sinusoid_run), str(rl_run), "--out", str(tmp_path / "mixed.png")]) == 2
    err = capsys.readouterr().err
    assert "is a meta-RL run but" in err
    assert "plot runs of one kind together" in err
    assert not (tmp_path / "mixed.png").exists()


def test_moving_average_keeps_only_full_windows():
    import numpy as np

    from rlmaml.runs.plots import moving_average

    values = np.array([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 4.0, 4.0]])
    assert np.allclose(moving_average(values, 2), [[1.5, 2.5, 3.5], [0.0, 2.0, 4.0]])
    assert np.allclose(moving_average(values, 4), [[2.5], [2.0]])
    assert moving_average(values, 1) is values
    spoiled = moving_average(np.array([1.0, np.nan, 3.0, 4.0, 5.0]), 2)
    assert np.isnan(spoiled[:2]).all()
    assert np.allclose(spoiled[2:], [3.5, 4.5])


def test_evaluate_argument_errors_exit_2(sinusoid_run, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", str(sinusoid_run), "--num-tasks", "0"])
    assert exit_info.value.code == 2
    assert main(["evaluate", str(tmp_path / "none")]) == 2
    assert "no run at" in capsys.readouterr().err


def test_held_out_statistic_counts_diverged_tasks_and_keeps_a_finite_median():
    import numpy as np

    from rlmaml.supervised.evaluation import HeldOutStatistic

    statistic = HeldOutStatistic.of(10, np.array([0.1, 0.2, 0.3, np.inf, np.nan]))
    assert statistic.diverged == 2
    assert statistic.median == 0.3
    assert np.isnan(statistic.mean)
