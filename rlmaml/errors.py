"""Errors the CLI prints on one line: bad input (exit code 2) or a run that failed (exit 1)."""


class UserError(Exception):
    """Bad input: a config key, a value, a run directory, a checkpoint, a task."""


class RunFailed(Exception):
    """A run that cannot go on through no fault of its input: a process of a distributed run
    died, or the processes could not meet. The last checkpoint written stays loadable."""


class Stopped(Exception):
    """The run stopped on a signal (SIGTERM, SIGINT) after saving its last complete
    iteration; the CLI exits with 128 + the signal's number, as a shell reports it."""

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.signum = signum
