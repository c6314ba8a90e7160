from envs.tabular_mdp import *
