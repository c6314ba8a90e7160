from envs.bandit import *
