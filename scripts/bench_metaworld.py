"""Env steps per second of rlmaml's batched Meta-World families against Meta-World's own envs.

- batched: `MetaWorldVectorEnv` (one mujoco.batch.Batch call per env step, reward in numpy);
- metaworld: Gymnasium's SyncVectorEnv of Meta-World 3.1.1's own envs on the same ML1 train
  tasks (its Python step, on one core), what a Meta-World user steps today;
- physics: the Batch alone on the same Sawyer (5 substeps per call, mocap and controls
  written, nothing read): the speed of light for the batched env.

Uniform random actions in [-1, 1]; runs of 500 steps (Meta-World's horizon) after a reset.
Repeats are interleaved so that load on the machine hits all three alike; the figures are
medians, the ratios medians of per-repeat ratios. Needs metaworld (pip install --no-deps metaworld==3.1.1).

    python scripts/bench_metaworld.py [--families reach push pick-place] [--num-envs 200] [--sync-envs 20]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np

from rlmaml.envs.metaworld.families import family_named
from rlmaml.envs.metaworld.physics import FRAME_SKIP
from rlmaml.envs.metaworld.reference import ml1
from rlmaml.envs.metaworld.sawyer import SawyerBatch
from rlmaml.envs.metaworld.vector_env import MetaWorldVectorEnv
from rlmaml.envs.rollout_vector_env import default_threads


def batched_run(family: str, num_envs: int, threads: int, steps: int) -> Callable[[], float]:
    env = MetaWorldVectorEnv(num_envs, family, num_threads=threads)
    env.set_tasks(env.sample_tasks(num_envs, seed=0))
    return lambda: time_vector_env(env, steps)


def metaworld_run(family: str, num_envs: int, steps: int) -> Callable[[], float]:
    benchmark = ml1(family, 0)

    def make(index: int) -> Callable[[], gym.Env]:
        def build() -> gym.Env:
            env = benchmark.train_classes[f"{family}-v3"]()
            env.set_task(benchmark.train_tasks[index])
            return gym.wrappers.TimeLimit(env, steps)

        return build

    env = gym.vector.SyncVectorEnv([make(i) for i in range(num_envs)])
    return lambda: time_vector_env(env, steps)


def time_vector_env(env: gym.vector.VectorEnv, steps: int) -> float:
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    start = time.perf_counter()
    for _ in range(steps):
        env.step(rng.uniform(-1.0, 1.0, size=(env.num_envs, 4)).astype(np.float32))
    return env.num_envs * steps / (time.perf_counter() - start)


def physics_run(family: str, num_envs: int, threads: int, steps: int) -> Callable[[], float]:
    sawyer = SawyerBatch(family_named(family), num_envs, threads)
    batch, mocap = sawyer.batch, sawyer.mocap
    first = MetaWorldVectorEnv(1, family).tasks.rand_vecs[0][:1]

    def run() -> float:
        rng = np.random.default_rng(0)
        sawyer.reset(np.arange(num_envs), np.repeat(first, num_envs, axis=0))
        start = time.perf_counter()
        for _ in range(steps):
            actions = rng.uniform(-1.0, 1.0, size=(num_envs, 4))
            batch.mocap_pos[:, mocap] = sawyer.mocap_targets(batch.mocap_pos[:, mocap], actions)
            batch.ctrl[:] = np.stack((actions[:, 3], -actions[:, 3]), axis=1)
            batch.step(nstep=FRAME_SKIP)
        return num_envs * steps / (time.perf_counter() - start)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--families", nargs="+", default=["reach", "push", "pick-place"])
    parser.add_argument("--num-envs", type=int, default=200, help="sub-envs of the batched env (default 200)")
    parser.add_argument("--sync-envs", type=int, default=20, help="Meta-World envs in the SyncVectorEnv (default 20)")
    parser.add_argument(
        "--threads", type=int, default=default_threads(), help="the batch's threads (default: this process's cores)"
    )
    parser.add_argument("--steps", type=int, default=500, help="env steps per run (default 500, the horizon)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(
        f"{'family':>10}  {'batched':>10}  {'metaworld':>10}  {'physics':>10}  {'vs metaworld':>12}  {'of physics':>10}"
    )
    for family in args.families:
        runs = {
            "batched": batched_run(family, args.num_envs, args.threads, args.steps),
            "metaworld": metaworld_run(family, args.sync_envs, args.steps),
            "physics": physics_run(family, args.num_envs, args.threads, args.steps),
        }
        speeds: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.repeats):
            for name, run in runs.items():
                speeds[name].append(run())
        median = {name: statistics.median(values) for name, values in speeds.items()}
        ratio = statistics.median(b / m for b, m in zip(speeds["batched"], speeds["metaworld"], strict=True))
        share = statistics.median(b / p for b, p in zip(speeds["batched"], speeds["physics"], strict=True))
        print(
            f"{family:>10}  {median['batched']:>10,.0f}  {median['metaworld']:>10,.0f}  {median['physics']:>10,.0f}"
            f"  {ratio:>11.2f}x  {share:>9.0%}"
        )
    print(
        f"env steps/s; batched {args.num_envs} sub-envs on {args.threads} thread(s), SyncVectorEnv of {args.sync_envs}"
    )


if __name__ == "__main__":
    main()
