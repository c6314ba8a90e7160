"""Categorical policies from the command line: train, resume and adapt on the Bernoulli bandit
and the tabular MDP (TRPO and ProMP), gradcheck's exact values and reference comparisons, and
Box-only features refused in one line."""

import json

import pytest

from rlmaml.cli import main

SMALL = ["meta_batch_size=4", "fast_batch_size=5"]
TASK = ["--task", "probabilities=0.1,0.9,0.2,0.3,0.5"]


@pytest.mark.parametrize(
    ("config", "overrides"),
    [
        ("bernoulli-bandit", []),
        ("tabular-mdp", []),
        ("tabular-mdp", ["outer_optimizer=promp", "estimator=lvc"]),
        ("tabular-mdp", ["estimator=dice", "hidden_sizes=[8]"]),
    ],
)
def test_train_resume_and_adapt(tmp_path, capsys, config, overrides):
    run = tmp_path / "run"
    assert main(["train", config, "--out", str(run), "--quiet", "--set", *SMALL, *overrides, "iterations=2"]) == 0
    assert (
        main(["train", config, "--out", str(run), "--quiet", "--resume", "--set", *SMALL, *overrides, "iterations=3"])
        == 0
    )
    report = tmp_path / "adapt.json"
    assert main(["adapt", str(run), "--num-tasks", "3", "--steps", "2", "--json", str(report)]) == 0
    returns = json.loads(report.read_text())["returns"]
    assert [r["step"] for r in returns] == [0, 1, 2]
    if config == "bernoulli-bandit":
        assert all(0 <= r["mean"] <= 1 for r in returns)
        assert main(["adapt", str(run), *TASK]) == 0


def test_gradcheck_reports_the_bandits_exact_gradient(tmp_path, capsys):
    report = tmp_path / "dice.json"
    assert main(["gradcheck", "bernoulli-bandit", *TASK, "--batches", "100", "--json", str(report)]) == 0
    assert "cosine to the exact gradient" in capsys.readouterr().out
    (logits,) = json.loads(report.read_text())["parameters"]
    assert logits["name"] == "logits"
    assert len(logits["exact"]) == len(logits["mean"]) == 5


def test_gradcheck_compares_every_estimator_with_a_reference(tmp_path, capsys):
    report = tmp_path / "all.json"
    args = ["gradcheck", "tabular-mdp", "--set", *SMALL, "--estimator", "all", "--batches", "3"]
    assert main([*args, "--reference-batches", "4", "--json", str(report)]) == 0
    out = capsys.readouterr().out
    assert out.count("cosine to the reference (dice, 4 batches of seed 1)") == 3
    written = json.loads(report.read_text())
    assert written["reference"] == {"estimator": "dice", "batches": 4}
    assert [e["estimator"] for e in written["estimators"]] == ["maml", "dice", "lvc"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["train", "bernoulli-bandit", "--set", "normalize_actions=true"], "config key 'normalize_actions'"),
        (["train", "bernoulli-bandit", "--set", "policy=sb3"], "config key 'policy'"),
        (["train", "gaussian-bandit", "--set", "policy=softmax", "init_mean=0"], "config key 'policy'"),
        (["gradcheck", "bernoulli-bandit", "--task", "probabilities=0.5,0.5,0.5,0.5,2"], "--task"),
        (["baselines", "tabular-mdp", "--out", "somewhere"], "rlmaml baselines"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, arguments, message):
    arguments = [a.replace("somewhere", str(tmp_path / "b")) for a in arguments]
    if arguments[0] == "train":
        arguments += ["--out", str(tmp_path / "run"), "--quiet"]
    assert main(arguments) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_export_refuses_a_categorical_run(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "bernoulli-bandit", "--out", str(run), "--quiet", "--set", "iterations=1"]) == 0
    capsys.readouterr()
    assert main(["export", str(run), *TASK, "--out", str(tmp_path / "p.zip")]) == 2
    assert "rlmaml export (an SB3 Gaussian PPO file) needs a Box action space" in capsys.readouterr().err
