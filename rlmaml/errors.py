"""Errors the CLI prints on one line: bad input (exit code 2) or a run that failed (exit 1)."""


class UserError(Exception):
    """Bad input: a config key, a value, a run directory, a checkpoint, a task."""


class RunFailed(Exception):
    """A run that cannot go on through no fault of its input: a process of a distributed run
    died, or the processes could not meet. The last checkpoint written stays loadable."""
