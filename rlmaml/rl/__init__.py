"""Meta-reinforcement learning: sampling, adaptation by policy gradient, the MAML-TRPO outer loop,
evaluation, PPO baselines and SB3 export."""
