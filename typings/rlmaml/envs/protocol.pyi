from envs.protocol import *
