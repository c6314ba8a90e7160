"""CI-sized meta-training on Meta-World's ML1 reach: the success rate after adaptation rises,
progress.csv records success before and after, and `rlmaml adapt --split test` reports the
success rate on ML1's test goals."""

from __future__ import annotations

import csv
import json

import pytest
from metaworld_support import skip_without_metaworld

from rlmaml.cli import main

SMALL = ["meta_batch_size=10", "fast_batch_size=5", "horizon=100", "hidden_sizes=[32, 32]", "checkpoint_every=10"]


def test_ml1_reach_meta_training_raises_success_after_adaptation(tmp_path, capsys: pytest.CaptureFixture[str]):
    """10 iterations of 10 tasks x 5 episodes x 100 steps (about 30 s on one core). With seed 1
    the success rate after adaptation went 0, 0, 0 over the first three iterations and 36, 36,
    54 % over iterations 7-9 (a 20-iteration run stayed at 36-62 % after that)."""
    skip_without_metaworld()
    out = tmp_path / "reach"
    assert main(["train", "ml1-reach", "--out", str(out), "--quiet", "--set", "iterations=10", *SMALL]) == 0
    with (out / "progress.csv").open() as f:
        table = list(csv.DictReader(f))
    first = sum(float(r["success_after"]) for r in table[:3]) / 3
    last = sum(float(r["success_after"]) for r in table[-3:]) / 3
    assert last > first + 0.15, (first, last)
    assert all(0.0 <= float(r["success_before"]) <= 1.0 for r in table)

    report = tmp_path / "test-goals.json"
    args = ["adapt", str(out), "--split", "test", "--num-tasks", "4", "--steps", "1", "--json", str(report)]
    assert main(args) == 0
    assert "success" in capsys.readouterr().out
    written = json.loads(report.read_text())
    assert written["split"] == "test"
    assert [s["step"] for s in written["successes"]] == [0, 1]
    assert all(0.0 <= s["mean"] <= 1.0 for s in written["successes"])


def test_a_split_is_refused_for_envs_without_one(tmp_path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "nav"
    tiny = ["iterations=1", "meta_batch_size=2", "fast_batch_size=2", "horizon=5", "hidden_sizes=[4]"]
    assert main(["train", "navigation2d", "--out", str(out), "--quiet", "--set", *tiny]) == 0
    assert main(["adapt", str(out), "--split", "test", "--num-tasks", "2", "--steps", "1"]) == 2
    assert "a split of goals is Meta-World's" in capsys.readouterr().err


def test_ml10_trains_and_reports_each_test_familys_success(tmp_path, capsys: pytest.CaptureFixture[str]):
    """One tiny ML10 iteration, then `adapt --split test`: the first 5 test tasks are one goal
    of each test family, and the report gives each family's success rate per step."""
    skip_without_metaworld()
    from rlmaml.envs.metaworld.families import ML10_TEST, ML10_TRAIN, available

    if not set(ML10_TRAIN + ML10_TEST) <= set(available()):
        pytest.skip("not every ML10 family is ported")
    out = tmp_path / "ml10"
    tiny = ["iterations=1", "meta_batch_size=4", "fast_batch_size=2", "horizon=20", "hidden_sizes=[8]", "cg_iters=2"]
    assert main(["train", "ml10", "--out", str(out), "--quiet", "--set", *tiny]) == 0
    report = tmp_path / "ml10-test.json"
    args = ["adapt", str(out), "--split", "test", "--num-tasks", "5", "--steps", "1", "--json", str(report)]
    assert main(args) == 0
    assert "drawer-open: success" in capsys.readouterr().out
    by_family = json.loads(report.read_text())["successes_by_family"]
    assert list(by_family) == list(ML10_TEST)
    assert all(len(rates) == 2 for rates in by_family.values())
    bad = ["adapt", str(out), "--task", "family=lever-pull", "lever=0,0.7,0", "--steps", "1"]
    assert main(bad) == 2
    assert "'family' must be one of reach, push" in capsys.readouterr().err  # train families: the run's split


def test_compare_reports_each_methods_success_on_the_test_goals(tmp_path, capsys: pytest.CaptureFixture[str]):
    """MAML and the baselines adapted to ML1's first test goals: each method's success rate per
    step beside its return, MAML's equal to what `rlmaml adapt --split test` reports."""
    skip_without_metaworld()
    run, baselines = tmp_path / "reach", tmp_path / "baselines"
    tiny = ["meta_batch_size=2", "fast_batch_size=2", "horizon=20", "hidden_sizes=[8]", "cg_iters=2"]
    assert main(["train", "ml1-reach", "--out", str(run), "--quiet", "--set", "iterations=1", *tiny]) == 0
    trained = ["--out", str(baselines), "--timesteps", "64", "--envs", "1", "--methods", "random", "pretrained"]
    assert main(["baselines", "ml1-reach", *trained, "--set", *tiny]) == 0
    compared, adapted = tmp_path / "compare.json", tmp_path / "adapt.json"
    evaluation = ["--split", "test", "--num-tasks", "3", "--steps", "1"]
    assert main(["compare", str(run), str(baselines), *evaluation, "--json", str(compared)]) == 0
    assert "success rate ± 95% CI" in capsys.readouterr().out
    assert main(["adapt", str(run), *evaluation, "--json", str(adapted)]) == 0
    report, maml = json.loads(compared.read_text()), json.loads(adapted.read_text())
    assert report["split"] == "test"
    assert report["num_tasks"] == 3
    assert list(report["successes"]) == ["MAML", "random", "pretrained"]
    assert all(len(rates) == 2 for rates in report["successes"].values())
    assert report["successes"]["MAML"] == maml["successes"]
    assert report["methods"]["MAML"] == maml["returns"]
    assert (run / "compare.png").stat().st_size > 10_000
