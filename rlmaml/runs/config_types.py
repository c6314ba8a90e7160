"""The typed configs: one frozen dataclass per mode, each field a config key with its type,
default, range and meaning (see rlmaml.runs.config_schema). Read them as `config.fast_lr`;
rlmaml.runs.config turns a YAML mapping into one (`typed_config`) and back (`to_mapping`).

A mode's dataclass is built from groups of keys (the headings of `rlmaml config NAME`).
A config's keys are its fields in order, and dataclasses collect the fields of the LAST
base first: so each mode lists its groups from the last one (RunConfig) to the first."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from rlmaml.errors import UserError
from rlmaml.runs.config_schema import ConfigFields, spec

MAX_SEED = 2**32 - 1  # what every seeded library takes (numpy's legacy seed, which SB3 uses, the least)


@dataclass(frozen=True, kw_only=True)
class RunConfig(ConfigFields):
    """The run: its length, seed and checkpoints"""

    iterations: int = field(
        metadata=spec("meta-iterations to train (packaged: 500 meta-RL, 70,000 sinusoid, 60,000 Omniglot)", minimum=0)
    )
    seed: int = field(metadata=spec("seeds the initial weights and every task's draws", minimum=0, maximum=MAX_SEED))
    checkpoint_every: int = field(
        metadata=spec("iterations between checkpoints (one is also saved at the end)", minimum=1)
    )
    max_skipped_updates: int = field(
        default=5,
        metadata=spec(
            "updates skipped in a row (a non-finite gradient or step) before the run stops as diverged", minimum=1
        ),
    )


# Meta-RL: MAML with TRPO as the outer optimizer (Finn et al. 2017, section 5.3, appendix A.2).


@dataclass(frozen=True, kw_only=True)
class TaskEnvironment(ConfigFields):
    """The task family and its episodes"""

    env: str = field(metadata=spec("Gymnasium id of the task family, e.g. rlmaml/Navigation2D-v0"))
    env_kwargs: Mapping[str, Any] = field(metadata=spec("keyword arguments of the env, e.g. the range of its tasks"))
    horizon: int = field(
        metadata=spec("steps per episode (paper: 100 for 2D navigation, 200 for locomotion)", minimum=1)
    )


@dataclass(frozen=True, kw_only=True)
class RLAdaptation(ConfigFields):
    """Adaptation: the inner policy-gradient steps"""

    meta_batch_size: int = field(
        metadata=spec("tasks per meta-iteration (paper: 20 navigation, 40 locomotion)", minimum=1)
    )
    fast_batch_size: int = field(metadata=spec("episodes per task and inner step, K (paper: 20)", minimum=1))
    num_steps: int = field(metadata=spec("policy-gradient steps of adaptation in meta-training (paper: 1)", minimum=1))
    fast_lr: float = field(metadata=spec("step size of the inner policy-gradient steps, alpha (paper: 0.1)", minimum=0))
    first_order: bool = field(metadata=spec("first-order MAML: no second-order terms in the meta-gradient"))


@dataclass(frozen=True, kw_only=True)
class MetaGradient(ConfigFields):
    """The meta-gradient: its estimator and the outer optimizer"""

    estimator: Literal["maml", "dice", "lvc"] = field(
        default="maml",
        metadata=spec("maml: the paper's, biased; dice: unbiased (DiCE's sampling term); lvc: ProMP's low variance"),
    )
    outer_optimizer: Literal["trpo", "promp"] = field(
        default="trpo",
        metadata=spec("trpo: the paper's (the keys below); promp: ProMP's clipped-surrogate Adam steps (promp_*)"),
    )


@dataclass(frozen=True, kw_only=True)
class ProMPKeys(ConfigFields):
    """ProMP's outer optimizer, with outer_optimizer: promp (Rothfuss et al. 2019)"""

    promp_clip: float = field(
        default=0.3, metadata=spec("clip range of the adapted policies' likelihood ratio (ProMP: 0.3)", minimum=1e-6)
    )
    promp_kl_coef: float = field(
        default=5e-4, metadata=spec("weight of the KL penalty on every inner step's start (ProMP: 5e-4)", minimum=0)
    )
    promp_steps: int = field(default=5, metadata=spec("Adam steps per meta-batch (ProMP: 5)", minimum=1))
    promp_lr: float = field(default=1e-3, metadata=spec("Adam's step size (ProMP: 1e-3)", minimum=1e-12))


@dataclass(frozen=True, kw_only=True)
class TRPOSettings(ConfigFields):
    """The outer optimizer: TRPO on the adapted policies' surrogate"""

    max_kl: float = field(
        metadata=spec("trust region: the largest mean KL of a meta-update (paper's code: 0.01)", minimum=1e-12)
    )
    cg_iters: int = field(metadata=spec("conjugate-gradient iterations for the step direction (rllab: 10)", minimum=1))
    cg_damping: float = field(metadata=spec("damping added to the curvature-vector products (rllab: 1e-5)", minimum=0))
    cg_subsample: float = field(
        metadata=spec("fraction of the tasks in the curvature products, each exact (1.0: all)", minimum=0.01, maximum=1)
    )
    ls_max_steps: int = field(metadata=spec("line search: the most fractions of the step tried (rllab: 15)", minimum=1))
    ls_backtrack_ratio: float = field(
        metadata=spec("line search: each try shrinks the step by this factor (rllab: 0.8)", minimum=0.01, maximum=0.99)
    )
    closed_form_curvature: bool = field(
        default=True, metadata=spec("Gaussian MLP policies: curvature products in closed form (false: autograd)")
    )


@dataclass(frozen=True, kw_only=True)
class Advantages(ConfigFields):
    """Returns and advantages: GAE on a linear feature baseline fitted per task"""

    gamma: float = field(metadata=spec("discount factor of the returns (rllab: 0.99)", minimum=0, maximum=1))
    gae_lambda: float = field(
        metadata=spec("GAE lambda; 1.0: discounted returns minus the baseline (rllab: 1.0)", minimum=0, maximum=1)
    )
    baseline: Literal["linear", "none"] = field(
        default="linear", metadata=spec("linear: rllab's feature baseline, fitted per task; none: values of zero")
    )
    advantages: Literal["gae", "returns"] = field(
        default="gae",
        metadata=spec("gae: GAE(gamma, gae_lambda); returns: the discounted return-to-go minus the baseline"),
    )
    normalize_advantages: bool = field(
        default=True, metadata=spec("zero mean and unit variance per task (rllab's center_adv, as the paper's code)")
    )


@dataclass(frozen=True, kw_only=True)
class PolicySettings(ConfigFields):
    """The policy: Gaussian or categorical over actions, from an MLP or blind to observations"""

    hidden_sizes: tuple[int, ...] = field(
        metadata=spec("widths of the hidden layers; [] is a linear policy (paper: [100, 100])", minimum=1)
    )
    activation: Literal["tanh", "relu"] = field(metadata=spec("nonlinearity of the hidden layers (paper: relu)"))
    weight_init: Literal["torch", "xavier"] = field(
        default="torch",
        metadata=spec(
            "mlp weights: torch's default, or xavier (Glorot-uniform, zero biases: rllab's, the paper code's)"
        ),
    )
    policy: Literal["mlp", "sb3", "gaussian", "softmax"] = field(
        default="mlp",
        metadata=spec(
            "mlp (Gaussian; categorical on Discrete actions); sb3 (SB3's); gaussian, softmax: observation-blind"
        ),
    )
    init_log_std: float = field(default=0.0, metadata=spec("the policy's initial log standard deviation (rllab: 0)"))
    learn_std: bool = field(default=True, metadata=spec("meta-learn and adapt the standard deviation; false: fixed"))
    init_mean: float = field(default=0.0, metadata=spec("policy: gaussian only: the initial mean of every action"))
    observe_task: bool = field(default=False, metadata=spec("append the task to observations (the oracle baseline)"))
    normalize_actions: bool = field(
        default=False,
        metadata=spec("act in [-1, 1], rescaled to the env's action bounds (rllab's normalize, as the paper)"),
    )


@dataclass(frozen=True, kw_only=True)
class RLConfig(
    RunConfig, PolicySettings, Advantages, ProMPKeys, TRPOSettings, MetaGradient, RLAdaptation, TaskEnvironment
):
    """Meta-RL with MAML: TRPO (Finn et al. 2017, section 5.3) or ProMP as the outer optimizer"""

    def __post_init__(self) -> None:
        super().__post_init__()
        problem = combination_problem(self)
        if problem:
            raise UserError(problem)


def combination_problem(config: RLConfig) -> str:
    """What is wrong with the config's keys taken together, in one line naming them; "" if nothing."""
    if config.estimator == "dice" and config.outer_optimizer == "promp":
        return (
            "config keys 'estimator' and 'outer_optimizer': dice's sampling term holds at the sampling "
            "parameters, which ProMP's later steps leave; use estimator: lvc (ProMP's) or maml with promp"
        )
    if config.estimator == "lvc" and config.first_order:
        return (
            "config keys 'estimator' and 'first_order': lvc changes only the inner step's curvature, which "
            "first_order drops; use estimator: maml with first_order, or first_order: false"
        )
    if config.advantages == "returns" and config.gae_lambda != 1.0:
        return (
            "config keys 'advantages' and 'gae_lambda': returns use no lambda; set gae_lambda: 1.0 or advantages: gae"
        )
    if config.policy in ("gaussian", "softmax") and config.hidden_sizes:
        return (
            f"config keys 'policy' and 'hidden_sizes': the {config.policy} policy has no layers; set hidden_sizes: []"
        )
    if config.policy != "gaussian" and config.init_mean != 0.0:
        return "config key 'init_mean' sets policy: gaussian's mean; an mlp's mean is its network's output"
    if config.policy != "mlp" and config.weight_init != "torch":
        return f"config key 'weight_init' sets policy: mlp's weights; the {config.policy} policy initialises its own"
    return ""


# Supervised meta-learning (rlmaml.supervised): the groups both of its modes share.


@dataclass(frozen=True, kw_only=True)
class SupervisedMetaLearning(ConfigFields):
    """Meta-learning: inner gradient steps, an outer Adam step"""

    meta_batch_size: int = field(
        metadata=spec("tasks per meta-update (paper: 25 sinusoid, 32 or 16 Omniglot)", minimum=1)
    )
    num_steps: int = field(metadata=spec("inner steps in meta-training (paper: 1; 5 for Omniglot 20-way)", minimum=1))
    eval_steps: int = field(
        metadata=spec("inner steps at evaluation (paper: 10 sinusoid; Omniglot 3, 20-way 5)", minimum=0)
    )
    fast_lr: float = field(
        metadata=spec("inner step size, alpha (paper: 0.01 sinusoid; Omniglot 0.4, 20-way 0.1)", minimum=0)
    )
    first_order: bool = field(metadata=spec("first-order MAML: no second-order terms in the meta-gradient"))
    meta_lr: float = field(metadata=spec("Adam's step size of the meta-update, beta (paper: 0.001)", minimum=0))


@dataclass(frozen=True, kw_only=True)
class ExampleCounts(ConfigFields):
    """Examples per task"""

    shots: int = field(
        metadata=spec(
            "K: support examples per task, per class for classification (paper: 10 sinusoid, 1 or 5 Omniglot)",
            minimum=1,
        )
    )
    query_shots: int = field(
        metadata=spec("query examples per task (per class) that score the adapted model", minimum=1)
    )


@dataclass(frozen=True, kw_only=True)
class MAMLPlusPlus(ConfigFields):
    """MAML++ (Antoniou et al. 2018); all off is plain MAML"""

    multi_step_loss: bool = field(metadata=spec("query loss after every inner step, weights annealed to the last"))
    multi_step_loss_iterations: int = field(
        metadata=spec("iterations over which the multi-step weights anneal", minimum=1)
    )
    first_order_iterations: int = field(
        metadata=spec(
            "the first iterations are first-order, the rest second-order (derivative-order annealing)", minimum=0
        )
    )
    learn_inner_lr: bool = field(metadata=spec("learn an inner step size per layer and step, from fast_lr"))
    cosine_lr: bool = field(metadata=spec("anneal meta_lr to min_meta_lr along a cosine over the iterations"))
    min_meta_lr: float = field(metadata=spec("meta_lr at the last iteration, with cosine_lr", minimum=0))


@dataclass(frozen=True, kw_only=True)
class SupervisedConfig(RunConfig, MAMLPlusPlus, ExampleCounts, SupervisedMetaLearning):
    """Supervised meta-learning: what sinusoid regression and few-shot classification share"""


@dataclass(frozen=True, kw_only=True)
class SinusoidModel(ConfigFields):
    """Sinusoid regression: the mode and the model"""

    mode: Literal["sinusoid"] = field(
        metadata=spec("y = A sin(x - phase), A in [0.1, 5], phase in [0, pi], x in [-5, 5]")
    )
    hidden_sizes: tuple[int, ...] = field(
        metadata=spec("widths of the hidden ReLU layers (paper: [40, 40])", minimum=1)
    )


@dataclass(frozen=True, kw_only=True)
class SinusoidConfig(SupervisedConfig, SinusoidModel):
    """Few-shot sinusoid regression (Finn et al. 2017, section 5.1)"""


@dataclass(frozen=True, kw_only=True)
class ImageTasks(ConfigFields):
    """Few-shot classification: the mode, the images and the ways"""

    mode: Literal["classification"] = field(metadata=spec("N-way K-shot classification of images"))
    dataset: Literal["omniglot", "folder"] = field(
        metadata=spec("omniglot: its two archives in data_dir; folder: a sub-folder of images per class")
    )
    data_dir: str = field(metadata=spec("where the images are (a relative path: from the working directory)"))
    train_classes: int = field(
        metadata=spec("classes for meta-training, before rotations (MAML's code: 1,100 Omniglot characters)", minimum=1)
    )
    val_classes: int = field(
        metadata=spec("the next classes, for validation; the rest are test (MAML's code: 100)", minimum=0)
    )
    rotations: bool = field(metadata=spec("a class rotated by 90, 180 or 270 degrees is a new class (paper: true)"))
    image_size: int = field(metadata=spec("images are resized to this many pixels a side (paper: 28)", minimum=4))
    channels: int = field(metadata=spec("colour channels: 1 (grey) or 3 (RGB)", minimum=1, maximum=3))
    ways: int = field(metadata=spec("N: classes per task (paper: 5 or 20)", minimum=2))


@dataclass(frozen=True, kw_only=True)
class ConvNetSettings(ConfigFields):
    """The network: blocks of a 3x3 stride-2 convolution, batch norm and ReLU"""

    filters: int = field(metadata=spec("filters of each convolution (paper: 64)", minimum=1))
    conv_blocks: int = field(metadata=spec("convolutional blocks (paper: 4)", minimum=1))
    bn_mode: Literal["transductive", "running"] = field(
        metadata=spec("transductive: each batch's own statistics, as MAML; running: those recorded in training")
    )
    per_step_bn: bool = field(metadata=spec("batch-norm weights and statistics per inner step (MAML++)"))


@dataclass(frozen=True, kw_only=True)
class ClassificationConfig(SupervisedConfig, ConvNetSettings, ImageTasks):
    """Few-shot image classification: Omniglot or a folder of classes (Finn et al. 2017, section 5.2)"""


Config = RLConfig | SinusoidConfig | ClassificationConfig  # a config of any mode, as typed_config returns it
SUPERVISED_MODES: dict[str, type[SinusoidConfig] | type[ClassificationConfig]] = {
    "sinusoid": SinusoidConfig,
    "classification": ClassificationConfig,
}
