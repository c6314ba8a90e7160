"""Env steps per second of the batched HalfCheetahVel env against its two bounds.

- batched: `rlmaml/HalfCheetahVel-v0` through make_vec (one mujoco.rollout call per step);
- sync: Gymnasium's SyncVectorEnv of the single env (what users get without rlmaml's batching);
- raw: mujoco.rollout alone on the same cheetahs, nstep=5 per call with states carried
  between calls: the physics with nothing around it, the speed of light for the batched env.

Every stepper takes uniform random actions in [-1, 1]; episodes last 200 steps, so runs of
250 steps include one autoreset. Repeats are interleaved so that load on the machine hits
all three alike; the figures are medians, the ratios medians of per-repeat ratios.

    python scripts/bench_sampling.py [--num-envs 800] [--sync-envs 100] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import gymnasium as gym
import mujoco
import mujoco.rollout
import numpy as np

import rlmaml.envs  # noqa: F401  (registers the rlmaml/ ids)

ENV_ID = "rlmaml/HalfCheetahVel-v0"
FRAME_SKIP = 5


def batched_run(num_envs: int, threads: int, steps: int) -> Callable[[], float]:
    envs = gym.make_vec(ENV_ID, num_envs=num_envs, vectorization_mode="vector_entry_point", num_threads=threads)
    envs.unwrapped.set_tasks(envs.unwrapped.sample_tasks(num_envs, seed=0))
    return lambda: _time_vector_env(envs, steps)


def sync_run(num_envs: int, steps: int) -> Callable[[], float]:
    envs = gym.vector.SyncVectorEnv([lambda: gym.make(ENV_ID) for _ in range(num_envs)])
    return lambda: _time_vector_env(envs, steps)


def _time_vector_env(envs: gym.vector.VectorEnv, steps: int) -> float:
    rng = np.random.default_rng(0)
    envs.reset(seed=0)
    start = time.perf_counter()
    for _ in range(steps):
        envs.step(rng.uniform(-1.0, 1.0, size=envs.action_space.shape))
    return envs.num_envs * steps / (time.perf_counter() - start)


def raw_run(num_envs: int, threads: int, steps: int) -> Callable[[], float]:
    """Physics alone, as lean as rollout allows: preallocated buffers and no argument checks."""
    model = gym.make(ENV_ID).unwrapped.model
    roller = mujoco.rollout.Rollout(nthread=threads if threads > 1 else 0)
    models = [model] * num_envs
    datas = [mujoco.MjData(model) for _ in range(threads)]
    spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
    initial = np.empty(mujoco.mj_stateSize(model, spec))
    mujoco.mj_getState(model, mujoco.MjData(model), initial, spec)
    controls = np.empty((num_envs, FRAME_SKIP, model.nu))
    trajectory = np.empty((num_envs, FRAME_SKIP, initial.size))
    sensordata = np.empty((num_envs, FRAME_SKIP, model.nsensordata))

    def run() -> float:
        rng = np.random.default_rng(0)
        states = np.tile(initial, (num_envs, 1))
        start = time.perf_counter()
        for _ in range(steps):
            controls[:] = rng.uniform(-1.0, 1.0, size=(num_envs, 1, model.nu))
            roller.rollout(
                models,
                datas,
                states,
                controls,
                nstep=FRAME_SKIP,
                state=trajectory,
                sensordata=sensordata,
                skip_checks=True,
            )
            states[:] = trajectory[:, -1]
        return num_envs * steps / (time.perf_counter() - start)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-envs", type=int, default=800, help="sub-envs of the batched env and of raw rollout")
    parser.add_argument("--sync-envs", type=int, default=100, help="sub-envs of the SyncVectorEnv")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="rollout threads")
    parser.add_argument("--steps", type=int, default=250, help="env steps per sub-env and repeat")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    runs = {
        "raw rollout": raw_run(args.num_envs, args.threads, args.steps),
        "batched": batched_run(args.num_envs, args.threads, args.steps),
        "sync": sync_run(args.sync_envs, args.steps),
    }
    figures: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.repeats):
        for name, run in runs.items():
            figures[name].append(run())
    speed = {name: statistics.median(values) for name, values in figures.items()}

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{ENV_ID}, {args.threads} rollout threads, {args.steps} steps x {args.repeats} repeats (median)")
    print(f"  load average at the end: {load} (other processes slow the 2-thread runs most)")
    sizes = {"raw rollout": args.num_envs, "batched": args.num_envs, "sync": args.sync_envs}
    for name, values in figures.items():
        spread = ", ".join(f"{v:,.0f}" for v in values)
        print(f"  {name:12s} {sizes[name]:5d} envs: {speed[name]:10,.0f} env steps/s   ({spread})")
    # ratios of runs taken back to back, then their median: robust to load that comes and goes
    vs_sync = statistics.median(b / s for b, s in zip(figures["batched"], figures["sync"], strict=True))
    vs_raw = statistics.median(b / r for b, r in zip(figures["batched"], figures["raw rollout"], strict=True))
    print(f"  batched / sync: {vs_sync:.2f}x (target >= 3.5x)")
    print(f"  batched / raw:  {vs_raw:.1%} (target >= 85%)")


if __name__ == "__main__":
    main()
