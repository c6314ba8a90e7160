from envs.rescale_actions import *
