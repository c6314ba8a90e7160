from envs.task_wrappers import *
