"""Task-distribution environments of rlmaml, registered under the Gymnasium namespace `rlmaml/`.

Installed as `rlmaml.envs`; depends on gymnasium, mujoco and numpy only, never on torch. Every
env implements the task protocol of `protocol` (`TaskEnv`, `TaskVectorEnv`).
"""

from gymnasium.envs.registration import register, registry

from .protocol import Task, TaskEnv, TaskVectorEnv

__all__ = ["Task", "TaskEnv", "TaskVectorEnv"]


def _register(
    name: str,
    module: str,
    env_class: str,
    vector_class: str,
    max_episode_steps: int,
    check_env: bool = True,
    kwargs: dict[str, str] | None = None,
) -> None:
    env_id = f"rlmaml/{name}"
    if env_id in registry:
        return
    register(
        id=env_id,
        entry_point=f"rlmaml.envs.{module}:{env_class}",
        vector_entry_point=f"rlmaml.envs.{module}:{vector_class}",
        max_episode_steps=max_episode_steps,
        disable_env_checker=not check_env,
        kwargs=kwargs or {},
    )


_register("Navigation2D-v0", "navigation", "Navigation2DEnv", "Navigation2DVectorEnv", 100)
_register("HalfCheetahVel-v0", "half_cheetah", "HalfCheetahVelEnv", "HalfCheetahVelVectorEnv", 200)
_register("HalfCheetahDir-v0", "half_cheetah", "HalfCheetahDirEnv", "HalfCheetahDirVectorEnv", 200)
_register("AntVel-v0", "ant", "AntVelEnv", "AntVelVectorEnv", 200)
_register("AntDir-v0", "ant", "AntDirEnv", "AntDirVectorEnv", 200)
_register("AntGoal-v0", "ant", "AntGoalEnv", "AntGoalVectorEnv", 200)
# rllab's Ant, as the MAML paper's code had it (see rllab_ant); the ids above keep Gymnasium's Ant for older runs
_register("AntVelRllab-v0", "rllab_ant", "AntVelRllabEnv", "AntVelRllabVectorEnv", 200)
_register("AntDirRllab-v0", "rllab_ant", "AntDirRllabEnv", "AntDirRllabVectorEnv", 200)
_register("AntGoalRllab-v0", "rllab_ant", "AntGoalRllabEnv", "AntGoalRllabVectorEnv", 200)
# not of the paper: a one-step problem whose exact meta-gradient is known, to test estimators against (see bandit)
_register("GaussianBandit-v0", "bandit", "GaussianBanditEnv", "GaussianBanditVectorEnv", 1)
# not of the paper: discrete-action families for categorical policies; the bandit's exact meta-gradient is known
_register("BernoulliBandit-v0", "bernoulli_bandit", "BernoulliBanditEnv", "BernoulliBanditVectorEnv", 1)
_register("TabularMDP-v0", "tabular_mdp", "TabularMDPEnv", "TabularMDPVectorEnv", 10)
# Meta-World's ML1 families (env_kwargs family: reach, push or pick-place); its models come from metaworld.
# Gymnasium's checker would warn at every make that the hidden goal's bounds are [0, 0], as Meta-World has them.
_register("MetaWorldML1-v0", "metaworld.vector_env", "MetaWorldEnv", "MetaWorldVectorEnv", 500, check_env=False)
# ML10: its ten train families' goals (env_kwargs split: train) or its five test families' (split: test)
_register(
    "MetaWorldML10-v0", "metaworld.vector_env", "MetaWorldEnv", "MetaWorldVectorEnv", 500, False, {"benchmark": "ML10"}
)
