from envs.bernoulli_bandit import *
