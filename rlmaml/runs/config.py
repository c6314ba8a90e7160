"""Experiment configs: flat YAML, shipped in the package and addressed by name, or a path;
every field overridable with `key=value`; unknown keys and wrong types are errors."""

from __future__ import annotations

import math
import reprlib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from rlmaml.errors import UserError
from rlmaml.runs.safe_yaml import read_config_text, safe_load

REQUIRED = object()  # a Field without a default must be in every config
MAX_SEED = 2**32 - 1  # what every seeded library takes (numpy's legacy seed, which SB3 uses, the least)


@dataclass(frozen=True)
class Field:
    kind: str  # "int", "float", "bool", "str", "dict", "int_list"
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    default: Any = REQUIRED  # keys added after runs were saved have one, so old runs still load


RL_SCHEMA: dict[str, Field] = {
    "env": Field("str"),
    "env_kwargs": Field("dict"),
    "horizon": Field("int", minimum=1),
    "meta_batch_size": Field("int", minimum=1),
    "fast_batch_size": Field("int", minimum=1),
    "num_steps": Field("int", minimum=1),
    "fast_lr": Field("float", minimum=0),
    "first_order": Field("bool"),
    "max_kl": Field("float", minimum=1e-12),
    "cg_iters": Field("int", minimum=1),
    "cg_damping": Field("float", minimum=0),
    "cg_subsample": Field("float", minimum=0.01, maximum=1),
    "ls_max_steps": Field("int", minimum=1),
    "ls_backtrack_ratio": Field("float", minimum=0.01, maximum=0.99),
    "gamma": Field("float", minimum=0, maximum=1),
    "gae_lambda": Field("float", minimum=0, maximum=1),
    # [] is a linear Gaussian policy, as rllab's MLP makes of hidden_sizes=(); a layer has at least one unit
    "hidden_sizes": Field("int_list", minimum=1),
    "activation": Field("str", choices=("tanh", "relu")),
    # mlp: rlmaml's GaussianMLPPolicy; sb3: a Stable-Baselines3 ActorCriticPolicy (net_arch = hidden_sizes)
    "policy": Field("str", choices=("mlp", "sb3"), default="mlp"),
    "observe_task": Field("bool", default=False),  # append the task to observations (oracle baseline)
    # the policy acts in [-1, 1] and the env rescales to its bounds (rllab's `normalize`, as the paper)
    "normalize_actions": Field("bool", default=False),
    "iterations": Field("int", minimum=0),
    "seed": Field("int", minimum=0, maximum=MAX_SEED),
    "checkpoint_every": Field("int", minimum=1),
    # updates skipped in a row (a non-finite gradient or step) before the run stops as diverged
    "max_skipped_updates": Field("int", minimum=1, default=5),
}

# Supervised meta-learning (rlmaml.supervised): keys shared by both of its modes.
SUPERVISED_COMMON: dict[str, Field] = {
    "meta_batch_size": Field("int", minimum=1),
    "num_steps": Field("int", minimum=1),  # inner steps in meta-training
    "eval_steps": Field("int", minimum=0),  # default inner steps of `rlmaml evaluate`
    "fast_lr": Field("float", minimum=0),
    "first_order": Field("bool"),
    "meta_lr": Field("float", minimum=0),
    "shots": Field("int", minimum=1),
    "query_shots": Field("int", minimum=1),
    # MAML++ (Antoniou et al. 2018); all off reproduces MAML
    "multi_step_loss": Field("bool"),
    "multi_step_loss_iterations": Field("int", minimum=1),
    "first_order_iterations": Field("int", minimum=0),
    "learn_inner_lr": Field("bool"),
    "cosine_lr": Field("bool"),
    "min_meta_lr": Field("float", minimum=0),
    "iterations": Field("int", minimum=0),
    "seed": Field("int", minimum=0, maximum=MAX_SEED),
    "checkpoint_every": Field("int", minimum=1),
    "max_skipped_updates": Field("int", minimum=1, default=5),  # as in RL_SCHEMA
}

SINUSOID_SCHEMA: dict[str, Field] = {
    "mode": Field("str", choices=("sinusoid",)),
    "hidden_sizes": Field("int_list", minimum=1),
    **SUPERVISED_COMMON,
}

CLASSIFICATION_SCHEMA: dict[str, Field] = {
    "mode": Field("str", choices=("classification",)),
    "dataset": Field("str", choices=("omniglot", "folder")),
    "data_dir": Field("str"),
    "train_classes": Field("int", minimum=1),
    "val_classes": Field("int", minimum=0),
    "rotations": Field("bool"),
    "image_size": Field("int", minimum=4),
    "channels": Field("int", minimum=1, maximum=3),
    "ways": Field("int", minimum=2),
    "filters": Field("int", minimum=1),
    "conv_blocks": Field("int", minimum=1),
    "bn_mode": Field("str", choices=("transductive", "running")),
    "per_step_bn": Field("bool"),
    **SUPERVISED_COMMON,
}

# A config without `mode` is meta-RL; `mode` selects a supervised schema.
SUPERVISED_SCHEMAS: dict[str, dict[str, Field]] = {
    "sinusoid": SINUSOID_SCHEMA,
    "classification": CLASSIFICATION_SCHEMA,
}

KIND_NAMES = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "str": "a string",
    "dict": "a mapping",
    "int_list": "a list of integers",
}


def packaged_configs() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files("rlmaml.configs").iterdir() if p.name.endswith(".yaml"))


def read_yaml(source: str) -> dict[str, Any]:
    """The mapping in a YAML file, or in the packaged config of that name."""
    path = Path(source)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise UserError(f"config file {source} not found")
        text = read_config_text(path, f"config {source}")
    else:
        packaged = resources.files("rlmaml.configs") / f"{source}.yaml"
        if not packaged.is_file():
            raise UserError(f"no config named '{source}': give a YAML path or one of {', '.join(packaged_configs())}")
        text = packaged.read_text()
    try:
        data = safe_load(text, f"config {source}")
    except yaml.YAMLError as error:
        raise UserError(f"config {source} is not valid YAML: {str(error).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise UserError(f"config {source} must be a mapping of keys to values")
    return data


def parse_assignment(text: str) -> tuple[str, Any]:
    """'key=value' with the value read as YAML ('0.1' a float, '[64, 64]' a list)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise UserError(f"expected key=value, got '{text}'")
    try:
        value = safe_load(raw, f"the value of {key.strip()}") if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.strip(), value


# Values in messages are shortened: a config's list may be long, a YAML integer hundreds of digits.
SHORT = reprlib.Repr()
SHORT.maxlevel, SHORT.maxlist, SHORT.maxdict, SHORT.maxstring, SHORT.maxlong, SHORT.maxother = 3, 8, 8, 60, 40, 60


def shown(value: Any) -> str:
    return SHORT.repr(value)


def bound(number: float) -> str:
    """A schema's bound as written: 4294967295, not 4.29497e+09."""
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


def check_value(key: str, value: Any, field: Field) -> Any:
    """The value converted to the field's kind, or UserError naming the key."""
    if field.kind == "float" and isinstance(value, str):
        value = as_number(value)  # YAML 1.1 reads 1e-2 (no dot) as a string
    ok = {
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "str": isinstance(value, str),
        "dict": isinstance(value, dict),
        "int_list": isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value),
    }[field.kind]
    if not ok:
        raise UserError(f"config key '{key}' must be {KIND_NAMES[field.kind]}, got {shown(value)}")
    if field.kind == "float":
        try:
            value = float(value)
        except OverflowError:  # an integer beyond the largest float
            value = math.inf
        if not math.isfinite(value):
            raise UserError(f"config key '{key}' must be a finite number, got {shown(value)}")
    if field.minimum is not None:
        values = value if field.kind == "int_list" else [value]
        if any(v < field.minimum for v in values):
            raise UserError(f"config key '{key}' must be at least {bound(field.minimum)}, got {shown(value)}")
    if field.maximum is not None and value > field.maximum:
        raise UserError(f"config key '{key}' must be at most {bound(field.maximum)}, got {shown(value)}")
    if field.choices is not None and value not in field.choices:
        raise UserError(f"config key '{key}' must be one of {', '.join(field.choices)}, got {shown(value)}")
    return value


def as_number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def schema_of(config: dict[str, Any]) -> dict[str, Field]:
    """The schema the config's `mode` selects: RL when it has none."""
    if "mode" not in config:
        return RL_SCHEMA
    mode = config["mode"]
    if mode not in SUPERVISED_SCHEMAS:
        raise UserError(
            f"config key 'mode' must be one of {', '.join(SUPERVISED_SCHEMAS)} (or absent for meta-RL), got {mode!r}"
        )
    return SUPERVISED_SCHEMAS[mode]


def is_supervised(config: dict[str, Any]) -> bool:
    return "mode" in config


def resolve(data: dict[str, Any], overrides: Iterable[str], schema: dict[str, Field] | None = None) -> dict[str, Any]:
    """Apply `key=value` overrides, then check every key against the schema (by default
    the one the config's `mode` selects)."""
    config = dict(data)
    for text in overrides:
        key, value = parse_assignment(text)
        config[key] = value
    schema = schema or schema_of(config)
    unknown = sorted(key if isinstance(key, str) else shown(key) for key in set(config) - set(schema))
    if unknown:
        raise UserError(f"unknown config key '{unknown[0]}' (known keys: {', '.join(schema)})")
    config.update({key: f.default for key, f in schema.items() if key not in config and f.default is not REQUIRED})
    missing = [key for key in schema if key not in config]
    if missing:
        raise UserError(f"config key '{missing[0]}' is missing")
    return {key: check_value(key, config[key], schema[key]) for key in schema}


def load_config(source: str, overrides: Iterable[str] = ()) -> dict[str, Any]:
    return resolve(read_yaml(source), overrides)
