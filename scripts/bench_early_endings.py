"""Sampling time of a meta-batch whose episodes end early, with finished sub-envs left out
of the physics (the sampler's env, autoreset disabled) against stepping all of them
(next-step autoreset, what the sampler did before).

An untrained Ant policy jumps or falls out of its healthy heights within about 60 of 200
steps, so most of the physics of a full batch is spent on episodes that already ended.
Both samplers draw the same episodes (tests/core/test_seeding.py checks they are identical);
repeats alternate between them, and the figures are medians.

    python scripts/bench_early_endings.py [ant-dir] [--tasks 40] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from rlmaml.cli.options import count
from rlmaml.core.functional import detach, expand_to_tasks, parameters_of
from rlmaml.core.seeding import seed_keys
from rlmaml.rl.api import load_rl_config
from rlmaml.rl.environments import make_vector_env
from rlmaml.rl.experiment import RLExperiment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="?", default="ant-dir")
    parser.add_argument("--tasks", type=count(1), default=40, help="tasks of the meta-batch (the config's 40)")
    parser.add_argument("--repeats", type=count(1), default=3)
    args = parser.parse_args()

    config = load_rl_config(args.config)
    experiment = RLExperiment(config)
    sampler, policy = experiment.sampler, experiment.policy
    tasks = sampler.task_distribution.sample_tasks(args.tasks, seed=0)
    params = detach(expand_to_tasks(parameters_of(policy), args.tasks))
    num_envs = args.tasks * config.fast_batch_size
    skipping = sampler.env_for(args.tasks)
    stepping_all = make_vector_env(
        config.env, num_envs, config.horizon, config.env_kwargs, config.observe_task, config.normalize_actions
    )

    seconds: dict[str, list[float]] = {"skip finished": [], "step all": []}
    kept = 0
    for repeat in range(args.repeats):
        for name, env in (("skip finished", skipping), ("step all", stepping_all)):
            sampler._envs[args.tasks] = env
            start = time.perf_counter()
            keys = seed_keys(config.seed, repeat, range(args.tasks), 0)
            episodes = sampler.sample(policy, params, tasks, keys)  # sample runs without autograd
            seconds[name].append(time.perf_counter() - start)
            kept = int(episodes.mask.sum())

    total = num_envs * config.horizon
    print(f"{config.env}: {args.tasks} tasks x {config.fast_batch_size} episodes x {config.horizon} steps")
    print(f"  env steps kept (inside episodes): {kept:,} of {total:,} ({kept / total:.0%}), last repeat")
    for name, values in seconds.items():
        spread = ", ".join(f"{v:.1f}" for v in values)
        print(f"  {name:14s} {statistics.median(values):7.1f} s   ({spread})")
    ratio = statistics.median(a / s for a, s in zip(seconds["step all"], seconds["skip finished"], strict=True))
    print(f"  speed-up from skipping: {ratio:.2f}x; load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
