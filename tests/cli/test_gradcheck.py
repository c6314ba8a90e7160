"""`rlmaml gradcheck`: estimates against the exact meta-gradient where it is known, means and
variances where it is not, the JSON it writes, and one-line errors."""

import json

import pytest
from conftest import TINY_NAV

from rlmaml.cli import main

BANDIT = ["gradcheck", "gaussian-bandit", "--batches", "300", "--task", "goal=1", "--set", "learn_std=false"]


def test_the_bandit_report_compares_with_the_exact_gradient(tmp_path, capsys):
    report = tmp_path / "dice.json"
    assert main([*BANDIT, "--estimator", "dice", "--json", str(report)]) == 0
    out = capsys.readouterr().out
    assert "estimator dice, 300 batches" in out
    assert "cosine to the exact gradient" in out
    written = json.loads(report.read_text())
    assert (written["estimator"], written["batches"]) == ("dice", 300)
    (mean,) = written["parameters"]
    assert mean["name"] == "mean"
    assert mean["exact"] == [pytest.approx(0.9184, abs=1e-4)]
    assert abs(mean["mean"][0] - mean["exact"][0]) < 4 * mean["stderr"][0]


def test_without_an_exact_value_it_still_reports_means_and_variances(tmp_path, capsys):
    report = tmp_path / "nav.json"
    command = ["gradcheck", "navigation2d", "--batches", "3", "--set", *TINY_NAV, "--json", str(report)]
    assert main(command) == 0
    assert "no exact value" in capsys.readouterr().out
    written = json.loads(report.read_text())
    assert written["estimator"] == "maml"
    assert all(p["exact"] is None and len(p["mean"]) == len(p["stderr"]) for p in written["parameters"])
    assert written["cosine_to_exact"] is None


def test_a_trained_run_is_checked_at_its_checkpoint(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "navigation2d", "--out", str(run), "--quiet", "--set", *TINY_NAV, "iterations=2"]) == 0
    assert main(["gradcheck", "--run", str(run), "--checkpoint", "2", "--batches", "2", "--estimator", "lvc"]) == 0
    assert "estimator lvc, 2 batches" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["gradcheck"], "give a config or --run RUN_DIR"),
        (["gradcheck", "navigation2d", "--run", "somewhere"], "give a config or --run RUN_DIR"),
        (["gradcheck", "navigation2d", "--checkpoint", "3"], "--checkpoint picks a checkpoint of --run"),
        (["gradcheck", "navigation2d", "--estimator", "reinforce"], "invalid choice: 'reinforce'"),
        (["gradcheck", "navigation2d", "--batches", "1"], "must be at least 2"),
        (["gradcheck", "navigation2d", "--estimator", "lvc", "--set", "first_order=true"], "'first_order'"),
        (["gradcheck", "gaussian-bandit", "--task", "goal=nan"], "goal"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, arguments, message):
    try:
        code = main(arguments)
    except SystemExit as usage_error:  # argparse's own checks
        code = usage_error.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
