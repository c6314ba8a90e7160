"""Errors the CLI prints on one line: bad input (exit code 2) or a run that failed (exit 1).

A message names the problem; where the fix is a setting the user chose (resume, a checkpoint,
the device...), the message holds that `Setting` itself rather than words for it, so a front
end names it the way its user gives it (the CLI: by its flag) and the library in plain words."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from pathlib import Path


class Setting(Enum):
    """A choice of whoever starts or reads a run that a message can point at; its value is
    the library's word for it."""

    RUN_DIR = "run directory"  # where a new run is written
    RESUME = "resume"
    CHECKPOINT = "checkpoint"
    DEVICE = "device"
    TIMEOUT = "timeout"
    OVERRIDES = "config overrides"
    DATA_DIR = "the config key data_dir"
    TASK = "task"
    ZOO_DIR = "the zoo_dir argument"  # the folder of zoo entries
    NUM_TASKS = "num_tasks"  # tasks an adaptation or evaluation draws
    STEPS = "steps"  # inner steps of an adaptation or evaluation
    TIMESTEPS = "the PPO timesteps"  # env steps a baseline trains for
    VIDEO = "video"  # the adaptation videos asked for


MessagePart = str | Setting


class NamedProblem(Exception):
    """An error whose message may hold settings: `str()` words them as the library does,
    `worded` as a front end does."""

    def __init__(self, *message: MessagePart) -> None:
        self.message = message
        super().__init__(self.worded(lambda setting: setting.value))

    def worded(self, name: Callable[[Setting], str]) -> str:
        """The message with each setting said as `name` says it."""
        return "".join(part if isinstance(part, str) else name(part) for part in self.message)


class UserError(NamedProblem):
    """Bad input: a config key, a value, a run directory, a checkpoint, a task."""


class RunFailed(NamedProblem):
    """A run that cannot go on through no fault of its input: a process of a distributed run
    died, or the processes could not meet. The last checkpoint written stays loadable."""


class Stopped(NamedProblem):
    """The run stopped on a signal (SIGTERM, SIGINT) after saving its last complete
    iteration into `run_dir`, from where it resumes; the CLI exits with 128 + the signal's
    number, as a shell reports it."""

    def __init__(self, message: str, signum: int, run_dir: Path) -> None:
        super().__init__(message)
        self.signum = signum
        self.run_dir = run_dir
