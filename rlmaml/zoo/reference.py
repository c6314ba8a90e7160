"""The MAML paper's numbers (Finn et al. 2017) by packaged config, and what a zoo entry's
row reports against them."""

from __future__ import annotations

from dataclasses import dataclass, field

from rlmaml.runs.config_types import Config, RLConfig, SinusoidConfig, SupervisedConfig
from rlmaml.runs.groups import task_name


@dataclass(frozen=True)
class Reference:
    """What a config's row reports: the metric after the `headline` steps, and the paper's
    means (and CIs where it gives them) after that many steps."""

    task: str
    metric: str  # "return", "mse", "accuracy" or "success" (Meta-World's success rate)
    headline: tuple[int, ...]
    paper: dict[int, float] = field(default_factory=dict)
    paper_ci95: dict[int, float] = field(default_factory=dict)
    shots: int | None = None  # supervised: support examples at evaluation (None: the config's)
    source: str = ""  # where the numbers come from, when not the MAML paper


def rl_reference(task: str, values: tuple[float, ...] = ()) -> Reference:
    """An RL row: the paper's returns after 0, 1, 2, 3 steps (none for AntGoal)."""
    return Reference(task, "return", (1, 2, 3), dict(enumerate(values)))


def accuracy_reference(task: str, step: int, mean: float, ci95: float) -> Reference:
    return Reference(task, "accuracy", (step,), {step: mean / 100}, {step: ci95 / 100})


# The MAML paper (Finn et al. 2017), from ../shared/design.md "Reference numbers", by config
# name. Returns are of 40 test tasks; Omniglot 5-way was tested with 3 steps, 20-way with 5;
# the sinusoid numbers are at K = 5 for a model trained at K = 10.
PAPER: dict[str, Reference] = {
    "navigation2d": rl_reference("2D navigation", (-40.4, -11.7, -3.3, -3.2)),
    "halfcheetah-vel": rl_reference("HalfCheetahVel", (-129.5, -78.6, -66.6, -60.8)),
    "halfcheetah-dir": rl_reference("HalfCheetahDir", (-50.7, 293.2, 313.5, 315.7)),
    "ant-vel": rl_reference("AntVel", (30.6, 96.7, 100.1, 101.4)),
    "ant-dir": rl_reference("AntDir", (8.7, 499.2, 500.7, 499.1)),
    "ant-goal": rl_reference("AntGoal"),
    "sinusoid": Reference("sinusoid K = 5", "mse", (10,), {1: 0.67, 5: 0.38, 10: 0.35}, shots=5),
    "omniglot-5w1s": accuracy_reference("Omniglot 5-way 1-shot", 3, 98.7, 0.4),
    "omniglot-5w5s": accuracy_reference("Omniglot 5-way 5-shot", 3, 99.9, 0.1),
    "omniglot-20w1s": accuracy_reference("Omniglot 20-way 1-shot", 5, 95.8, 0.3),
    "omniglot-20w5s": accuracy_reference("Omniglot 20-way 5-shot", 5, 98.9, 0.2),
}


METAWORLD_ML1 = "rlmaml/MetaWorldML1-v0"
METAWORLD_ML10 = "rlmaml/MetaWorldML10-v0"


def reference_for(name: str | None, config: Config) -> Reference:
    """The paper's row, or for a config the paper lacks a row without numbers."""
    if name in PAPER:
        return PAPER[name]

    task = task_name(config)
    if isinstance(config, RLConfig) and config.env == METAWORLD_ML1:
        # Meta-World's protocol: one adaptation step on each test goal (no published ML1 figure for MAML)
        return Reference(f"ML1 {config.env_kwargs.get('family', 'reach')}", "success", (1,))
    if isinstance(config, RLConfig) and config.env == METAWORLD_ML10:
        # the first 50 test tasks are 10 goals of each test family; Meta-World's garage-based
        # evaluation also adapts on each test goal and counts success at any step of an episode
        return Reference("ML10", "success", (1,), {1: 0.316}, source="Meta-World 2021, Table 1")
    if not isinstance(config, SupervisedConfig):
        return rl_reference(task)
    return Reference(task, "mse" if isinstance(config, SinusoidConfig) else "accuracy", (config.eval_steps,))
