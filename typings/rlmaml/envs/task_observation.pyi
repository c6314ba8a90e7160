from envs.task_observation import *
