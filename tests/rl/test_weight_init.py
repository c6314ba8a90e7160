"""`weight_init: xavier` gives rllab's initialisation (Glorot-uniform weights, zero biases);
the default leaves torch's, so runs saved before the key existed build the same policy."""

import math

import pytest
import torch

from rlmaml.errors import UserError
from rlmaml.rl.api import load_rl_config
from rlmaml.rl.policy_io import build_policy


def linears(policy: torch.nn.Module) -> list[torch.nn.Linear]:
    return [m for m in policy.modules() if isinstance(m, torch.nn.Linear)]


def test_xavier_weights_are_glorot_uniform_with_zero_biases():
    torch.manual_seed(0)
    policy = build_policy(load_rl_config("ant-dir", ["weight_init=xavier"]))
    for layer in linears(policy):
        fan_out, fan_in = layer.weight.shape
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        assert layer.weight.abs().max() <= bound
        assert layer.weight.abs().max() > 0.9 * bound  # spread over the whole range, not torch's 1/sqrt(fan_in)
        assert torch.count_nonzero(layer.bias) == 0


def test_the_default_keeps_torchs_initialisation():
    torch.manual_seed(0)
    policy = build_policy(load_rl_config("ant-dir", []))
    for layer in linears(policy):
        assert layer.weight.abs().max() <= 1 / math.sqrt(layer.weight.shape[1])
        assert torch.count_nonzero(layer.bias) > 0


def test_weight_init_is_refused_for_a_policy_without_layers():
    with pytest.raises(UserError, match="config key 'weight_init'"):
        load_rl_config("gaussian-bandit", ["weight_init=xavier"])
