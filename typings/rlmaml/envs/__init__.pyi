# The stubs of typings/rlmaml/envs let mypy see envs/ as rlmaml.envs: see [tool.mypy] in pyproject.toml.
from envs import *
