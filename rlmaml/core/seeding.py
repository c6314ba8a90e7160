"""Every per-task random stream of both modes, keyed by who the task is rather than by how it
was reached, so a task's numbers do not depend on how many tasks are drawn with it, on how the
meta-batch is split into calls or across processes, or on what ran before.

The scheme: a stream is numpy's default generator seeded by `SeedSequence(key)`, where the key
is a tuple of integers that names the task.

- Meta-RL, task i of meta-iteration k of a run with seed s: the task itself is what the env's
  `sample_tasks(1, seed=task_seed(s, k, i))` draws, `task_seed` being the first word of the
  stream (s, k, i, STAGE_TASKS); the episodes of inner step j (j = the number of inner
  steps for those after adaptation) draw their reset seeds and action noise from
  `key_rng((s, k, i, j))` (`seed_keys` gives the keys of a meta-batch).
- Supervised, task i of iteration k: `task_rng(s, k, i)`, the stream (s, k, i), draws the
  task and its support and query sets.
- Evaluation (`rlmaml adapt`, `evaluate`, `compare`, `export`, the zoo) uses the iteration number
  EVALUATION_ITERATION, which no training reaches, so it never replays a training iteration's
  tasks or episodes.

SeedSequence pads a key shorter than four words with zeros, so the supervised stream (s, k, i)
is the meta-RL stream (s, k, i, 0); the two modes never share a run, so nothing meets both.
The envs' own streams (reset seeds, the task-randomised env of the baselines) are the envs'
business and are described in rlmaml.envs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SeedKey = tuple[int, ...]

# Evaluation draws its tasks and episodes from a stream no training iteration uses.
EVALUATION_ITERATION = 2**31 - 1

STAGE_TASKS = 1_000_003  # a stage no inner step reaches: keys a task's own draw


def key_rng(key: SeedKey) -> np.random.Generator:
    """The stream named by `key`."""
    return np.random.default_rng(np.random.SeedSequence(list(key)))


def task_seed(seed: int, iteration: int, task_index: int) -> int:
    """The seed a meta-RL task is sampled with by its env's `sample_tasks`."""
    return int(np.random.SeedSequence([seed, iteration, task_index, STAGE_TASKS]).generate_state(1)[0])


def seed_keys(seed: int, iteration: int, task_indices: Sequence[int], stage: int) -> list[SeedKey]:
    """One key per meta-RL task for the episodes of one stage: (run seed, iteration, task index, stage)."""
    return [(seed, iteration, int(i), stage) for i in task_indices]


def task_rng(seed: int, iteration: int, task_index: int) -> np.random.Generator:
    """The stream of supervised task i of an iteration."""
    return key_rng((seed, iteration, task_index))
