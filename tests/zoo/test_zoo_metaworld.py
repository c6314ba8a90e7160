"""A Meta-World zoo entry is evaluated with Meta-World's protocol: one adaptation step on each
of ML1's test goals, the success rate reported, and the recorded command prints the same."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from metaworld_support import skip_without_metaworld

from rlmaml.cli import main
from rlmaml.zoo.entries import read_entry, result_text, steps_text

REPO = Path(__file__).resolve().parents[2]
TINY = ["meta_batch_size=2", "fast_batch_size=2", "horizon=20", "hidden_sizes=[8]", "iterations=1"]


def test_ml1_entry_reports_test_goal_success_and_reproduces(tmp_path: Path, monkeypatch) -> None:
    skip_without_metaworld()
    entry = tmp_path / "zoo" / "ml1-reach"
    assert main(["train", "ml1-reach", "--out", str(entry), "--quiet", "--set", *TINY]) == 0
    spec = importlib.util.spec_from_file_location("zoo_evaluate", REPO / "scripts" / "zoo_evaluate.py")
    evaluate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(evaluate)
    assert evaluate.main([str(entry), "--num-tasks", "3"]) == 0
    report = json.loads((entry / "evaluation.json").read_text())
    assert report["protocol"] == {"num_tasks": 3, "steps": 1, "seed": 0, "lr_schedule": "training", "split": "test"}
    latest = report["checkpoints"][-1]
    assert [s["step"] for s in latest["successes"]] == [0, 1]
    assert steps_text(read_entry(entry).reference) == "test-goal success after 1 step"
    assert result_text(read_entry(entry)).endswith(" %")
    monkeypatch.chdir(tmp_path)
    command = report["command"]
    assert "--split test" in command
    assert main([*command.split()[1:], "--json", str(tmp_path / "adapt.json")]) == 0
    printed = json.loads((tmp_path / "adapt.json").read_text())
    assert printed["successes"] == latest["successes"]
    assert printed["returns"] == latest["returns"]
