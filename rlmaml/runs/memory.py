"""The peak memory a run needs, estimated from its config's sizes before anything is allocated,
so that a config too big for the machine is refused in one line instead of swapping, hanging or
dying in the allocator. Nothing prints the estimate unless the config is refused.

Calibration: peak RSS (ru_maxrss) of `rlmaml train NAME --set iterations=1 ...` on one core,
OMP_NUM_THREADS=1; N = horizon x meta_batch_size x fast_batch_size env steps per stage, H =
sum(hidden_sizes). Measured MiB (and this module's estimate):
  navigation2d (N 40,000, H 128, tanh, cg_subsample 1.0) 811 (1,005); hidden_sizes [] 307 (416),
    [256, 256] 1,436 (2,806), [512, 512] 2,747 (5,286); num_steps 2: 1,108 (1,204), 3: 1,217
    (1,403); cg_subsample 0.25: 509 (713); first_order 504 (1,005); M 40 x E 80: 2,616 (5,225);
    iterations=0 (imports and setup): 237
  halfcheetah-dir (N 160,000, obs 17, act 6, H 200, cg 0.25) 1,602 (2,592); [] 542 (744)
  ant-dir M 20 x E 20 (N 80,000, obs 125, act 8, H 200, cg 1.0) 1,876 (3,225); [] 945 (1,378);
    zoo/ant-dir's training (M 40, cg 1.0) at iteration 78: VmHWM 2,179 (6,048)
  omniglot 5w1s 634 (778), 5w5s 1,164 (1,650), 20w1s 1,458 (1,905), 20w5s 4,386 (7,115);
    5w5s at 56 px, 32 filters 1,845 (2,975); 5w1s iterations=0: 351 at 28 px, 933 at 84 px (the
    images three times over while decoding)
  sinusoid 322 (403)
so the estimates are 1.1 to 2.0 times the first iteration's peak (2.8 times the long Ant run's,
whose falls end episodes early): an upper bound within the factor of 3 asked for. The paper's
configs need at most 7 GiB by it (omniglot-20w5s; ant-* 4.1 GiB).
"""

from __future__ import annotations

import itertools
import math
import os
from dataclasses import dataclass
from pathlib import Path

from rlmaml.errors import MessagePart, Setting, UserError
from rlmaml.runs.config_schema import shown
from rlmaml.runs.config_types import ClassificationConfig, Config, RLConfig, SinusoidConfig

MIB = 2**20
BASE = 400 * MIB  # Python, torch, MuJoCo and what the first iteration loads on top
RL_INPUT = 80  # bytes per env step per observation and action number: sampling, baseline features
RL_STORED = 8  # bytes per env step per number kept for every stage (float32, and one transient copy)
RL_GRAPH = 40  # bytes per env step per hidden unit and inner step whose graph is kept
RL_CURVATURE = 80  # bytes per env step of the curvature tasks per hidden unit (KL curvature graphs)
ACTIVATION_COPIES = 10  # copies of an image's (a point's) activations kept per forward of a meta-batch
OMNIGLOT_IMAGES = 1623 * 20  # characters x drawings


@dataclass(frozen=True)
class Part:
    """One term of an estimate and what to lower to shrink it."""

    bytes: int
    lower: tuple[MessagePart, ...]  # config keys, or the settings of the command


def available_memory() -> int:
    """Bytes the machine can give without swapping: MemAvailable, else the free pages."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


UNITS = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")


def format_bytes(size: int) -> str:
    """1.5 GiB; sizes are Python ints, exact however large, so beyond YiB a power of ten."""
    power = min(len(UNITS) - 1, max(0, size.bit_length() - 1) // 10)
    if power == 0:
        return f"{size} bytes"
    if size >= 1024 ** len(UNITS):
        return f"10^{len(str(size)) - 1} bytes"
    return f"{size / 1024**power:.1f} {UNITS[power]}"


def mlp_parameters(sizes: list[int]) -> int:
    return sum(n_in * n_out + n_out for n_in, n_out in itertools.pairwise(sizes))


def rl_parts(config: RLConfig, obs_dim: int, act_dim: int, tasks: int, steps: int, training: bool) -> list[Part]:
    """Meta-training (`training`) keeps every inner step's graph (second order) and builds the
    curvature graphs of cg_subsample of the tasks; adaptation keeps one step's graph at a time."""
    t, e = config.horizon, config.fast_batch_size
    hidden = sum(config.hidden_sizes)
    env_steps = t * tasks * e
    kept = steps if training and not config.first_order else 1
    curvature = max(1, round(config.cg_subsample * tasks)) * t * e if training else 0
    parameters = mlp_parameters([obs_dim, *config.hidden_sizes, act_dim]) + act_dim
    batch = ("meta_batch_size", "fast_batch_size", "horizon")
    return [
        Part(env_steps * (RL_INPUT * (obs_dim + act_dim) + RL_STORED * (steps + 1) * (obs_dim + act_dim + 3)), batch),
        Part((env_steps * RL_GRAPH * kept + curvature * RL_CURVATURE) * hidden, (*batch, "hidden_sizes", "num_steps")),
        Part(4 * parameters * (4 * tasks * (steps + 1) + 20), ("hidden_sizes", "meta_batch_size")),
    ]


Sizes = tuple[MessagePart, ...]  # a message's words on the sizes, some of them settings


def rl_sizes(config: RLConfig, obs_dim: int, act_dim: int, tasks: Sizes, steps: Sizes) -> Sizes:
    return (
        *tasks,
        f" x fast_batch_size={config.fast_batch_size} x horizon={config.horizon} env steps of "
        f"{obs_dim} observation and {act_dim} action numbers, ",
        *steps,
        f", hidden_sizes={shown(list(config.hidden_sizes))}",
    )


def blocks_activations(size: int, filters: int, blocks: int) -> int:
    """Numbers of a ConvNet's block outputs for one image: stride 2 halves the side (rounding up)
    until it is 1, which the remaining blocks keep."""
    total, side, block = 0, size, 0
    while block < blocks and side > 1:
        side, block = (side + 1) // 2, block + 1
        total += filters * side * side
    return total + filters * (blocks - block)


def conv_parameters(config: ClassificationConfig, stages: int) -> int:
    c, f, blocks, ways = config.channels, config.filters, config.conv_blocks, config.ways
    convs = (c * f * 9 + f) + (blocks - 1) * (f * f * 9 + f)
    return convs + 4 * f * blocks * stages + f * ways + ways  # batch-norm weights and statistics, head


def dataset_images(config: ClassificationConfig) -> int:
    """Omniglot's size; for a folder, a lower bound: the classes of the three splits, each with
    shots + query_shots images (what FewShotTasks requires)."""
    if config.dataset == "omniglot":
        return OMNIGLOT_IMAGES
    test_classes = math.ceil(config.ways / (4 if config.rotations else 1))
    return (config.train_classes + config.val_classes + test_classes) * (config.shots + config.query_shots)


def supervised_parts(
    config: SinusoidConfig | ClassificationConfig, tasks: int, steps: int, training: bool
) -> list[Part]:
    """Images (or sinusoid points) of a meta-batch, their activations in every forward whose
    graph is kept, the per-task parameters of every step, and for classification the decoded
    dataset (three copies while decoding)."""
    shots, query = config.shots, config.query_shots
    kept = steps if training and not config.first_order else 1
    query_forwards = steps if training and config.multi_step_loss else 1
    batch = ("meta_batch_size", "shots", "query_shots", "num_steps")
    per_task_copies = 3 * tasks * (steps + 1) + 10
    if isinstance(config, SinusoidConfig):
        hidden = config.hidden_sizes
        forwards = tasks * (kept * shots + query_forwards * query)
        return [
            Part(ACTIVATION_COPIES * 4 * (2 + sum(hidden)) * forwards, (*batch, "hidden_sizes")),
            Part(4 * mlp_parameters([1, *hidden, 1]) * per_task_copies, ("hidden_sizes",)),
        ]
    pixels, ways = config.channels * config.image_size**2, config.ways
    per_image = 4 * (pixels + blocks_activations(config.image_size, config.filters, config.conv_blocks))
    forwards = tasks * ways * (kept * shots + query_forwards * query)
    parameters = conv_parameters(config, steps + 1 if config.per_step_bn else 1)
    return [
        Part(3 * dataset_images(config) * pixels, ("image_size",)),
        Part(
            6 * tasks * ways * (shots + query) * pixels + ACTIVATION_COPIES * per_image * forwards,
            (*batch, "ways", "image_size"),
        ),
        Part(4 * parameters * per_task_copies, ("filters", "conv_blocks")),
    ]


def supervised_sizes(config: SinusoidConfig | ClassificationConfig, tasks: Sizes, steps: Sizes) -> Sizes:
    shots = f"(shots={config.shots} + query_shots={config.query_shots})"
    if isinstance(config, SinusoidConfig):
        return (*tasks, f" x {shots} points, ", *steps, f", hidden_sizes={shown(list(config.hidden_sizes))}")
    return (
        *tasks,
        f" x ways={config.ways} x {shots} images of image_size={config.image_size} x {config.channels} channel(s), ",
        *steps,
        f", filters={config.filters} x conv_blocks={config.conv_blocks}",
    )


def refuse_beyond(parts: list[Part], what: str, sizes: Sizes, lower: tuple[MessagePart, ...] | None = None) -> None:
    """UserError with the estimate and the machine's memory if BASE + the parts exceed what the
    machine has available; `lower` (default: the largest part's keys) says what to reduce."""
    needed = BASE + sum(part.bytes for part in parts)
    available = available_memory()
    if needed <= available:
        return
    keys = lower or max(parts, key=lambda part: part.bytes).lower
    advice: list[MessagePart] = []
    for position, key in enumerate(keys):
        advice += [", " if 0 < position < len(keys) - 1 else " or " if position else "", key]
    raise UserError(
        f"{what} needs about {format_bytes(needed)} of memory (",
        *sizes,
        f"); this machine has {format_bytes(available)} available: lower ",
        *advice,
    )


def env_dims(config: RLConfig) -> tuple[int, int]:
    """Observation and action numbers of the config's env (one env made and closed); a
    Discrete action space's are its actions' logits."""
    import gymnasium as gym

    from rlmaml.rl.environments import env_spaces

    observations, actions = env_spaces(config)
    return observations.shape[0], int(actions.n) if isinstance(actions, gym.spaces.Discrete) else actions.shape[0]


def check_training(config: Config) -> None:
    """Refuse a config whose meta-training cannot fit in the machine's available memory."""
    tasks, steps = config.meta_batch_size, config.num_steps
    task_text, steps_text = (f"meta_batch_size={tasks} tasks",), (f"num_steps={steps}",)
    if not isinstance(config, RLConfig):
        parts = supervised_parts(config, tasks, steps, training=True)
        refuse_beyond(parts, "this config", supervised_sizes(config, task_text, steps_text))
        return
    obs_dim, act_dim = env_dims(config)
    parts = rl_parts(config, obs_dim, act_dim, tasks, steps, training=True)
    refuse_beyond(parts, "this config", rl_sizes(config, obs_dim, act_dim, task_text, steps_text))


def check_adaptation(config: RLConfig, num_tasks: int, steps: int) -> None:
    """Refuse `rlmaml adapt`/`compare`/`export` of a meta-RL run to `num_tasks` tasks in
    `steps` steps (all tasks at once, every step's episodes kept) beyond the available memory."""
    obs_dim, act_dim = env_dims(config)
    parts = rl_parts(config, obs_dim, act_dim, num_tasks, steps, training=False)
    sizes = rl_sizes(config, obs_dim, act_dim, (Setting.NUM_TASKS, f"={num_tasks}"), (Setting.STEPS, f"={steps}"))
    refuse_beyond(parts, "this adaptation", sizes, (Setting.NUM_TASKS, Setting.STEPS))


def check_evaluation(config: SinusoidConfig | ClassificationConfig, num_tasks: int, steps: int | None) -> None:
    """Refuse `rlmaml evaluate` of a supervised run (`steps` None: its eval_steps) beyond the
    available memory: meta-batches of at most meta_batch_size tasks, (steps + 1) scores of every
    task."""
    steps = config.eval_steps if steps is None else steps
    chunk = min(num_tasks, config.meta_batch_size)
    # a float64 score per task and step, and a small tensor per meta-batch and step
    scores = Part(
        8 * (steps + 1) * num_tasks + 200 * (steps + 1) * -(-num_tasks // chunk), (Setting.NUM_TASKS, Setting.STEPS)
    )
    parts = [*supervised_parts(config, chunk, steps, training=False), scores]
    sizes = supervised_sizes(
        config, (f"{chunk} tasks at a time of ", Setting.NUM_TASKS, f"={num_tasks}"), (Setting.STEPS, f"={steps}")
    )
    refuse_beyond(parts, "this evaluation", sizes)
