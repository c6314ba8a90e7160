"""Experiment configs: flat YAML, shipped in the package and addressed by name, or a path;
every field overridable with `key=value`; unknown keys and wrong types are errors.

A config has two shapes, the same keys and values in both:
- the mapping: what YAML and JSON hold (a config file, a run's config.yaml, a checkpoint's
  "config"), keys in the schema's order. `load_config(name_or_path, ["key=value", ...])`
  and `resolve(mapping, overrides)` return it checked, with the defaults that let old runs
  load; `is_supervised(mapping)` tells the modes apart.
- the typed config: `typed_config(mapping)` checks the mapping the same way and returns a
  frozen dataclass of rlmaml.runs.config_types (RLConfig, SinusoidConfig or
  ClassificationConfig; the supervised two are SupervisedConfig, every one a RunConfig),
  read as `config.fast_lr`, so a misspelt key is an AttributeError and a type checker's
  error. `config.to_mapping()` is the identical mapping back, for config.yaml and
  checkpoints; `dataclasses.replace(config, fast_lr=0.05)` checks the new value too.

The dataclasses are the schema: each field's type, default, range and doc (`rlmaml config
NAME` prints them, rlmaml.runs.config_help)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from rlmaml.errors import UserError
from rlmaml.runs.config_schema import schema_of, shown
from rlmaml.runs.config_types import SUPERVISED_MODES, Config, RLConfig
from rlmaml.runs.safe_yaml import read_config_text, safe_load


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


def config_class(config: Mapping[str, Any]) -> type[Config]:
    """The dataclass the config's `mode` selects: RLConfig when it has none."""
    if "mode" not in config:
        return RLConfig
    mode = config["mode"]
    if not isinstance(mode, str) or mode not in SUPERVISED_MODES:
        raise UserError(
            f"config key 'mode' must be one of {', '.join(SUPERVISED_MODES)} (or absent for meta-RL), got {shown(mode)}"
        )
    return SUPERVISED_MODES[mode]


def is_supervised(config: Mapping[str, Any]) -> bool:
    return "mode" in config


def typed_config(mapping: Mapping[str, Any]) -> Config:
    """The checked config of the mode the mapping's `mode` selects; UserError naming the
    first unknown, missing or wrong key. Keys left out that have a default get it."""
    cls = config_class(mapping)
    schema = schema_of(cls)
    unknown = sorted(key if isinstance(key, str) else shown(key) for key in set(mapping) - set(schema))
    if unknown:
        raise UserError(f"unknown config key '{unknown[0]}' (known keys: {', '.join(schema)})")
    missing = [name for name, key in schema.items() if key.required and name not in mapping]
    if missing:
        raise UserError(f"config key '{missing[0]}' is missing")
    return cls(**mapping)


def resolve(data: Mapping[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """The mapping with the `key=value` overrides applied, checked as `typed_config` checks it."""
    config = dict(data)
    for text in overrides:
        key, value = parse_assignment(text)
        config[key] = value
    return typed_config(config).to_mapping()


def load_config(source: str, overrides: Iterable[str] = ()) -> dict[str, Any]:
    return resolve(read_yaml(source), overrides)
