"""ProMP's outer optimizer: it learns, resumes bit for bit (Adam's moments are checkpointed)
and leaves the weights as they were when a step is not finite."""

import csv
from pathlib import Path

import torch
from conftest import TINY_NAV, rl_config

from rlmaml.cli import main
from rlmaml.core.functional import parameters_of
from rlmaml.rl.experiment import RLExperiment
from rlmaml.rl.outer_promp import ProMP

PROMP = ["outer_optimizer=promp", "estimator=lvc"]


def train(out: Path, *extra: str, resume: bool = False) -> None:
    command = ["train", "navigation2d", "--out", str(out), "--quiet", "--set", *TINY_NAV, *PROMP, *extra]
    assert main(command + (["--resume"] if resume else [])) == 0


def rows(run: Path) -> list[dict]:
    with (run / "progress.csv").open() as f:
        return [
            {k: v for k, v in r.items() if k != "wall_time" and not k.startswith("time_")} for r in csv.DictReader(f)
        ]


def test_a_resumed_promp_run_continues_the_uninterrupted_one(tmp_path):
    train(tmp_path / "whole", "iterations=4")
    train(tmp_path / "resumed", "iterations=2")
    train(tmp_path / "resumed", "iterations=4", resume=True)
    assert rows(tmp_path / "resumed") == rows(tmp_path / "whole")
    whole, resumed = (sorted((tmp_path / r / "checkpoints").glob("000004.safetensors")) for r in ("whole", "resumed"))
    assert whole[0].read_bytes() == resumed[0].read_bytes()


def test_adam_state_goes_into_the_checkpoint_and_back():
    config = rl_config("navigation2d", *TINY_NAV, *PROMP)
    experiment = RLExperiment(config)
    experiment.run_iteration(0)
    tensors, state = experiment.checkpoint()
    assert any(name.startswith("outer.adam.") and name.endswith(".exp_avg_sq") for name in tensors)
    fresh = RLExperiment(config)
    fresh.restore(tensors, state)
    assert fresh.learner.outer.state().keys() == experiment.learner.outer.state().keys()
    for name, value in experiment.learner.outer.state().items():
        assert torch.equal(fresh.learner.outer.state()[name], value)
    experiment.close()
    fresh.close()


def test_a_step_that_is_not_finite_restores_the_weights_and_adam():
    config = rl_config("navigation2d", *TINY_NAV, *PROMP)
    experiment = RLExperiment(config)
    experiment.run_iteration(0)
    outer = experiment.learner.outer
    assert isinstance(outer, ProMP)
    before = {n: p.detach().clone() for n, p in parameters_of(experiment.policy).items()}
    state = outer.state()
    outer.adam.param_groups[0]["lr"] = float("inf")  # the first step's weights are inf
    experiment.run_iteration(1)
    assert experiment.skip_reason == "a ProMP step gives non-finite weights"
    for n, p in parameters_of(experiment.policy).items():
        assert torch.equal(p, before[n])
    assert all(torch.equal(outer.state()[k], v) for k, v in state.items())
    experiment.close()
