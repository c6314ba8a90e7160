"""rlmaml: Model-Agnostic Meta-Learning for reinforcement learning, on Gymnasium and MuJoCo.

Importing the package registers its environments (`rlmaml/Navigation2D-v0`, ...) with
Gymnasium; the learner lives in submodules so that importing the envs does not load torch.
"""

from rlmaml import envs as envs

__version__ = "0.1.0"
