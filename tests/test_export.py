"""`rlmaml export`: the adapted policy as a file Stable-Baselines3's PPO.load reads."""

import json

import numpy as np
import pytest
import torch
from conftest import train_tiny_nav
from stable_baselines3 import PPO
from stable_baselines3.common.evaluation import evaluate_policy
from torch.func import functional_call

from rlmaml.cli import main
from rlmaml.environments import make_env
from rlmaml.evaluation import adapt_and_measure
from rlmaml.run import load_trained_policy

TASK = {"goal": [0.3, -0.2]}


@pytest.fixture(scope="module", params=["mlp", "sb3"])
def nav_run(request, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / request.param
    train_tiny_nav(out, "iterations=2", f"policy={request.param}")
    return out


def export(run, path, steps=1) -> int:
    return main(["export", str(run), "--task", "goal=0.3,-0.2", "--steps", str(steps), "--out", str(path)])


def test_the_exported_actor_is_the_adapted_policy(nav_run, tmp_path):
    assert export(nav_run, tmp_path / "policy.zip", steps=2) == 0
    model = PPO.load(tmp_path / "policy.zip", device="cpu")
    config, policy, _ = load_trained_policy(nav_run)
    adapted = adapt_and_measure(config, policy, [TASK], 2, seed=0).parameters[-1]
    adapted = {name: value[0] for name, value in adapted.items()}
    observations = torch.randn(16, 2)
    mean, log_std = functional_call(policy, adapted, (observations,))
    max_step = 0.1  # the policy acts in [-1, 1] (normalize_actions), the SB3 file in the env's bounds
    distribution = model.policy.get_distribution(observations).distribution
    torch.testing.assert_close(distribution.mean, max_step * mean)
    torch.testing.assert_close(distribution.stddev, max_step * log_std.exp())


def test_sb3_evaluation_of_the_export_agrees_with_adapt(nav_run, tmp_path):
    assert export(nav_run, tmp_path / "policy.zip") == 0
    report = tmp_path / "adapt.json"
    assert main(["adapt", str(nav_run), "--task", "goal=0.3,-0.2", "--steps", "1", "--json", str(report)]) == 0
    after = json.loads(report.read_text())["returns"][1]
    env = make_env(load_trained_policy(nav_run)[0])
    env.unwrapped.set_task(TASK)
    model = PPO.load(tmp_path / "policy.zip", device="cpu")
    mean, std = evaluate_policy(model, env, n_eval_episodes=100, deterministic=False, warn=False)
    adapt_error = after["ci95"] / 1.96
    assert abs(mean - after["mean"]) < 4 * np.hypot(std / 10, adapt_error)


def test_export_needs_a_zip_path_and_writes_nothing_else(nav_run, tmp_path, capsys):
    assert export(nav_run, tmp_path / "policy.pt") == 2
    assert ".zip" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_export_rejects_a_bad_task(nav_run, tmp_path, capsys):
    code = main(["export", str(nav_run), "--task", "goal=1", "--out", str(tmp_path / "p.zip")])
    assert code == 2 and "goal" in capsys.readouterr().err
