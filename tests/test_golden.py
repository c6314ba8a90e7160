"""Golden runs: short seeded trainings, one `rlmaml adapt` and one `rlmaml evaluate`, whose
numbers are stored in tests/golden/ and must not move by more than rounding (1e-5
relative). The zoo's long runs resume across code changes only if these hold.

Every config key is pinned in tests/golden/*.yaml, so a change of a packaged default does
not move them. After a change meant to alter the numbers (say so in its commit), rewrite
the stored values with RLMAML_REGENERATE_GOLDEN=1 python -m pytest tests/test_golden.py.
"""

import csv
import json
import os
from pathlib import Path

import pytest
import torch
from supervised_support import single_thread  # noqa: F401

from rlmaml.cli import main

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("RLMAML_REGENERATE_GOLDEN") == "1"
TIMING = ("wall_time",)
pytestmark = pytest.mark.usefixtures("single_thread")


def numbers(progress: Path) -> list[dict[str, float]]:
    with progress.open() as f:
        return [
            {k: float(v) for k, v in row.items() if k not in TIMING and not k.startswith("time_")}
            for row in csv.DictReader(f)
        ]


def flat(value: object, path: str = "") -> dict[str, object]:
    """{'[0].return_after': -10.9, ...}: nested lists and dicts as one mapping of leaves."""
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in flat(item, f"{path}.{key}").items()}
    if isinstance(value, list):
        return {k: v for i, item in enumerate(value) for k, v in flat(item, f"{path}[{i}]").items()}
    return {path: value}


def check(name: str, measured: object) -> None:
    path = GOLDEN / f"{name}.json"
    if REGENERATE:
        path.write_text(json.dumps(measured, indent=1) + "\n")
    stored, now = flat(json.loads(path.read_text())), flat(measured)
    assert now.keys() == stored.keys(), name
    moved = {k: (stored[k], now[k]) for k in stored if now[k] != pytest.approx(stored[k], rel=1e-5, abs=1e-7)}
    assert not moved, f"{name}: (stored, now) {moved}"


@pytest.fixture(scope="module")
def golden_runs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("golden")
    torch.set_num_threads(1)
    for name in ("navigation2d", "halfcheetah-dir", "sinusoid"):
        assert main(["train", str(GOLDEN / f"{name}.yaml"), "--out", str(root / name), "--quiet"]) == 0
    return root


@pytest.mark.parametrize("name", ["navigation2d", "halfcheetah-dir", "sinusoid"])
def test_golden_training_run(golden_runs, name):
    check(f"{name}-progress", numbers(golden_runs / name / "progress.csv"))


def test_golden_adapt(golden_runs, tmp_path):
    report = tmp_path / "adapt.json"
    args = ["adapt", str(golden_runs / "navigation2d"), "--num-tasks", "3", "--steps", "2", "--lr-schedule", "paper"]
    assert main([*args, "--json", str(report)]) == 0
    check("navigation2d-adapt", json.loads(report.read_text())["returns"])


def test_golden_evaluate(golden_runs, tmp_path):
    report = tmp_path / "evaluate.json"
    args = ["evaluate", str(golden_runs / "sinusoid"), "--num-tasks", "20", "--steps", "3", "--shots", "5"]
    assert main([*args, "--json", str(report)]) == 0
    check("sinusoid-evaluate", json.loads(report.read_text())["steps"])
