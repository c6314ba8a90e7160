"""A config explained key by key, grouped as its dataclass groups them: each key's value in
this config, its meaning, type, range and default (what `rlmaml config NAME` prints)."""

from __future__ import annotations

import textwrap
from typing import Any

import yaml

from rlmaml.runs.config_schema import KIND_NAMES, KeySpec, bound, heading, plain, schema_of
from rlmaml.runs.config_types import Config

WIDTH = 100
INDENT = " " * 6


def yaml_text(value: Any) -> str:
    """A value as one would write it in a config file or a `key=value` override."""
    text: str = yaml.safe_dump(plain(value), default_flow_style=True, sort_keys=False, width=2**20)
    return text.strip().removesuffix("...").strip()


def value_range(key: KeySpec) -> str:
    """'from 0 to 1', 'at least 1', ... of a number, or of each item of a list."""
    low = None if key.minimum is None else bound(key.minimum)
    high = None if key.maximum is None else bound(key.maximum)
    if low is not None and high is not None:
        return f"from {low} to {high}"
    return f"at least {low}" if low is not None else f"at most {high}" if high is not None else ""


def kind_text(key: KeySpec) -> str:
    """The key's type and range, then its default ('required' without one)."""
    if key.choices is not None:
        kind = f"one of {', '.join(key.choices)}"
    else:
        bounds = value_range(key)
        each = "each " if key.kind == "int_list" else ""
        kind = KIND_NAMES[key.kind] + (f", {each}{bounds}" if bounds else "")
    return f"{kind}; {'required' if key.required else 'default ' + yaml_text(key.default)}"


def key_lines(key: KeySpec, value: Any) -> list[str]:
    return [
        f"  {key.name} = {yaml_text(value)}",
        *textwrap.wrap(key.doc, WIDTH, initial_indent=INDENT, subsequent_indent=INDENT),
        INDENT + kind_text(key),
    ]


def render_config(name: str, config: Config) -> str:
    """Every key of `config` (named `name`, a packaged config or a path), in its order."""
    schema = schema_of(type(config))
    lines = [f"{name} ({len(schema)} keys): {heading(type(config))}", ""]
    group = None
    for key in schema.values():
        if key.group != group:
            if group is not None:
                lines.append("")
            lines.append(key.group)
            group = key.group
        lines += key_lines(key, getattr(config, key.name))
    return "\n".join(lines)
