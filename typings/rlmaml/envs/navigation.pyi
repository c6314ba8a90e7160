from envs.navigation import *
