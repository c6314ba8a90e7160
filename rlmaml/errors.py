"""Errors caused by what the user asked for; the CLI prints them on one line, exit code 2."""


class UserError(Exception):
    """Bad input: a config key, a value, a run directory, a checkpoint, a task."""
