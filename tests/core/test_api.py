"""The library API: `rlmaml.MAML` against meta-gradients derived by hand, against a loop over
tasks and against the supervised learner; the README's example; the meta-RL entry points."""

import json
import math
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from conftest import train_tiny_nav
from torch import nn

import rlmaml
from rlmaml.cli import main
from rlmaml.errors import UserError
from rlmaml.runs.config import load_config, typed_config
from rlmaml.runs.config_types import SinusoidConfig
from rlmaml.supervised.learner import MetaSettings, SupervisedMetaLearner
from rlmaml.supervised.problems import build_problem

README = Path(__file__).resolve().parents[2] / "README.md"


def linear_tasks(tasks: int = 3, support: int = 5, query: int = 4, dim: int = 3) -> tuple[torch.Tensor, ...]:
    """Inputs [T, N, dim] and targets [T, N, 1] of random linear regression tasks, float64."""
    generator = torch.Generator().manual_seed(0)

    def draw(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator, dtype=torch.float64)

    return draw(tasks, support, dim), draw(tasks, support, 1), draw(tasks, query, dim), draw(tasks, query, 1)


def hand_derived_meta_gradients(w, lr, steps, xs, ys, xq, yq) -> tuple[torch.Tensor, torch.Tensor]:
    """The exact meta-gradients of mean_i L_q,i(w_K,i) for f(x) = x.w and L(w) = |Xw - y|^2 / n.
    The gradient of L is g(w) = 2/n X'(Xw - y) and its Hessian H = 2/n X'X, so an inner step
    w_k+1 = w_k - lr g_s(w_k) has Jacobian (I - lr H_s): the second-order meta-gradient is
    mean_i (I - lr H_s,i)^K g_q,i(w_K,i); the first-order one drops the Jacobians."""
    second, first = [], []
    eye = torch.eye(w.numel(), dtype=w.dtype)
    for x_s, y_s, x_q, y_q in zip(xs, ys, xq, yq, strict=True):
        n_s, n_q = x_s.shape[0], x_q.shape[0]
        adapted = w
        for _ in range(steps):
            adapted = adapted - lr * 2 / n_s * x_s.T @ (x_s @ adapted - y_s)
        query_gradient = 2 / n_q * x_q.T @ (x_q @ adapted - y_q)
        jacobian = torch.linalg.matrix_power(eye - lr * 2 / n_s * x_s.T @ x_s, steps)
        second.append(jacobian @ query_gradient)
        first.append(query_gradient)
    return torch.stack(second).mean(0).view(1, -1), torch.stack(first).mean(0).view(1, -1)


def meta_gradient(maml: rlmaml.MAML, xs, ys, xq, yq, steps: int) -> list[torch.Tensor]:
    adapted = maml.adapt(F.mse_loss, xs, ys, steps=steps)
    loss = maml.task_losses(F.mse_loss, adapted, xq, yq).mean()
    return list(torch.autograd.grad(loss, list(maml.params.values())))


@pytest.mark.parametrize("steps", [1, 2])
def test_meta_gradients_match_the_hand_derived_ones_of_their_order(steps):
    xs, ys, xq, yq = linear_tasks()
    model = nn.Linear(3, 1, bias=False, dtype=torch.float64)
    lr = 0.3
    second, first = hand_derived_meta_gradients(model.weight.detach().view(-1, 1), lr, steps, xs, ys, xq, yq)
    assert (second - first).abs().max() > 1e-2  # the orders differ, so each check below can fail
    (second_order,) = meta_gradient(rlmaml.MAML(model, lr), xs, ys, xq, yq, steps)
    (first_order,) = meta_gradient(rlmaml.MAML(model, lr, first_order=True), xs, ys, xq, yq, steps)
    torch.testing.assert_close(second_order, second, rtol=0, atol=1e-6)
    torch.testing.assert_close(first_order, first, rtol=0, atol=1e-6)
    assert (second_order - first).abs().max() > 1e-2
    assert (first_order - second).abs().max() > 1e-2


@pytest.mark.parametrize("first_order", [False, True])
def test_a_batch_of_tasks_equals_a_loop_over_them(first_order):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1)).double()
    xs, ys, xq, yq = (torch.randn(4, n, d, dtype=torch.float64) for n, d in ((6, 2), (6, 1), (5, 2), (5, 1)))
    maml = rlmaml.MAML(model, [0.1, 0.05], first_order)  # a schedule of two step sizes
    batched = meta_gradient(maml, xs, ys, xq, yq, steps=2)
    per_task = [meta_gradient(maml, xs[[i]], ys[[i]], xq[[i]], yq[[i]], steps=2) for i in range(4)]
    for name, batched_grad, *task_grads in zip(maml.params, batched, *per_task, strict=True):
        torch.testing.assert_close(batched_grad, torch.stack(task_grads).mean(0), msg=name)


@pytest.mark.parametrize("num_steps", [1, 2])
def test_meta_gradient_equals_the_supervised_learners_on_a_sinusoid_batch(num_steps):
    config = typed_config(load_config("sinusoid", [f"num_steps={num_steps}"]))
    assert isinstance(config, SinusoidConfig)
    problem = build_problem(config)
    learner = SupervisedMetaLearner(problem.model, problem.loss, problem.score, MetaSettings.from_config(config))
    batch = problem.tasks.sample(range(config.meta_batch_size), config.seed, iteration=0)
    weights = list(problem.model.parameters())
    expected = torch.autograd.grad(learner.meta_objective(batch, iteration=0).loss, weights)
    maml = rlmaml.MAML(problem.model, config.fast_lr)
    got = meta_gradient(
        maml, batch.support_inputs, batch.support_targets, batch.query_inputs, batch.query_targets, num_steps
    )
    for expected_grad, got_grad in zip(expected, got, strict=True):
        torch.testing.assert_close(got_grad, expected_grad)


def readme_python_blocks(section: str) -> list[str]:
    """The ```python blocks of the README section with this heading."""
    text = README.read_text()
    start = text.index(f"\n{section}\n")
    end = text.find("\n#", start + len(section) + 2)
    return re.findall(r"```python\n(.*?)```", text[start:end], flags=re.DOTALL)


def test_the_readme_example_trains_and_adapts(capsys):
    """The README's sinusoid example as it is written, for 3 meta-iterations instead of 70,000."""
    example, low_level = readme_python_blocks("### Library use")
    assert "range(70_000)" in example
    torch.manual_seed(0)
    namespace: dict = {}
    exec(compile(example.replace("range(70_000)", "range(3)"), "README.md", "exec"), namespace)
    assert math.isfinite(namespace["loss"].item())
    assert namespace["optimizer"].state
    assert set(namespace["adapted"]) == set(dict(namespace["model"].named_parameters()))
    assert namespace["adapted"]["0.weight"].shape == (100, 40, 1)  # one copy per held-out task
    assert capsys.readouterr().out.startswith("held-out query MSE after 10 steps: ")
    assert math.isfinite(namespace["mse"])
    model = nn.Linear(2, 1)
    namespace = {"model": model, "loss": lambda params: params["weight"].square().sum()}
    exec(compile(low_level, "README.md", "exec"), namespace)
    (grad,) = torch.autograd.grad(namespace["adapted"]["weight"].sum(), [model.weight])
    torch.testing.assert_close(grad, torch.full_like(grad, 0.8))  # d/dw of w - 0.1 * 2w


@pytest.fixture(scope="module")
def nav_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "nav"
    train_tiny_nav(out, "iterations=2")
    return out


def test_adapt_policy_returns_the_adapted_parameters_and_the_returns_per_step(nav_run):
    adapted = rlmaml.adapt_policy(nav_run, {"goal": [0.3, -0.2]}, steps=2, seed=3)
    assert [r.step for r in adapted.returns] == [0, 1, 2]
    policy_params = dict(adapted.policy.named_parameters())
    assert adapted.parameters.keys() == policy_params.keys()
    assert all(adapted.parameters[n].shape == p.shape for n, p in policy_params.items())
    assert any(not torch.equal(adapted.parameters[n], p) for n, p in policy_params.items())
    report = nav_run / "adapt.json"
    assert (
        main(["adapt", str(nav_run), "--task", "goal=0.3,-0.2", "--steps", "2", "--seed", "3", "--json", str(report)])
        == 0
    )
    cli_returns = [r["mean"] for r in json.loads(report.read_text())["returns"]]
    assert cli_returns == pytest.approx([r.mean for r in adapted.returns], rel=1e-12)


def test_make_meta_learner_from_a_name_a_mapping_or_a_typed_config():
    tiny = ["meta_batch_size=2", "fast_batch_size=2", "horizon=5", "hidden_sizes=[4]"]
    by_name = rlmaml.make_meta_learner("navigation2d", tiny)
    try:
        stats = by_name.run_iteration(0)
    finally:
        by_name.close()
    assert math.isfinite(stats["return_before"])
    assert stats["env_steps"] > 0
    by_mapping = rlmaml.make_meta_learner(load_config("navigation2d"), tiny)
    by_mapping.close()
    by_config = rlmaml.make_meta_learner(typed_config(load_config("navigation2d", tiny)))
    by_config.close()
    assert by_name.config == by_mapping.config == by_config.config
    for name, p in by_name.policy.state_dict().items():
        assert p.shape == by_mapping.policy.state_dict()[name].shape
        torch.testing.assert_close(by_config.policy.state_dict()[name], by_mapping.policy.state_dict()[name])
    with pytest.raises(UserError, match="unknown config key 'horizn'"):
        rlmaml.make_meta_learner({**load_config("navigation2d"), "horizn": 3})
    with pytest.raises(UserError, match="supervised"):
        rlmaml.make_meta_learner("sinusoid")
