"""What a fresh interpreter loads: `import rlmaml` no torch, the supervised modules and
commands on supervised runs neither MuJoCo, Stable-Baselines3 nor the meta-RL modules, and
Gymnasium's module prefix registers the envs by itself."""

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from supervised_support import single_thread  # noqa: F401

import rlmaml.supervised
from rlmaml.cli import main

RL_STACK = ("mujoco", "stable_baselines3", "rlmaml.rl")


def run_python(code: str) -> str:
    """stdout of `code` in a fresh interpreter (which fails the test if it fails)."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


def loaded_rl_stack(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == name or m.startswith(name + ".") for name in RL_STACK)]


def test_import_rlmaml_loads_no_torch_and_the_api_on_first_use():
    code = """
import json, sys
import rlmaml
before = "torch" in sys.modules
import torch
maml = rlmaml.MAML(torch.nn.Linear(1, 1), lr=0.1)
adapted = maml.adapt(torch.nn.functional.mse_loss, torch.ones(2, 3, 1), torch.zeros(2, 3, 1))
names = {name: callable(getattr(rlmaml, name)) for name in rlmaml.__all__}
print(json.dumps([before, list(adapted["weight"].shape), names, sorted(set(rlmaml.__all__) - set(dir(rlmaml)))]))
"""
    torch_before, shape, names, undiscoverable = json.loads(run_python(code))
    assert not torch_before
    assert shape == [2, 1, 1]
    assert names == {"MAML": True, "AdaptedPolicy": True, "adapt_policy": True, "make_meta_learner": True}
    assert undiscoverable == []


def test_gymnasium_module_prefix_registers_the_envs_without_import_rlmaml():
    code = """
import json, sys
import gymnasium
env = gymnasium.make("rlmaml:rlmaml/Navigation2D-v0")
observation, _ = env.reset(seed=0)
print(json.dumps([list(observation.shape), env.spec.id, "torch" in sys.modules]))
"""
    assert json.loads(run_python(code)) == [[2], "rlmaml/Navigation2D-v0", False]


def test_supervised_modules_load_no_rl_stack():
    names = [f"rlmaml.supervised.{m.name}" for m in pkgutil.iter_modules(rlmaml.supervised.__path__)]
    assert "rlmaml.supervised.experiment" in names
    code = f"import importlib, json, sys\nfor name in {names!r}: importlib.import_module(name)\n"
    code += "print(json.dumps(sorted(sys.modules)))"
    assert loaded_rl_stack(json.loads(run_python(code))) == []


@pytest.fixture(scope="module")
def sinusoid_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "sinusoid"
    settings = ["meta_batch_size=2", "hidden_sizes=[8]", "iterations=2", "checkpoint_every=2"]
    assert main(["train", "sinusoid", "--out", str(out), "--quiet", "--set", *settings]) == 0
    return out


@pytest.mark.usefixtures("single_thread")
@pytest.mark.parametrize(
    "command",
    [
        ["evaluate", "{run}", "--num-tasks", "4", "--steps", "2", "--plot", "{run}/fit.png"],
        ["plot", "{run}", "--out", "{run}/curves.png"],
    ],
    ids=["evaluate", "plot"],
)
def test_commands_on_a_supervised_run_load_no_rl_stack(sinusoid_run, command):
    """`python -X importtime` logs every module the command imports, on stderr."""
    argv = [part.format(run=sinusoid_run) for part in command]
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "rlmaml", *argv], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    imported = [
        line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")
    ]
    assert "rlmaml.supervised.experiment" in imported or command[0] == "plot"
    assert "matplotlib.pyplot" in imported
    assert loaded_rl_stack(imported) == []
