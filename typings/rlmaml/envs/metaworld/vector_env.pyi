# see typings/rlmaml/envs/__init__.pyi
from envs.metaworld.vector_env import *
