"""`rlmaml export`: the adapted policy as a file Stable-Baselines3's PPO.load reads."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from conftest import train_tiny_nav
from stable_baselines3 import PPO
from stable_baselines3.common.evaluation import evaluate_policy
from torch.func import functional_call

from rlmaml.cli import main
from rlmaml.rl.environments import make_env
from rlmaml.rl.evaluation import adapt_and_measure
from rlmaml.rl.export import fold_action_scaling
from rlmaml.rl.policy_io import load_trained_policy

TASK = {"goal": [0.3, -0.2]}


@pytest.fixture(scope="module", params=[("mlp", True), ("sb3", True), ("mlp", False)], ids=str)
def nav_run(request, tmp_path_factory):
    policy, normalize = request.param
    out = tmp_path_factory.mktemp("runs") / policy
    train_tiny_nav(out, "iterations=2", "fast_batch_size=20", f"policy={policy}", f"normalize_actions={normalize}")
    return out


def plain_task_env(run):
    """The env a user evaluates an exported policy on: no rescaling of actions."""
    env = make_env(replace(load_trained_policy(run)[0], normalize_actions=False))
    env.unwrapped.set_task(TASK)
    return env


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
    # with normalize_actions the policy acts in [-1, 1], the SB3 file in the env's bounds (max step 0.1)
    max_step = 0.1 if config.normalize_actions else 1.0
    distribution = model.policy.get_distribution(observations).distribution
    torch.testing.assert_close(distribution.mean, max_step * mean)
    torch.testing.assert_close(distribution.stddev, max_step * log_std.exp())


def test_sb3_evaluation_of_the_export_agrees_with_adapt(nav_run, tmp_path):
    assert export(nav_run, tmp_path / "policy.zip") == 0
    report = tmp_path / "adapt.json"
    assert main(["adapt", str(nav_run), "--task", "goal=0.3,-0.2", "--steps", "1", "--json", str(report)]) == 0
    after = json.loads(report.read_text())["returns"][1]  # 20 episodes
    model = PPO.load(tmp_path / "policy.zip", device="cpu")
    mean, std = evaluate_policy(model, plain_task_env(nav_run), n_eval_episodes=100, deterministic=False, warn=False)
    assert abs(mean - after["mean"]) < 4 * np.hypot(std / 10, after["ci95"] / 1.96)


def test_folding_the_action_rescaling_matches_rescaling_the_actions():
    low, high = np.array([-1.0, 0.0]), np.array([3.0, 2.0])
    torch.manual_seed(0)
    weights = {"action_net.weight": torch.randn(2, 5), "action_net.bias": torch.randn(2), "log_std": torch.randn(2)}
    folded = fold_action_scaling(weights, low, high)
    features = torch.randn(7, 5)
    unit_mean = features @ weights["action_net.weight"].T + weights["action_net.bias"]
    expected = torch.as_tensor(low, dtype=torch.float32) + (unit_mean + 1) * torch.tensor([2.0, 1.0])
    torch.testing.assert_close(features @ folded["action_net.weight"].T + folded["action_net.bias"], expected)
    torch.testing.assert_close(folded["log_std"].exp(), weights["log_std"].exp() * torch.tensor([2.0, 1.0]))


def test_export_needs_a_zip_path_and_writes_nothing_else(nav_run, tmp_path, capsys):
    assert export(nav_run, tmp_path / "policy.pt") == 2
    assert ".zip" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_export_rejects_a_bad_task(nav_run, tmp_path, capsys):
    code = main(["export", str(nav_run), "--task", "goal=1", "--out", str(tmp_path / "p.zip")])
    assert code == 2
    assert "goal" in capsys.readouterr().err
